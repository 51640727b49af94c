"""Per-instance parameter overrides, OperationPreferences checks and large templates.

End to end against moto's server where moto does it (ParameterOverrides on SELF_MANAGED
instances, TemplateURL from S3); pure checks otherwise. moto deviations met here:

* moto ignores OperationPreferences: the checks below are made before any call, so the tests
  assert that no client was even created and that the exit code is 2.
* moto reports ParameterOverrides through DescribeStackInstance as AWS does (ListStackInstances
  does not carry them, on AWS or moto), which is what the deployer reads.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest

from appstorage.config import bundled_example_path, load_config, parse_config
from stacksets.compat import EMULATOR
from stacksets.desired import desired_stack_sets
from stacksets.errors import PreflightError
from stacksets.local import local_session, seed
from stacksets.preflight import (
    TEMPLATE_BODY_LIMIT,
    TEMPLATE_URL_LIMIT,
    operation_groups,
    preflight,
    template_size,
)
from stacksets.requests import instances_request
from stacksets.rollout import deploy, plan_rollout
from stacksets.session import CallLog, ClientFactory
from stacksets.staging import TemplateStager, staged_key
from stacksets.toolkit import Tools, environment_tools
from tests.faults import FakeClock, run_cli
from tests.helpers import example_data, write_dev_config

ACCOUNTS = [f"{n:012d}" for n in range(100000000001, 100000000011)]  # ten accounts
ALT_LOGS = "ssm:/tattoo-directory/dev/alt/access-logs-bucket"
OTHER_LOGS = "ssm:/tattoo-directory/dev/other/access-logs-bucket"


def two_override_sets(b_value: str = OTHER_LOGS) -> dict[str, Any]:
    return {
        "permission_model": "SELF_MANAGED",
        "accounts": ACCOUNTS,
        "overrides": [
            {"accounts": ACCOUNTS[:5], "parameters": {"AccessLogsBucketName": ALT_LOGS}},
            {"accounts": ACCOUNTS[5:], "parameters": {"AccessLogsBucketName": b_value}},
        ],
    }


def test_ten_accounts_two_override_sets_make_two_operations_per_phase(
    moto_endpoint: str, tmp_path: Path
) -> None:
    config = write_dev_config(tmp_path, two_override_sets())
    loaded = load_config(config)
    seed(ClientFactory(local_session(), endpoint_url=moto_endpoint), loaded, [loaded.environment("dev")])
    outputs = str(tmp_path / "o.json")
    log = CallLog()
    code, _out, err = run_cli(
        moto_endpoint,
        "deploy",
        "--yes",
        "--config",
        str(config),
        "--env",
        "dev",
        "--outputs-file",
        outputs,
        log=log,
    )
    assert code == 0, err
    # Two override sets, two phases: 4 operations for 20 instances (not 20).
    assert log.count("CreateStackInstances") == 4
    cfn = ClientFactory(local_session(), endpoint_url=moto_endpoint).cloudformation("us-east-1")
    for stack_set in ("tattoo-directory-dev-app-storage-replica", "tattoo-directory-dev-app-storage-primary"):
        instance = cfn.describe_stack_instance(
            StackSetName=stack_set,
            StackInstanceAccount=ACCOUNTS[7],
            StackInstanceRegion=("us-west-2" if stack_set.endswith("replica") else "us-east-1"),
        )["StackInstance"]
        assert instance.get("ParameterOverrides") == [
            {"ParameterKey": "AccessLogsBucketName", "ParameterValue": OTHER_LOGS.removeprefix("ssm:")}
        ]

    log.reset()
    code, out, err = run_cli(
        moto_endpoint,
        "deploy",
        "--yes",
        "--config",
        str(config),
        "--env",
        "dev",
        "--outputs-file",
        outputs,
        log=log,
    )
    assert code == 0, err
    assert log.mutating() == {} and "dev: no changes" in out
    assert log.count("DescribeStackInstance") == 20  # overrides are read per instance

    # The second set takes the first set's value: one UpdateStackInstances per phase, for the
    # five accounts of that set only.
    changed = write_dev_config(tmp_path, two_override_sets(b_value=ALT_LOGS), name="changed.yaml")
    code, out, err = run_cli(moto_endpoint, "plan", "--config", str(changed), "--env", "dev", "--json")
    assert code == 0, err
    outdated = [i for s in json.loads(out)["dev"]["stack_sets"] for i in s["instances"]["outdated"]]
    assert sorted({i["account"] for i in outdated}) == ACCOUNTS[5:]
    log.reset()
    code, _out, err = run_cli(
        moto_endpoint,
        "deploy",
        "--yes",
        "--config",
        str(changed),
        "--env",
        "dev",
        "--outputs-file",
        outputs,
        log=log,
    )
    assert code == 0, err
    assert log.mutating() == {"cloudformation.UpdateStackInstances": 2}
    code, out, _ = run_cli(moto_endpoint, "plan", "--config", str(changed), "--env", "dev")
    assert code == 0 and "no changes" in out


def test_overrides_apply_only_where_the_template_and_region_match() -> None:
    data = example_data()
    prod = data["environments"]["prod"]
    prod["deployment"]["accounts"] = ["333333333333", "444444444444"]
    prod["deployment"]["overrides"] = [
        {"accounts": ["444444444444"], "parameters": {"ReplicaKmsKeyArn": "ssm:/other/replica-key"}},
        {"regions": ["us-west-2"], "parameters": {"AccessLogsBucketName": "ssm:/west/logs"}},
    ]
    replica, primary = desired_stack_sets(parse_config(data, "t.yaml"), "prod")
    by_account = {i.account: dict(i.overrides) for i in primary.instances}
    # ReplicaKmsKeyArn is a parameter of the primary template only; the regional override only
    # reaches the stack set deployed in us-west-2 (the replica).
    assert by_account == {"333333333333": {}, "444444444444": {"ReplicaKmsKeyArn": "/other/replica-key"}}
    assert {i.account: dict(i.overrides) for i in replica.instances} == {
        "333333333333": {"AccessLogsBucketName": "/west/logs"},
        "444444444444": {"AccessLogsBucketName": "/west/logs"},
    }
    assert len(operation_groups(primary.instances)) == 2
    assert len(operation_groups(replica.instances)) == 1


def no_call_run(config: Path, template_limit: int = TEMPLATE_BODY_LIMIT) -> tuple[int, str, CallLog]:
    """deploy against an unreachable endpoint with a call counter: exit 2 proves no call was
    tried (a call would fail to connect: exit 1), and the log shows no client was used."""
    log = CallLog()
    code, _out, err = run_cli(
        "http://127.0.0.1:9",
        *("deploy", "--yes", "--config", str(config), "--env", "dev"),
        log=log,
        template_limit=template_limit,
    )
    return code, err, log


def test_max_concurrency_above_percentage_tolerance_is_refused_before_any_call(tmp_path: Path) -> None:
    config = write_dev_config(
        tmp_path,
        {
            "accounts": ACCOUNTS[:3],
            "operation_preferences": {"failure_tolerance_percentage": 50, "max_concurrent_count": 3},
        },
    )
    code, err, log = no_call_run(config)
    assert code == 2, err
    assert log.by_operation() == {}
    # 50% of 3 accounts rounds down to 1: at most 2 at a time under STRICT_FAILURE_TOLERANCE.
    assert "deployment.operation_preferences.max_concurrent_count" in err
    assert "lower max_concurrent_count to 2" in err and "SOFT_FAILURE_TOLERANCE" in err


def test_soft_failure_tolerance_allows_the_same_preferences(tmp_path: Path) -> None:
    data = example_data()
    data["environments"]["dev"]["deployment"] = {
        "accounts": ACCOUNTS[:3],
        "operation_preferences": {
            "failure_tolerance_percentage": 50,
            "max_concurrent_count": 3,
            "concurrency_mode": "SOFT_FAILURE_TOLERANCE",
        },
    }
    config = parse_config(data, "t.yaml")
    env = config.environment("dev")
    errors, _warnings = preflight(env, desired_stack_sets(config, env))
    assert errors == []


def test_region_order_outside_the_stack_sets_regions_is_refused(tmp_path: Path) -> None:
    config = write_dev_config(
        tmp_path, {"accounts": ACCOUNTS[:1], "operation_preferences": {"region_order": ["eu-west-1"]}}
    )
    code, err, log = no_call_run(config)
    assert code == 2 and log.by_operation() == {}
    assert "deployment.operation_preferences.region_order[0]" in err and "eu-west-1" in err


def test_region_order_is_limited_to_the_operation_region() -> None:
    data = example_data()
    data["environments"]["dev"]["deployment"]["operation_preferences"] = {
        "region_order": ["us-west-2", "us-east-1"],
        "max_concurrent_percentage": 10,
    }
    config = parse_config(data, "t.yaml")
    env = config.environment("dev")
    desired = desired_stack_sets(config, env)
    replica = desired[0]
    request = instances_request(replica, "CreateStackInstances", ["111111111111"], ["us-west-2"])
    assert request["OperationPreferences"]["RegionOrder"] == ["us-west-2"]
    assert request["OperationPreferences"]["MaxConcurrentPercentage"] == 10
    # 10% of one account rounds to zero: CloudFormation uses one; a warning, not an error.
    errors, warnings = preflight(env, desired)
    assert errors == [] and any("rounds down to 0" in w for w in warnings)


def test_large_template_goes_through_s3_once(moto_endpoint: str, tmp_path: Path) -> None:
    bucket = "tattoo-directory-cfn-templates"
    config_path = write_dev_config(tmp_path, {"accounts": ACCOUNTS[:1], "template_bucket": bucket})
    config = load_config(config_path)
    env = config.environment("dev")
    factory = ClientFactory(local_session(), endpoint_url=moto_endpoint)
    seed(factory, config, [env])
    factory.s3("us-east-1").create_bucket(Bucket=bucket)
    sent: list[dict[str, Any]] = []
    log = CallLog()

    def record(params: dict[str, Any], **_: Any) -> None:
        sent.append(dict(params))

    def hook(client: Any) -> None:
        log.attach(client)
        client.meta.events.register("provide-client-params.cloudformation.CreateStackSet", record)

    def tools() -> Tools:
        # The bundled templates are 15-25 KB: a lower limit makes them "large".
        f = ClientFactory(local_session(), endpoint_url=moto_endpoint, hooks=(hook,))
        return environment_tools(
            f, config, env, runtime=FakeClock().runtime(), compat=EMULATOR, template_limit=1000
        )

    first = tools()
    planned = plan_rollout(first.cfn, first.desired, first.stacks, resume=first.runner)
    deploy(planned.plans, cfn=first.cfn, runner=first.runner, stager=first.stager, stacks=first.stacks)
    assert log.count("PutObject") == 2
    keys = sorted(o["Key"] for o in factory.s3("us-east-1").list_objects_v2(Bucket=bucket)["Contents"])
    assert len(keys) == 2
    for request in sent:
        assert "TemplateBody" not in request
        name = request["StackSetName"]
        desired = next(d for d in first.desired if d.name == name)
        digest = hashlib.sha256(desired.template_body.encode()).hexdigest()
        assert f"appstorage/{name}/{digest}.json" == staged_key(desired) and staged_key(desired) in keys
        assert request["TemplateURL"] == (
            f"https://{bucket}.s3.us-east-1.amazonaws.com/appstorage/{name}/{digest}.json"
        )
    # A second rollout (a changed stack set re-sends the template) does not upload again.
    log.reset()
    second = tools()
    assert "TemplateURL" in second.stager.source(second.desired[0])
    assert log.count("HeadObject") == 1 and log.count("PutObject") == 0
    assert TEMPLATE_BODY_LIMIT == 51_200


def test_large_template_without_bucket_is_exit_2(tmp_path: Path) -> None:
    config = write_dev_config(tmp_path, {"accounts": ACCOUNTS[:1]})
    code, err, log = no_call_run(config, template_limit=1000)
    assert code == 2 and log.by_operation() == {}
    assert "deployment.template_bucket" in err and "TemplateBody limit" in err
    # The stager refuses too, should a caller skip the preflight.
    loaded = load_config(config)
    desired = desired_stack_sets(loaded, loaded.environment("dev"))
    with pytest.raises(PreflightError, match="over the limit and no template_bucket"):
        TemplateStager(ClientFactory(local_session()), limit=1000).source(desired[0])


def test_removing_every_override_updates_those_instances(moto_endpoint: str, tmp_path: Path) -> None:
    """An instance still running with an old override would keep an old value silently: the plan
    reads the overrides even when the configuration has none left."""
    config = write_dev_config(tmp_path, two_override_sets())
    loaded = load_config(config)
    seed(ClientFactory(local_session(), endpoint_url=moto_endpoint), loaded, [loaded.environment("dev")])
    outputs = str(tmp_path / "o.json")
    code, _out, err = run_cli(
        moto_endpoint, "deploy", "--yes", "--config", str(config), "--env", "dev", "--outputs-file", outputs
    )
    assert code == 0, err

    plain = write_dev_config(
        tmp_path, {"permission_model": "SELF_MANAGED", "accounts": ACCOUNTS}, name="plain.yaml"
    )
    code, out, err = run_cli(moto_endpoint, "plan", "--config", str(plain), "--env", "dev", "--json")
    assert code == 0, err
    outdated = [i for s in json.loads(out)["dev"]["stack_sets"] for i in s["instances"]["outdated"]]
    assert sorted({i["account"] for i in outdated}) == ACCOUNTS
    log = CallLog()
    code, _out, err = run_cli(
        moto_endpoint,
        "deploy",
        "--yes",
        "--config",
        str(plain),
        "--env",
        "dev",
        "--outputs-file",
        outputs,
        log=log,
    )
    assert code == 0, err
    assert log.mutating() == {"cloudformation.UpdateStackInstances": 2}
    cfn = ClientFactory(local_session(), endpoint_url=moto_endpoint).cloudformation("us-east-1")
    instance = cfn.describe_stack_instance(
        StackSetName="tattoo-directory-dev-app-storage-primary",
        StackInstanceAccount=ACCOUNTS[0],
        StackInstanceRegion="us-east-1",
    )["StackInstance"]
    assert not instance.get("ParameterOverrides")
    code, out, _ = run_cli(moto_endpoint, "plan", "--config", str(plain), "--env", "dev")
    assert code == 0 and "no changes" in out


def test_a_template_over_the_template_url_limit_is_refused_before_any_call(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # 50 tags (the most a resource takes) of the longest keys and values CloudFormation accepts
    # would not make a template over 1 MB; a lowered limit shows the rule and its message.
    config = write_dev_config(tmp_path, {"accounts": ACCOUNTS[:1], "template_bucket": "my-staging-bucket"})
    monkeypatch.setattr("stacksets.preflight.TEMPLATE_URL_LIMIT", 20_000)
    code, err, log = no_call_run(config, template_limit=1000)
    assert code == 2, err
    assert log.by_operation() == {}
    assert "tags: the primary template of" in err
    assert "over the 20,000-byte limit of a template CloudFormation reads from S3" in err
    assert "fix: configure fewer or shorter tags" in err


def test_the_largest_configuration_stays_under_the_template_url_limit() -> None:
    # The most tags a resource takes (50 with the standard four), each key and value at
    # CloudFormation's longest (128 and 256 characters), on prod (the largest templates).
    config = load_config(bundled_example_path())
    tags = {f"{i:02d}" + "k" * 126: "v" * 256 for i in range(46)}
    config = dataclasses.replace(config, tags=tags)
    sizes = [template_size(d) for d in desired_stack_sets(config, config.environments["prod"])]
    assert max(sizes) < TEMPLATE_URL_LIMIT, sizes
