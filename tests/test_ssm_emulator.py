"""The emulator's ``AWS::SSM::Parameter`` model (stacksets.emulator.parameter), through CloudFormation
CreateStack/UpdateStack/DeleteStack on moto's real HTTP server, read back with SSM's API.

moto's own model fails a tagged parameter (CloudFormation's Tags object: HTTP 500, the parameter
left behind) and updates by delete and put (version 1 again, tags lost); the first test shows
moto's model failing where the emulator's succeeds, so it fails if the emulator's is not used."""

from __future__ import annotations

import json
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.emulator_stacks import DELETIONS, PRIMARY, REPLICA, client, creation_failures, stack_outputs

STACK = "parameters"
NAME = "/shop/dev/app-storage/TableName"
TAGS = {"project": "shop", "module": "app-storage"}


def _template(policy: str = "Delete", **parameters: dict[str, Any]) -> dict[str, Any]:
    """``parameters`` (logical id -> properties), each with Ref, GetAtt Value and Type outputs."""
    resources = {
        logical: {"Type": "AWS::SSM::Parameter", "DeletionPolicy": policy, "Properties": props}
        for logical, props in parameters.items()
    } or {"Topic": {"Type": "AWS::SNS::Topic", "Properties": {"TopicName": "other"}}}
    outputs: dict[str, Any] = {}
    for logical in parameters:
        outputs[f"{logical}Name"] = {"Value": {"Ref": logical}}
        outputs[f"{logical}Value"] = {"Value": {"Fn::GetAtt": [logical, "Value"]}}
        outputs[f"{logical}Type"] = {"Value": {"Fn::GetAtt": [logical, "Type"]}}
    return {"Resources": resources, "Outputs": outputs}


def _props(value: str = "app-dev", **changes: Any) -> dict[str, Any]:
    props = {"Name": NAME, "Type": "String", "Tier": "Standard", "Value": value, "Description": "d", "Tags": TAGS}
    return {k: v for k, v in {**props, **changes}.items() if v is not None}


def _call(endpoint: str, action: str, template: dict[str, Any], region: str = PRIMARY) -> dict[str, Any]:
    cfn = client("cloudformation", endpoint, region)
    getattr(cfn, f"{action}_stack")(StackName=STACK, TemplateBody=json.dumps(template))
    stack: dict[str, Any] = cfn.describe_stacks(StackName=STACK)["Stacks"][0]
    return stack


def _read(endpoint: str, name: str = NAME, region: str = PRIMARY) -> tuple[dict[str, Any], dict[str, str]] | None:
    """(DescribeParameters' entry with GetParameter's value, tags), or None when it does not exist."""
    ssm = client("ssm", endpoint, region)
    try:
        value = ssm.get_parameter(Name=name)["Parameter"]
    except ClientError as error:
        assert error.response["Error"]["Code"] == "ParameterNotFound"
        return None
    [described] = ssm.describe_parameters(ParameterFilters=[{"Key": "Name", "Values": [name]}])["Parameters"]
    tags = ssm.list_tags_for_resource(ResourceType="Parameter", ResourceId=name)["TagList"]
    return {**described, "Value": value["Value"]}, {t["Key"]: t["Value"] for t in tags}


def test_the_emulators_model_is_the_one_moto_uses() -> None:
    """moto's own model stays listed (a class cannot be unlisted); moto's map takes the last class
    listed for a type, and the emulator's is defined after moto's."""
    from moto.cloudformation import parsing
    from moto.core.common_models import CloudFormationModel
    from moto.ssm.models import Parameter as MotosParameter

    from stacksets.emulator import SsmParameter, register_models

    register_models()
    listed = [m for m in CloudFormationModel.__subclasses__() if m.cloudformation_type() == "AWS::SSM::Parameter"]
    assert listed == [MotosParameter, SsmParameter]
    assert parsing.resource_class_from_type("AWS::SSM::Parameter") is SsmParameter
    assert parsing.resource_name_property_from_type("AWS::SSM::Parameter") == "Name"


