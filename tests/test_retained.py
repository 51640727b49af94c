"""Resources retained by an earlier ``destroy`` in the way of new stack instances (stacksets.retained),
and ``destroy``'s list of what it retains.

moto deviations (the deployer is written for AWS):

* HeadBucket ignores ``ExpectedBucketOwner`` and answers 200 for a bucket of another account (AWS:
  403), so "the name is taken by another account" is tested with botocore's Stubber and, through
  the CLI, with the 403 injected by a ``before-send`` hook; so is AccessDeniedException from
  DescribeTable (moto does not check IAM).
* moto has no CloudFormation model for ``AWS::DynamoDB::GlobalTable``: the emulator's
  (stacksets/emulator.py, registered by the ``moto_server`` fixture) creates the table in every
  replica Region, and fails the stack (as AWS does) when a table of that name exists already,
  which is what the check before creating instances prevents.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import attrs
import boto3
import pytest
from botocore.awsrequest import AWSResponse, HTTPHeaders
from botocore.stub import Stubber

from appstorage.config import load_config
from appstorage.naming import Purpose, bucket_name_for_region, table_name
from appstorage.table import TABLE_LOGICAL_ID
from stacksets.desired import desired_stack_sets
from stacksets.destroy import retained_resources
from stacksets.model import ObservedInstance, ObservedStackSet, StackSetPlan
from stacksets.plan import plan_stack_set
from stacksets.retained import (
    REDEPLOY_DOC,
    Found,
    OwnedResource,
    RetainedResourcesFound,
    delete_commands,
    find_existing,
    physical_resources,
    render_found,
    resources_to_create,
)
from stacksets.session import CallLog, ClientFactory
from tests.faults import Faults, RawBody, fake_response, run_cli
from tests.helpers import ACCOUNTS, seeded, write_config

CONFIG = load_config()
PREFIX = CONFIG.prefix
GLOBAL = "AWS::DynamoDB::GlobalTable"
BUCKET = "AWS::S3::Bucket"
ROLE = "AWSCloudFormationStackSetExecutionRole"


def _create_plans(env: str) -> list[StackSetPlan]:
    return [plan_stack_set(d, None) for d in desired_stack_sets(CONFIG, env)]


def _expected(env: str) -> set[tuple[str, str, str, str]]:
    """What each instance of ``env`` owns, spelled with the naming module: the table in the
    primary Region (and the replica Region with replication), the primary buckets there, the
    backup buckets in the replica Region."""
    e = CONFIG.environment(env)
    out = set()
    for account in e.deployment.accounts:
        out.add((account, e.primary_region, GLOBAL, table_name(PREFIX, env)))
        if e.replication:
            out.add((account, e.replica_region, GLOBAL, table_name(PREFIX, env)))
        for purpose in Purpose:
            region = e.replica_region if purpose.is_backup else e.primary_region
            out.add((account, region, BUCKET, bucket_name_for_region(PREFIX, env, purpose, account, region)))
    return out


# --------------------------------------------------------------------------- pure


@pytest.mark.parametrize("env", ["dev", "prod"])
def test_resources_to_create_are_the_naming_modules_names(env: str) -> None:
    resources, unchecked = resources_to_create(_create_plans(env), prefix=PREFIX, env=env)
    assert unchecked == ()
    assert {(r.account, r.region, r.resource_type, r.name) for r in resources} == _expected(env)
    primary = CONFIG.environment(env).primary_region
    for r in resources:
        if r.resource_type == GLOBAL:
            assert r.home_region == primary  # declared by the primary instance, in every replica Region


def test_no_instance_to_create_means_nothing_to_check() -> None:
    """An update (template or parameters) of existing instances creates nothing."""
    plans = []
    for desired in desired_stack_sets(CONFIG, "prod"):
        observed = ObservedStackSet(
            name=desired.name,
            status="ACTIVE",
            template_body="{}",
            parameters={},
            instances=tuple(ObservedInstance(i.account, i.region, "CURRENT") for i in desired.instances),
        )
        plans.append(plan_stack_set(desired, observed))
    assert all(p.action == "update" for p in plans)
    assert resources_to_create(plans, prefix=PREFIX, env="prod") == ((), ())


def test_only_the_instances_to_add_are_checked() -> None:
    replica, primary = desired_stack_sets(CONFIG, "prod")
    have = primary.instances[0]
    observed = ObservedStackSet(
        name=primary.name,
        status="ACTIVE",
        template_body=primary.template_body,
        parameters=dict(primary.parameters),
        instances=(ObservedInstance(have.account, have.region, "CURRENT"),),
    )
    wider = attrs.evolve(primary, instances=(*primary.instances, attrs.evolve(have, account="444444444444")))
    resources, _ = resources_to_create([plan_stack_set(wider, observed)], prefix=PREFIX, env="prod")
    assert {r.account for r in resources} == {"444444444444"}
    assert replica.name  # the replica stack set was not planned: nothing of it checked


def test_organizational_units_cannot_be_checked_before_they_are_expanded() -> None:
    plans = [
        plan_stack_set(attrs.evolve(d, permission_model="SERVICE_MANAGED"), None)
        for d in desired_stack_sets(CONFIG, "dev")
    ]
    resources, unchecked = resources_to_create(plans, prefix=PREFIX, env="dev")
    assert resources == ()
    assert len(unchecked) == 2 and all("111111111111" in u for u in unchecked)


TABLE: dict[str, Any] = {
    "Type": GLOBAL,
    "Properties": {
        "TableName": "t-dev",
        "Replicas": [{"Region": {"Ref": "AWS::Region"}}, {"Region": "eu-west-1"}, {"Region": "eu-west-1"}],
    },
}
NAMES = [
    (
        "global table: own Region and each literal replica Region, once",
        "Table",
        TABLE,
        [("us-east-1", "t-dev"), ("eu-west-1", "t-dev")],
    ),
    (
        "a replica Region given by an expression is shown as written",
        "Table",
        {"Type": GLOBAL, "Properties": {"TableName": "t", "Replicas": [{"Region": {"Ref": "Other"}}]}},
        [("us-east-1", "t"), ('(Region {"Ref": "Other"})', "t")],
    ),
    (
        "plain table: its Region",
        "Table",
        {"Type": "AWS::DynamoDB::Table", "Properties": {"TableName": "t-dev"}},
        [("us-east-1", "t-dev")],
    ),
    (
        "bucket name from Fn::Sub of pseudo parameters",
        "FrontendBucket",
        {"Type": BUCKET, "Properties": {"BucketName": {"Fn::Sub": "b-${AWS::AccountId}-${AWS::Region}"}}},
        [("us-east-1", "b-123456789012-us-east-1")],
    ),
    (
        "a name the template cannot say: the naming module's, by type and purpose",
        "ImagesBucket",
        {"Type": BUCKET, "Properties": {"BucketName": {"Ref": "NameParameter"}}},
        [("us-east-1", bucket_name_for_region("p", "dev", Purpose.IMAGES, "123456789012", "us-east-1"))],
    ),
    (
        "a table without a name: the naming module's",
        "AnyTable",
        {"Type": GLOBAL, "Properties": {"Replicas": [{"Region": {"Ref": "AWS::Region"}}]}},
        [("us-east-1", table_name("p", "dev"))],
    ),
]


@pytest.mark.parametrize(
    ("logical_id", "resource", "expected"), [pytest.param(*c[1:], id=c[0]) for c in NAMES]
)
def test_physical_resources(
    logical_id: str, resource: dict[str, Any], expected: list[tuple[str, str]]
) -> None:
    owned = physical_resources(logical_id, resource, "123456789012", "us-east-1", prefix="p", env="dev")
    assert [(r.region, r.name) for r in owned] == expected
    assert {(r.account, r.logical_id, r.home_region) for r in owned} == {
        ("123456789012", logical_id, "us-east-1")
    }


# --------------------------------------------------------------------------- destroy's list


def test_destroy_lists_the_global_table_in_every_replica_region() -> None:
    env = CONFIG.environment("prod")
    primary = next(d for d in desired_stack_sets(CONFIG, env) if d.kind == "primary")
    observed = ObservedStackSet(
        name=primary.name, status="ACTIVE", template_body=primary.template_body, parameters={}
    )
    retained = retained_resources(primary, observed, [("333333333333", env.primary_region)])
    tables = [(r.region, r.name) for r in retained if r.logical_id == TABLE_LOGICAL_ID]
    name = table_name(PREFIX, "prod")
    assert tables == [(env.primary_region, name), (env.replica_region, name)]
    assert {r.resource_type for r in retained if r.logical_id == TABLE_LOGICAL_ID} == {GLOBAL}
    buckets = {r.name for r in retained if r.resource_type == BUCKET}
    assert buckets == {
        bucket_name_for_region(PREFIX, "prod", p, "333333333333", env.primary_region)
        for p in (Purpose.FRONTEND, Purpose.IMAGES)
    }


# --------------------------------------------------------------------------- lookups (Stubber)

CALLER = "111111111111"
OTHER = "222222222222"


def _owned(account: str, region: str, rtype: str, name: str, home: str = "us-east-1") -> OwnedResource:
    return OwnedResource(account, region, "X", rtype, name, home)


@pytest.fixture
def factory() -> ClientFactory:
    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    # lookups in the caller's account use its own credentials
    return ClientFactory(session, max_attempts=1, caller_account=CALLER)


@pytest.fixture
def stubs(factory: ClientFactory) -> Iterator[dict[str, Stubber]]:
    clients = {
        "ddb-east": factory.dynamodb("us-east-1"),
        "ddb-west": factory.dynamodb("us-west-2"),
        "s3-east": factory.s3("us-east-1"),
        "sts": factory.client("sts", "us-east-1"),
    }
    stubbers = {k: Stubber(c) for k, c in clients.items()}
    for s in stubbers.values():
        s.activate()
    yield stubbers
    for s in stubbers.values():
        s.assert_no_pending_responses()
        s.deactivate()


def test_find_existing_reads_each_resource_and_says_what_it_found(
    factory: ClientFactory, stubs: dict[str, Stubber]
) -> None:
    table = "tattoo-directory-prod"
    taken, free, mine = "b-taken", "b-free", "b-mine"
    resources = [
        _owned(CALLER, "us-east-1", GLOBAL, table),
        _owned(CALLER, "us-west-2", GLOBAL, table),
        _owned(CALLER, "us-east-1", BUCKET, taken),
        _owned(CALLER, "us-east-1", BUCKET, free),
        _owned(CALLER, "us-east-1", BUCKET, mine),
        _owned(OTHER, "us-east-1", GLOBAL, table),
        _owned(OTHER, "us-east-1", BUCKET, "b-other"),
        _owned(CALLER, "(Region {})", GLOBAL, table),
    ]
    stubs["ddb-east"].add_client_error(
        "describe_table",
        service_error_code="AccessDeniedException",
        service_message="not authorized to perform: dynamodb:DescribeTable",
        http_status_code=400,
        expected_params={"TableName": table},
    )
    stubs["ddb-west"].add_response(
        "describe_table",
        {
            "Table": {
                "TableName": table,
                "TableStatus": "ACTIVE",
                "DeletionProtectionEnabled": True,
                "Replicas": [{"RegionName": "us-east-1", "ReplicaStatus": "ACTIVE"}],
            }
        },
        {"TableName": table},
    )
    stubs["s3-east"].add_client_error(
        "head_bucket",
        service_error_code="403",
        service_message="Forbidden",
        http_status_code=403,
        expected_params={"Bucket": taken, "ExpectedBucketOwner": CALLER},
    )
    stubs["s3-east"].add_client_error(
        "head_bucket",
        service_error_code="404",
        service_message="Not Found",
        http_status_code=404,
        expected_params={"Bucket": free, "ExpectedBucketOwner": CALLER},
    )
    stubs["s3-east"].add_response("head_bucket", {}, {"Bucket": mine, "ExpectedBucketOwner": CALLER})
    # the execution role cannot be assumed in OTHER: one AssumeRole, both of its resources unknown
    stubs["sts"].add_client_error(
        "assume_role",
        service_error_code="AccessDenied",
        service_message="not authorized to perform: sts:AssumeRole",
        http_status_code=403,
        expected_params={
            "RoleArn": f"arn:aws:iam::{OTHER}:role/{ROLE}",
            "RoleSessionName": "appstorage-deploy",
        },
    )

    found = find_existing(factory, ROLE, resources)

    assert [(f.resource.account, f.resource.region, f.resource.name, f.status) for f in found] == [
        (CALLER, "us-east-1", table, "unknown"),
        (CALLER, "us-west-2", table, "exists"),
        (CALLER, "us-east-1", taken, "taken"),
        (CALLER, "us-east-1", mine, "exists"),
        (OTHER, "us-east-1", table, "unknown"),
        (OTHER, "us-east-1", "b-other", "unknown"),
        (CALLER, "(Region {})", table, "unknown"),
    ]
    details = [f.detail for f in found]
    assert details[0] == (
        "DescribeTable refused (AccessDeniedException: not authorized to perform: dynamodb:DescribeTable)"
    )
    assert details[1] == "ACTIVE, deletion protection on, global table with replicas in us-east-1, us-west-2"
    assert found[1].replica_regions == ("us-east-1",)
    assert "403" in details[2] and f"{CALLER} does not own it" in details[2]
    assert (
        details[4]
        == details[5]
        == "AssumeRole refused (AccessDenied: not authorized to perform: sts:AssumeRole)"
    )
    assert "not a literal" in details[6]


def test_no_role_name_is_unknown_not_a_crash(factory: ClientFactory) -> None:
    found = find_existing(factory, "", [_owned(OTHER, "us-east-1", BUCKET, "b")])
    assert [(f.status, f.detail) for f in found] == [
        ("unknown", f"no role name to assume in account {OTHER}")
    ]


# --------------------------------------------------------------------------- the message


def _found(status: str, account: str, region: str, rtype: str, name: str, **kw: Any) -> Found:
    return Found(_owned(account, region, rtype, name), status, **kw)  # type: ignore[arg-type]


def test_delete_commands_remove_the_replicas_then_the_table_and_empty_each_bucket() -> None:
    found = [
        _found("exists", CALLER, "us-east-1", GLOBAL, "t", replica_regions=("us-west-2",)),
        _found("exists", CALLER, "us-west-2", GLOBAL, "t", replica_regions=("us-east-1",)),
        _found("exists", CALLER, "us-east-1", BUCKET, "b"),
        _found("exists", OTHER, "eu-west-1", GLOBAL, "t"),  # a lone table, not in its home Region
        _found("taken", OTHER, "us-east-1", BUCKET, "elsewhere"),
    ]
    listing = (
        "aws s3api list-object-versions --region us-east-1 --bucket b --no-paginate --output json "
        "--query '{Objects: [Versions, DeleteMarkers][][].{Key: Key, VersionId: VersionId}, Quiet: `true`}'"
    )
    assert delete_commands(found) == [
        f"# account {CALLER}",
        "aws dynamodb update-table --region us-east-1 --table-name t --no-deletion-protection-enabled",
        "aws dynamodb update-table --region us-west-2 --table-name t --no-deletion-protection-enabled",
        """aws dynamodb update-table --region us-east-1 --table-name t --replica-updates '[{"Delete": """
        """{"RegionName": "us-west-2"}}]'""",
        "aws dynamodb wait table-not-exists --region us-west-2 --table-name t",
        "aws dynamodb delete-table --region us-east-1 --table-name t",
        f'aws s3api delete-objects --region us-east-1 --bucket b --delete "$({listing})"',
        "aws s3api delete-bucket --region us-east-1 --bucket b",
        f"# account {OTHER}",
        "aws dynamodb update-table --region eu-west-1 --table-name t --no-deletion-protection-enabled",
        "aws dynamodb delete-table --region eu-west-1 --table-name t",
    ]


