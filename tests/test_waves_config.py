"""deployment.waves: read and checked at load (problem + fix, naming the field), resolved to the
accounts of each wave deterministically (appstorage.deployment.wave_accounts), and scheduled wave
by wave (stacksets.staged.wave_schedule: the first wave carries the stack set change, the later
ones update their OUTDATED instances). Pure: no AWS."""

from __future__ import annotations

import json
from typing import Any

import attrs
import pytest

from appstorage.config import ConfigError
from appstorage.deployment import wave_accounts
from stacksets.desired import desired_stack_sets
from stacksets.model import ObservedInstance, Scope
from stacksets.plan import plan_stack_set
from stacksets.requests import instance_operations, stack_set_update_targets
from stacksets.staged import wave_schedule, wave_scopes
from tests.helpers import config_from, with_dev_deployment

ACCOUNTS = [f"{n:012d}" for n in range(100000000001, 100000000011)]  # ten accounts
A, B, C = ACCOUNTS[:3]


def deployment(waves: Any, accounts: list[str] | None = None, **more: Any) -> dict[str, Any]:
    return {"permission_model": "SELF_MANAGED", "accounts": accounts or ACCOUNTS, "waves": waves, **more}


def load(waves: Any, accounts: list[str] | None = None, **more: Any) -> Any:
    return config_from(with_dev_deployment(deployment(waves, accounts, **more)))


@pytest.mark.parametrize(
    ("waves", "accounts"),
    [
        # a canary, then 10% of the nine left (rounded up: 1), then the rest
        (
            [{"accounts": [C]}, {"percent": 10}, {"rest": True}],
            [[C], [ACCOUNTS[0]], [a for a in ACCOUNTS[1:] if a != C]],
        ),
        # percentages of what is left each time, in the order of deployment.accounts
        ([{"percent": 20}, {"percent": 50}, {"rest": True}], [ACCOUNTS[:2], ACCOUNTS[2:6], ACCOUNTS[6:]]),
        ([{"percent": 100}], [ACCOUNTS]),
        ([{"rest": True}], [ACCOUNTS]),
        ([{"accounts": [B, A]}, {"rest": True}], [[B, A], [a for a in ACCOUNTS if a not in (A, B)]]),
    ],
)
def test_waves_resolve_to_accounts(waves: list[dict[str, Any]], accounts: list[list[str]]) -> None:
    env = load(waves).environment("dev")
    assert wave_accounts(env.deployment) == tuple(tuple(a) for a in accounts)
    assert wave_scopes(env) == tuple(Scope(accounts=tuple(a)) for a in accounts)
    # Deterministic: loading again gives the same waves.
    assert wave_accounts(load(waves).environment("dev").deployment) == wave_accounts(env.deployment)


FIELD = "environments.dev.deployment.waves"


@pytest.mark.parametrize(
    ("waves", "more", "field", "problem", "fix"),
    [
        ([], {}, FIELD, "expected a list of waves, got an empty list", "write a list such as"),
        ({"rest": True}, {}, FIELD, "expected a list of waves", "write a list such as"),
        (
            [{"percent": 10}],
            {},
            FIELD,
            "9 target account(s) are in no wave",
            "end the waves with {rest: true}",
        ),
        (
            [{"percent": 0}, {"rest": True}],
            {},
            f"{FIELD}[0].percent",
            "not a whole number from 1 to 100",
            "write",
        ),
        (
            [{"percent": "10%"}, {"rest": True}],
            {},
            f"{FIELD}[0].percent",
            "expected int",
            "write a whole number",
        ),
        (
            [{"accounts": [A], "percent": 10}, {"rest": True}],
            {},
            f"{FIELD}[0]",
            "accounts and percent given",
            "write one of",
        ),
        ([{"rest": False}], {}, f"{FIELD}[0]", "none given", "write one of"),
        (
            [{"rest": True}, {"percent": 10}],
            {},
            f"{FIELD}[0].rest",
            "only the last wave",
            "move {rest: true} to the end",
        ),
        (
            [{"accounts": ["999999999999"]}, {"rest": True}],
            {},
            f"{FIELD}[0].accounts[0]",
            "999999999999 is not a target account",
            "add it to deployment.accounts",
        ),
        (
            [{"accounts": [A]}, {"accounts": [A]}, {"rest": True}],
            {},
            f"{FIELD}[1].accounts[0]",
            "already in waves[0]",
            "list each account in one wave",
        ),
        (
            [{"percent": 100}, {"rest": True}],
            {},
            f"{FIELD}[1]",
            "no account is left for this wave",
            "remove this wave",
        ),
        ([{"wave": 1}], {}, f"{FIELD}[0].wave", "unknown key", "allowed keys"),
        (
            [{"rest": True}],
            {
                "permission_model": "SERVICE_MANAGED",
                "organizational_units": ["ou-ab12-cd34ef56"],
                "accounts": None,
            },
            FIELD,
            "SERVICE_MANAGED stack sets deploy to the accounts of their OUs",
            "deploy --accounts",
        ),
    ],
)
def test_bad_waves_are_refused_at_load_with_the_fix(
    waves: Any, more: dict[str, Any], field: str, problem: str, fix: str
) -> None:
    data = with_dev_deployment(deployment(waves, **more))
    data["environments"]["dev"]["deployment"] = {
        k: v for k, v in data["environments"]["dev"]["deployment"].items() if v is not None
    }
    with pytest.raises(ConfigError) as raised:
        config_from(data)
    errors = [e for e in raised.value.errors if e.field == field]
    assert errors, [str(e) for e in raised.value.errors]
    assert problem in errors[0].problem and fix in errors[0].fix


