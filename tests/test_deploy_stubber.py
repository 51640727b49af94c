"""What moto cannot show, with botocore's Stubber (requests validated against the service model).

moto finishes every StackSet operation at once, ignores OperationPreferences and
ManagedExecution, and never raises OperationInProgressException; these tests drive the
operation runner and the rollout through those AWS behaviours and assert the exact request shapes
they send.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import attrs
import boto3
import pytest
from botocore.awsrequest import AWSResponse
from botocore.stub import ANY, Stubber

from appstorage.config import Config, load_config
from stacksets.cli.failures import failure
from stacksets.desired import desired_stack_sets
from stacksets.errors import FailedInstance, OperationFailed, StillInProgress
from stacksets.operations import Backoff, OperationRunner
from stacksets.plan import plan_stack_set
from stacksets.retained import resources_to_create
from stacksets.rollout import apply_phase, deploy, plan_rollout
from stacksets.session import ClientFactory
from stacksets.toolkit import Tools, environment_tools
from tests.faults import FakeClock, VirtualBotocoreTime, fake_response

ADMIN_REGION = "us-east-1"
#: The bundled example's dev and prod accounts are the caller's here (no AssumeRole).
CALLER = "111111111111"


@pytest.fixture
def config() -> Config:
    return load_config()


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def factory() -> ClientFactory:
    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name=ADMIN_REGION
    )
    return ClientFactory(session, max_attempts=3, caller_account=CALLER)


@pytest.fixture
def stub(factory: ClientFactory) -> Iterator[Stubber]:
    stubber = Stubber(factory.cloudformation(ADMIN_REGION))
    with stubber:
        yield stubber
    stubber.assert_no_pending_responses()


def make_tools(factory: ClientFactory, config: Config, env: str, clock: FakeClock) -> Tools:
    return environment_tools(factory, config, config.environment(env), runtime=clock.runtime())


PREFS = {
    "RegionConcurrencyType": "SEQUENTIAL",
    "ConcurrencyMode": "STRICT_FAILURE_TOLERANCE",
    "FailureToleranceCount": 0,
    "MaxConcurrentCount": 1,
}


def create_stack_set_params(tools: Tools, kind: str, token: str) -> dict[str, Any]:
    desired = next(d for d in tools.desired if d.kind == kind)
    params: dict[str, Any] = {
        "StackSetName": desired.name,
        "Description": ANY,
        "TemplateBody": desired.template_body,
        "Parameters": [
            {"ParameterKey": k, "ParameterValue": v} for k, v in sorted(desired.parameters.items())
        ],
        "Capabilities": ["CAPABILITY_IAM"] if kind == "primary" and tools.env.replication else [],
        "Tags": ANY,
        "PermissionModel": "SELF_MANAGED",
        "ExecutionRoleName": "AWSCloudFormationStackSetExecutionRole",
        "ManagedExecution": {"Active": True},
        "CallAs": "SELF",
        "ClientRequestToken": token,
    }
    return params


def instances_params(tools: Tools, kind: str, op: str) -> dict[str, Any]:
    desired = next(d for d in tools.desired if d.kind == kind)
    return {
        "StackSetName": desired.name,
        "Accounts": sorted({i.account for i in desired.instances}),
        "Regions": [desired.instances[0].region],
        "OperationPreferences": PREFS,
        "OperationId": op,
        "CallAs": "SELF",
    }


def nothing_retained(factory: ClientFactory, tools: Tools) -> list[Stubber]:
    """The lookups made before any instance is created (stacksets.retained) find nothing: every
    table and bucket of the instances to create answers "not found" (the caller's own account,
    so no AssumeRole). Returns the activated Stubbers, to check that every lookup was made."""
    plans = [plan_stack_set(d, None) for d in tools.desired]
    env = tools.desired[0].environment
    resources, _ = resources_to_create(plans, prefix=env.name_prefix, env=env.name)
    stubbers: dict[tuple[str, str], Stubber] = {}
    for r in resources:
        assert r.account == factory.caller_account()
        if r.resource_type == "AWS::S3::Bucket":
            stubber = stubbers.setdefault(("s3", r.region), Stubber(factory.s3(r.region)))
            stubber.add_client_error(
                "head_bucket",
                service_error_code="404",
                http_status_code=404,
                expected_params={"Bucket": r.name, "ExpectedBucketOwner": r.account},
            )
        else:
            stubber = stubbers.setdefault(("dynamodb", r.region), Stubber(factory.dynamodb(r.region)))
            stubber.add_client_error(
                "describe_table",
                service_error_code="ResourceNotFoundException",
                http_status_code=400,
                expected_params={"TableName": r.name},
            )
    for stubber in stubbers.values():
        stubber.activate()
    return list(stubbers.values())


def describe_op(stub: Stubber, name: str, op: str, status: str) -> None:
    stub.add_response(
        "describe_stack_set_operation",
        {"StackSetOperation": {"OperationId": op, "Status": status}},
        {"StackSetName": name, "OperationId": op, "CallAs": "SELF"},
    )


def test_running_then_succeeded_backs_off_and_resumes(
    factory: ClientFactory, config: Config, stub: Stubber, clock: FakeClock
) -> None:
    tools = make_tools(factory, config, "prod", clock)
    replica = tools.desired[0]
    stub.add_response(
        "create_stack_set", {"StackSetId": "x"}, create_stack_set_params(tools, "replica", "op-0")
    )
    stub.add_response(
        "create_stack_instances", {"OperationId": "op-1"}, instances_params(tools, "replica", "op-1")
    )
    for status in ("QUEUED", "RUNNING", "RUNNING", "SUCCEEDED"):
        describe_op(stub, replica.name, "op-1", status)
    results = apply_phase(plan_stack_set(replica, None), tools.runner, tools.stager)
    # Capped exponential backoff, half of it jittered (random fixed at 0.5): 5, 10, 20 * 0.75.
    assert clock.sleeps == [3.75, 7.5, 15.0]
    assert [r.id for r in results] == ["op-1"]
    assert Backoff().delay(10, 1.0) == 60.0  # capped


def test_update_request_shape_with_iam_capability(
    factory: ClientFactory, config: Config, stub: Stubber, clock: FakeClock
) -> None:
    from stacksets.model import ObservedInstance, ObservedStackSet

    tools = make_tools(factory, config, "prod", clock)
    primary = tools.desired[1]
    observed = ObservedStackSet(
        name=primary.name,
        status="ACTIVE",
        template_body='{"Resources": {}}',
        parameters=dict(primary.parameters),
        instances=(ObservedInstance("333333333333", "us-east-1", "CURRENT"),),
        managed_execution=True,
    )
    expected = create_stack_set_params(tools, "primary", "")
    del expected["ClientRequestToken"]
    expected.update({"OperationPreferences": PREFS, "OperationId": "op-0"})
    assert expected["Capabilities"] == ["CAPABILITY_IAM"]
    stub.add_response("update_stack_set", {"OperationId": "op-0"}, expected)
    describe_op(stub, primary.name, "op-0", "SUCCEEDED")
    apply_phase(plan_stack_set(primary, observed), tools.runner, tools.stager)


def test_operation_in_progress_waits_and_retries_with_same_operation_id(
    factory: ClientFactory, config: Config, stub: Stubber, clock: FakeClock
) -> None:
    tools = make_tools(factory, config, "dev", clock)
    replica = tools.desired[0]
    stub.add_response(
        "create_stack_set", {"StackSetId": "x"}, create_stack_set_params(tools, "replica", "op-0")
    )
    stub.add_client_error(
        "create_stack_instances",
        "OperationInProgressException",
        "Another Operation on StackSet is in progress",
        expected_params=instances_params(tools, "replica", "op-1"),
    )
    stub.add_response(
        "list_stack_set_operations",
        {
            "Summaries": [
                {"OperationId": "theirs", "Status": "RUNNING"},
                {"OperationId": "old", "Status": "SUCCEEDED"},
            ]
        },
        {"StackSetName": replica.name, "CallAs": "SELF"},
    )
    describe_op(stub, replica.name, "theirs", "RUNNING")
    describe_op(stub, replica.name, "theirs", "SUCCEEDED")
    stub.add_response(
        "create_stack_instances", {"OperationId": "op-1"}, instances_params(tools, "replica", "op-1")
    )
    describe_op(stub, replica.name, "op-1", "SUCCEEDED")
    [result] = apply_phase(plan_stack_set(replica, None), tools.runner, tools.stager)
    assert clock.sleeps == [3.75, 3.75]  # the poll of theirs, then the backoff before the retry
    assert result.id == "op-1"
    assert [(w.id, w.status) for w in result.waited] == [("theirs", "SUCCEEDED")]


def test_failed_operation_lists_failed_instances_and_stops_before_primary(
    factory: ClientFactory, config: Config, stub: Stubber, clock: FakeClock
) -> None:
    tools = make_tools(factory, config, "dev", clock)
    replica, primary = tools.desired
    for d in (replica, primary):
        stub.add_client_error(
            "describe_stack_set",
            "StackSetNotFoundException",
            "StackSet not found",
            expected_params={"StackSetName": d.name, "CallAs": "SELF"},
        )
    lookups = nothing_retained(factory, tools)
    stub.add_response(
        "create_stack_set", {"StackSetId": "x"}, create_stack_set_params(tools, "replica", "op-0")
    )
    stub.add_response(
        "create_stack_instances", {"OperationId": "op-1"}, instances_params(tools, "replica", "op-1")
    )
    describe_op(stub, replica.name, "op-1", "RUNNING")
    describe_op(stub, replica.name, "op-1", "FAILED")
    stub.add_response(
        "list_stack_set_operation_results",
        {
            "Summaries": [
                {
                    "Account": "111111111111",
                    "Region": "us-west-2",
                    "Status": "FAILED",
                    "StatusReason": "ResourceLogicalId:ImagesBackupBucket, bucket already exists",
                },
                {
                    "Account": "222222222222",
                    "Region": "us-west-2",
                    "Status": "CANCELLED",
                    "StatusReason": "Cancelled since failure tolerance has exceeded",
                },
                {"Account": "333333333333", "Region": "us-west-2", "Status": "SUCCEEDED"},
            ]
        },
        {"StackSetName": replica.name, "OperationId": "op-1", "CallAs": "SELF"},
    )
    with pytest.raises(OperationFailed) as info:
        planned = plan_rollout(tools.cfn, tools.desired, tools.stacks, resume=tools.runner)
        deploy(planned.plans, cfn=tools.cfn, runner=tools.runner, stager=tools.stager, stacks=tools.stacks)
    failures = info.value.failures
    assert [(f.account, f.status) for f in failures] == [
        ("111111111111", "FAILED"),
        ("222222222222", "CANCELLED"),
    ]
    message = str(info.value)
    assert "bucket already exists" in message and "failure tolerance" in message
    # The Stubber would fail on any primary-phase call: none was made. The primary phase's table
    # and buckets were still looked up, with the replica's, before the first mutating call.
    for lookup in lookups:
        lookup.assert_no_pending_responses()


def test_failed_operation_ends_the_cli_with_exit_1_listing_each_failed_instance() -> None:
    error = OperationFailed(
        "tattoo-directory-dev-app-storage-replica",
        "op-1",
        "FAILED",
        [
            FailedInstance("111111111111", "us-west-2", "FAILED", "bucket already exists"),
            FailedInstance("222222222222", "us-west-2", "FAILED", "KMS key disabled"),
        ],
    )
    ended = failure(error, "deploy")
    assert ended is not None
    code, lines = ended
    assert code == 1
    text = "\n".join(lines)
    assert "111111111111 us-west-2 FAILED: bucket already exists" in text
    assert "222222222222 us-west-2 FAILED: KMS key disabled" in text
    assert lines[-1] == "the rollout stopped; later phases were not started"


def test_throttling_is_retried_by_botocore(botocore_time: VirtualBotocoreTime, factory: ClientFactory) -> None:
    """The retry loop is botocore's (adaptive mode from the factory's Config), not ours; its
    waits run on a virtual clock (the adaptive rate limiter alone would wait about 4 s)."""
    cfn = factory.cloudformation(ADMIN_REGION)
    assert cfn.meta.config.retries == {"mode": "adaptive", "total_max_attempts": 3}  # type: ignore[attr-defined]
    attempts: list[int] = []
    throttled = (
        b"<ErrorResponse><Error><Type>Sender</Type><Code>Throttling</Code>"
        b"<Message>Rate exceeded</Message></Error><RequestId>1</RequestId></ErrorResponse>"
    )
    ok = (
        b"<DescribeStackSetOperationResponse><DescribeStackSetOperationResult><StackSetOperation>"
        b"<OperationId>op</OperationId><Status>SUCCEEDED</Status></StackSetOperation>"
        b"</DescribeStackSetOperationResult></DescribeStackSetOperationResponse>"
    )

    def send(request: Any, **_: Any) -> AWSResponse:
        attempts.append(1)
        body, status = (throttled, 400) if len(attempts) < 3 else (ok, 200)
        return fake_response(request.url, status, body)

    events: Any = cfn.meta.events
    events.register("before-send.cloudformation.DescribeStackSetOperation", send)
    started = time.monotonic()
    result = cfn.describe_stack_set_operation(StackSetName="s", OperationId="op")
    assert result["StackSetOperation"]["Status"] == "SUCCEEDED"
    assert len(attempts) == 3 and len(botocore_time.backoffs) == 2
    assert result["ResponseMetadata"]["RetryAttempts"] == 2
    # Throttling turned the client-side rate limiter on: it waited, on the virtual clock only.
    assert botocore_time.rate_limits and sum(botocore_time.rate_limits) > 1
    assert time.monotonic() - started < 1


ADMIN_ACCOUNT = "999999999999"
DEFAULT_ADMIN_ROLE = f"arn:aws:iam::{ADMIN_ACCOUNT}:role/AWSCloudFormationStackSetAdministrationRole"


@pytest.mark.parametrize(
    ("changes", "sent"),
    [
        pytest.param(
            {"tags": {"environment": "prod", "owner": "someone-else"}},
            {},  # the configured tags, in full: UpdateStackSet replaces the stack set's tags
            id="tags only",
        ),
        pytest.param({"execution_role_name": "OldExecutionRole"}, {}, id="execution role only"),
        pytest.param(
            {"administration_role_arn": f"arn:aws:iam::{ADMIN_ACCOUNT}:role/Custom"},
            # Without it UpdateStackSet would keep the custom role: the default one is named.
            {"AdministrationRoleARN": DEFAULT_ADMIN_ROLE},
            id="custom administration role back to the default",
        ),
    ],
)
def test_settings_only_change_sends_update_stack_set(
    factory: ClientFactory,
    config: Config,
    stub: Stubber,
    clock: FakeClock,
    changes: dict[str, Any],
    sent: dict[str, Any],
) -> None:
    """The template, parameters and instances are as deployed; only a stack set setting differs."""
    from stacksets.model import ObservedInstance, ObservedStackSet

    tools = make_tools(factory, config, "prod", clock)
    primary = tools.desired[1]
    deployed = ObservedStackSet(
        name=primary.name,
        status="ACTIVE",
        template_body=primary.template_body,
        parameters=dict(primary.parameters),
        instances=tuple(ObservedInstance(i.account, i.region, "CURRENT") for i in primary.instances),
        managed_execution=True,
        stack_set_arn=f"arn:aws:cloudformation:{ADMIN_REGION}:{ADMIN_ACCOUNT}:stackset/{primary.name}:1",
        tags=dict(primary.tags),
        execution_role_name="AWSCloudFormationStackSetExecutionRole",
        administration_role_arn=DEFAULT_ADMIN_ROLE,
    )
    assert not plan_stack_set(primary, deployed).changed
    plan = plan_stack_set(primary, attrs.evolve(deployed, **changes))
    assert plan.action == "update" and not plan.template.changed and len(plan.settings) == 1
    expected = create_stack_set_params(tools, "primary", "")
    del expected["ClientRequestToken"]
    expected.update(
        {
            "Tags": [{"Key": k, "Value": v} for k, v in sorted(primary.tags.items())],
            "OperationPreferences": PREFS,
            "OperationId": "op-0",
            **sent,
        }
    )
    assert {"Key": "cost-center", "Value": "platform"} in expected["Tags"]
    stub.add_response("update_stack_set", {"OperationId": "op-0"}, expected)
    describe_op(stub, primary.name, "op-0", "SUCCEEDED")
    results = apply_phase(plan, tools.runner, tools.stager)
    assert [r.id for r in results] == ["op-0"]


def test_observe_reads_tags_and_roles(factory: ClientFactory, stub: Stubber) -> None:
    from stacksets.observe import observe_stack_set

    name = "tattoo-directory-prod-app-storage-primary"
    reported = {
        "StackSetName": name,
        "Status": "ACTIVE",
        "TemplateBody": "{}",
        "Tags": [{"Key": "owner", "Value": "storage-team"}],
        "ExecutionRoleName": "StorageExec",
        "AdministrationRoleARN": DEFAULT_ADMIN_ROLE,
    }
    cfn = factory.cloudformation(ADMIN_REGION)
    for response in (reported, {"StackSetName": name, "Status": "ACTIVE"}):
        stub.add_response(
            "describe_stack_set", {"StackSet": response}, {"StackSetName": name, "CallAs": "SELF"}
        )
        stub.add_response("list_stack_instances", {"Summaries": []}, {"StackSetName": name, "CallAs": "SELF"})
        stub.add_response(
            "list_stack_set_operations", {"Summaries": []}, {"StackSetName": name, "CallAs": "SELF"}
        )
    observed = observe_stack_set(cfn, name)
    assert observed is not None
    assert observed.tags == {"owner": "storage-team"}
    assert observed.execution_role_name == "StorageExec"
    assert observed.administration_role_arn == DEFAULT_ADMIN_ROLE
    silent = observe_stack_set(cfn, name)  # not reported: None, so the planner does not compare them
    assert silent is not None
    assert (silent.tags, silent.execution_role_name, silent.administration_role_arn) == (None, None, None)


def test_in_progress_with_finished_listed_operation_backs_off_until_the_deadline(
    factory: ClientFactory,
) -> None:
    """ListStackSetOperations lists an operation as RUNNING that DescribeStackSetOperation reports
    SUCCEEDED, and the call keeps being refused: back off every time, stop at the deadline."""
    clock = FakeClock()
    runner = OperationRunner(factory.cloudformation("us-east-1"), runtime=clock.runtime(timeout=30))
    replica = desired_stack_sets(load_config(), "dev")[0].name
    with Stubber(factory.cloudformation("us-east-1")) as stub:
        for _ in range(5):
            stub.add_client_error("create_stack_instances", "OperationInProgressException", "in progress")
            stub.add_response(
                "list_stack_set_operations",
                {"Summaries": [{"OperationId": "theirs", "Status": "RUNNING"}]},
                {"StackSetName": replica, "CallAs": "SELF"},
            )
            stub.add_response(
                "describe_stack_set_operation",
                {"StackSetOperation": {"OperationId": "theirs", "Status": "SUCCEEDED"}},
                {"StackSetName": replica, "OperationId": "theirs", "CallAs": "SELF"},
            )
        request = {"StackSetName": replica, "Accounts": ["111111111111"], "Regions": ["us-west-2"]}
        with pytest.raises(StillInProgress) as raised:
            runner.run(replica, "CreateStackInstances", request)
        stub.assert_no_pending_responses()  # five attempts, none accepted
    assert clock.sleeps == [3.75, 7.5, 15.0, 30.0]
    message = str(raised.value)
    assert "gave up after 30s" in message and "OperationInProgressException" in message
    assert "still lists theirs as running" in message and "was never started" in message
