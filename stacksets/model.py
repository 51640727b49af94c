"""Plain data shared by the planner (pure) and the actions that call AWS (boto3).

Desired state comes from the configuration and the built templates; observed state is
read from CloudFormation by :mod:`stacksets.observe`. :mod:`stacksets.plan` compares the
two without any boto3 import.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Literal

import attrs

from appstorage.config import OperationPreferences

__all__ = [
    "NAME_PROPERTIES",
    "STATEFUL_TYPES",
    "TABLE_TYPES",
    "AccountFilter",
    "Action",
    "CallAs",
    "DesiredInstance",
    "DesiredStackSet",
    "EnvironmentRef",
    "InstanceDiff",
    "ObservedInstance",
    "ObservedStackSet",
    "ParameterChange",
    "ResourceChange",
    "Scope",
    "SettingChange",
    "StackSetPlan",
    "TemplateDiff",
]

#: The DynamoDB table kinds: a single-Region table and a global table (one or more replicas).
TABLE_TYPES = frozenset({"AWS::DynamoDB::Table", "AWS::DynamoDB::GlobalTable"})

#: Resource types holding data: replacing or removing one loses (or orphans) that data.
STATEFUL_TYPES = TABLE_TYPES | {"AWS::S3::Bucket"}

#: The property holding a stateful resource's custom physical name.
NAME_PROPERTIES: Mapping[str, str] = {
    "AWS::DynamoDB::Table": "TableName",
    "AWS::DynamoDB::GlobalTable": "TableName",
    "AWS::S3::Bucket": "BucketName",
}

Action = Literal["create", "update", "no change"]
#: CallAs of every StackSet call: SELF, or DELEGATED_ADMIN (a delegated administrator of the organization).
CallAs = Literal["SELF", "DELEGATED_ADMIN"]


@attrs.frozen
class DesiredInstance:
    """One stack instance we want: an account (or OU target) in a region, with overrides."""

    account: str
    region: str
    overrides: Mapping[str, str] = attrs.field(factory=dict)


@attrs.frozen
class EnvironmentRef:
    """The environment a stack set belongs to: what its resources are named after, and where it
    is configured (for the fixes error messages suggest)."""

    name: str
    #: the configuration's name prefix (``name_prefix``, or the project): names of tables and buckets
    name_prefix: str
    primary_region: str
    replica_region: str
    #: the configuration file
    config_source: str = ""


@attrs.frozen
class AccountFilter:
    """SERVICE_MANAGED targets: which accounts of the organizational units get instances."""

    type: Literal["INTERSECTION", "DIFFERENCE"]
    accounts: tuple[str, ...]


@attrs.frozen
class DesiredStackSet:
    """What one stack set should look like after the rollout, with everything the requests that
    create, update and delete it send (:mod:`stacksets.requests` builds them from this alone)."""

    name: str
    kind: Literal["primary", "replica"]
    region: str
    template: Mapping[str, Any]  # the template as a dict (parsed JSON)
    template_body: str  # the exact JSON text that will be sent
    parameters: Mapping[str, str]  # ParameterKey -> default value sent with the stack set
    instances: tuple[DesiredInstance, ...]
    environment: EnvironmentRef
    permission_model: Literal["SELF_MANAGED", "SERVICE_MANAGED"] = "SELF_MANAGED"
    organizational_units: tuple[str, ...] = ()
    tags: Mapping[str, str] = attrs.field(factory=dict)
    #: SERVICE_MANAGED only: (Enabled, RetainStacksOnAccountRemoval); None for SELF_MANAGED.
    auto_deployment: tuple[bool, bool] | None = None
    #: SELF_MANAGED only (None for SERVICE_MANAGED, whose roles are service-linked): the
    #: ExecutionRoleName sent with CreateStackSet/UpdateStackSet.
    execution_role_name: str | None = None
    #: SELF_MANAGED only: the AdministrationRoleARN sent; None sends none, and CloudFormation uses
    #: arn:<partition>:iam::<administrator account>:role/AWSCloudFormationStackSetAdministrationRole.
    administration_role_arn: str | None = None
    call_as: CallAs = "SELF"
    #: SERVICE_MANAGED only: the account filter of Create/UpdateStackInstances; None sends none.
    account_filter: AccountFilter | None = None
    #: OperationPreferences of every operation (RegionOrder narrowed to each operation's Regions).
    operation_preferences: OperationPreferences = attrs.field(factory=OperationPreferences)
    #: The S3 bucket a template over the TemplateBody limit is staged in (TemplateURL); None: none.
    template_bucket: str | None = None


@attrs.frozen
class ObservedInstance:
    account: str
    region: str
    status: str  # CURRENT | OUTDATED | INOPERABLE
    detailed_status: str = ""  # PENDING | RUNNING | SUCCEEDED | FAILED | CANCELLED | INOPERABLE | SKIPPED_...
    reason: str = ""
    drift_status: str = ""
    stack_id: str = ""
    organizational_unit: str = ""
    overrides: Mapping[str, str] = attrs.field(factory=dict)
    #: OUTDATED instances, read by the planner: the template the instance's stack actually runs
    #: (GetTemplate, Original stage), which after a failed UpdateStackSet is not the stack set's.
    #: Empty when not read (or the instance has no stack).
    template_body: str = ""
    #: Why ``template_body`` could not be read (then the update counts as possible data loss).
    template_error: str = ""


@attrs.frozen
class ObservedStackSet:
    """A stack set as CloudFormation reports it."""

    name: str
    status: str  # ACTIVE | DELETED
    template_body: str
    parameters: Mapping[str, str]
    instances: tuple[ObservedInstance, ...] = ()
    running_operation_ids: tuple[str, ...] = ()
    permission_model: str = "SELF_MANAGED"
    managed_execution: bool = False
    stack_set_arn: str = ""
    #: (Enabled, RetainStacksOnAccountRemoval) as reported; None when not reported.
    auto_deployment: tuple[bool, bool] | None = None
    #: The stack set's own tags, ExecutionRoleName and AdministrationRoleARN as reported; None when
    #: DescribeStackSet does not report them (the planner then does not compare them).
    tags: Mapping[str, str] | None = None
    execution_role_name: str | None = None
    administration_role_arn: str | None = None


@attrs.frozen
class ResourceChange:
    """One resource that differs between the deployed and the new template."""

    logical_id: str
    resource_type: str
    action: Literal["add", "remove", "modify"]
    changed_paths: tuple[str, ...] = ()  # e.g. "Properties.CorsConfiguration.CorsRules[0].AllowedOrigins"
    replacement_paths: tuple[str, ...] = ()  # the changed paths that force replacement
    data_loss: bool = False
    reason: str = ""  # why this is data loss, for the user

    @property
    def replacement(self) -> bool:
        return bool(self.replacement_paths)


@attrs.frozen
class TemplateDiff:
    resources: tuple[ResourceChange, ...] = ()
    other_sections: tuple[str, ...] = ()  # top-level sections that changed besides Resources

    @property
    def changed(self) -> bool:
        return bool(self.resources or self.other_sections)

    @property
    def data_loss(self) -> tuple[ResourceChange, ...]:
        return tuple(r for r in self.resources if r.data_loss)


@attrs.frozen
class ParameterChange:
    key: str
    old: str | None  # None: added
    new: str | None  # None: removed


@attrs.frozen
class SettingChange:
    """A change of one of the stack set's own settings (sent with UpdateStackSet)."""

    key: str  # the API field: PermissionModel, AutoDeployment, ManagedExecution, Tags, ...
    old: str
    new: str
    #: how the change reads when ``old -> new`` does not say it best (the tags' +/-/~ list)
    detail: str = ""

    @property
    def text(self) -> str:
        """``Key: old -> new`` (or ``Key: detail``), as the plan prints it."""
        return f"{self.key}: {self.detail or f'{self.old} -> {self.new}'}"