def test_the_message_lists_each_resource_and_every_way_out() -> None:
    found = [
        _found("exists", CALLER, "us-east-1", GLOBAL, "t", detail="ACTIVE"),
        _found("taken", CALLER, "us-east-1", BUCKET, "elsewhere", detail="S3 answers 403"),
        _found("unknown", OTHER, "us-east-1", BUCKET, "b", detail="AssumeRole refused (AccessDenied)"),
    ]
    text = str(RetainedResourcesFound("prod", "app.yaml", found))
    assert text == render_found("prod", "app.yaml", found)
    lines = text.splitlines()
    assert lines[0].startswith("refusing to deploy prod: the new stack instances would create resources")
    assert "nothing was changed" in lines[0]
    assert lines[1:4] == [
        f"  {CALLER} us-east-1 {GLOBAL} t: exists (ACTIVE)",
        f"  {CALLER} us-east-1 {BUCKET} elsewhere: name taken (S3 answers 403)",
        f"  {OTHER} us-east-1 {BUCKET} b: unknown (AssumeRole refused (AccessDenied))",
    ]
    assert (
        f"keep the data: import them into the new stacks instead of creating new ones; see {REDEPLOY_DOC}"
        in text
    )
    assert REDEPLOY_DOC == 'docs/disaster-recovery.md, section "Redeploying after destroy"'
    assert "aws dynamodb delete-table --region us-east-1 --table-name t" in text
    assert "set name_prefix in app.yaml" in text
    assert "another account owns them, so the way out is another name_prefix in app.yaml" in text
    assert "deploy does not guess" in text and "execution_role_name" in text
    # only the ways out that apply
    assert "keep the data" not in render_found("prod", "app.yaml", found[1:])


