"""stacksets.plan: create / update / no change, parameter and instance diffs, rendering."""

from __future__ import annotations

import json
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import attrs
import pytest
import yaml

from appstorage.config import bundled_example_path, parse_config
from appstorage.table import TABLE_LOGICAL_ID
from stacksets.desired import desired_stack_sets
from stacksets.model import (
    DesiredInstance,
    DesiredStackSet,
    ObservedInstance,
    ObservedStackSet,
    ParameterChange,
    SettingChange,
    StackSetPlan,
)
from stacksets.plan import needs_stack_set_update, plan_blocks_deploy, plan_stack_set
from stacksets.planview import plan_to_json, render_plan

Raw = dict[str, Any]


def settings_text(plan: StackSetPlan) -> tuple[str, ...]:
    return tuple(s.text for s in plan.settings)


def _raw() -> Raw:
    data: Raw = yaml.safe_load(bundled_example_path().read_text(encoding="utf-8"))
    return data


def _desired(edit: Callable[[Raw], None] | None = None, env: str = "prod") -> dict[str, DesiredStackSet]:
    raw = _raw()
    if edit is not None:
        edit(raw)
    return {d.kind: d for d in desired_stack_sets(parse_config(raw), env)}


BASE = _desired()
#: The table's resource type in the built primary template (AWS::DynamoDB::GlobalTable).
TABLE_TYPE = BASE["primary"].template["Resources"][TABLE_LOGICAL_ID]["Type"]
#: The administrator account (the stack sets') and CloudFormation's default administration role there.
ADMIN = "999999999999"
DEFAULT_ADMIN_ROLE = f"arn:aws:iam::{ADMIN}:role/AWSCloudFormationStackSetAdministrationRole"


def _deployed(desired: DesiredStackSet, **changes: Any) -> ObservedStackSet:
    """What CloudFormation reports after ``desired`` was deployed successfully."""
    observed = ObservedStackSet(
        name=desired.name,
        status="ACTIVE",
        template_body=desired.template_body,
        parameters=dict(desired.parameters),
        instances=tuple(
            ObservedInstance(i.account, i.region, "CURRENT", "SUCCEEDED", overrides=dict(i.overrides))
            for i in desired.instances
        ),
        permission_model=desired.permission_model,
        managed_execution=True,
        stack_set_arn=f"arn:aws:cloudformation:{desired.region}:{ADMIN}:stackset/{desired.name}:0000",
        tags=dict(desired.tags),
        execution_role_name=desired.execution_role_name,
        administration_role_arn=desired.administration_role_arn or DEFAULT_ADMIN_ROLE,
    )
    return attrs.evolve(observed, **changes)


def _set(path: str, value: Any) -> Callable[[Raw], None]:
    def edit(raw: Raw) -> None:
        *parents, last = path.split(".")
        node = raw
        for key in parents:
            node = node[key]
        node[last] = value

    return edit


# --------------------------------------------------------------------------- action semantics

