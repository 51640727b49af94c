"""deploy --accounts/--regions as data: the plan narrowed to a subset (stacksets.staged.narrow), what
it leaves OUTDATED or uncreated, the UpdateStackSet it sends (Accounts/Regions, or DeploymentTargets
with an INTERSECTION filter), how a later full run picks the OUTDATED instances up, and the plan's
text, JSON and Markdown. Pure: no AWS."""

from __future__ import annotations

from typing import Any

import attrs
import pytest

from appstorage.config import Environment
from stacksets.cli.markdown import plan_markdown
from stacksets.desired import desired_stack_sets
from stacksets.model import AccountFilter, DesiredStackSet, ObservedInstance, ObservedStackSet, Scope
from stacksets.plan import needs_stack_set_update, plan_stack_set
from stacksets.planview import plan_to_json, render_plan
from stacksets.requests import instance_operations, stack_set_update_targets
from stacksets.staged import narrow, subset_problems
from tests.helpers import ACCOUNTS, config_from, write_config

A, B, C = ACCOUNTS


def environment(tmp_path: Any, **deployment: Any) -> tuple[Environment, tuple[DesiredStackSet, ...]]:
    from appstorage.config import load_config

    config = load_config(write_config(tmp_path))
    env = config.environment("dev")
    if deployment:
        from tests.helpers import with_dev_deployment

        config = config_from(with_dev_deployment(deployment))
        env = config.environment("dev")
    return env, desired_stack_sets(config, env)


def observed(desired: DesiredStackSet, *, template: str | None = None, **status: str) -> ObservedStackSet:
    """``desired`` as deployed, with ``template`` (another body: a template change) and each
    account's instance status (CURRENT unless named: ``status={"A": "OUTDATED"}``)."""
    region = desired.instances[0].region
    return ObservedStackSet(
        name=desired.name,
        status="ACTIVE",
        template_body=template if template is not None else desired.template_body,
        parameters=dict(desired.parameters),
        instances=tuple(
            ObservedInstance(i.account, region, status.get(i.account, "CURRENT")) for i in desired.instances
        ),
        tags=dict(desired.tags),
    )


def changed_template(desired: DesiredStackSet) -> str:
    """The deployed template: the desired one with a description changed (a template change, no
    data loss)."""
    import json

    body = dict(desired.template)
    body["Description"] = "an older description"
    return json.dumps(body)


@pytest.mark.parametrize(
    ("scope", "problem"),
    [
        (Scope(accounts=("999999999999",)), "--accounts: 999999999999 is not a target account"),
        (Scope(accounts=("12345",)), "--accounts: '12345' is not an account id"),
        (Scope(regions=("eu-west-3",)), "--regions: eu-west-3 is not a region of environment dev"),
        (Scope(accounts=(A,), regions=("us-east-1",)), None),
        (Scope(regions=("us-west-2",)), None),
    ],
)
def test_subset_is_checked_against_the_environment_targets(tmp_path: Any, scope: Scope, problem: str) -> None:
    env, _ = environment(tmp_path)
    problems = subset_problems(env, scope)
    if problem is None:
        assert problems == []
    else:
        assert len(problems) == 1 and problems[0].startswith(problem), problems
        assert "pass" in problems[0]  # the fix


@pytest.mark.parametrize(
    ("filter_type", "account", "ok"),
    [("NONE", A, True), ("INTERSECTION", A, True), ("INTERSECTION", C, False), ("DIFFERENCE", A, False)],
)
def test_service_managed_subset_respects_the_account_filter(
    tmp_path: Any, filter_type: str, account: str, ok: bool
) -> None:
    deployment: dict[str, Any] = {
        "permission_model": "SERVICE_MANAGED",
        "organizational_units": ["ou-ab12-cd34ef56"],
        "account_filter_type": filter_type,
    }
    if filter_type != "NONE":
        deployment["accounts"] = [A, B]
    env, _ = environment(tmp_path, **deployment)
    assert (subset_problems(env, Scope(accounts=(account,))) == []) is ok


