"""``AWS::SSM::Parameter`` for moto's CloudFormation, in place of moto's model.

Emulated: :class:`SsmParameter` puts the parameter into moto's own SSM backend, as PutParameter
would, in the stack's account and region: ``Name``, ``Type`` (``String`` or ``StringList``, the
types CloudFormation creates), ``Value``, ``Description``, ``Tier``, ``AllowedPattern``,
``DataType``, ``Policies`` and ``Tags`` (a JSON object of keys and values, as CloudFormation takes
them for this type); GetParameter(s), GetParametersByPath, DescribeParameters and
ListTagsForResource read them back. Without ``Name`` the parameter is named as CloudFormation
names it, ``{stack}-{logical id}-{random}``, and keeps that name across updates. Ref is the name;
GetAtt ``Type`` and ``Value``.

Create: a missing or empty ``Value``, a ``Type`` other than the two, ``Tags`` that are not an
object of strings, and a name SSM refuses (moto's PutParameter rules: the reserved ``aws``/``ssm``
prefixes, ...) or that exists already (left alone, also when the stack is deleted) fail the
resource and roll the stack back. Update: a new ``Name`` (or giving or dropping it) is a
replacement; any other change overwrites the parameter in place (PutParameter with Overwrite: the
version goes up by one, its history is kept) and sets exactly the template's tags. Delete:
DeleteParameter, tags with it. Rollback, refused updates, replacement and the deletion and
replace policies: see :mod:`.lifecycle`.

moto deviations corrected: moto's model reads ``Tags`` as PutParameter's list of Key/Value pairs,
so a template's tags (an object) fail the CreateStack call with HTTP 500 after the parameter was
made (it stays behind); moto updates a parameter by deleting it and putting it again (version 1
again, its history and tags lost) and ignores ``DeletionPolicy``.

Not emulated: parameter policies (stored, never applied), the ``aws:ec2:image`` data type's
check, Advanced-tier limits and throughput (PutParameter throttling under many parameters).
"""

from __future__ import annotations

import contextlib
from typing import Any

import moto.ssm.models  # noqa: F401 - moto's Parameter first: the last model of a type wins
from moto.cloudformation.exceptions import ValidationError
from moto.core.common_models import CloudFormationModel
from moto.core.exceptions import ServiceException
from moto.ssm.exceptions import ParameterNotFound
from moto.ssm.models import Parameter, SimpleSystemManagerBackend, ssm_backends

from .lifecycle import EmulatedModel

__all__ = ["PARAMETER_TYPES", "SsmParameter"]

#: The types CloudFormation's AWS::SSM::Parameter creates (no SecureString).
PARAMETER_TYPES = ("String", "StringList")
_RESOURCE_TYPE = "Parameter"  # SSM's tagging resource type


def _parameter_problem(props: dict[str, Any]) -> str | None:
    """What CloudFormation or PutParameter would refuse in these properties, or None."""
    for key in ("Type", "Value"):
        if key not in props:
            return f"Properties validation failed: required key [{key}] not found"
    if props["Type"] not in PARAMETER_TYPES:
        return (
            f"Properties validation failed: Type {props['Type']!r} is not one of {', '.join(PARAMETER_TYPES)}"
        )
    if not isinstance(props["Value"], str) or not props["Value"]:
        return "Properties validation failed: Value must be a non-empty string"
    tags = props.get("Tags", {})
    if not isinstance(tags, dict) or not all(isinstance(x, str) for item in tags.items() for x in item):
        return "Properties validation failed: Tags must be an object of string keys and values"
    return None


class SsmParameter(EmulatedModel, CloudFormationModel):
    """``AWS::SSM::Parameter``: a String or StringList parameter in moto's SSM backend."""

    @staticmethod
    def cloudformation_name_type() -> str:
        return "Name"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::SSM::Parameter"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in ("Type", "Value")

    @property
    def backend(self) -> SimpleSystemManagerBackend:
        backend: SimpleSystemManagerBackend = ssm_backends[self.account_id][self.region_name]
        return backend

    def parameter(self) -> Parameter | None:
        """moto's latest version of this parameter, if it exists."""
        return self.backend.get_parameter(self.name)

    def attribute(self, attribute_name: str) -> Any:
        parameter = self.parameter()
        if parameter is None:  # the creation failed
            return None
        return parameter.parameter_type if attribute_name == "Type" else parameter.value

    def create_resource(self, props: dict[str, Any]) -> None:
        self._put(props, new=True)

    def update_resource(self, props: dict[str, Any]) -> None:
        self._put(props, new=False)

    def remove_resource(self) -> None:
        """DeleteParameter (moto drops the tags with it); nothing when it is gone already."""
        if not self.failed:
            with contextlib.suppress(ParameterNotFound):
                self.backend.delete_parameter(self.name)

    def _put(self, props: dict[str, Any], *, new: bool) -> None:
        """PutParameter with ``props``; ``new``: refused if the parameter exists (made elsewhere)."""
        problem = _parameter_problem(props)
        if problem is not None:
            raise ValidationError(message=problem)
        if new and self.parameter() is not None:
            raise ValidationError(
                message=f"Resource of type '{self.cloudformation_type()}' with identifier '{self.name}' "
                "already exists."
            )
        try:
            self.backend.put_parameter(
                name=self.name,
                description=props.get("Description"),  # type: ignore[arg-type]
                value=props["Value"],
                parameter_type=props["Type"],
                allowed_pattern=props.get("AllowedPattern"),  # type: ignore[arg-type]
                keyid=None,  # type: ignore[arg-type]
                overwrite=not new,
                tags=[],
                data_type=props.get("DataType", "text"),
                tier=props.get("Tier"),
                policies=props.get("Policies"),
            )
        except ServiceException as error:  # moto's CloudFormation cannot serialise SSM's errors
            raise ValidationError(message=error.message) from error
        tags: dict[str, str] = props.get("Tags", {})
        old = self.backend.list_tags_for_resource(_RESOURCE_TYPE, self.name)
        self.backend.remove_tags_from_resource(_RESOURCE_TYPE, self.name, [k for k in old if k not in tags])
        self.backend.add_tags_to_resource(_RESOURCE_TYPE, self.name, dict(tags))
