"""Outputs handed over as SSM parameters, each from a small named function.

A stack's outputs are what the compute, delivery and search modules need from it. CloudFormation
exports reach only stacks of the same account and region; an ``AWS::SSM::Parameter`` per output
reaches anything running there (a stack through ``{{resolve:ssm:...}}`` or an
``AWS::SSM::Parameter::Value<String>`` parameter, a program through GetParametersByPath). Each
parameter is built from the output's definition, so its value is the output's expression, never
a second spelling of it, and it carries the output's ``Condition``.

The environment templates publish every output under
:func:`appstorage.naming.output_parameter_path` (``/{project}/{env}/app-storage/``); a template of
your own can do the same with :func:`publish_outputs` after adding its outputs.

SSM's rules (PutParameter, https://docs.aws.amazon.com/systems-manager/latest/APIReference/API_PutParameter.html):
names as :func:`appstorage.awsnames.check_ssm_path` checks them; a Standard parameter's value is
at most 4 KB (every output here is an ARN or a name); a description at most 1024 characters;
``String`` is the only type CloudFormation creates besides ``StringList`` (no ``SecureString``).
"""

from __future__ import annotations

from collections.abc import Mapping

from troposphere import Output, Template
from troposphere.ssm import Parameter

from . import validators as v
from .errors import Problems, PropsError
from .props import checked_logical_id

__all__ = [
    "PARAMETER_TIER",
    "PARAMETER_TYPE",
    "output_parameter",
    "output_parameters",
    "parameter_description",
    "parameter_logical_id",
    "publish_outputs",
]

#: Every output is one string (a name, an ARN, a domain name, a document name).
PARAMETER_TYPE = "String"
#: Standard: free, 4 KB values, 10,000 parameters per account and region.
PARAMETER_TIER = "Standard"
#: PutParameter's longest description.
MAX_DESCRIPTION = 1024


def parameter_logical_id(output: str) -> str:
    """The logical id of the parameter that publishes ``output``: ``{output}Parameter``."""
    return f"{output}Parameter"


def parameter_description(output: Output) -> str:
    """The output's description (every output of the templates has one), or one naming it."""
    description = output.properties.get("Description")
    text = description if isinstance(description, str) else f"The stack output {output.title}."
    return text[:MAX_DESCRIPTION]


def output_parameter(output: Output, name: str, *, tags: Mapping[str, str] | None = None) -> Parameter:
    """An ``AWS::SSM::Parameter`` named ``name`` holding ``output``'s value (its expression, as
    CloudFormation resolves it), Type String, Tier Standard, the output's description and, when the
    output has one, its ``Condition``. ``tags``: the parameter's tags (default none)."""
    problems = Problems()
    problems.add("name", v.check_ssm_parameter_name(name))
    for key, value in (tags or {}).items():
        problems.add(f"tags.{key}", v.check_tag(key, value))
    if output.properties.get("Value") in ("", None):
        problems.add(
            "output",
            (f"the output {output.title} has no value", "SSM refuses an empty value: give the output one"),
        )
    if problems.errors:
        raise PropsError("output_parameter", problems.errors)
    logical_id = checked_logical_id(parameter_logical_id(output.title or ""), "output_parameter")
    attributes = {"Condition": output.properties["Condition"]} if "Condition" in output.properties else {}
    return Parameter(
        logical_id,
        Name=name,
        Type=PARAMETER_TYPE,
        Tier=PARAMETER_TIER,
        Value=output.properties["Value"],
        Description=parameter_description(output),
        **({"Tags": dict(tags)} if tags else {}),
        **attributes,
    )


def output_parameters(
    outputs: Mapping[str, Output], path: str, *, tags: Mapping[str, str] | None = None
) -> list[Parameter]:
    """One :func:`output_parameter` per output, named ``{path}{output}``; ``path`` is an SSM
    hierarchy ending in ``/`` (``/{project}/{env}/app-storage/``)."""
    if not path.startswith("/") or not path.endswith("/"):
        problems = Problems()
        problems.add("path", (f"{v.shown(path)} is not an SSM path", "start and end it with '/': '/a/b/'"))
        raise PropsError("output_parameters", problems.errors)
    return [output_parameter(output, f"{path}{title}", tags=tags) for title, output in outputs.items()]


def publish_outputs(
    template: Template, path: str, *, tags: Mapping[str, str] | None = None
) -> list[Parameter]:
    """Add to ``template`` a parameter for every output it has (call it after the outputs), named
    ``{path}{output}``; returns them."""
    return [template.add_resource(p) for p in output_parameters(template.outputs, path, tags=tags)]