def test_template_change_on_a_subset_updates_its_instances_and_leaves_the_rest_outdated(
    tmp_path: Any,
) -> None:
    _, desired = environment(tmp_path)
    primary = desired[1]
    plan = plan_stack_set(primary, observed(primary, template=changed_template(primary)))
    assert needs_stack_set_update(plan)
    part = narrow(plan, Scope(accounts=(A,)))
    assert part.action == "update" and needs_stack_set_update(part)
    # AWS marks every instance OUTDATED and updates the ones named: B and C stay OUTDATED.
    assert part.left_outdated == (f"{B} us-east-1", f"{C} us-east-1")
    assert stack_set_update_targets(part) == {"Accounts": [A], "Regions": ["us-east-1"]}
    assert stack_set_update_targets(plan) == {}  # a full run names no instances: all are updated
    assert instance_operations(part, updated_all=True) == ()
    text = render_plan([part])
    assert "This run: --accounts 111111111111" in text
    assert (
        f"Left OUTDATED after this run (2): {B} us-east-1, {C} us-east-1; a deploy without "
        "--accounts/--regions updates them" in text
    )
    data = plan_to_json([part])["stack_sets"][0]
    assert data["scope"] == {"accounts": [A], "regions": []}
    assert data["left_outdated"] == [f"{B} us-east-1", f"{C} us-east-1"]
    markdown = plan_markdown({"dev": [part]})
    assert "Staged rollout:" in markdown and f"Left OUTDATED after this run (2): {B} us-east-1" in markdown


def test_the_next_full_run_updates_the_outdated_instances_with_update_stack_instances(tmp_path: Any) -> None:
    """After the partial run AWS holds the new template with B and C OUTDATED: the full plan has no
    stack set change, and updates just B and C (UpdateStackInstances)."""
    _, desired = environment(tmp_path)
    primary = desired[1]
    plan = plan_stack_set(primary, observed(primary, **{B: "OUTDATED", C: "OUTDATED"}))
    assert plan.action == "update" and not needs_stack_set_update(plan)
    (op,) = instance_operations(plan, updated_all=False)
    assert op.api == "UpdateStackInstances" and op.targets == (B, C)
    # The same state with a subset: only A's part is left... A is current, so nothing to do for A,
    # and B and C stay OUTDATED.
    part = narrow(plan, Scope(accounts=(A,)))
    assert part.action == "no change" and part.left_outdated == (f"{B} us-east-1", f"{C} us-east-1")


def test_a_stack_set_without_instances_in_the_subset_is_left_as_it_is(tmp_path: Any) -> None:
    _, desired = environment(tmp_path)
    replica = desired[0]  # deploys to us-west-2
    plan = plan_stack_set(replica, observed(replica, template=changed_template(replica)))
    part = narrow(plan, Scope(regions=("us-east-1",)))
    assert part.action == "no change" and not part.template.changed
    assert part.left_outdated == ()  # no UpdateStackSet on it: nothing is marked OUTDATED
    assert any("none of its instances is in this run (--regions us-east-1)" in n for n in part.notes)


def test_creation_is_limited_to_the_subset(tmp_path: Any) -> None:
    _, desired = environment(tmp_path)
    primary = desired[1]
    part = narrow(plan_stack_set(primary, None), Scope(accounts=(B,)))
    assert part.action == "create"
    assert [i.account for i in part.instances.add] == [B]
    assert [i.account for i in part.left_to_create] == [A, C]
    (op,) = instance_operations(part, updated_all=False)
    assert op.api == "CreateStackInstances" and op.request["Accounts"] == [B]
    assert f"Left to create (2): {A} us-east-1, {C} us-east-1" in render_plan([part])


