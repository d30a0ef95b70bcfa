"""Feature flag evaluation without servers: hash bucketing, rollout spread, rules, switches."""

from __future__ import annotations

import pytest

from hrms.flags.evaluation import bucket, evaluate

TENANT = "7d4f0b7e-2f0a-4c4b-9a51-1f3c2b9d8e01"


@pytest.mark.parametrize("percent", [1, 10, 25, 50, 75, 90])
def test_rollout_spreads_10000_users_within_two_points_of_the_percentage(percent):
    flag = {"enabled": True, "rolloutPercent": percent}
    on = sum(evaluate(TENANT, "new-ui", flag, None, f"user-{n}", "employee")[0] for n in range(10_000))
    assert abs(on / 100 - percent) <= 2, on


def test_evaluation_is_stable_per_user_and_differs_between_flags():
    assert [bucket(TENANT, "a", f"u{n}") for n in range(200)] == [bucket(TENANT, "a", f"u{n}") for n in range(200)]
    assert [bucket(TENANT, "a", f"u{n}") for n in range(200)] != [bucket(TENANT, "b", f"u{n}") for n in range(200)]
    assert all(0 <= bucket(TENANT, "a", f"u{n}") < 100 for n in range(1000))


def test_raising_the_percentage_only_adds_users():
    users = [f"u{n}" for n in range(2000)]
    at_20 = {u for u in users if evaluate(TENANT, "f", {"enabled": True, "rolloutPercent": 20}, None, u, "x")[0]}
    at_60 = {u for u in users if evaluate(TENANT, "f", {"enabled": True, "rolloutPercent": 60}, None, u, "x")[0]}
    assert at_20 < at_60


def test_zero_and_hundred_percent_are_absolute():
    assert not any(
        evaluate(TENANT, "f", {"enabled": True, "rolloutPercent": 0}, None, f"u{n}", "x")[0] for n in range(500)
    )
    assert all(
        evaluate(TENANT, "f", {"enabled": True, "rolloutPercent": 100}, None, f"u{n}", "x")[0] for n in range(500)
    )


def test_platform_switch_off_wins_over_everything():
    flag = {
        "enabled": True,
        "rolloutPercent": 100,
        "rules": [{"attribute": "role", "values": ["admin"], "enabled": True}],
    }
    assert evaluate(TENANT, "f", flag, False, "u", "admin") == (False, "platform_disabled")
    assert evaluate(TENANT, "f", flag, True, "u", "admin") == (True, "rule")
    assert evaluate(TENANT, "f", None, True, "u", "admin") == (True, "platform_default")


def test_disabled_flag_is_off_and_rules_match_first():
    rules = [
        {"attribute": "userId", "values": ["vip"], "enabled": True},
        {"attribute": "role", "values": ["employee"], "enabled": False},
    ]
    flag = {"enabled": True, "rolloutPercent": 100, "rules": rules}
    assert evaluate(TENANT, "f", flag, None, "vip", "employee") == (True, "rule")
    assert evaluate(TENANT, "f", flag, None, "other", "employee") == (False, "rule")
    assert evaluate(TENANT, "f", flag, None, "other", "manager") == (True, "rollout")
    assert evaluate(TENANT, "f", {**flag, "enabled": False}, None, "vip", "employee") == (False, "disabled")