# (id, kind, desired, observed, action, needs UpdateStackSet, data loss logical ids)
ACTION_CASES: list[tuple[str, str, DesiredStackSet, ObservedStackSet | None, str, bool, set[str]]] = [
    ("not deployed", "primary", BASE["primary"], None, "create", False, set()),
    (
        "deleted",
        "replica",
        BASE["replica"],
        attrs.evolve(_deployed(BASE["replica"]), status="DELETED"),
        "create",
        False,
        set(),
    ),
    ("unchanged primary", "primary", BASE["primary"], _deployed(BASE["primary"]), "no change", False, set()),
    ("unchanged replica", "replica", BASE["replica"], _deployed(BASE["replica"]), "no change", False, set()),
    (
        "template reformatted only",
        "primary",
        BASE["primary"],
        _deployed(BASE["primary"], template_body=json.dumps(BASE["primary"].template)),
        "no change",
        False,
        set(),
    ),
    (
        "template deployed as YAML",
        "replica",
        BASE["replica"],
        _deployed(BASE["replica"], template_body=yaml.safe_dump(dict(BASE["replica"].template))),
        "no change",
        False,
        set(),
    ),
    (
        "CORS changed",
        "primary",
        _desired(_set("environments.prod.cors_allowed_origins", ["https://tattoo.example.com"]))["primary"],
        _deployed(BASE["primary"]),
        "update",
        True,
        set(),
    ),
    (
        "name_prefix changed",
        "primary",
        attrs.evolve(_desired(_set("name_prefix", "acme"))["primary"], name=BASE["primary"].name),
        _deployed(BASE["primary"]),
        "update",
        True,
        {"Table", "FrontendBucket", "ImagesBucket"},
    ),
    (
        "parameter changed",
        "primary",
        BASE["primary"],
        _deployed(BASE["primary"], parameters={**BASE["primary"].parameters, "KmsKeyArn": "/old/path"}),
        "update",
        True,
        set(),
    ),
    (
        "instance missing only",
        "primary",
        BASE["primary"],
        _deployed(BASE["primary"], instances=()),
        "update",
        False,
        set(),
    ),
    (
        "instance outdated only",
        "replica",
        BASE["replica"],
        _deployed(
            BASE["replica"],
            instances=(ObservedInstance("333333333333", "us-west-2", "OUTDATED", "FAILED", reason="boom"),),
        ),
        "update",
        False,
        set(),
    ),
    (
        "permission model changed, no instances yet (allowed; with instances see test_plan_notes)",
        "primary",
        BASE["primary"],
        _deployed(BASE["primary"], permission_model="SERVICE_MANAGED", instances=()),
        "update",
        True,
        set(),
    ),
    (
        "managed execution off is not a change by default",
        "primary",
        BASE["primary"],
        _deployed(BASE["primary"], managed_execution=False),
        "no change",
        False,
        set(),
    ),
]


@pytest.mark.parametrize(
    ("kind", "desired", "observed", "action", "update", "loss"),
    [pytest.param(*case[1:], id=case[0]) for case in ACTION_CASES],
)
def test_action(
    kind: str,
    desired: DesiredStackSet,
    observed: ObservedStackSet | None,
    action: str,
    update: bool,
    loss: set[str],
) -> None:
    plan = plan_stack_set(desired, observed)
    assert plan.desired is desired
    assert plan.desired.kind == kind
    assert plan.action == action
    assert plan.changed is (action != "no change")
    assert needs_stack_set_update(plan) is update
    assert {c.logical_id for c in plan.data_loss} == loss
    if action == "no change":
        assert not plan.template.changed and not plan.parameters and not plan.instances.changed
    blocked = plan_blocks_deploy([plan], allow_replacement=False)
    assert {c.logical_id for c in blocked} == loss
    assert plan_blocks_deploy([plan], allow_replacement=True) == []


def test_create_adds_everything() -> None:
    desired = BASE["primary"]
    plan = plan_stack_set(desired, None)
    assert plan.instances.add == desired.instances
    assert plan.instances.add
    assert {p.key for p in plan.parameters} == set(desired.parameters)
    assert all(p.old is None and p.new == desired.parameters[p.key] for p in plan.parameters)
    assert {c.logical_id for c in plan.template.resources} == set(desired.template["Resources"])
    assert all(c.action == "add" for c in plan.template.resources)


def test_managed_execution_can_be_required() -> None:
    plan = plan_stack_set(
        BASE["primary"], _deployed(BASE["primary"], managed_execution=False), require_managed_execution=True
    )
    assert plan.action == "update"
    assert needs_stack_set_update(plan)
    assert plan.settings == (SettingChange("ManagedExecution", "off", "on"),)
    assert settings_text(plan) == ("ManagedExecution: off -> on",)


# --------------------------------------------------------------------------- stack set settings

CUSTOM_ADMIN_ROLE = f"arn:aws:iam::{ADMIN}:role/StorageStackSetAdmin"
_TAGS = dict(BASE["primary"].tags)

