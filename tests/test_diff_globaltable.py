"""stacksets.diff on the global table (``AWS::DynamoDB::GlobalTable``): what loses data, what not.

The templates are written here in the shape the primary template gives the table (the contract:
logical id and name from appstorage, ``Replicas`` with ``{"Ref": "AWS::Region"}`` first and the
replica Region as a literal), so the rules are pinned whatever the builder does today; one test
runs the same rules on the real build when it declares a global table.
"""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import attrs
import pytest

from appstorage.config import load_config, parse_config
from appstorage.naming import table_name
from appstorage.render import to_json
from appstorage.table import TABLE_LOGICAL_ID
from appstorage.templates import build_environment
from stacksets.desired import desired_stack_sets
from stacksets.diff import TABLE_MOVE_DOC, diff_templates
from stacksets.errors import DeployBlocked
from stacksets.model import DesiredStackSet, ObservedStackSet, ResourceChange, StackSetPlan
from stacksets.plan import plan_blocks_deploy, plan_stack_set
from stacksets.planview import render_plan
from stacksets.schemas import create_only_properties
from tests.helpers import example_data

Template = dict[str, Any]

NAME = table_name("tattoo-directory", "prod")
OWN = {"Ref": "AWS::Region"}
MOVE_SECTION = '"Moving an environment from AWS::DynamoDB::Table to the global table"'


def _replica(region: Any, key: str) -> dict[str, Any]:
    return {
        "Region": region,
        "SSESpecification": {"KMSMasterKeyId": {"Ref": key}},
        "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True, "RecoveryPeriodInDays": 35},
        "DeletionProtectionEnabled": True,
        "ContributorInsightsSpecification": {"Enabled": False},
        "Tags": [{"Key": "environment", "Value": "prod"}],
    }


def _keys() -> dict[str, Any]:
    return {
        "AttributeDefinitions": [
            {"AttributeName": a, "AttributeType": "S"} for a in ("PK", "SK", "GSI1PK", "GSI1SK")
        ],
        "KeySchema": [
            {"AttributeName": "PK", "KeyType": "HASH"},
            {"AttributeName": "SK", "KeyType": "RANGE"},
        ],
        "GlobalSecondaryIndexes": [
            {
                "IndexName": "GSI1",
                "KeySchema": [
                    {"AttributeName": "GSI1PK", "KeyType": "HASH"},
                    {"AttributeName": "GSI1SK", "KeyType": "RANGE"},
                ],
                "Projection": {"ProjectionType": "ALL"},
            }
        ],
    }


def global_table_template() -> Template:
    """A primary template's global table with two replicas (own Region, us-west-2)."""
    table = {
        "Type": "AWS::DynamoDB::GlobalTable",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "TableName": NAME,
            "BillingMode": "PAY_PER_REQUEST",
            **_keys(),
            "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"},
            "SSESpecification": {"SSEEnabled": True, "SSEType": "KMS"},
            "Replicas": [_replica(OWN, "KmsKeyArn"), _replica("us-west-2", "ReplicaKmsKeyArn")],
        },
    }
    return {"Resources": {TABLE_LOGICAL_ID: table}}


def plain_table_template() -> Template:
    """The same table as the single-Region ``AWS::DynamoDB::Table`` of earlier versions."""
    table = {
        "Type": "AWS::DynamoDB::Table",
        "DeletionPolicy": "Retain",
        "UpdateReplacePolicy": "Retain",
        "Properties": {
            "TableName": NAME,
            "BillingMode": "PAY_PER_REQUEST",
            **_keys(),
            "StreamSpecification": {"StreamViewType": "NEW_AND_OLD_IMAGES"},
            "SSESpecification": {
                "SSEEnabled": True,
                "SSEType": "KMS",
                "KMSMasterKeyId": {"Ref": "KmsKeyArn"},
            },
            "PointInTimeRecoverySpecification": {"PointInTimeRecoveryEnabled": True},
            "DeletionProtectionEnabled": True,
        },
    }
    return {"Resources": {TABLE_LOGICAL_ID: table}}


GLOBAL = global_table_template()
PLAIN = plain_table_template()


def _edit(base: Template, edit: Callable[[dict[str, Any]], None]) -> Template:
    template = copy.deepcopy(base)
    edit(template["Resources"])
    return template


