"""The hand-off: every output of every template is also an SSM parameter, built from the output.

Table-driven over the bundled environments and both templates: outputs and parameters correspond
one to one (name, value expression, description, condition), the names follow SSM's rules in the
stack's region, and the library builders (:mod:`appstorage.handoff`) refuse what SSM would.
A project SSM reserves fails at load time naming the field.
"""

from __future__ import annotations

from typing import Any

import pytest
from troposphere import Equals, GetAtt, Output, Ref, Template

from appstorage import validators as v
from appstorage.config import Config, ConfigError, load_config
from appstorage.errors import PropsError
from appstorage.handoff import (
    PARAMETER_TIER,
    PARAMETER_TYPE,
    output_parameter,
    output_parameters,
    parameter_logical_id,
    publish_outputs,
)
from appstorage.naming import output_parameter_name, output_parameter_path
from tests.helpers import config_from, example_data, rendered

CONFIG = load_config()
CASES = [(env, kind) for env in CONFIG.environments for kind in ("primary", "replica")]
SSM = "AWS::SSM::Parameter"


def _parameters(template: dict[str, Any]) -> dict[str, dict[str, Any]]:
    return {k: r for k, r in template["Resources"].items() if r["Type"] == SSM}


def _region(config: Config, env: str, kind: str) -> str:
    environment = config.environment(env)
    return environment.primary_region if kind == "primary" else environment.replica_region


@pytest.mark.parametrize(("env", "kind"), CASES)
def test_every_output_is_one_parameter_and_every_parameter_one_output(env: str, kind: str) -> None:
    template = rendered(CONFIG, env, kind)
    outputs, parameters = template["Outputs"], _parameters(template)
    assert sorted(parameters) == sorted(parameter_logical_id(name) for name in outputs)
    for name, output in outputs.items():
        resource = parameters[parameter_logical_id(name)]
        props = resource["Properties"]
        assert props["Name"] == f"/tattoo-directory/{env}/app-storage/{name}"
        assert props["Name"] == output_parameter_name(CONFIG.project, env, name)
        assert props["Value"] == output["Value"]  # the output's expression, not a copy of a value
        assert props["Description"] == output["Description"]
        assert (props["Type"], props["Tier"]) == ("String", "Standard")
        assert resource.get("Condition") == output.get("Condition")
        assert "DeletionPolicy" not in resource  # the parameter leaves with the stack


@pytest.mark.parametrize(("env", "kind"), CASES)
def test_parameter_names_follow_ssm_rules_in_the_stack_region(env: str, kind: str) -> None:
    region = _region(CONFIG, env, kind)
    names = [r["Properties"]["Name"] for r in _parameters(rendered(CONFIG, env, kind)).values()]
    assert len(set(names)) == len(names)
    for name in names:
        assert v.check_ssm_parameter_name(name) is None
        assert v.check_ssm_arn_length(name, region) is None
        assert name.count("/") <= v.SSM_MAX_DEPTH and len(name) <= v.SSM_MAX_NAME
        assert name.startswith(output_parameter_path(CONFIG.project, env))


@pytest.mark.parametrize("env", sorted(CONFIG.environments))
def test_both_stacks_publish_under_one_path_each_in_its_own_region(env: str) -> None:
    """SSM is regional: the replica stack (replica region) and the primary stack (primary region)
    of an account never share a parameter store, so both use ``/{project}/{env}/app-storage/``:
    the modules of each region read that region's storage. The names both templates publish (the
    SPA documents) meet only if both stacks ran in one region, which the environments never do."""
    environment = CONFIG.environment(env)
    assert environment.primary_region != environment.replica_region
    names = {
        kind: {r["Properties"]["Name"] for r in _parameters(rendered(CONFIG, env, kind)).values()}
        for kind in ("primary", "replica")
    }
    path = output_parameter_path(CONFIG.project, env)
    assert names["primary"] & names["replica"] == {f"{path}SpaIndexDocument", f"{path}SpaErrorDocument"}


def test_parameters_are_tagged_like_every_resource() -> None:
    props = _parameters(rendered(CONFIG, "prod", "primary"))["TableArnParameter"]["Properties"]
    assert props["Tags"] == {
        "cost-center": "platform",
        "environment": "prod",
        "managed-by": "appstorage",
        "module": "app-storage",
        "project": "tattoo-directory",
    }