# --------------------------------------------------------------------------- end to end on moto


def _global_table_emulated() -> bool:
    from moto.cloudformation.parsing import get_model_map

    return GLOBAL in get_model_map()


def _cli(endpoint: str, command: str, config: Path, *extra: str, **kw: Any) -> tuple[int, str, str]:
    return run_cli(endpoint, command, "--config", str(config), "--env", "prod", "--yes", *extra, **kw)


def test_deploy_after_destroy_stops_with_the_retained_resources_and_creates_nothing(
    moto_endpoint: str, tmp_path: Path
) -> None:
    """prod (replication on): deploy, a no-change deploy (no lookup), destroy, deploy again."""
    config = write_config(tmp_path)
    seeded(moto_endpoint, config)
    outputs = tmp_path / "o.json"
    log = CallLog()
    code, _, err = _cli(moto_endpoint, "deploy", config, hooks=(log.attach,), outputs=outputs)
    assert code == 0, err
    # the first deploy looked every name up once, in its account and Region, and found none
    assert log.count("DescribeTable") == 2 * len(ACCOUNTS)  # primary and replica Region
    assert log.count("HeadBucket") == 4 * len(ACCOUNTS)
    log.reset()
    code, out, err = _cli(moto_endpoint, "deploy", config, hooks=(log.attach,), outputs=outputs)
    assert code == 0 and "prod: no changes" in out, err
    assert log.count("DescribeTable") == log.count("HeadBucket") == 0

    code, destroyed, err = _cli(moto_endpoint, "destroy", config)
    assert code == 0, err
    expected = _expected_e2e()
    for account, region, rtype, name in expected:
        assert f"  {account} {region} {rtype} {name}" in destroyed  # destroy says what it retains

    log.reset()
    code, out, err = _cli(moto_endpoint, "deploy", config, hooks=(log.attach,), outputs=outputs)
    assert code == 1, (out, err)
    assert log.mutating() == {}  # nothing created, in either phase
    assert "Traceback" not in err
    assert (
        "error: refusing to deploy prod: the new stack instances would create resources that already exist"
        in err
    )
    listed = {m.groups() for m in re.finditer(r"^  (\d{12}) (\S+) (\S+) (\S+): exists", err, re.MULTILINE)}
    assert listed == expected
    assert REDEPLOY_DOC in err and "--no-deletion-protection-enabled" in err and "name_prefix" in err
    for account in ACCOUNTS:
        assert f"    # account {account}" in err
    code, status, _ = run_cli(moto_endpoint, "status", "--config", str(config), "--env", "prod", "--json")
    assert [s["status"] for s in json.loads(status)["prod"]] == ["NOT DEPLOYED", "NOT DEPLOYED"]


