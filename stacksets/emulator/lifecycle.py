"""What every model of the emulator does the same way: create, update in place or replace, delete,
and roll a failed stack creation back, as CloudFormation does on AWS.

:class:`EmulatedModel` holds that life cycle; a model (:class:`~.global_table.GlobalTable`,
:class:`~.alarm.MetricAlarm`, :class:`~.bucket.Bucket`) adds only how its resource is made
(:meth:`~EmulatedModel.create_resource`), changed in place (:meth:`~EmulatedModel.update_resource`)
and removed (:meth:`~EmulatedModel.remove_resource`), each raising moto's CloudFormation
``ValidationError`` with the reason when AWS would refuse.

Emulated, for every model:

* Create: a refused resource fails (its CREATE_FAILED event gives the reason) and the stack rolls
  back (ROLLBACK_COMPLETE), see :func:`fail_creation`; a resource that the same stack creation
  reaches afterwards is not created, as AWS deletes what it made when it rolls back (moto creates
  resources one after the other and keeps the stack's other resources).
* Update: a new name (the model's ``cloudformation_name_type`` property, or giving or dropping it)
  is a replacement: the new resource is created, then the old one removed unless
  ``UpdateReplacePolicy`` is Retain (a removal that is refused, such as a protected table, leaves
  the old resource and the update completes, as on AWS). Without a name the generated one is kept
  (moto makes up a new name on every update, which would replace the resource each time). Anything
  else is applied in place. moto cannot roll an update back, so a refused update fails the
  UpdateStack call (ValidationError) and keeps the resource's ``DeletionPolicy`` and
  ``UpdateReplacePolicy`` as they were.
* Delete (stack deletion, or the resource left the template): the resource is removed unless
  ``DeletionPolicy`` is Retain (moto's CloudFormation ignores the policy when an update removes a
  resource).

Not emulated: rolling back an update (moto has none), ``CreationPolicy`` and ``UpdatePolicy``;
the ``Snapshot`` and ``RetainExceptOnCreate`` policies act as Delete.
"""

from __future__ import annotations

import contextlib
from abc import abstractmethod
from typing import TYPE_CHECKING, Any, Self

from moto.cloudformation.exceptions import UnformattedGetAttTemplateException, ValidationError
from moto.cloudformation.models import Event, Stack, cloudformation_backends
from moto.core.common_models import CloudFormationModel

__all__ = ["RETAIN", "EmulatedModel", "fail_creation", "flag", "malformed", "rolled_back"]

#: The ``DeletionPolicy``/``UpdateReplacePolicy`` value that keeps the resource.
RETAIN = "Retain"

if TYPE_CHECKING:
    _Model = CloudFormationModel
else:
    # At run time a plain mixin: moto's parser lists only the direct subclasses of
    # CloudFormationModel, so each model names CloudFormationModel among its own bases.
    _Model = object


def flag(value: Any) -> bool:
    """A CloudFormation boolean: JSON true, or "true" from a parameter."""
    return value is True or str(value).lower() == "true"


def malformed(error: Exception) -> str:
    """Why a property value is refused that the model could not read (a missing key, a wrong type)."""
    return f"Properties validation failed: {type(error).__name__} {error}"


def _properties(resource: dict[str, Any]) -> dict[str, Any]:
    """A template resource's ``Properties`` (none: empty)."""
    properties: dict[str, Any] = resource.get("Properties") or {}
    return properties


def _policies(resource: dict[str, Any]) -> tuple[str, str]:
    """A template resource's (``DeletionPolicy``, ``UpdateReplacePolicy``), each Delete by default."""
    return resource.get("DeletionPolicy", "Delete"), resource.get("UpdateReplacePolicy", "Delete")


def _creating_stack(account_id: str, region_name: str, kwargs: dict[str, Any]) -> Stack | None:
    """The stack whose creation creates this resource (moto passes its id as ``StackId``)."""
    stack: Stack | None = cloudformation_backends[account_id][region_name].stacks.get(
        kwargs.get("StackId", "")
    )
    return stack


def rolled_back(account_id: str, region_name: str, kwargs: dict[str, Any]) -> bool:
    """Whether another resource of this stack creation failed already (see :func:`fail_creation`).

    AWS deletes what it made when it rolls back; moto creates resources one after the other, so
    the models create nothing once the stack is ROLLBACK_COMPLETE. ``kwargs``: what moto passes to
    ``create_from_cloudformation_json`` (nothing when an update creates the resource).
    """
    stack = _creating_stack(account_id, region_name, kwargs)
    return stack is not None and stack.status == "ROLLBACK_COMPLETE"