# ------------------------------------------------------------------ the library builders


def test_publish_outputs_of_a_template_of_your_own_keeps_conditions() -> None:
    template = Template()
    template.add_condition("HasSearch", Equals("a", "a"))
    template.add_output(Output("IndexArn", Value=GetAtt("Index", "Arn"), Condition="HasSearch"))
    template.add_output(Output("IndexName", Value=Ref("Index")))
    added = publish_outputs(template, "/shop/dev/search/", tags={"team": "search"})
    body = template.to_dict()["Resources"]
    assert [p.title for p in added] == ["IndexArnParameter", "IndexNameParameter"]
    assert body["IndexArnParameter"]["Condition"] == "HasSearch"
    assert "Condition" not in body["IndexNameParameter"]
    assert body["IndexArnParameter"]["Properties"] == {
        "Name": "/shop/dev/search/IndexArn",
        "Type": PARAMETER_TYPE,
        "Tier": PARAMETER_TIER,
        "Value": {"Fn::GetAtt": ["Index", "Arn"]},
        "Description": "The stack output IndexArn.",
        "Tags": {"team": "search"},
    }


@pytest.mark.parametrize(
    ("name", "words"),
    [
        ("/aws-shop/dev/X", "starts with 'aws' or 'ssm'"),
        ("/SSM/dev/X", "starts with 'aws' or 'ssm'"),
        ("/aws/service/x", "public parameters"),
        ("/shop//X", "a level between slashes is empty"),
        ("shop/dev/X", "a hierarchy starts with '/'"),
        ("/shop/dev/X Y", "not a valid SSM parameter name"),
        ("/a" * 16, "16 levels"),
        ("/" + "a" * 2048, "2049 characters"),
    ],
)
def test_output_parameter_refuses_names_ssm_refuses(name: str, words: str) -> None:
    with pytest.raises(PropsError) as caught:
        output_parameter(Output("X", Value="v"), name)
    assert caught.value.errors[0].field == "name"
    assert words in caught.value.errors[0].problem


@pytest.mark.parametrize(
    ("call", "field"),
    [
        (lambda: output_parameter(Output("X", Value=""), "/a/X"), "output"),
        (lambda: output_parameter(Output("X", Value="v"), "/a/X", tags={"aws:x": "v"}), "tags.aws:x"),
        (lambda: output_parameters({"X": Output("X", Value="v")}, "/a/b"), "path"),
        (lambda: output_parameters({"X": Output("X", Value="v")}, "a/b/"), "path"),
    ],
)
def test_output_parameter_refuses_bad_input_naming_the_field(call: Any, field: str) -> None:
    with pytest.raises(PropsError) as caught:
        call()
    assert [e.field for e in caught.value.errors] == [field]


# ------------------------------------------------------------------ load time


@pytest.mark.parametrize("project", ["aws-shop", "awsome", "ssm-tools"])
def test_a_project_ssm_reserves_fails_at_load_time_naming_the_field(project: str) -> None:
    data = example_data()
    data["project"] = project
    for env in data["environments"].values():  # the inputs' paths are fine: only the project is not
        env["parameters"] = {
            k: val.replace("/tattoo-directory/", "/shop/") for k, val in env["parameters"].items()
        }
    with pytest.raises(ConfigError) as caught:
        config_from(data)
    assert [(e.field, e.fix) for e in caught.value.errors] == [
        ("project", "choose a project name that does not start with 'aws' or 'ssm'")
    ]
    assert f"/{project}/<env>/app-storage/<Output>" in caught.value.errors[0].problem


def test_a_project_that_only_contains_aws_is_fine() -> None:
    data = example_data()
    data["project"] = "my-aws-shop"
    config = config_from(data)
    props = _parameters(rendered(config, "dev", "primary"))["TableNameParameter"]["Properties"]
    assert props["Name"] == "/my-aws-shop/dev/app-storage/TableName"


