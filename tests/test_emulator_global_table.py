"""The emulator's ``AWS::DynamoDB::GlobalTable`` model (stacksets.emulator.global_table), through
CloudFormation CreateStack/UpdateStack/DeleteStack on moto's real HTTP server, read back with
DynamoDB's API."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from botocore.exceptions import ClientError

from stacksets.emulator import GLOBAL_TABLE_VERSION
from tests.emulator_stacks import (
    ATTRIBUTES,
    HERE,
    KEYS,
    NO_TABLE,
    PK_SK,
    PRIMARY,
    REPLICA,
    STACK,
    TABLE,
    client,
    create_table_stack,
    describe_table,
    gsi,
    stack_outputs,
    table_replica,
    table_template,
)


def _update(endpoint: str, template: dict[str, Any]) -> None:
    cfn = client("cloudformation", endpoint)
    cfn.update_stack(StackName=STACK, TemplateBody=json.dumps(template))
    assert cfn.describe_stacks(StackName=STACK)["Stacks"][0]["StackStatus"] == "UPDATE_COMPLETE"


def _plain_table(endpoint: str, region: str) -> None:
    """A table named like the global table, made outside CloudFormation."""
    client("dynamodb", endpoint, region).create_table(
        TableName=TABLE, KeySchema=PK_SK[:1], AttributeDefinitions=ATTRIBUTES[:1], BillingMode="PAY_PER_REQUEST"
    )


# ------------------------------------------------------------------ create


@pytest.mark.parametrize(("region", "protected", "pitr_days"), [(PRIMARY, False, 7), (REPLICA, True, 35)])
def test_create_makes_the_table_in_every_replica_region(
    moto_endpoint: str, region: str, protected: bool, pitr_days: int
) -> None:
    stack = create_table_stack(
        moto_endpoint, table_template(table_replica(HERE, pitr_days=7), table_replica(REPLICA, protected=True, pitr_days=35))
    )
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    table = describe_table(moto_endpoint, region)
    assert table is not None
    assert table["TableArn"] == f"arn:aws:dynamodb:{region}:123456789012:table/{TABLE}"
    assert table["KeySchema"] == PK_SK
    assert table["AttributeDefinitions"] == ATTRIBUTES
    assert [(i["IndexName"], i["KeySchema"], i["Projection"]) for i in table["GlobalSecondaryIndexes"]] == [
        (g["IndexName"], g["KeySchema"], g["Projection"]) for g in (gsi("GSI1"), gsi("GSI2"))
    ]
    assert table["BillingModeSummary"]["BillingMode"] == "PAY_PER_REQUEST"
    assert table["StreamSpecification"] == {"StreamEnabled": True, "StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert table["LatestStreamArn"].startswith(f"{table['TableArn']}/stream/")
    # Each region's table is encrypted with that replica's key.
    assert table["SSEDescription"] == {"Status": "ENABLED", "SSEType": "KMS", "KMSMasterKeyArn": KEYS[region]}
    assert table["DeletionProtectionEnabled"] is protected

    ddb = client("dynamodb", moto_endpoint, region)
    pitr = ddb.describe_continuous_backups(TableName=TABLE)["ContinuousBackupsDescription"]
    assert pitr["PointInTimeRecoveryDescription"]["PointInTimeRecoveryStatus"] == "ENABLED"
    assert pitr["PointInTimeRecoveryDescription"]["RecoveryPeriodInDays"] == pitr_days
    ttl = ddb.describe_time_to_live(TableName=TABLE)["TimeToLiveDescription"]
    assert ttl == {"TimeToLiveStatus": "ENABLED", "AttributeName": "expires"}
    tags = ddb.list_tags_of_resource(ResourceArn=table["TableArn"])["Tags"]
    assert tags == [{"Key": "project", "Value": "demo"}, {"Key": "replica", "Value": region}]
    # Contributor insights are accepted but not emulated: moto has no DescribeContributorInsights.


@pytest.mark.parametrize(("region", "other"), [(PRIMARY, REPLICA), (REPLICA, PRIMARY)])
def test_describe_table_reports_the_other_replicas(moto_endpoint: str, region: str, other: str) -> None:
    """As AWS does for version 2019.11.21 ("Determining the global table version" in the
    DynamoDB developer guide): GlobalTableVersion, and the table's *other* replicas."""
    create_table_stack(moto_endpoint, table_template(table_replica(HERE), table_replica(REPLICA)))
    table = describe_table(moto_endpoint, region)
    assert table is not None
    assert table["GlobalTableVersion"] == GLOBAL_TABLE_VERSION
    assert table["Replicas"] == [{"RegionName": other, "ReplicaStatus": "ACTIVE", "KMSMasterKeyId": KEYS[other]}]