# (id, desired, observed, expected settings): settings only, the template is the deployed one.
SETTINGS_CASES: list[tuple[str, DesiredStackSet, ObservedStackSet, tuple[str, ...]]] = [
    ("unchanged", BASE["primary"], _deployed(BASE["primary"]), ()),
    (
        "tag added",
        attrs.evolve(BASE["primary"], tags={**_TAGS, "owner": "storage-team"}),
        _deployed(BASE["primary"]),
        ("Tags: +owner=storage-team",),
    ),
    (
        "tag changed",
        BASE["primary"],
        _deployed(BASE["primary"], tags={**_TAGS, "cost-center": "finance"}),
        ("Tags: ~cost-center=finance -> platform",),
    ),
    (
        "tag removed",
        BASE["primary"],
        _deployed(BASE["primary"], tags={**_TAGS, "owner": "storage-team"}),
        ("Tags: -owner=storage-team",),
    ),
    (
        "tags added, changed and removed, sorted by key",
        attrs.evolve(BASE["primary"], tags={**_TAGS, "owner": "storage-team"}),
        _deployed(BASE["primary"], tags={**_TAGS, "cost-center": "finance", "alpha": "1"}),
        ("Tags: -alpha=1, ~cost-center=finance -> platform, +owner=storage-team",),
    ),
    ("no tags reported: not compared", BASE["primary"], _deployed(BASE["primary"], tags=None), ()),
    (
        "untagged stack set",
        BASE["replica"],
        _deployed(BASE["replica"], tags={}),
        ("Tags: " + ", ".join(f"+{k}={v}" for k, v in sorted(BASE["replica"].tags.items())),),
    ),
    (
        "execution role changed",
        BASE["primary"],
        _deployed(BASE["primary"], execution_role_name="OldExecutionRole"),
        ("ExecutionRoleName: OldExecutionRole -> AWSCloudFormationStackSetExecutionRole",),
    ),
    (
        "execution role not reported: not compared",
        BASE["primary"],
        _deployed(BASE["primary"], execution_role_name=None),
        (),
    ),
    (
        "administration role set",
        attrs.evolve(BASE["primary"], administration_role_arn=CUSTOM_ADMIN_ROLE),
        _deployed(BASE["primary"]),
        (f"AdministrationRoleARN: {DEFAULT_ADMIN_ROLE} -> {CUSTOM_ADMIN_ROLE}",),
    ),
    (
        "administration role changed",
        attrs.evolve(BASE["primary"], administration_role_arn=CUSTOM_ADMIN_ROLE),
        _deployed(BASE["primary"], administration_role_arn=f"arn:aws:iam::{ADMIN}:role/Old"),
        (f"AdministrationRoleARN: arn:aws:iam::{ADMIN}:role/Old -> {CUSTOM_ADMIN_ROLE}",),
    ),
    (
        "administration role unset: back to the default role",
        BASE["primary"],
        _deployed(BASE["primary"], administration_role_arn=CUSTOM_ADMIN_ROLE),
        (f"AdministrationRoleARN: {CUSTOM_ADMIN_ROLE} -> {DEFAULT_ADMIN_ROLE} (the default role)",),
    ),
    (
        "custom administration role unchanged",
        attrs.evolve(BASE["primary"], administration_role_arn=CUSTOM_ADMIN_ROLE),
        _deployed(attrs.evolve(BASE["primary"], administration_role_arn=CUSTOM_ADMIN_ROLE)),
        (),
    ),
    (
        "administration role unset, default role in another partition",
        BASE["primary"],
        _deployed(
            BASE["primary"],
            stack_set_arn=f"arn:aws-cn:cloudformation:cn-north-1:{ADMIN}:stackset/x:1",
            administration_role_arn=f"arn:aws-cn:iam::{ADMIN}:role/AWSCloudFormationStackSetAdministrationRole",
        ),
        (),
    ),
    (
        "administration role unset and no stack set ARN: not compared",
        BASE["primary"],
        _deployed(BASE["primary"], stack_set_arn="", administration_role_arn=CUSTOM_ADMIN_ROLE),
        (),
    ),
    (
        "SERVICE_MANAGED: roles are service-linked, not compared (moto reports them anyway)",
        attrs.evolve(
            BASE["primary"], permission_model="SERVICE_MANAGED", execution_role_name=None, instances=()
        ),
        _deployed(
            BASE["primary"],
            permission_model="SERVICE_MANAGED",
            instances=(),
            execution_role_name="Other",
            administration_role_arn=CUSTOM_ADMIN_ROLE,
        ),
        (),
    ),
]


