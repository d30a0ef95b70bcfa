"""The tenant-scoped collection helper: the tenant id always wins, cross-collection stages are refused."""

from __future__ import annotations

from uuid import uuid4

import pytest

from hrms.db.tenant_collection import collection
from hrms.tenancy import Tenant


def _tenant() -> Tenant:
    return Tenant(uuid4(), f"tenant_x_{uuid4().hex[:8]}")


def test_filters_and_inserts_are_pinned_to_the_tenant(stack):
    a, b = _tenant(), _tenant()
    flags_a, flags_b = collection(a, "FeatureFlag"), collection(b, "FeatureFlag")
    stored = flags_a.insert_one({"name": "x", "enabled": True, "tenantId": str(b.tenant_id)})
    assert stored["tenantId"] == str(a.tenant_id)
    assert flags_b.find_one({"name": "x"}) is None
    assert flags_b.find_one({"name": "x", "tenantId": str(a.tenant_id)}) is None  # cannot be widened
    assert flags_b.find({"$or": [{"name": "x"}, {"tenantId": str(a.tenant_id)}]}) == []
    assert flags_b.update_one({"name": "x"}, {"$set": {"enabled": False}}) == 0
    assert flags_b.delete_many({}) == 0
    assert flags_a.count({"name": "x"}) == 1
    assert [d["name"] for d in flags_a.aggregate([{"$project": {"name": 1}}])] == ["x"]
    assert flags_b.aggregate([{"$project": {"name": 1}}]) == []


def test_pipelines_reaching_other_collections_are_refused(stack):
    flags = collection(_tenant(), "FeatureFlag")
    with pytest.raises(ValueError):
        flags.aggregate([{"$lookup": {"from": "Appraisal", "pipeline": [], "as": "all"}}])
    with pytest.raises(ValueError):
        flags.aggregate([{"$unionWith": "Appraisal"}])


def test_unknown_collections_are_refused():
    with pytest.raises(ValueError):
        collection(_tenant(), "Anything")
