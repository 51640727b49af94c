"""preflight: the primary stack set (which declares the global table) targets each account in one
Region only. Pure: the desired stack sets are constructed here."""

from __future__ import annotations

from typing import Literal

import attrs
import pytest

from appstorage.config import load_config
from stacksets.desired import desired_stack_sets
from stacksets.model import DesiredInstance, DesiredStackSet
from stacksets.preflight import preflight, primary_region_conflicts

CONFIG = load_config()
ENV = CONFIG.environment("dev")
REPLICA, PRIMARY = desired_stack_sets(CONFIG, ENV)
A, B = "111111111111", "222222222222"


def _with(
    desired: DesiredStackSet,
    *instances: tuple[str, str],
    permission_model: Literal["SELF_MANAGED", "SERVICE_MANAGED"] = "SELF_MANAGED",
) -> DesiredStackSet:
    return attrs.evolve(
        desired,
        instances=tuple(DesiredInstance(a, r) for a, r in instances),
        permission_model=permission_model,
    )


CASES = [
    ("one Region per account", [_with(PRIMARY, (A, "us-east-1"), (B, "us-east-1"))], []),
    (
        "accounts in different Regions, one each",
        [_with(PRIMARY, (A, "us-east-1"), (B, "eu-west-1"))],
        [],
    ),
    (
        "one account in two Regions",
        [_with(PRIMARY, (A, "us-east-1"), (A, "eu-west-1"), (B, "us-east-1"))],
        [f"environments.dev.deployment.accounts: the primary stack set {PRIMARY.name} targets {A} in 2 "
         "Regions (eu-west-1, us-east-1)"],
    ),
    (
        "an OU in two Regions (SERVICE_MANAGED)",
        [_with(PRIMARY, ("ou-ab12-cdef3456", "us-east-1"), ("ou-ab12-cdef3456", "us-west-2"),
               permission_model="SERVICE_MANAGED")],
        ["environments.dev.deployment.organizational_units: the primary stack set "
         f"{PRIMARY.name} targets ou-ab12-cdef3456 in 2 Regions"],
    ),
    (
        "the replica stack set may (it declares no table)",
        [_with(REPLICA, (A, "us-west-2"), (A, "eu-west-1"))],
        [],
    ),
    (
        "each account named once",
        [_with(PRIMARY, (A, "us-east-1"), (A, "eu-west-1"), (A, "ap-south-1"),
               (B, "us-east-1"), (B, "eu-west-1"))],
        [f"targets {A} in 3 Regions (ap-south-1, eu-west-1, us-east-1)",
         f"targets {B} in 2 Regions (eu-west-1, us-east-1)"],
    ),
]  # fmt: skip


@pytest.mark.parametrize(("desired", "words"), [pytest.param(*c[1:], id=c[0]) for c in CASES])
def test_primary_targets_one_region_per_account(desired: list[DesiredStackSet], words: list[str]) -> None:
    errors = primary_region_conflicts(ENV, desired)
    assert len(errors) == len(words), errors
    for error, expected in zip(errors, words, strict=True):
        assert expected in error
        assert "fight over" in error  # why
        assert "fix: deploy the primary template to one Region per account" in error  # the fix
        assert "environments.dev.primary_region" in error and "environments.dev.replica_region" in error


def test_preflight_reports_it_as_an_error_before_any_call() -> None:
    desired = [REPLICA, _with(PRIMARY, (A, "us-east-1"), (A, "eu-west-1"))]
    errors, _warnings = preflight(ENV, desired)
    assert [e for e in errors if "in 2 Regions" in e] == primary_region_conflicts(ENV, desired)
    assert errors
    assert preflight(ENV, [REPLICA, PRIMARY])[0] == []  # the configured environment passes