@pytest.mark.parametrize(
    ("desired", "observed", "expected"), [pytest.param(*case[1:], id=case[0]) for case in SETTINGS_CASES]
)
def test_stack_set_settings(
    desired: DesiredStackSet, observed: ObservedStackSet, expected: tuple[str, ...]
) -> None:
    plan = plan_stack_set(desired, observed)
    assert settings_text(plan) == expected
    assert plan.action == ("update" if expected else "no change")
    # A settings-only change is an UpdateStackSet (which sends Tags and the roles), nothing else.
    assert needs_stack_set_update(plan) is bool(expected)
    assert not plan.template.changed and not plan.parameters and not plan.instances.changed
    data = plan_to_json([plan])["stack_sets"][0]
    assert data["stack_set_changes"] == list(expected)
    # typed for programs too: the setting, its old and its new value
    assert [s["key"] for s in data["settings"]] == [e.split(":")[0] for e in expected]
    assert all(set(s) == {"key", "old", "new"} and s["old"] != s["new"] for s in data["settings"])
    assert data["needs_stack_set_update"] is bool(expected)
    text = render_plan([plan])
    for setting in expected:
        assert f"  ~ {setting}\n" in text, text


def test_unset_administration_role_sends_the_default_role_to_leave_a_custom_one() -> None:
    """UpdateStackSet without AdministrationRoleARN keeps the previous role: the plan's desired
    stack set names the default role's ARN so that the executor sends it."""
    plan = plan_stack_set(
        BASE["primary"], _deployed(BASE["primary"], administration_role_arn=CUSTOM_ADMIN_ROLE)
    )
    assert plan.desired.administration_role_arn == DEFAULT_ADMIN_ROLE
    assert attrs.evolve(plan.desired, administration_role_arn=None) == BASE["primary"]
    unchanged = plan_stack_set(BASE["primary"], _deployed(BASE["primary"]))
    assert unchanged.desired is BASE["primary"]


def test_desired_roles_come_from_the_deployment() -> None:
    custom = _desired(_set("environments.prod.deployment.administration_role_arn", CUSTOM_ADMIN_ROLE))
    renamed = _desired(_set("environments.prod.deployment.execution_role_name", "StorageExec"))
    for kind in ("primary", "replica"):
        assert BASE[kind].execution_role_name == "AWSCloudFormationStackSetExecutionRole"
        assert BASE[kind].administration_role_arn is None
        assert custom[kind].administration_role_arn == CUSTOM_ADMIN_ROLE
        assert renamed[kind].execution_role_name == "StorageExec"
        # Only the roles differ: the template is the same, so only the settings compare says "update".
        plan = plan_stack_set(renamed[kind], _deployed(BASE[kind]))
        assert not plan.template.changed
        assert plan.settings == (
            SettingChange("ExecutionRoleName", "AWSCloudFormationStackSetExecutionRole", "StorageExec"),
        )


# --------------------------------------------------------------------------- parameters


KMS = BASE["primary"].parameters["KmsKeyArn"]


@pytest.mark.parametrize(
    ("observed_parameters", "expected"),
    [
        pytest.param({"KmsKeyArn": "/old"}, (ParameterChange("KmsKeyArn", "/old", KMS),), id="changed"),
        pytest.param({"Legacy": "x"}, (ParameterChange("Legacy", "x", None),), id="removed"),
        pytest.param(
            {"Legacy": "x", "KmsKeyArn": "/old"},
            (ParameterChange("KmsKeyArn", "/old", KMS), ParameterChange("Legacy", "x", None)),
            id="sorted by key",
        ),
        pytest.param({}, (), id="identical"),
    ],
)
def test_parameter_diff(observed_parameters: dict[str, str], expected: tuple[ParameterChange, ...]) -> None:
    desired = BASE["primary"]
    params = {**desired.parameters, **observed_parameters}
    plan = plan_stack_set(desired, _deployed(desired, parameters=params))
    assert plan.parameters == expected
    assert needs_stack_set_update(plan) is bool(expected)


