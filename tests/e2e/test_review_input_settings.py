"""Odd settings and flag documents through the gateway (review of input handling): key names MongoDB
treats specially or refuses, empty names, deep and wide documents, odd JSON types. Each is stored and
read back as sent, or refused with a problem+json 4xx that leaves the tenant's MongoDB documents as
they were; never a 5xx."""

from __future__ import annotations

from typing import Any

import pytest

from hrms.db.mongo import database
from tests.e2e.http_world import Org

PROBLEM = "application/problem+json"
COLLECTIONS = ("TenantSettings", "SettingsAudit", "FeatureFlag")


def _documents(org: Org) -> dict[str, list[dict[str, Any]]]:
    tenant_id = str(org.tenant.tenant_id)
    return {name: list(database()[name].find({"tenantId": tenant_id}, sort=[("_id", 1)])) for name in COLLECTIONS}


SETTINGS: dict[str, Any] = {
    "empty-name": {"": 1},
    "blank-name": {" ": 1},
    # Names are kept as sent: they used to be stripped, so " a " silently overwrote "a" (a key given
    # twice is a 400 on purpose: which one wins must not depend on a parser).
    "names-differing-in-blanks": {" a ": 1, "a": 2, "currency ": "not a code"},
    "nested-empty-name": {"a": {"": 1}},
    "dollar-inside": {"a$b": 1},
    "nested-dollar": {"a": {"$set": 1}},
    "dot-nested": {"a": [{"b.c": 1}]},
    "fullwidth-dot": {"a\uff0eb": 1},
    "id-and-tenant": {"_id": "x", "tenantId": "00000000-0000-0000-0000-000000000000"},
    "proto": {"__proto__": {"admin": True}},
    "big-int": {"n": 2**63},
    "negative-big-int": {"n": -(2**63) - 1},
    "float-edge": {"n": 1.7976931348623157e308},
    "tiny-float": {"n": 5e-324},
    "bool-and-null": {"t": True, "f": False, "z": None},
    "long-key": {"k" * 10_000: 1},
    "many-keys-nested": {"a": {str(n): n for n in range(5_000)}},
    "weekend-bool": {"weekendDays": [True]},
    "weekend-float": {"weekendDays": [6.0, 7.0]},
    "weekend-null": {"weekendDays": None},
    "currency-null": {"currency": None},
    "timezone-null": {"timezone": None},
    "timezone-number": {"timezone": 5},
}


@pytest.mark.parametrize("settings", list(SETTINGS.values()), ids=list(SETTINGS))
def test_odd_settings_are_stored_as_sent_or_refused_cleanly(org: Org, settings: dict[str, Any]) -> None:
    version = int(org.call("GET", "/settings").json()["version"])
    before = _documents(org)
    answer = org.call("PUT", "/settings", json={"settings": settings, "expectedVersion": version})
    assert answer.status_code < 500, answer.text[:500]
    if answer.status_code == 200:
        current = org.call("GET", "/settings")
        assert current.status_code == 200, current.text[:500]
        assert current.json()["settings"] == settings
        history = org.call("GET", "/settings/history", params={"limit": 1})
        assert history.status_code == 200, history.text[:500]
        return
    assert answer.status_code in (400, 413, 422), answer.text[:500]
    assert answer.headers["content-type"].startswith(PROBLEM)
    assert _documents(org) == before
