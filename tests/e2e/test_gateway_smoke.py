from tests.conftest import bearer


def test_platform_admin_creates_then_reads_a_tenant(client, platform_token):
    created = client.post(
        "/tenants",
        json={"name": "Acme", "slug": "acme-smoke", "adminEmail": "admin@acme.io"},
        headers=bearer(platform_token),
    )
    assert created.status_code == 201, created.text
    tenant_id = created.json()["tenantId"]
    got = client.get(f"/tenants/{tenant_id}", headers=bearer(platform_token))
    assert got.status_code == 200
    assert got.json()["slug"] == "acme-smoke"
    assert got.json()["schemaVersion"] >= 1