def test_a_lone_replica_reports_no_replicas(moto_endpoint: str) -> None:
    create_table_stack(moto_endpoint, table_template(table_replica(HERE)))
    table = describe_table(moto_endpoint, PRIMARY)
    assert table is not None
    assert "Replicas" not in table
    assert "GlobalTableVersion" not in table
    assert describe_table(moto_endpoint, REPLICA) is None


def test_ref_and_getatt_resolve_to_the_stack_regions_table(moto_endpoint: str) -> None:
    stack = create_table_stack(moto_endpoint, table_template(table_replica(HERE), table_replica(REPLICA)))
    outputs = {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]}
    table = describe_table(moto_endpoint, PRIMARY)
    assert table is not None
    assert outputs == {
        "Name": TABLE,
        "Arn": table["TableArn"],
        "StreamArn": table["LatestStreamArn"],
        "TableId": table["TableId"],
    }
    replica = describe_table(moto_endpoint, REPLICA)
    assert replica is not None
    assert replica["TableId"] != table["TableId"]


def test_a_failed_creation_rolls_the_stack_back(moto_endpoint: str) -> None:
    """A table that already exists in a replica region fails the resource and rolls the stack
    back, as on AWS (with its failure reason as the resource's event); the table is untouched and
    nothing is created in the other region."""
    _plain_table(moto_endpoint, REPLICA)
    stack = create_table_stack(moto_endpoint, table_template(table_replica(HERE), table_replica(REPLICA)))
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    events = client("cloudformation", moto_endpoint).describe_stack_events(StackName=STACK)["StackEvents"]
    failed = [(e["LogicalResourceId"], e.get("ResourceStatusReason")) for e in events if e["ResourceStatus"] == "CREATE_FAILED"]
    assert failed == [("Table", f"Resource handler returned message: 'Table already exists: {TABLE} (in {REPLICA})'")]
    assert describe_table(moto_endpoint, PRIMARY) is None
    existing = describe_table(moto_endpoint, REPLICA)
    assert existing is not None
    assert (existing["KeySchema"], existing.get("Replicas")) == (PK_SK[:1], None)
    # AWS also deletes the stack's other resources on rollback and shows no outputs; moto keeps
    # them (and the outputs that need no attribute of the failed table, e.g. Ref).


@pytest.mark.parametrize(
    ("existing", "replicas", "props", "reason"),
    [
        (PRIMARY, [table_replica(HERE), table_replica(REPLICA)], {}, f"Table already exists: {TABLE} (in {PRIMARY})"),
        (None, [table_replica(REPLICA)], {}, f"Replicas must include the stack's region {PRIMARY}"),
        (None, [table_replica(HERE), table_replica(REPLICA)], {"StreamSpecification": None}, "StreamSpecification is required with more than one replica"),
    ],
    ids=["exists-in-stack-region", "stack-region-not-a-replica", "two-replicas-without-a-stream"],
)
def test_other_creation_failures(
    moto_endpoint: str, existing: str | None, replicas: list[dict[str, Any]], props: dict[str, Any], reason: str
) -> None:
    if existing:
        _plain_table(moto_endpoint, existing)
    template = table_template(*replicas)
    template["Resources"]["Table"]["Properties"].update(props)
    stack = create_table_stack(moto_endpoint, {"Resources": template["Resources"]})
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    events = client("cloudformation", moto_endpoint).describe_stack_events(StackName=STACK)["StackEvents"]
    assert [e.get("ResourceStatusReason") for e in events if e["ResourceStatus"] == "CREATE_FAILED"] == [
        f"Resource handler returned message: {reason!r}"
    ]
    made = {region for region in (PRIMARY, REPLICA) if describe_table(moto_endpoint, region) is not None}
    assert made == ({existing} if existing else set())