@attrs.frozen
class InstanceDiff:
    add: tuple[DesiredInstance, ...] = ()
    remove: tuple[ObservedInstance, ...] = ()
    outdated: tuple[ObservedInstance, ...] = ()  # exist but not CURRENT (or overrides differ)

    @property
    def changed(self) -> bool:
        return bool(self.add or self.remove or self.outdated)


@attrs.frozen
class Scope:
    """The part of an environment's instances a run acts on (``deploy --accounts/--regions``, or a
    wave): ``accounts`` and ``regions`` each empty for all of them."""

    accounts: tuple[str, ...] = ()
    regions: tuple[str, ...] = ()

    def covers(self, account: str, region: str) -> bool:
        return (not self.accounts or account in self.accounts) and (
            not self.regions or region in self.regions
        )

    @property
    def text(self) -> str:
        parts = [f"--accounts {','.join(self.accounts)}"] if self.accounts else []
        parts += [f"--regions {','.join(self.regions)}"] if self.regions else []
        return " ".join(parts) or "all instances"


@attrs.frozen
class StackSetPlan:
    """What deploying one stack set will do. Pure data, printable and JSON-serialisable."""

    desired: DesiredStackSet
    action: Action
    template: TemplateDiff
    parameters: tuple[ParameterChange, ...]
    instances: InstanceDiff
    #: changes of the stack set's own settings
    settings: tuple[SettingChange, ...] = ()
    #: instances deploy leaves alone (INOPERABLE, suspended account), each with its remedy
    notes: tuple[str, ...] = ()
    #: why deploy refuses this plan whatever the options (a change CloudFormation refuses)
    blockers: tuple[str, ...] = ()
    #: a run limited to part of the instances (:mod:`stacksets.staged`); None: all of them
    scope: Scope | None = None
    #: left for a later run by :attr:`scope`: instances that stay (or become) OUTDATED, as
    #: "account region" labels, and instances not created yet
    left_outdated: tuple[str, ...] = ()
    left_to_create: tuple[DesiredInstance, ...] = ()
    #: the configured waves (``deployment.waves``), as this stack set's accounts per wave
    waves: tuple[tuple[str, ...], ...] = ()
    #: (account, region) of the configured instances deploy leaves alone (the :attr:`notes`)
    held: tuple[tuple[str, str], ...] = ()

    @property
    def data_loss(self) -> tuple[ResourceChange, ...]:
        return self.template.data_loss

    @property
    def changed(self) -> bool:
        return self.action != "no change"