def fail_creation(
    model: type[CloudFormationModel],
    physical_id: str,
    message: str,
    account_id: str,
    region_name: str,
    kwargs: dict[str, Any],
) -> None:
    """What AWS does when a resource cannot be created: the resource fails (its CREATE_FAILED event
    gives the reason), the stack rolls back (ROLLBACK_COMPLETE). moto would fail the CreateStack call
    and then every DescribeStacks, which re-parses the resource. Outside a stack creation (a
    resource added or replaced by an update, which moto cannot roll back) the call fails instead
    (ValidationError with ``message``)."""
    stack = _creating_stack(account_id, region_name, kwargs)
    if stack is None or stack.status != "CREATE_IN_PROGRESS":
        raise ValidationError(message=message)
    event = Event(
        stack_id=stack.stack_id,
        stack_name=stack.name,
        logical_resource_id=kwargs["LogicalId"],
        physical_resource_id=physical_id,
        resource_type=model.cloudformation_type(),
        resource_status="CREATE_FAILED",
        resource_status_reason=f"Resource handler returned message: {message!r}",
        resource_properties=None,
    )
    stack.events.append(event)
    stack._add_stack_event(
        "ROLLBACK_COMPLETE", f"The following resource(s) failed to create: [{kwargs['LogicalId']}]."
    )
    stack.status = "ROLLBACK_COMPLETE"


class EmulatedModel(_Model):
    """The life cycle of an emulated resource (see the module). A model lists this class first and
    ``CloudFormationModel`` second among its bases, and implements ``cloudformation_name_type``,
    ``cloudformation_type``, ``has_cfn_attr``, :meth:`attribute` and the three resource hooks.

    ``name`` is the physical id (Ref); ``generated``: CloudFormation made the name up (the template
    gives no name property); ``failed``: the creation was refused or skipped after a rollback.
    """

    def __init__(self, name: str, account_id: str, region_name: str, resource: dict[str, Any]) -> None:
        self.name = name
        self.account_id = account_id
        self.region_name = region_name
        self.generated = self.cloudformation_name_type() not in _properties(resource)
        self.failed = False
        self.deletion_policy, self.replace_policy = _policies(resource)

    # ---------------------------------------------------------------- what a model implements

    @abstractmethod
    def create_resource(self, props: dict[str, Any]) -> None:
        """Make the resource as ``props`` declare it; refused: undo what was made and raise
        ValidationError with the reason."""

    @abstractmethod
    def update_resource(self, props: dict[str, Any]) -> None:
        """Apply ``props`` in place; refused: leave the resource as it was and raise ValidationError."""

    @abstractmethod
    def remove_resource(self) -> None:
        """Delete the resource (nothing when the creation failed); refused: raise ValidationError."""

    @abstractmethod
    def attribute(self, attribute_name: str) -> Any:
        """GetAtt ``attribute_name`` (one :meth:`has_cfn_attr` accepts); None when the resource does
        not exist (its creation failed: AWS shows no outputs then)."""

    # ---------------------------------------------------------------- moto's model interface

    @property
    def physical_resource_id(self) -> str:
        return self.name

    def is_created(self) -> bool:
        return not self.failed

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if not self.has_cfn_attr(attribute_name):
            raise UnformattedGetAttTemplateException()
        return self.attribute(attribute_name)

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Self:
        model = cls(resource_name, account_id, region_name, cloudformation_json)
        if rolled_back(account_id, region_name, kwargs):
            model.failed = True
            return model
        try:
            model.create_resource(_properties(cloudformation_json))
        except ValidationError as error:
            model.failed = True
            fail_creation(cls, resource_name, error.message, account_id, region_name, kwargs)
        return model

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: Self,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> Self:
        props = _properties(cloudformation_json)
        if original_resource.generated and cls.cloudformation_name_type() not in props:
            new_resource_name = original_resource.name  # moto makes up a new name on every update
        if new_resource_name != original_resource.name:  # a replacement
            replacement = cls.create_from_cloudformation_json(
                new_resource_name, cloudformation_json, account_id, region_name
            )
            if original_resource.replace_policy != RETAIN:
                # On AWS a failed clean-up (a protected table) leaves the old resource; the update completes.
                with contextlib.suppress(ValidationError):
                    original_resource.remove_resource()
            return replacement
        original_resource.update_resource(props)
        original_resource.deletion_policy, original_resource.replace_policy = _policies(cloudformation_json)
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> None:
        raise NotImplementedError(f"moto deletes a {cls.__name__} through {cls.__name__}.delete")

    def delete(self, account_id: str, region_name: str) -> None:
        """Stack deletion, or the resource left the template: Retain keeps the resource."""
        if self.deletion_policy != RETAIN:
            self.remove_resource()