# ------------------------------------------------------------------ update


def test_update_adds_a_replica_in_place_and_removes_it(moto_endpoint: str) -> None:
    create_table_stack(moto_endpoint, table_template(table_replica(HERE)))
    ddb = client("dynamodb", moto_endpoint)
    ddb.put_item(TableName=TABLE, Item={"PK": {"S": "a"}, "SK": {"S": "b"}})

    _update(moto_endpoint, table_template(table_replica(HERE), table_replica(REPLICA, protected=True)))
    added = describe_table(moto_endpoint, REPLICA)
    assert added is not None
    assert added["SSEDescription"]["KMSMasterKeyArn"] == KEYS[REPLICA]
    assert added["DeletionProtectionEnabled"] is True
    primary = describe_table(moto_endpoint, PRIMARY)
    assert primary is not None
    assert [r["RegionName"] for r in primary["Replicas"]] == [REPLICA]
    # An in-place update: the stack region's table (and its items) stayed. AWS would also copy
    # the existing items into the new replica; the emulator does not replicate items.
    assert ddb.get_item(TableName=TABLE, Key={"PK": {"S": "a"}, "SK": {"S": "b"}})["Item"]["PK"] == {"S": "a"}

    # Removing a replica deletes that region's table; a protected one first loses its protection
    # (the model refuses to remove a protected replica, see test_refused_updates_change_nothing).
    _update(moto_endpoint, table_template(table_replica(HERE), table_replica(REPLICA, protected=False)))
    _update(moto_endpoint, table_template(table_replica(HERE)))
    assert describe_table(moto_endpoint, REPLICA) is None
    primary = describe_table(moto_endpoint, PRIMARY)
    assert primary is not None
    assert "Replicas" not in primary
    assert ddb.get_item(TableName=TABLE, Key={"PK": {"S": "a"}, "SK": {"S": "b"}})["Item"]["SK"] == {"S": "b"}


@pytest.mark.parametrize("region", [PRIMARY, REPLICA])
def test_update_applies_other_changes_in_place(moto_endpoint: str, region: str) -> None:
    create_table_stack(moto_endpoint, table_template(table_replica(HERE, pitr_days=7), table_replica(REPLICA, pitr_days=7)))
    new_key = f"arn:aws:kms:{region}:123456789012:key/rotated"
    replicas = {
        PRIMARY: table_replica(HERE, pitr_days=None, protected=True, key=new_key if region == PRIMARY else None),
        REPLICA: table_replica(REPLICA, pitr_days=None, protected=True, key=new_key if region == REPLICA else None),
    }
    replicas[region]["PointInTimeRecoverySpecification"] = {"PointInTimeRecoveryEnabled": True, "RecoveryPeriodInDays": 30}
    replicas[region]["Tags"] = [{"Key": "project", "Value": "renamed"}]
    _update(
        moto_endpoint,
        table_template(*replicas.values(), GlobalSecondaryIndexes=[gsi("GSI1")], TimeToLiveSpecification={"Enabled": False}),
    )
    table = describe_table(moto_endpoint, region)
    assert table is not None
    assert [i["IndexName"] for i in table["GlobalSecondaryIndexes"]] == ["GSI1"]
    assert table["SSEDescription"]["KMSMasterKeyArn"] == new_key
    assert table["DeletionProtectionEnabled"] is True
    ddb = client("dynamodb", moto_endpoint, region)
    pitr = ddb.describe_continuous_backups(TableName=TABLE)["ContinuousBackupsDescription"]
    assert pitr["PointInTimeRecoveryDescription"]["RecoveryPeriodInDays"] == 30
    assert ddb.describe_time_to_live(TableName=TABLE)["TimeToLiveDescription"]["TimeToLiveStatus"] == "DISABLED"
    assert ddb.list_tags_of_resource(ResourceArn=table["TableArn"])["Tags"] == [{"Key": "project", "Value": "renamed"}]
    other = describe_table(moto_endpoint, REPLICA if region == PRIMARY else PRIMARY)
    assert other is not None
    assert [r["KMSMasterKeyId"] for r in other["Replicas"]] == [new_key]


