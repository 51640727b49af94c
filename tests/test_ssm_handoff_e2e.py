"""End to end on moto's server: after a deploy, every member account holds each stack's outputs as
SSM parameters in the stack's own region, read as the compute, delivery and search modules read
them there (GetParametersByPath, ``{{resolve:ssm:...}}``, an ``AWS::SSM::Parameter::Value<String>``
parameter), with the execution role assumed as the deployer assumes it (stacksets.session).

The README's hand-off examples (a consumer template, a boto3 reader) run here as written.

moto deviations met here: the instance stacks are named ``StackSet:<stack set>`` (AWS:
``StackSet-<stack set>-<guid>``), so a stack is found by listing the account's stacks; moto does
not resolve ``{{resolve:ssm:...}}`` references in templates (AWS does, at create and update),
which the consumer test shows; it resolves ``AWS::SSM::Parameter::Value<String>`` parameters.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import boto3
import pytest
from cfnlint.api import lint

from appstorage.config import load_config
from appstorage.naming import output_parameter_path, stack_set_name
from stacksets.local import local_session
from stacksets.session import ClientFactory
from tests.faults import run_cli
from tests.helpers import ACCOUNTS

ENV = "dev"
README = Path(__file__).parent.parent / "README.md"
SECTION = "### Outputs handed over (SSM parameters)"


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


def test_each_stack_s_outputs_are_parameters_in_its_own_account_and_region(
    deployed: Path, moto_endpoint: str
) -> None:
    config = load_config(deployed)
    role = config.environment(ENV).deployment.execution_role_name
    path = output_parameter_path(config.project, ENV)
    factory = _factory(moto_endpoint)
    for account in ACCOUNTS:  # one deploy, every member account
        for kind, region, stack_set in _kinds(deployed):
            outputs = _stack_outputs(factory.cloudformation(region, account, role), stack_set)
            parameters = _parameters_by_path(factory.ssm(region, account, role), path)
            assert parameters == outputs, (account, kind, region)
            assert len(outputs) == (11 if kind == "primary" else 8)
        # Each region holds its own stack's values under the one path: the modules there read those.
        east = _parameters_by_path(factory.ssm("us-east-1", account, role), path)
        west = _parameters_by_path(factory.ssm("us-west-2", account, role), path)
        assert "TableName" in east and "TableName" not in west
        assert "FrontendBackupBucketName" in west and "FrontendBackupBucketName" not in east
        assert east["FrontendBucketName"].endswith(f"-{account}-us-east-1")
        assert west["FrontendBackupBucketName"].endswith(f"-{account}-us-west-2")


def _readme_block(language: str) -> str:
    """The ``language`` block of the README's hand-off section, exactly as written there."""
    section = README.read_text(encoding="utf-8").split(SECTION, 1)[1].split("\n## ", 1)[0]
    match = re.search(rf"```{language}\n(.*?)```", section, re.DOTALL)
    assert match is not None, f"the README's {SECTION!r} section has a {language} example"
    return match.group(1)


def _member_session(endpoint: str, account: str, role: str, region: str) -> boto3.Session:
    """A session in ``account`` as a module running there has one (the execution role here)."""
    sts = boto3.client("sts", region_name=region, endpoint_url=endpoint)
    creds = sts.assume_role(RoleArn=f"arn:aws:iam::{account}:role/{role}", RoleSessionName="reader")
    return boto3.Session(
        aws_access_key_id=creds["Credentials"]["AccessKeyId"],
        aws_secret_access_key=creds["Credentials"]["SecretAccessKey"],
        aws_session_token=creds["Credentials"]["SessionToken"],
        region_name=region,
    )


def test_the_readme_consumer_template_lints_clean_and_reads_the_parameter(
    deployed: Path, moto_endpoint: str
) -> None:
    """The README's template of another module: cfn-lint finds nothing, and created in a member
    account its ``AWS::SSM::Parameter::Value<String>`` parameter resolves to the published value.
    moto does not resolve ``{{resolve:ssm:...}}`` (AWS does at create and update): that tag keeps
    the reference as written here."""
    body = _readme_block("yaml")
    assert [str(m) for m in lint(body, regions=["us-east-1"])] == []
    config = load_config(deployed)
    role = config.environment(ENV).deployment.execution_role_name
    account = ACCOUNTS[0]
    factory = _factory(moto_endpoint)
    cfn = factory.cloudformation("us-east-1", account, role)
    cfn.create_stack(StackName="search", TemplateBody=body)
    outputs = _stack_outputs(cfn, stack_set_name(config.prefix, ENV, "primary"))
    [queue] = factory.client("sqs", "us-east-1", account, role).list_queues()["QueueUrls"]
    tags = factory.client("sqs", "us-east-1", account, role).list_queue_tags(QueueUrl=queue)["Tags"]
    assert tags["images-bucket"] == outputs["ImagesBucketName"]
    assert tags["table"] == "{{resolve:ssm:/tattoo-directory/dev/app-storage/TableName}}"  # moto


def test_the_readme_reader_returns_the_stack_outputs_in_a_member_account(
    deployed: Path, moto_endpoint: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    namespace: dict[str, Any] = {"__name__": "readme_reader"}
    exec(compile(_readme_block("python"), f"{README}:{SECTION}", "exec"), namespace)
    monkeypatch.setenv("AWS_ENDPOINT_URL", moto_endpoint)  # the module's own endpoint, AWS's on AWS
    config = load_config(deployed)
    role = config.environment(ENV).deployment.execution_role_name
    factory = _factory(moto_endpoint)
    for account in ACCOUNTS:
        for _, region, stack_set in _kinds(deployed):
            session = _member_session(moto_endpoint, account, role, region)
            read = namespace["storage_outputs"]("tattoo-directory", ENV, session)
            assert read == _stack_outputs(factory.cloudformation(region, account, role), stack_set)


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
