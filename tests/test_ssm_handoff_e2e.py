"""End to end on moto's server: after a deploy, every member account holds each stack's outputs as
SSM parameters in the stack's own region, read as the compute, delivery and search modules read
them there (GetParametersByPath, ``{{resolve:ssm:...}}``, an ``AWS::SSM::Parameter::Value<String>``
parameter), with the execution role assumed as the deployer assumes it (stacksets.session).

moto deviations met here: the instance stacks are named ``StackSet:<stack set>`` (AWS:
``StackSet-<stack set>-<guid>``), so a stack is found by listing the account's stacks; moto does
not resolve ``{{resolve:ssm:...}}`` references in templates (AWS does, at create and update), so
the consumer test reads the value through a ``AWS::SSM::Parameter::Value<String>`` parameter,
which moto resolves.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from appstorage.config import load_config
from appstorage.naming import output_parameter_path, stack_set_name
from stacksets.local import local_session
from stacksets.session import ClientFactory
from tests.faults import run_cli
from tests.helpers import ACCOUNTS

ENV = "dev"


def _factory(endpoint: str) -> ClientFactory:
    return ClientFactory(local_session(), endpoint_url=endpoint)


def _kinds(config_path: Path) -> list[tuple[str, str, str]]:
    """(kind, region, stack set name) of each stack of the environment."""
    config = load_config(config_path)
    env = config.environment(ENV)
    return [
        ("primary", env.primary_region, stack_set_name(config.prefix, ENV, "primary")),
        ("replica", env.replica_region, stack_set_name(config.prefix, ENV, "replica")),
    ]


def _stack_outputs(cfn: Any, stack_set: str) -> dict[str, str]:
    """DescribeStacks' outputs of the one instance stack of ``stack_set`` in the client's account
    and region."""
    [stack] = [s for s in cfn.describe_stacks()["Stacks"] if stack_set in s["StackName"]]
    return {o["OutputKey"]: o["OutputValue"] for o in stack.get("Outputs", [])}


def _parameters_by_path(ssm: Any, path: str) -> dict[str, str]:
    """GetParametersByPath, every page (moto answers 10 a page: the primary's 11 need two)."""
    pages = ssm.get_paginator("get_parameters_by_path").paginate(Path=path, Recursive=True)
    return {p["Name"].removeprefix(path): p["Value"] for page in pages for p in page["Parameters"]}


@pytest.mark.parametrize("account", ACCOUNTS)
def test_each_stack_s_outputs_are_parameters_in_its_own_account_and_region(
    deployed: Path, moto_endpoint: str, account: str
) -> None:
    config = load_config(deployed)
    role = config.environment(ENV).deployment.execution_role_name
    path = output_parameter_path(config.project, ENV)
    factory = _factory(moto_endpoint)
    for kind, region, stack_set in _kinds(deployed):
        outputs = _stack_outputs(factory.cloudformation(region, account, role), stack_set)
        parameters = _parameters_by_path(factory.ssm(region, account, role), path)
        assert parameters == outputs, (kind, region)
        assert len(outputs) == (11 if kind == "primary" else 8)
    # Each region holds its own stack's values under the one path: the modules there read those.
    east = _parameters_by_path(factory.ssm("us-east-1", account, role), path)
    west = _parameters_by_path(factory.ssm("us-west-2", account, role), path)
    assert "TableName" in east and "TableName" not in west
    assert "FrontendBackupBucketName" in west and "FrontendBackupBucketName" not in east
    assert east["FrontendBucketName"].endswith(f"-{account}-us-east-1")
    assert west["FrontendBackupBucketName"].endswith(f"-{account}-us-west-2")


def test_a_consumer_stack_reads_a_parameter_through_a_typed_parameter(deployed: Path, moto_endpoint: str) -> None:
    """What the README tells the other modules: a ``AWS::SSM::Parameter::Value<String>`` parameter
    whose default is the parameter's name resolves to the value in the consumer's account and region."""
    config = load_config(deployed)
    role = config.environment(ENV).deployment.execution_role_name
    name = output_parameter_path(config.project, ENV) + "ImagesBucketName"
    account = ACCOUNTS[0]
    cfn = _factory(moto_endpoint).cloudformation("us-east-1", account, role)
    consumer = {
        "Parameters": {"ImagesBucket": {"Type": "AWS::SSM::Parameter::Value<String>", "Default": name}},
        "Resources": {"Queue": {"Type": "AWS::SQS::Queue", "Properties": {"QueueName": "search-sync"}}},
        "Outputs": {"ImagesBucket": {"Value": {"Ref": "ImagesBucket"}}},
    }
    cfn.create_stack(StackName="search", TemplateBody=json.dumps(consumer))
    [stack] = cfn.describe_stacks(StackName="search")["Stacks"]
    images = _stack_outputs(cfn, stack_set_name(config.prefix, ENV, "primary"))["ImagesBucketName"]
    assert {o["OutputKey"]: o["OutputValue"] for o in stack["Outputs"]} == {"ImagesBucket": images}


def test_destroy_removes_the_parameters_with_the_stacks(deployed: Path, moto_endpoint: str) -> None:
    """The buckets and the table are retained; the parameters are not, so nothing reads a value of
    a stack that is gone."""
    config = load_config(deployed)
    role = config.environment(ENV).deployment.execution_role_name
    path = output_parameter_path(config.project, ENV)
    code, _, err = run_cli(moto_endpoint, "destroy", "--config", str(deployed), "--env", ENV, "--yes")
    assert code == 0, err
    factory = _factory(moto_endpoint)
    for account in ACCOUNTS:
        for region in ("us-east-1", "us-west-2"):
            assert _parameters_by_path(factory.ssm(region, account, role), path) == {}