@pytest.mark.parametrize(
    ("before", "after", "prepare", "message"),
    [
        ([table_replica(HERE)], [table_replica(HERE), table_replica(REPLICA)], "foreign-table", f"Table already exists: {TABLE} (in {REPLICA})"),
        ([table_replica(HERE), table_replica(REPLICA, protected=True)], [table_replica(HERE)], None, "can't be deleted while DeletionProtectionEnabled"),
        ([table_replica(HERE)], [table_replica(HERE)], "new-key-schema", "Rename gt and update the stack again"),
    ],
    ids=["adds-a-region-with-a-table", "removes-a-protected-replica", "changes-the-key-schema"],
)
def test_refused_updates_change_nothing(
    moto_endpoint: str, before: list[dict[str, Any]], after: list[dict[str, Any]], prepare: str | None, message: str
) -> None:
    """On AWS these updates fail and the stack rolls back (UPDATE_ROLLBACK_COMPLETE); moto's
    CloudFormation fails the UpdateStack call itself. Either way nothing changes."""
    create_table_stack(moto_endpoint, table_template(*before))
    if prepare == "foreign-table":
        _plain_table(moto_endpoint, REPLICA)
    props = {"KeySchema": PK_SK[:1]} if prepare == "new-key-schema" else {}
    with pytest.raises(ClientError) as raised:
        client("cloudformation", moto_endpoint).update_stack(StackName=STACK, TemplateBody=json.dumps(table_template(*after, **props)))
    assert raised.value.response["Error"]["Code"] == "ValidationError"
    assert message in raised.value.response["Error"]["Message"]
    primary = describe_table(moto_endpoint, PRIMARY)
    assert primary is not None
    assert primary["KeySchema"] == PK_SK
    replica = describe_table(moto_endpoint, REPLICA)
    if prepare == "foreign-table":
        assert replica is not None
        assert (replica["KeySchema"], replica.get("Replicas"), primary.get("Replicas")) == (PK_SK[:1], None, None)
    else:
        assert (replica is not None) == (len(before) == 2)


@pytest.mark.parametrize(("policy", "protected", "old_kept"), [("Retain", False, True), ("Delete", False, False), ("Delete", True, True)])
def test_a_new_table_name_replaces_the_table(moto_endpoint: str, policy: str, protected: bool, old_kept: bool) -> None:
    """A TableName change is a replacement: new tables; the old ones are deleted unless the
    UpdateReplacePolicy is Retain (or, as on AWS, the clean-up fails: deletion protection)."""
    create_table_stack(moto_endpoint, table_template(table_replica(HERE, protected=protected), table_replica(REPLICA), policy=policy))
    _update(moto_endpoint, table_template(table_replica(HERE), table_replica(REPLICA), name="gt-new", policy=policy))
    for region in (PRIMARY, REPLICA):
        assert describe_table(moto_endpoint, region, "gt-new") is not None
        assert (describe_table(moto_endpoint, region) is not None) == old_kept
    outputs = client("cloudformation", moto_endpoint).describe_stacks(StackName=STACK)["Stacks"][0]["Outputs"]
    assert {o["OutputKey"]: o["OutputValue"] for o in outputs}["Name"] == "gt-new"