def _props(resources: dict[str, Any]) -> dict[str, Any]:
    props: dict[str, Any] = resources[TABLE_LOGICAL_ID]["Properties"]
    return props


def _replicas(resources: dict[str, Any]) -> list[dict[str, Any]]:
    replicas: list[dict[str, Any]] = _props(resources)["Replicas"]
    return replicas


def _drop_replica(region: Any) -> Callable[[dict[str, Any]], None]:
    def edit(resources: dict[str, Any]) -> None:
        _props(resources)["Replicas"] = [r for r in _replicas(resources) if r["Region"] != region]

    return edit


def _add_replica(resources: dict[str, Any]) -> None:
    _replicas(resources).append(_replica("eu-west-1", "ReplicaKmsKeyArn"))


def _swap_replicas(resources: dict[str, Any]) -> None:
    _replicas(resources).reverse()


def _replica_settings(resources: dict[str, Any]) -> None:
    own, other = _replicas(resources)
    own["PointInTimeRecoverySpecification"]["RecoveryPeriodInDays"] = 7
    own["ContributorInsightsSpecification"] = {"Enabled": True}
    other["DeletionProtectionEnabled"] = False
    other["ReadOnDemandThroughputSettings"] = {"MaxReadRequestUnits": 100}


def _own_as_literal(resources: dict[str, Any]) -> None:
    _replicas(resources)[0]["Region"] = "us-east-1"


def _move_replica(resources: dict[str, Any]) -> None:
    _replicas(resources)[1]["Region"] = "eu-west-1"


def _rename(resources: dict[str, Any]) -> None:
    _props(resources)["TableName"] = "acme-prod"


def _rename_and_drop(resources: dict[str, Any]) -> None:
    _rename(resources)
    _drop_replica("us-west-2")(resources)


def _sort_key(resources: dict[str, Any]) -> None:
    _props(resources)["KeySchema"][1]["AttributeName"] = "GSI1SK"


def _key_type(resources: dict[str, Any]) -> None:
    _props(resources)["AttributeDefinitions"][0]["AttributeType"] = "N"


def _add_gsi(resources: dict[str, Any]) -> None:
    gsi = copy.deepcopy(_props(resources)["GlobalSecondaryIndexes"][0])
    gsi["IndexName"] = "GSI2"
    _props(resources)["GlobalSecondaryIndexes"].append(gsi)


def _new_logical_id(resources: dict[str, Any]) -> None:
    resources["AppTable"] = resources.pop(TABLE_LOGICAL_ID)


def _to_plain(resources: dict[str, Any]) -> None:
    resources[TABLE_LOGICAL_ID] = copy.deepcopy(PLAIN["Resources"][TABLE_LOGICAL_ID])


REMOVED_WEST = "removing the replica in us-west-2 from Replicas deletes the table and its data in that Region"
REMOVED_OWN = (
    'removing the replica in the stack\'s own Region ({"Ref": "AWS::Region"}) from Replicas deletes the '
    "table and its data in that Region"
)
NOT_CONVERTED = "CloudFormation would not convert the table in place"