def _expected_e2e() -> set[tuple[str, ...]]:
    """What prod's instances in the three test accounts leave behind: the buckets, and the global
    table in both Regions (the emulator's model, which the moto_server fixture registers, creates
    it in every replica Region; moto alone would skip it)."""
    assert _global_table_emulated()
    env = CONFIG.environment("prod")
    out: set[tuple[str, ...]] = set()
    for account in ACCOUNTS:
        for purpose in Purpose:
            region = env.replica_region if purpose.is_backup else env.primary_region
            out.add(
                (account, region, BUCKET, bucket_name_for_region(PREFIX, "prod", purpose, account, region))
            )
        for region in (env.primary_region, env.replica_region):
            out.add((account, region, GLOBAL, table_name(PREFIX, "prod")))
    return out


def _forbidden(bucket: str) -> Any:
    def handler(request: Any, **_: Any) -> AWSResponse | None:
        if f"/{bucket}" not in request.url:
            return None
        return fake_response(request.url, 403, b"")

    return handler


def _denied_in(region: str) -> Any:
    def handler(request: Any, **_: Any) -> AWSResponse | None:
        if f"/{region}/dynamodb/" not in str(request.headers.get("Authorization", "")):
            return None
        body = json.dumps(
            {
                "__type": "com.amazonaws.dynamodb.v20120810#AccessDeniedException",
                "message": "no DescribeTable",
            }
        ).encode()
        headers = HTTPHeaders()
        headers["x-amzn-RequestId"] = "fault"
        return AWSResponse(request.url, 400, headers, RawBody(body))

    return handler


