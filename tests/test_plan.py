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
from stacksets.desired import desired_stack_sets
from stacksets.model import (
    DesiredInstance,
    DesiredStackSet,
    ObservedInstance,
    ObservedStackSet,
    ParameterChange,
)
from stacksets.plan import (
    instances_to_create,
    instances_to_delete,
    instances_to_update,
    needs_stack_set_create,
    needs_stack_set_update,
    plan_blocks_deploy,
    plan_stack_set,
    plan_to_json,
    render_plan,
    stack_set_changes,
)

Raw = dict[str, Any]


def _raw() -> Raw:
    data: Raw = yaml.safe_load(bundled_example_path().read_text(encoding="utf-8"))
    return data


def _desired(edit: Callable[[Raw], None] | None = None, env: str = "prod") -> dict[str, DesiredStackSet]:
    raw = _raw()
    if edit is not None:
        edit(raw)
    return {d.kind: d for d in desired_stack_sets(parse_config(raw), env)}


BASE = _desired()


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
    assert needs_stack_set_create(plan) is (action == "create")
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
    assert instances_to_create(plan) == desired.instances
    assert instances_to_create(plan)
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
    assert stack_set_changes(plan) == ("ManagedExecution: off -> on",)


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
    assert instances_to_create(plan) == add
    assert instances_to_delete(plan) == remove
    assert instances_to_update(plan) == outdated
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
            ["primary, us-east-1): create", "+ Table (AWS::DynamoDB::Table) add", "+ 333333333333 us-east-1"],
            ["DATA LOSS"],
            id="create",
        ),
        pytest.param(
            _loss_plan(),
            [
                "~ Table (AWS::DynamoDB::Table) modify",
                "Properties.TableName (requires replacement)",
                "DATA LOSS: Table (AWS::DynamoDB::Table): changing Properties.TableName replaces the table",
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
                "~ KmsKeyArn: '/old' -> '/tattoo-directory/prod/foundation/kms-key-arn'",
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
