"""The StackSet API requests, built from the desired stack set and the plan alone. Pure: no boto3.

* :func:`stack_set_request` (CreateStackSet, UpdateStackSet): the template (``TemplateBody``, or
  the ``TemplateURL`` of the staged copy: the caller passes the ``source``), the parameters,
  capabilities, tags, permission model with its roles or auto-deployment, managed execution;
* :func:`instances_request` (Create/Update/DeleteStackInstances) for one operation's targets:
  accounts (SELF_MANAGED) or organizational units with the account filter (SERVICE_MANAGED);
* :func:`instance_operations`: every instance operation a phase's plan needs, in rollout order
  (update the outdated instances, create the new ones, remove the ones no longer configured),
  one operation per distinct set of overrides and Regions, whatever the target count;
* :func:`operation_preferences`: the ``OperationPreferences`` structure, its ``RegionOrder``
  narrowed to the operation's Regions (the API refuses a Region outside them).

The operation runner (:mod:`stacksets.operations`) adds the idempotent ``OperationId``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Literal

import attrs

from appstorage.config import OperationPreferences

from .model import DesiredInstance, DesiredStackSet, StackSetPlan
from .preflight import operation_groups

__all__ = [
    "InstanceApi",
    "InstanceOperation",
    "auto_deployment_request",
    "capabilities",
    "instance_operations",
    "instances_request",
    "operation_preferences",
    "removal_targets",
    "stack_set_request",
    "stack_set_update_targets",
]

InstanceApi = Literal["CreateStackInstances", "UpdateStackInstances", "DeleteStackInstances"]


def operation_preferences(prefs: OperationPreferences, regions: Sequence[str]) -> dict[str, Any]:
    """The ``OperationPreferences`` request structure for an operation on ``regions``: percentages
    win over counts (one of each pair is sent), and ``RegionOrder`` only names ``regions`` (left
    out when it names none of them)."""
    out: dict[str, Any] = {
        "RegionConcurrencyType": prefs.region_concurrency_type,
        "ConcurrencyMode": prefs.concurrency_mode,
    }
    order = [r for r in prefs.region_order if r in regions]
    if order:
        out["RegionOrder"] = order
    if prefs.failure_tolerance_percentage is not None:
        out["FailureTolerancePercentage"] = prefs.failure_tolerance_percentage
    else:
        out["FailureToleranceCount"] = prefs.failure_tolerance_count or 0
    if prefs.max_concurrent_percentage is not None:
        out["MaxConcurrentPercentage"] = prefs.max_concurrent_percentage
    else:
        count = prefs.max_concurrent_count
        out["MaxConcurrentCount"] = count if count is not None else 1
    return out


def auto_deployment_request(value: tuple[bool, bool] | None) -> dict[str, bool] | None:
    """``(Enabled, RetainStacksOnAccountRemoval)`` as the API's AutoDeployment structure (None: not
    set). RetainStacksOnAccountRemoval is only sent when enabled ("Specify only if Enabled is set to
    True", API reference), so a disabled setting compares equal whatever retain says."""
    if value is None:
        return None
    enabled, retain = value
    if not enabled:
        return {"Enabled": False}
    return {"Enabled": True, "RetainStacksOnAccountRemoval": retain}


def capabilities(desired: DesiredStackSet) -> list[str]:
    """``CAPABILITY_IAM`` when the template declares IAM resources."""
    resources = desired.template.get("Resources", {})
    needs_iam = any(str(r.get("Type", "")).startswith("AWS::IAM::") for r in resources.values())
    return ["CAPABILITY_IAM"] if needs_iam else []


def _parameters(values: Mapping[str, str]) -> list[dict[str, str]]:
    return [{"ParameterKey": k, "ParameterValue": v} for k, v in sorted(values.items())]


def stack_set_request(
    desired: DesiredStackSet, source: Mapping[str, str], *, update: bool = False
) -> dict[str, Any]:
    """CreateStackSet (``update`` False) or UpdateStackSet request; ``source`` is ``{"TemplateBody":
    ...}`` or ``{"TemplateURL": ...}``. An update names no instances, so CloudFormation updates every
    existing one, with the OperationPreferences of all the stack set's Regions."""
    request: dict[str, Any] = {
        "StackSetName": desired.name,
        "Description": str(desired.template.get("Description", ""))[:1024],
        **source,
        "Parameters": _parameters(desired.parameters),
        "Capabilities": capabilities(desired),
        "Tags": [{"Key": k, "Value": v} for k, v in sorted(desired.tags.items())],
        "PermissionModel": desired.permission_model,
        "ManagedExecution": {"Active": True},
        "CallAs": desired.call_as,
    }
    if desired.permission_model == "SELF_MANAGED":
        # Sent on create and on every update, so that a change of only these is applied. An
        # unset AdministrationRoleARN is not sent (CloudFormation's default role) unless the
        # plan filled in the default role's ARN: UpdateStackSet without one keeps the old role.
        if desired.administration_role_arn:
            request["AdministrationRoleARN"] = desired.administration_role_arn
        if desired.execution_role_name is not None:
            request["ExecutionRoleName"] = desired.execution_role_name
    elif desired.auto_deployment is not None:
        # SERVICE_MANAGED: service-linked roles (no AdministrationRoleARN/ExecutionRoleName);
        # new accounts in the target OUs get instances automatically when enabled.
        request["AutoDeployment"] = auto_deployment_request(desired.auto_deployment)
    if update:
        request["OperationPreferences"] = operation_preferences(
            desired.operation_preferences, [i.region for i in desired.instances]
        )
    return request


def stack_set_update_targets(plan: StackSetPlan) -> dict[str, Any]:
    """What limits an UpdateStackSet to the plan's :attr:`~stacksets.model.StackSetPlan.scope`
    (``deploy --accounts/--regions``, a wave): ``Accounts`` (SELF_MANAGED) or ``DeploymentTargets``
    (SERVICE_MANAGED: the OUs, with the scope's accounts as an INTERSECTION filter, see
    :func:`stacksets.staged.narrow`) and ``Regions`` of the scope's instances that exist. Empty
    without a scope: an UpdateStackSet naming no instances updates every one. AWS marks the
    instances left out OUTDATED when the template or parameters change (:mod:`stacksets.staged`)."""
    if plan.scope is None:
        return {}
    desired = plan.desired
    add = {(i.account, i.region) for i in plan.instances.add}
    existing = [i for i in desired.instances if (i.account, i.region) not in add]
    targets = sorted({i.account for i in existing})
    out: dict[str, Any] = {}
    if desired.permission_model == "SERVICE_MANAGED":
        deployment_targets: dict[str, Any] = {"OrganizationalUnitIds": targets}
        if desired.account_filter is not None:
            deployment_targets["Accounts"] = list(desired.account_filter.accounts)
            deployment_targets["AccountFilterType"] = desired.account_filter.type
        out["DeploymentTargets"] = deployment_targets
    else:
        out["Accounts"] = targets
    out["Regions"] = sorted({i.region for i in existing})
    return out


def instances_request(
    desired: DesiredStackSet,
    api: InstanceApi,
    targets: Sequence[str],
    regions: Sequence[str],
    overrides: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Create/Update/DeleteStackInstances request: ``targets`` are accounts (SELF_MANAGED) or
    OUs (SERVICE_MANAGED, with the configured account filter, except for deletes). ``overrides``:
    None sends no ParameterOverrides; UpdateStackInstances always sends the full list (an empty one
    resets the instances to the stack set's values)."""
    request: dict[str, Any] = {"StackSetName": desired.name}
    if desired.permission_model == "SERVICE_MANAGED":
        deployment_targets: dict[str, Any] = {"OrganizationalUnitIds": list(targets)}
        if desired.account_filter is not None and api != "DeleteStackInstances":
            deployment_targets["Accounts"] = list(desired.account_filter.accounts)
            deployment_targets["AccountFilterType"] = desired.account_filter.type
        request["DeploymentTargets"] = deployment_targets
    else:
        request["Accounts"] = list(targets)
    request["Regions"] = list(regions)
    if overrides is not None and (overrides or api == "UpdateStackInstances"):
        request["ParameterOverrides"] = _parameters(overrides)
    request["OperationPreferences"] = operation_preferences(desired.operation_preferences, regions)
    request["CallAs"] = desired.call_as
    return request


# --------------------------------------------------------------------------- a phase's operations


@attrs.frozen
class InstanceOperation:
    """One stack instance operation of a phase."""

    api: InstanceApi
    request: Mapping[str, Any]
    targets: tuple[str, ...]
    regions: tuple[str, ...]

    @property
    def instances(self) -> int:
        """How many instances it covers (targets x Regions; for the progress display)."""
        return len(self.targets) * len(self.regions)


def _outdated_targets(plan: StackSetPlan, *, updated_all: bool) -> list[DesiredInstance]:
    """The desired target (its account, or its OU under SERVICE_MANAGED, with that target's
    overrides) of each outdated instance that still needs UpdateStackInstances: all of them, or
    after an UpdateStackSet (``updated_all``, which brings every instance up to date but keeps each
    instance's overrides) those whose overrides differ."""
    out: list[DesiredInstance] = []
    for have in plan.instances.outdated:
        for want in plan.desired.instances:
            if want.region == have.region and want.account in (have.account, have.organizational_unit):
                if not updated_all or dict(have.overrides) != dict(want.overrides):
                    out.append(want)
                break
    return list({(i.account, i.region): i for i in out}.values())


def removal_targets(plan: StackSetPlan) -> tuple[list[DesiredInstance], list[str]]:
    """Targets of DeleteStackInstances for the instances no longer configured: accounts, or under
    SERVICE_MANAGED the OUs of the instances (an OU target deletes the OU's instances), and the
    accounts whose instances cannot be targeted (SERVICE_MANAGED without a reported OU: left alone)."""
    remove = plan.instances.remove
    if plan.desired.permission_model != "SERVICE_MANAGED":
        return [DesiredInstance(i.account, i.region) for i in remove], []
    unknown = sorted({i.account for i in remove if not i.organizational_unit})
    targets = {(i.organizational_unit, i.region) for i in remove if i.organizational_unit}
    return [DesiredInstance(ou, region) for ou, region in sorted(targets)], unknown


def instance_operations(plan: StackSetPlan, *, updated_all: bool) -> tuple[InstanceOperation, ...]:
    """The instance operations of a phase, in order: UpdateStackInstances for the outdated
    instances (``updated_all``: an UpdateStackSet ran first, see :func:`_outdated_targets`),
    CreateStackInstances for the new ones, DeleteStackInstances with ``RetainStacks`` for the ones
    no longer configured (their stacks, with the table and buckets, stay in the accounts: deleting
    them is ``destroy``'s job)."""
    desired = plan.desired
    steps: list[tuple[InstanceApi, Sequence[DesiredInstance]]] = [
        ("UpdateStackInstances", _outdated_targets(plan, updated_all=updated_all)),
        ("CreateStackInstances", plan.instances.add),
        ("DeleteStackInstances", removal_targets(plan)[0]),
    ]
    out: list[InstanceOperation] = []
    for api, instances in steps:
        for targets, regions, overrides in operation_groups(instances):
            if api == "DeleteStackInstances":
                request = {**instances_request(desired, api, targets, regions), "RetainStacks": True}
            else:
                request = instances_request(desired, api, targets, regions, overrides)
            out.append(InstanceOperation(api, request, tuple(targets), tuple(regions)))
    return tuple(out)
