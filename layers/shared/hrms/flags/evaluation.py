"""Pure flag evaluation: platform switch, then tenant switch, then rules, then hash-bucketed rollout.

Why not Powertools FeatureFlags: its `StoreProvider` interface (`get_raw_configuration` /
`get_configuration` returning the whole flag schema) could be backed by this collection, but it
does not fit well here. (1) Its percentage rollout is the `MODULO_RANGE` condition over an integer
already in the context: the stable per-user bucket (sha256 of tenantId:flag:userId) would still be
computed here and passed in, so the part that matters is ours either way. (2) It evaluates against
the whole configuration document, i.e. it reads every flag of the tenant to answer one, and
validates the schema on each fetch; one `find_one` by (tenantId, name) is cheaper. (3) The
platform switch (public.tenant_features, PostgreSQL) has to be applied before and outside it.
So the rules are this small module, with no extra moving parts, and unit-testable without servers.
"""

from __future__ import annotations

import hashlib
from typing import Any


def bucket(tenant_id: str, flag: str, user_id: str) -> int:
    """A stable bucket 0-99 for one user of one flag of one tenant."""
    digest = hashlib.sha256(f"{tenant_id}:{flag}:{user_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big") % 100


def evaluate(
    tenant_id: str,
    name: str,
    flag: dict[str, Any] | None,
    platform: bool | None,
    user_id: str,
    role: str,
) -> tuple[bool, str]:
    """(enabled, reason) for one user; `flag` is the tenant's document, `platform` the platform switch."""
    if platform is False:
        return False, "platform_disabled"
    if flag is None:
        return bool(platform), "platform_default"
    if not flag.get("enabled"):
        return False, "disabled"
    context = {"role": role, "userId": user_id}
    for rule in flag.get("rules") or []:
        if context.get(rule["attribute"]) in rule["values"]:
            return bool(rule["enabled"]), "rule"
    percent = int(flag.get("rolloutPercent", 100))
    return bucket(tenant_id, name, user_id) < percent, "rollout"