def test_parameter_added() -> None:
    desired = BASE["primary"]
    params = {k: v for k, v in desired.parameters.items() if k != "KmsKeyArn"}
    plan = plan_stack_set(desired, _deployed(desired, parameters=params))
    assert plan.parameters == (ParameterChange("KmsKeyArn", None, desired.parameters["KmsKeyArn"]),)


# --------------------------------------------------------------------------- instances

ACCOUNT = "333333333333"
CURRENT = ObservedInstance(ACCOUNT, "us-east-1", "CURRENT")

# (id, desired instances, observed instances, add, remove, outdated)
INSTANCE_CASES: list[
    tuple[
        str,
        tuple[DesiredInstance, ...],
        tuple[ObservedInstance, ...],
        tuple[DesiredInstance, ...],
        tuple[ObservedInstance, ...],
        tuple[ObservedInstance, ...],
    ]
] = [
    ("in sync", (DesiredInstance(ACCOUNT, "us-east-1"),), (CURRENT,), (), (), ()),
    (
        "missing",
        (DesiredInstance(ACCOUNT, "us-east-1"), DesiredInstance("444444444444", "us-east-1")),
        (CURRENT,),
        (DesiredInstance("444444444444", "us-east-1"),),
        (),
        (),
    ),
    (
        "surplus",
        (DesiredInstance(ACCOUNT, "us-east-1"),),
        (CURRENT, ObservedInstance("555555555555", "us-east-1", "CURRENT")),
        (),
        (ObservedInstance("555555555555", "us-east-1", "CURRENT"),),
        (),
    ),
    (
        "other region is another instance",
        (DesiredInstance(ACCOUNT, "us-east-1"),),
        (ObservedInstance(ACCOUNT, "eu-west-1", "CURRENT"),),
        (DesiredInstance(ACCOUNT, "us-east-1"),),
        (ObservedInstance(ACCOUNT, "eu-west-1", "CURRENT"),),
        (),
    ),
    (
        "not current",
        (DesiredInstance(ACCOUNT, "us-east-1"),),
        (ObservedInstance(ACCOUNT, "us-east-1", "OUTDATED", "FAILED"),),
        (),
        (),
        (ObservedInstance(ACCOUNT, "us-east-1", "OUTDATED", "FAILED"),),
    ),
    (
        "overrides differ",
        (DesiredInstance(ACCOUNT, "us-east-1", {"KmsKeyArn": "/new"}),),
        (ObservedInstance(ACCOUNT, "us-east-1", "CURRENT", overrides={"KmsKeyArn": "/old"}),),
        (),
        (),
        (ObservedInstance(ACCOUNT, "us-east-1", "CURRENT", overrides={"KmsKeyArn": "/old"}),),
    ),
    (
        "organizational unit target",
        (DesiredInstance("ou-abcd-12345678", "us-east-1"),),
        (
            ObservedInstance("666666666666", "us-east-1", "CURRENT", organizational_unit="ou-abcd-12345678"),
            ObservedInstance("777777777777", "us-east-1", "OUTDATED", organizational_unit="ou-abcd-12345678"),
        ),
        (),
        (),
        (ObservedInstance("777777777777", "us-east-1", "OUTDATED", organizational_unit="ou-abcd-12345678"),),
    ),
]


@pytest.mark.parametrize(
    ("desired_instances", "observed_instances", "add", "remove", "outdated"),
    [pytest.param(*case[1:], id=case[0]) for case in INSTANCE_CASES],
)
def test_instance_diff(
    desired_instances: tuple[DesiredInstance, ...],
    observed_instances: tuple[ObservedInstance, ...],
    add: tuple[DesiredInstance, ...],
    remove: tuple[ObservedInstance, ...],
    outdated: tuple[ObservedInstance, ...],
) -> None:
    desired = attrs.evolve(BASE["primary"], instances=desired_instances)
    plan = plan_stack_set(desired, _deployed(desired, instances=observed_instances))
    assert plan.instances.add == add
    assert plan.instances.remove == remove
    assert plan.instances.outdated == outdated
    changed = bool(add or remove or outdated)
    assert plan.action == ("update" if changed else "no change")
    assert not needs_stack_set_update(plan)