def test_a_template_change_with_only_new_instances_in_the_subset_is_blocked(tmp_path: Any) -> None:
    """UpdateStackSet limited to a subset updates the instances it names: with none deployed there,
    the new instances would get the old template. Refused before any call, with the fix."""
    _, desired = environment(tmp_path)
    primary = desired[1]
    deployed = observed(primary, template=changed_template(primary))
    deployed = attrs.evolve(deployed, instances=deployed.instances[:2])  # C not deployed yet
    part = narrow(plan_stack_set(primary, deployed), Scope(accounts=(C,)))
    assert len(part.blockers) == 1 and "include a deployed account" in part.blockers[0]


def test_data_loss_of_an_outdated_instance_counts_only_inside_the_subset(tmp_path: Any) -> None:
    """The data-loss guard applies to the subset: an OUTDATED instance outside it that runs an
    unreadable template is not this run's concern; inside it, it is."""
    from stacksets.plan import all_data_loss

    _, desired = environment(tmp_path)
    primary = desired[1]
    deployed = observed(primary, **{C: "OUTDATED"})
    deployed = attrs.evolve(
        deployed,
        instances=tuple(
            attrs.evolve(i, template_error="AccessDenied") if i.account == C else i
            for i in deployed.instances
        ),
    )
    plan = plan_stack_set(primary, deployed)
    assert all_data_loss(plan)
    assert not all_data_loss(narrow(plan, Scope(accounts=(A,))))
    assert all_data_loss(narrow(plan, Scope(accounts=(C,))))


def test_service_managed_subset_is_an_intersection_filter(tmp_path: Any) -> None:
    _, desired = environment(
        tmp_path, permission_model="SERVICE_MANAGED", organizational_units=["ou-ab12-cd34ef56"]
    )
    primary = desired[1]
    deployed = ObservedStackSet(
        name=primary.name,
        status="ACTIVE",
        template_body=changed_template(primary),
        parameters=dict(primary.parameters),
        permission_model="SERVICE_MANAGED",
        instances=tuple(
            ObservedInstance(a, "us-east-1", "CURRENT", organizational_unit="ou-ab12-cd34ef56")
            for a in (A, B)
        ),
    )
    part = narrow(plan_stack_set(primary, deployed), Scope(accounts=(A,)))
    assert part.desired.account_filter == AccountFilter("INTERSECTION", (A,))
    assert stack_set_update_targets(part) == {
        "DeploymentTargets": {
            "OrganizationalUnitIds": ["ou-ab12-cd34ef56"],
            "Accounts": [A],
            "AccountFilterType": "INTERSECTION",
        },
        "Regions": ["us-east-1"],
    }


@pytest.mark.parametrize(
    ("scope", "replica_deployed", "blocked"),
    [
        # A first deploy limited to the primary region: the replica buckets do not exist yet.
        (Scope(regions=("us-east-1",)), False, True),
        # Both regions of the account: the replica instance is created first, in the same run.
        (Scope(accounts=(A,)), False, False),
        # The replica is deployed already: the primary region alone is fine.
        (Scope(regions=("us-east-1",)), True, False),
    ],
)
def test_a_primary_instance_needs_its_replica_deployed_or_in_the_same_run(
    tmp_path: Any, scope: Scope, replica_deployed: bool, blocked: bool
) -> None:
    from stacksets.staged import narrow_rollout

    _, desired = environment(tmp_path)
    replica, primary = desired
    plans = (
        plan_stack_set(replica, observed(replica) if replica_deployed else None),
        plan_stack_set(primary, None),
    )
    narrowed = narrow_rollout(plans, scope)
    assert narrowed[0].blockers == ()
    if blocked:
        (reason,) = narrowed[1].blockers
        assert f"creates the primary instance of {A}, {B}, {C}" in reason
        assert "add us-west-2 to --regions" in reason
    else:
        assert narrowed[1].blockers == ()
    assert [n.instances.add for n in narrowed] == [narrow(p, scope).instances.add for p in plans]