# (id, old template, new template, {logical id: (action, data loss)}, substrings of the data-loss reason,
#  substrings that must not be in it)
CASES: list[tuple[str, Template, Template, dict[str, tuple[str, bool]], list[str], list[str]]] = [
    ("identical", GLOBAL, copy.deepcopy(GLOBAL), {}, [], []),
    (
        "replica removed",
        GLOBAL,
        _edit(GLOBAL, _drop_replica("us-west-2")),
        {TABLE_LOGICAL_ID: ("modify", True)},
        [REMOVED_WEST],
        ["own Region"],
    ),
    (
        "replica added is in place",
        GLOBAL,
        _edit(GLOBAL, _add_replica),
        {TABLE_LOGICAL_ID: ("modify", False)},
        [],
        [],
    ),
    (
        "replicas reordered: compared by Region",
        GLOBAL,
        _edit(GLOBAL, _swap_replicas),
        {TABLE_LOGICAL_ID: ("modify", False)},
        [],
        [],
    ),
    (
        "per-replica settings are in place",
        GLOBAL,
        _edit(GLOBAL, _replica_settings),
        {TABLE_LOGICAL_ID: ("modify", False)},
        [],
        [],
    ),
    (
        "own-Region replica removed",
        GLOBAL,
        _edit(GLOBAL, _drop_replica(OWN)),
        {TABLE_LOGICAL_ID: ("modify", True)},
        [REMOVED_OWN],
        ["us-west-2"],
    ),
    (
        "Ref AWS::Region is never taken for a literal",
        GLOBAL,
        _edit(GLOBAL, _own_as_literal),
        {TABLE_LOGICAL_ID: ("modify", True)},
        [REMOVED_OWN, 'write it as {"Ref": "AWS::Region"} again'],
        [],
    ),
    (
        "replica moved to another Region",
        GLOBAL,
        _edit(GLOBAL, _move_replica),
        {TABLE_LOGICAL_ID: ("modify", True)},
        [REMOVED_WEST],
        ["eu-west-1"],
    ),
    (
        "table name changed (createOnly in cfn-lint's GlobalTable schema)",
        GLOBAL,
        _edit(GLOBAL, _rename),
        {TABLE_LOGICAL_ID: ("modify", True)},
        ["changing Properties.TableName replaces the table", "in every replica Region"],
        ["Replicas"],
    ),
    (
        "table name changed and replica removed: both reasons",
        GLOBAL,
        _edit(GLOBAL, _rename_and_drop),
        {TABLE_LOGICAL_ID: ("modify", True)},
        ["changing Properties.TableName replaces the table", REMOVED_WEST],
        [],
    ),
    (
        "sort key changed",
        GLOBAL,
        _edit(GLOBAL, _sort_key),
        {TABLE_LOGICAL_ID: ("modify", True)},
        ["Properties.KeySchema[1].AttributeName replaces the table"],
        [],
    ),
    (
        "key attribute type changed",
        GLOBAL,
        _edit(GLOBAL, _key_type),
        {TABLE_LOGICAL_ID: ("modify", True)},
        ["Properties.AttributeDefinitions[0].AttributeType replaces the table"],
        [],
    ),
    ("GSI added is in place", GLOBAL, _edit(GLOBAL, _add_gsi), {TABLE_LOGICAL_ID: ("modify", False)}, [], []),
    (
        "Table to GlobalTable under the same logical id",
        PLAIN,
        copy.deepcopy(GLOBAL),
        {TABLE_LOGICAL_ID: ("modify", True)},
        [
            "type changed from AWS::DynamoDB::Table to AWS::DynamoDB::GlobalTable",
            NOT_CONVERTED,
            TABLE_MOVE_DOC,
        ],
        [],
    ),
    (
        "GlobalTable back to Table",
        GLOBAL,
        _edit(GLOBAL, _to_plain),
        {TABLE_LOGICAL_ID: ("modify", True)},
        [
            "type changed from AWS::DynamoDB::GlobalTable to AWS::DynamoDB::Table",
            NOT_CONVERTED,
            TABLE_MOVE_DOC,
        ],
        [],
    ),
    (
        "Table removed, GlobalTable under another logical id",
        PLAIN,
        _edit(GLOBAL, _new_logical_id),
        {TABLE_LOGICAL_ID: ("remove", True), "AppTable": ("add", False)},
        [
            f"logical id changed from {TABLE_LOGICAL_ID} to AppTable",
            "type changed from AWS::DynamoDB::Table to AWS::DynamoDB::GlobalTable",
            NOT_CONVERTED,
            "the new table has the same TableName, so creating it fails while the old one exists",
            TABLE_MOVE_DOC,
        ],
        [],
    ),
    (
        "GlobalTable under another logical id",
        GLOBAL,
        _edit(GLOBAL, _new_logical_id),
        {TABLE_LOGICAL_ID: ("remove", True), "AppTable": ("add", False)},
        [f"logical id changed from {TABLE_LOGICAL_ID} to AppTable", "create a new, empty resource"],
        [NOT_CONVERTED, TABLE_MOVE_DOC],
    ),
]