# --------------------------------------------------------------------------- output


def _loss_plan() -> list[Any]:
    renamed = _desired(_set("name_prefix", "acme"))
    return [
        plan_stack_set(attrs.evolve(renamed[k], name=BASE[k].name), _deployed(BASE[k]))
        for k in ("replica", "primary")
    ]


@pytest.mark.parametrize(
    ("plans", "expected", "absent"),
    [
        pytest.param(
            [plan_stack_set(d, _deployed(d)) for d in BASE.values()],
            [
                "tattoo-directory-prod-app-storage-primary (primary, us-east-1): no change",
                "0 to update, 2 unchanged",
            ],
            ["DATA LOSS", "Resources:"],
            id="no change",
        ),
        pytest.param(
            [plan_stack_set(BASE["primary"], None)],
            ["primary, us-east-1): create", f"+ Table ({TABLE_TYPE}) add", "+ 333333333333 us-east-1"],
            ["DATA LOSS"],
            id="create",
        ),
        pytest.param(
            _loss_plan(),
            [
                f"~ Table ({TABLE_TYPE}) modify",
                "Properties.TableName (requires replacement)",
                f"DATA LOSS: Table ({TABLE_TYPE}): changing Properties.TableName replaces the table",
                "DATA LOSS: FrontendBackupBucket (AWS::S3::Bucket)",
                "5 change(s) would lose or orphan data",
            ],
            ["no change"],
            id="data loss",
        ),
        pytest.param(
            [
                plan_stack_set(
                    BASE["primary"],
                    _deployed(
                        BASE["primary"],
                        parameters={**BASE["primary"].parameters, "KmsKeyArn": "/old"},
                        instances=(ObservedInstance(ACCOUNT, "us-east-1", "OUTDATED", "FAILED", "denied"),),
                    ),
                )
            ],
            [
                "Parameters:",
                "~ KmsKeyArn: 'ssm:/old' -> 'ssm:/tattoo-directory/prod/foundation/kms-key-arn'",
                "~ 333333333333 us-east-1 [OUTDATED/FAILED] denied (outdated)",
            ],
            ["Resources:", "DATA LOSS"],
            id="parameters and instances",
        ),
    ],
)
def test_render_plan(plans: list[Any], expected: list[str], absent: list[str]) -> None:
    text = render_plan(plans)
    assert text == render_plan(plans)
    assert text.endswith("\n")
    for line in expected:
        assert line in text, text
    for line in absent:
        assert line not in text, text


def test_plan_to_json() -> None:
    plans = _loss_plan()
    data = plan_to_json(plans)
    assert json.loads(json.dumps(data)) == data
    assert data["changed"] is True
    assert data["data_loss"] is True
    primary = data["stack_sets"][1]
    assert primary["kind"] == "primary"
    assert primary["action"] == "update"
    assert primary["needs_stack_set_update"] is True
    assert {c["logical_id"] for c in primary["data_loss"]} == {"Table", "FrontendBucket", "ImagesBucket"}
    table = next(c for c in primary["template"]["resources"] if c["logical_id"] == "Table")
    assert table["replacement_paths"] == ["Properties.TableName"]
    assert table["replacement"] is True

    quiet = plan_to_json([plan_stack_set(d, _deployed(d)) for d in BASE.values()])
    assert quiet["changed"] is False
    assert quiet["data_loss"] is False
    assert [s["action"] for s in quiet["stack_sets"]] == ["no change", "no change"]


def test_planner_imports_no_boto3() -> None:
    code = (
        "import sys, stacksets.plan, stacksets.diff;"
        "bad = sorted(m for m in sys.modules if m.split('.')[0] in ('boto3', 'botocore', 'cfnlint'));"
        "print(bad); sys.exit(1 if bad else 0)"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert result.returncode == 0, result.stdout + result.stderr