def test_the_readme_library_example_publishes_its_output() -> None:
    from tests.test_library import readme_example

    namespace: dict[str, Any] = {"__name__": "readme_example"}
    exec(compile(readme_example(), "README.md", "exec"), namespace)
    resources = namespace["template"].to_dict()["Resources"]
    assert (
        resources["UploadsBucketNameParameter"]["Properties"]["Name"] == "/acme/dev/uploads/UploadsBucketName"
    )
    assert resources["UploadsBucketNameParameter"]["Properties"]["Value"] == {"Ref": "Uploads"}


# ------------------------------------------------------------------ the outputs setting


def _with_outputs(outputs: Any, env: str = "dev", **top: Any) -> dict[str, Any]:
    data = example_data()
    data["environments"][env]["outputs"] = outputs
    data.update(top)
    return data


@pytest.mark.parametrize(
    ("outputs", "dev_names"),
    [
        ({}, "/tattoo-directory/dev/app-storage/TableName"),
        ({"ssm_parameters": True}, "/tattoo-directory/dev/app-storage/TableName"),
        ({"ssm_path": "/acme/dev/storage/"}, "/acme/dev/storage/TableName"),
        ({"ssm_path": "/" + "a/" * 14}, "/" + "a/" * 14 + "TableName"),  # 15 levels
        ({"ssm_parameters": False}, None),
    ],
)
def test_the_outputs_setting_turns_the_parameters_off_or_moves_them(
    outputs: Any, dev_names: str | None
) -> None:
    config = config_from(_with_outputs(outputs))
    parameters = _parameters(rendered(config, "dev", "primary"))
    if dev_names is None:
        assert parameters == {} and _parameters(rendered(config, "dev", "replica")) == {}
        assert "Outputs" in rendered(config, "dev", "primary")  # the outputs and exports stay
    else:
        assert parameters["TableNameParameter"]["Properties"]["Name"] == dev_names
    # the other environments keep the default
    staging = _parameters(rendered(config, "staging", "primary"))["TableNameParameter"]["Properties"]
    assert staging["Name"] == "/tattoo-directory/staging/app-storage/TableName"


@pytest.mark.parametrize(
    ("outputs", "field", "words"),
    [
        ({"ssm_path": "acme/dev/"}, "environments.dev.outputs.ssm_path", "is not an SSM path"),
        ({"ssm_path": "/acme/dev"}, "environments.dev.outputs.ssm_path", "is not an SSM path"),
        ({"ssm_path": "/aws/dev/"}, "environments.dev.outputs.ssm_path", "starts with 'aws' or 'ssm'"),
        ({"ssm_path": "/a b/"}, "environments.dev.outputs.ssm_path", "not a valid SSM parameter name"),
        ({"ssm_path": "/" + "a/" * 15}, "environments.dev.outputs.ssm_path", "16 levels"),
        ({"ssm_path": "/" + "a" * 990 + "/"}, "environments.dev.outputs.ssm_path", "SSM allows 1011"),
        (
            {"ssm_parameters": False, "ssm_path": "/a/"},
            "environments.dev.outputs.ssm_path",
            "ssm_parameters is false",
        ),
        ({"ssm_parameters": "yes"}, "environments.dev.outputs.ssm_parameters", "expected bool"),
        ({"ssm_paths": "/a/"}, "environments.dev.outputs.ssm_paths", "unknown key"),
        (["ssm_parameters"], "environments.dev.outputs", "expected a mapping"),
    ],
)
def test_a_bad_outputs_setting_fails_at_load_time_naming_the_field(
    outputs: Any, field: str, words: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        config_from(_with_outputs(outputs))
    assert [e.field for e in caught.value.errors] == [field]
    assert words in caught.value.errors[0].problem


def test_a_reserved_project_loads_when_no_environment_publishes_under_it() -> None:
    data = example_data()
    data["project"] = "aws-shop"
    for name, env in data["environments"].items():
        env["parameters"] = {
            k: val.replace("/tattoo-directory/", "/shop/") for k, val in env["parameters"].items()
        }
        env["outputs"] = (
            {"ssm_path": f"/shop/{name}/app-storage/"} if name != "prod" else {"ssm_parameters": False}
        )
    config = config_from(data)
    props = _parameters(rendered(config, "dev", "replica"))["SpaIndexDocumentParameter"]["Properties"]
    assert props["Name"] == "/shop/dev/app-storage/SpaIndexDocument"