@pytest.mark.parametrize(
    ("old", "new", "expected", "words", "absent"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_global_table_changes(
    old: Template,
    new: Template,
    expected: dict[str, tuple[str, bool]],
    words: list[str],
    absent: list[str],
) -> None:
    changes = {c.logical_id: c for c in diff_templates(old, new).resources}
    assert {k: (c.action, c.data_loss) for k, c in changes.items()} == expected
    for change in changes.values():
        assert bool(change.reason) is change.data_loss, change
    losses = [c for c in changes.values() if c.data_loss]
    assert len(losses) == (1 if words else 0)
    for loss in losses:
        for word in words:
            assert word in loss.reason
        for word in absent:
            assert word not in loss.reason


def test_the_move_doc_names_the_runbook_section() -> None:
    assert TABLE_MOVE_DOC.startswith("docs/disaster-recovery.md, section ")
    assert TABLE_MOVE_DOC.endswith(MOVE_SECTION)


def test_replica_removal_is_no_replacement_and_keeps_the_changed_path() -> None:
    change = diff_templates(GLOBAL, _edit(GLOBAL, _drop_replica("us-west-2"))).resources[0]
    assert change.changed_paths == ("Properties.Replicas",)
    assert change.replacement_paths == ()  # an in-place update that deletes one Region's data


def test_global_table_name_and_keys_are_create_only() -> None:
    pointers = create_only_properties("AWS::DynamoDB::GlobalTable")
    assert "/properties/TableName" in pointers and "/properties/KeySchema" in pointers
    assert "/properties/Replicas" not in pointers
    assert "/properties/GlobalSecondaryIndexes" not in pointers


# --------------------------------------------------------------------------- through the planner

PRIMARY = next(d for d in desired_stack_sets(load_config(), "prod") if d.kind == "primary")


def _plan(deployed: Template, desired: Template) -> StackSetPlan:
    want: DesiredStackSet = attrs.evolve(PRIMARY, template=desired)
    observed = ObservedStackSet(
        name=want.name,
        status="ACTIVE",
        template_body=json.dumps(deployed),
        parameters=dict(want.parameters),
    )
    return plan_stack_set(want, observed)


def _plan_over(deployed: Template, desired: Template) -> list[ResourceChange]:
    plan = _plan(deployed, desired)
    text = render_plan([plan])
    blocked = plan_blocks_deploy([plan], allow_replacement=False)
    assert plan_blocks_deploy([plan], allow_replacement=True) == []
    for change in blocked:
        assert f"DATA LOSS: {change.logical_id} ({change.resource_type}): {change.reason}" in text
    return blocked


def test_deploy_refuses_a_replica_removal_but_not_an_added_replica() -> None:
    [removed] = _plan_over(GLOBAL, _edit(GLOBAL, _drop_replica("us-west-2")))
    assert REMOVED_WEST in removed.reason
    assert _plan_over(GLOBAL, _edit(GLOBAL, _add_replica)) == []


@pytest.mark.parametrize(("deployed", "desired"), [(PLAIN, GLOBAL), (GLOBAL, PLAIN)], ids=["to-global", "to-plain"])
def test_a_table_type_change_is_blocked_even_with_allow_replacement(deployed: Template, desired: Template) -> None:
    """CloudFormation refuses a type change in place ("Update of resource type is not permitted"),
    so --allow-replacement would only fail the primary phase after the replica phase: BLOCKED,
    with the runbook's way to move the table."""
    plan = _plan(deployed, desired)
    (blocker,) = plan.blockers
    assert "Table changes its resource type" in blocker and TABLE_MOVE_DOC in blocker
    assert f"BLOCKED: {blocker}" in render_plan([plan])
    for allow in (False, True):
        with pytest.raises(DeployBlocked, match="not even with --allow-replacement"):
            plan_blocks_deploy([plan], allow_replacement=allow)


def _built(replication: bool) -> Template:
    data = example_data()
    data["environments"]["prod"]["replication"] = replication
    template: Template = json.loads(to_json(build_environment(parse_config(data), "prod").primary))
    return template


def test_turning_replication_off_in_the_built_template_is_data_loss() -> None:
    """The real build: ``replication: false`` drops the replica Region from the global table."""
    before, after = _built(True), _built(False)
    assert before["Resources"][TABLE_LOGICAL_ID]["Type"] == "AWS::DynamoDB::GlobalTable"
    region = load_config().environment("prod").replica_region
    change = {c.logical_id: c for c in diff_templates(before, after).resources}[TABLE_LOGICAL_ID]
    assert change.data_loss
    assert f"removing the replica in {region} from Replicas deletes the table" in change.reason
    # and back on: an added replica, in place
    back = {c.logical_id: c for c in diff_templates(after, before).resources}[TABLE_LOGICAL_ID]
    assert not back.data_loss and "Properties.Replicas" in back.changed_paths