def test_the_first_wave_carries_the_template_change_and_the_next_ones_update_their_instances() -> None:
    config = load([{"accounts": [A]}, {"percent": 50}, {"rest": True}], accounts=[A, B, C])
    env = config.environment("dev")
    primary = desired_stack_sets(config, env)[1]
    from tests.test_subset_plan import changed_template, observed

    plan = plan_stack_set(primary, observed(primary, template=changed_template(primary)))
    first, second, third = (parts[0] for parts in wave_schedule([plan], wave_scopes(env)))
    # Wave 1: UpdateStackSet naming A (AWS marks B and C OUTDATED).
    assert stack_set_update_targets(first) == {"Accounts": [A], "Regions": ["us-east-1"]}
    assert instance_operations(first, updated_all=True) == ()
    # Waves 2 and 3: no stack set change left, UpdateStackInstances for their accounts only.
    for part, account in ((second, B), (third, C)):
        assert not part.template.changed and part.action == "update"
        (op,) = instance_operations(part, updated_all=False)
        assert op.api == "UpdateStackInstances" and op.targets == (account,)
    assert first.left_outdated == (f"{B} us-east-1", f"{C} us-east-1")


def test_a_stack_set_to_create_is_created_in_the_first_wave_then_extended() -> None:
    config = load([{"accounts": [B]}, {"rest": True}], accounts=[A, B, C])
    env = config.environment("dev")
    primary = desired_stack_sets(config, env)[1]
    first, second = (parts[0] for parts in wave_schedule([plan_stack_set(primary, None)], wave_scopes(env)))
    assert first.action == "create" and [i.account for i in first.instances.add] == [B]
    assert second.action == "update" and [i.account for i in second.instances.add] == [A, C]
    (op,) = instance_operations(second, updated_all=False)
    assert op.api == "CreateStackInstances" and op.request["Accounts"] == [A, C]


def test_plan_json_lists_the_waves() -> None:
    from stacksets.planview import plan_to_json, render_plan
    from stacksets.staged import planned_waves

    config = load([{"accounts": [A]}, {"rest": True}], accounts=[A, B, C])
    env = config.environment("dev")
    plans = [plan_stack_set(d, None) for d in desired_stack_sets(config, env)]
    shown = planned_waves(plans, wave_scopes(env))
    assert json.loads(json.dumps(plan_to_json(shown)))["stack_sets"][0]["waves"] == [[A], [B, C]]
    assert f"    1. {A}\n    2. {B}, {C}" in render_plan(shown)


def test_instances_no_longer_configured_are_removed_by_the_last_wave() -> None:
    config = load([{"accounts": [A]}, {"rest": True}], accounts=[A, B])
    env = config.environment("dev")
    primary = desired_stack_sets(config, env)[1]
    from tests.test_subset_plan import observed

    deployed = observed(primary)
    gone = ObservedInstance(C, "us-east-1", "CURRENT")
    plan = plan_stack_set(primary, attrs.evolve(deployed, instances=(*deployed.instances, gone)))
    first, last = (parts[0] for parts in wave_schedule([plan], wave_scopes(env)))
    assert first.action == "no change" and first.instances.remove == ()
    assert last.action == "update" and last.instances.remove == (gone,)
    (op,) = instance_operations(last, updated_all=False)
    assert op.api == "DeleteStackInstances" and op.request["Accounts"] == [C] and op.request["RetainStacks"]


def test_later_waves_leave_held_instances_alone() -> None:
    """An INOPERABLE instance is excluded from stack set updates (the plan's NOTE): a later wave
    does not send UpdateStackInstances for it."""
    config = load([{"accounts": [A]}, {"rest": True}], accounts=[A, B, C])
    env = config.environment("dev")
    primary = desired_stack_sets(config, env)[1]
    from tests.test_subset_plan import changed_template, observed

    deployed = observed(primary, template=changed_template(primary), **{C: "INOPERABLE"})
    plan = plan_stack_set(primary, deployed)
    assert plan.held == ((C, "us-east-1"),) and plan.notes
    _, second = (parts[0] for parts in wave_schedule([plan], wave_scopes(env)))
    (op,) = instance_operations(second, updated_all=False)
    assert op.api == "UpdateStackInstances" and op.targets == (B,)