def test_taken_and_unreadable_names_stop_a_first_deploy_before_any_call_that_changes_something(
    moto_endpoint: str, tmp_path: Path
) -> None:
    """A bucket name owned elsewhere (403), DescribeTable denied in the replica Region, and an
    account whose execution role cannot be assumed: exit 1, each listed, no stack set created."""
    config = write_config(tmp_path)
    seeded(moto_endpoint, config)
    env = CONFIG.environment("prod")
    taken = bucket_name_for_region(PREFIX, "prod", Purpose.IMAGES, ACCOUNTS[0], env.primary_region)

    def attach(client: Any) -> None:
        client.meta.events.register("before-send.s3.HeadBucket", _forbidden(taken))
        client.meta.events.register("before-send.dynamodb.DescribeTable", _denied_in(env.replica_region))

    faults = Faults()
    faults.error("AssumeRole", "AccessDenied", "not authorized", match={"RoleArn": ACCOUNTS[2]}, times=None)
    log = CallLog()
    code, out, err = _cli(moto_endpoint, "deploy", config, faults=faults, hooks=(attach, log.attach))
    assert code == 1, (out, err)
    assert log.mutating() == {}
    assert faults.calls("CreateStackSet") == []
    table = table_name(PREFIX, "prod")
    assert (
        f"  {ACCOUNTS[0]} {env.primary_region} {BUCKET} {taken}: name taken (S3 answers 403 to HeadBucket"
        in err
    )
    for account in ACCOUNTS[:2]:
        assert (
            f"  {account} {env.replica_region} {GLOBAL} {table}: unknown (DescribeTable refused "
            "(AccessDeniedException: no DescribeTable))" in err
        )
    # every resource of the account whose role cannot be assumed, after one AssumeRole attempt
    unreachable = [line for line in err.splitlines() if line.startswith(f"  {ACCOUNTS[2]} ")]
    assert len(unreachable) == 6  # the table in two Regions, four buckets
    assert all("unknown (AssumeRole refused (AccessDenied: not authorized))" in line for line in unreachable)
    assert len(faults.calls("AssumeRole", RoleArn=ACCOUNTS[2])) == 1
    assert "another account owns them, so the way out is another name_prefix" in err
    assert "deploy does not guess" in err
    assert "keep the data" not in err  # nothing of ours exists: no import, no deletion to propose