def test_a_tagged_parameter_is_created_where_motos_model_fails(moto_endpoint: str) -> None:
    from moto.ssm.models import Parameter as MotosParameter

    with pytest.raises(TypeError):  # what moto's own model does with CloudFormation's Tags object
        MotosParameter.create_from_cloudformation_json("P", {"Properties": _props()}, "123456789012", "eu-west-1")
    stack = _call(moto_endpoint, "create", _template(P=_props()))
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert stack_outputs(stack) == {"PName": NAME, "PValue": "app-dev", "PType": "String"}
    described, tags = _read(moto_endpoint) or ({}, {})
    assert (described["Value"], described["Type"], described["Tier"], described["Description"]) == (
        "app-dev",
        "String",
        "Standard",
        "d",
    )
    assert described["Version"] == 1 and tags == TAGS
    assert _read(moto_endpoint, region=REPLICA) is None  # in the stack's region only


def test_an_update_overwrites_in_place_and_sets_exactly_the_template_tags(moto_endpoint: str) -> None:
    _call(moto_endpoint, "create", _template(P=_props()))
    stack = _call(moto_endpoint, "update", _template(P=_props("app-dev-2", Tags={"project": "shop", "team": "x"})))
    assert stack_outputs(stack)["PValue"] == "app-dev-2"
    described, tags = _read(moto_endpoint) or ({}, {})
    assert (described["Value"], described["Version"]) == ("app-dev-2", 2)  # AWS: PutParameter Overwrite
    assert tags == {"project": "shop", "team": "x"}
    history = client("ssm", moto_endpoint).get_parameter_history(Name=NAME)["Parameters"]
    assert [h["Value"] for h in history] == ["app-dev", "app-dev-2"]


def test_a_new_name_replaces_the_parameter(moto_endpoint: str) -> None:
    _call(moto_endpoint, "create", _template(P=_props()))
    _call(moto_endpoint, "update", _template(P=_props(Name="/shop/dev/app-storage/Other")))
    assert _read(moto_endpoint) is None
    assert (_read(moto_endpoint, "/shop/dev/app-storage/Other") or ({}, {}))[0]["Version"] == 1


@pytest.mark.parametrize(("how", "policy", "kept"), DELETIONS)
def test_deletion_follows_the_deletion_policy(moto_endpoint: str, how: str, policy: str, kept: bool) -> None:
    _call(moto_endpoint, "create", _template(policy, P=_props()))
    if how == "delete-stack":
        client("cloudformation", moto_endpoint).delete_stack(StackName=STACK)
    else:
        _call(moto_endpoint, "update", _template(policy))
    assert (_read(moto_endpoint) is not None) is kept


@pytest.mark.parametrize(
    ("props", "reason"),
    [
        (_props(Value=None), "required key [Value] not found"),
        (_props(Value=""), "Value must be a non-empty string"),
        (_props(Type="SecureString"), "is not one of String, StringList"),
        (_props(Tags=[{"Key": "project", "Value": "shop"}]), "Tags must be an object"),
        (_props(Name="/aws-shop/dev/X"), "reserved parameter name"),
    ],
)
def test_what_aws_refuses_fails_the_resource_and_rolls_back(moto_endpoint: str, props: dict[str, Any], reason: str) -> None:
    stack = _call(moto_endpoint, "create", _template(P=props, Q=_props(Name="/shop/dev/app-storage/Q")))
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    [(logical, message)] = creation_failures(moto_endpoint, STACK)
    assert logical == "P" and reason in message
    assert _read(moto_endpoint, "/shop/dev/app-storage/Q") is None  # nothing made after the failure


def test_a_parameter_that_exists_is_left_alone(moto_endpoint: str) -> None:
    client("ssm", moto_endpoint).put_parameter(Name=NAME, Value="someone else's", Type="String")
    stack = _call(moto_endpoint, "create", _template(P=_props()))
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    assert "already exists" in creation_failures(moto_endpoint, STACK)[0][1]
    client("cloudformation", moto_endpoint).delete_stack(StackName=STACK)
    assert (_read(moto_endpoint) or ({}, {}))[0]["Value"] == "someone else's"