def test_a_table_without_a_name_keeps_its_generated_name(moto_endpoint: str) -> None:
    """CloudFormation names it ``{stack}-{logical id}-{random}`` and keeps the name across updates
    (moto's parser makes up a new one on every update, which would replace the tables each time;
    the model keeps the first, as for alarms and buckets)."""

    def unnamed(*replicas: dict[str, Any]) -> dict[str, Any]:
        template = table_template(*replicas)
        del template["Resources"]["Table"]["Properties"]["TableName"]
        return template

    stack = create_table_stack(moto_endpoint, unnamed(table_replica(HERE), table_replica(REPLICA)))
    name = stack_outputs(stack)["Name"]
    assert re.fullmatch(rf"{STACK}-Table-[0-9A-Z]{{12}}", name), name
    ids = {region: (describe_table(moto_endpoint, region, name) or {}).get("TableId") for region in (PRIMARY, REPLICA)}

    _update(moto_endpoint, unnamed(table_replica(HERE, pitr_days=35), table_replica(REPLICA)))
    stack = client("cloudformation", moto_endpoint).describe_stacks(StackName=STACK)["Stacks"][0]
    assert stack_outputs(stack)["Name"] == name
    for region in (PRIMARY, REPLICA):
        assert (describe_table(moto_endpoint, region, name) or {}).get("TableId") == ids[region]
        assert client("dynamodb", moto_endpoint, region).list_tables()["TableNames"] == [name]
    backups = client("dynamodb", moto_endpoint).describe_continuous_backups(TableName=name)["ContinuousBackupsDescription"]
    assert backups["PointInTimeRecoveryDescription"]["RecoveryPeriodInDays"] == 35


def test_a_refused_update_keeps_the_deletion_policy(moto_endpoint: str) -> None:
    """A refused update changes nothing, the resource's DeletionPolicy included (as AWS's rollback
    restores the template): the stack deletion afterwards still retains the tables."""
    create_table_stack(moto_endpoint, table_template(table_replica(HERE), table_replica(REPLICA), policy="Retain"))
    refused = table_template(table_replica(HERE), table_replica(REPLICA), policy="Delete", KeySchema=PK_SK[:1])
    with pytest.raises(ClientError) as raised:
        client("cloudformation", moto_endpoint).update_stack(StackName=STACK, TemplateBody=json.dumps(refused))
    assert "Rename gt and update the stack again" in raised.value.response["Error"]["Message"]
    client("cloudformation", moto_endpoint).delete_stack(StackName=STACK)
    assert [describe_table(moto_endpoint, region) is not None for region in (PRIMARY, REPLICA)] == [True, True]


# ------------------------------------------------------------------ delete


@pytest.mark.parametrize(("policy", "kept"), [("Retain", True), ("Delete", False)])
def test_stack_deletion_honours_the_deletion_policy(moto_endpoint: str, policy: str, kept: bool) -> None:
    create_table_stack(moto_endpoint, table_template(table_replica(HERE), table_replica(REPLICA), policy=policy))
    client("cloudformation", moto_endpoint).delete_stack(StackName=STACK)
    assert [describe_table(moto_endpoint, region) is not None for region in (PRIMARY, REPLICA)] == [kept, kept]


@pytest.mark.parametrize(("policy", "kept"), [("Retain", True), ("Delete", False)])
def test_removing_the_table_from_the_template_honours_the_deletion_policy(moto_endpoint: str, policy: str, kept: bool) -> None:
    """moto's CloudFormation ignores DeletionPolicy when an update removes a resource; the model
    honours it, as AWS does."""
    create_table_stack(moto_endpoint, table_template(table_replica(HERE), table_replica(REPLICA), policy=policy))
    _update(moto_endpoint, NO_TABLE)
    assert [describe_table(moto_endpoint, region) is not None for region in (PRIMARY, REPLICA)] == [kept, kept]


def test_deletion_protection_refuses_the_stack_deletion(moto_endpoint: str) -> None:
    """DynamoDB refuses to delete a protected table, so the stack deletion fails and no replica
    is deleted. On AWS DeleteStack is accepted and the stack ends DELETE_FAILED (and stays);
    moto fails the DeleteStack call itself, after dropping the stack from its list."""
    create_table_stack(moto_endpoint, table_template(table_replica(HERE), table_replica(REPLICA, protected=True)))
    with pytest.raises(ClientError) as raised:
        client("cloudformation", moto_endpoint).delete_stack(StackName=STACK)
    assert raised.value.response["Error"]["Code"] == "ValidationError"
    assert f"Table '{TABLE}' can't be deleted while DeletionProtectionEnabled" in raised.value.response["Error"]["Message"]
    assert [describe_table(moto_endpoint, region) is not None for region in (PRIMARY, REPLICA)] == [True, True]
