"""The side-effecting rollout: replica phase, then primary phase.

Everything that talks to AWS goes through an injected :class:`~stacksets.session.ClientFactory`;
waiting uses an injected ``sleep``, ``clock`` and ``random`` (see :class:`Runtime`), so tests
never wait. The plan itself is pure (:mod:`stacksets.plan`).
"""

from __future__ import annotations

import hashlib
import json
import random as _random
import time
import uuid
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs
from botocore.exceptions import ClientError

from appstorage.config import Config, Environment
from appstorage.naming import Purpose, bucket_name_for_region

from .awserrors import ACCESS_DENIED, NETWORK_ERRORS, error_code, unreadable_reason
from .desired import desired_stack_sets
from .errors import (
    DataLossRefused,
    Declined,
    DeployError,
    FailedInstance,
    LostContact,
    OperationFailed,
    OperationTimeout,
    PreflightError,
    ReplicaMismatch,
    StaleState,
    StillInProgress,
)
from .model import DesiredInstance, DesiredStackSet, ObservedInstance, ObservedStackSet, StackSetPlan
from .observe import observe_stack_set, running_operations
from .plan import (
    auto_deployment_request,
    instances_to_delete,
    instances_to_update,
    needs_stack_set_update,
    plan_blocks_deploy,
    plan_stack_set,
)
from .preflight import TEMPLATE_BODY_LIMIT, operation_groups, preflight, template_size
from .progress import NullReporter, Reporter
from .session import ClientFactory, partition_of

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient

__all__ = [
    "ACCESS_DENIED",
    "UNREADABLE_HINT",
    "Backoff",
    "DataLossRefused",
    "Declined",
    "DeployError",
    "DeployResult",
    "Executor",
    "FailedInstance",
    "LostContact",
    "NullReporter",
    "OperationFailed",
    "OperationTimeout",
    "PreflightError",
    "ReplicaMismatch",
    "Reporter",
    "Runtime",
    "StackOutputs",
    "StaleState",
    "StillInProgress",
    "group_targets",
    "outputs_to_json",
    "unreadable_reason",
]


#: Consecutive network failures tolerated while polling an operation (on top of botocore's retries).
WAIT_NETWORK_RETRIES = 5

# --------------------------------------------------------------------------- runtime


@attrs.frozen
class Backoff:
    """Capped exponential backoff with jitter: ``min(cap, initial * factor**attempt)``, of which
    the ``jitter`` fraction is randomised."""

    initial: float = 5.0
    factor: float = 2.0
    cap: float = 60.0
    jitter: float = 0.5

    def delay(self, attempt: int, rand: float) -> float:
        base = min(self.cap, self.initial * self.factor**attempt)
        return base * (1 - self.jitter) + base * self.jitter * rand


@attrs.define
class Runtime:
    """The injectable effects of waiting."""

    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.monotonic
    random: Callable[[], float] = _random.random
    new_id: Callable[[], str] = lambda: str(uuid.uuid4())
    backoff: Backoff = Backoff()
    timeout: float = 3600.0


# --------------------------------------------------------------------------- results


@attrs.frozen
class StackOutputs:
    stack_set: str
    kind: str
    account: str
    region: str
    stack_id: str
    status: str
    outputs: Mapping[str, str]
    #: Why the outputs could not be read ("not readable: ..."); empty when they were.
    error: str = ""


@attrs.define
class DeployResult:
    plans: list[StackSetPlan]
    changed: bool = False
    operations: list[str] = attrs.field(factory=list)
    outputs: list[StackOutputs] = attrs.field(factory=list)


def outputs_to_json(config: Config, env: Environment, outputs: Sequence[StackOutputs]) -> dict[str, Any]:
    """The outputs file: every output of every instance, grouped by stack set."""
    stack_sets: dict[str, dict[str, Any]] = {}
    for o in outputs:
        entry = stack_sets.setdefault(o.stack_set, {"name": o.stack_set, "kind": o.kind, "instances": []})
        instance: dict[str, Any] = {
            "account": o.account,
            "region": o.region,
            "stack_id": o.stack_id,
            "status": o.status,
            "outputs": dict(sorted(o.outputs.items())),
        }
        if o.error:
            instance["error"] = o.error
        entry["instances"].append(instance)
    return {"project": config.project, "environment": env.name, "stack_sets": list(stack_sets.values())}


def group_targets(instances: Sequence[DesiredInstance]) -> list[tuple[list[str], list[str]]]:
    """(accounts, regions) pairs covering ``instances`` with as few operations as possible
    (see :func:`~stacksets.preflight.operation_groups`, which also returns the overrides)."""
    return [(targets, regions) for targets, regions, _overrides in operation_groups(instances)]


_METHODS = {
    "UpdateStackSet": "update_stack_set",
    "CreateStackInstances": "create_stack_instances",
    "UpdateStackInstances": "update_stack_instances",
    "DeleteStackInstances": "delete_stack_instances",
    "DetectStackSetDrift": "detect_stack_set_drift",
}


#: What to do about outputs or drift that could not be read in a target account.
UNREADABLE_HINT = (
    "set deployment.execution_role_name to a role this caller can assume in those accounts (its trust "
    "policy must allow the caller's account; it needs cloudformation:DescribeStacks, GetTemplate and "
    "DescribeStackResourceDrifts), then run the command again"
)


# --------------------------------------------------------------------------- executor


class Executor:
    """Plans and rolls out one environment's two stack sets."""

    def __init__(
        self,
        factory: ClientFactory,
        config: Config,
        env: Environment,
        *,
        runtime: Runtime | None = None,
        reporter: Reporter | None = None,
        require_managed_execution: bool = True,
        count_progress: bool = False,
        template_limit: int = TEMPLATE_BODY_LIMIT,
    ) -> None:
        self.factory = factory
        #: TemplateBody size limit in bytes (CloudFormation's 51,200; lowered by tests).
        self.template_limit = template_limit
        self._uploaded: set[tuple[str, str]] = set()
        self.config = config
        self.env = env
        self.runtime = runtime or Runtime()
        self.reporter: Reporter = reporter or NullReporter()
        self.desired: tuple[DesiredStackSet, ...] = desired_stack_sets(config, env)
        self.deployment = env.deployment
        self.call_as = self.deployment.call_as
        self._deadline: float | None = None
        self.operations: list[str] = []
        # moto always reports ManagedExecution inactive: the CLI turns this off for endpoints.
        self.require_managed_execution = require_managed_execution
        # Count finished instances while waiting (one extra read per poll): only for a TTY.
        self.count_progress = count_progress
        #: (stack set, operation id) being waited for: what an interrupt leaves running.
        self.waiting_on: tuple[str, str] | None = None
        #: (stack set, operation id, failed instances) of operations that SUCCEEDED within their
        #: failure tolerance but left instances FAILED: the CLI reports them and exits non-zero.
        self.partial_failures: list[tuple[str, str, list[FailedInstance]]] = []
        #: replica outputs read by :meth:`verify_replica_outputs`, by (account, region): the
        #: replica does not change during the primary phase, so collection reuses them.
        self._verified_replica_outputs: dict[tuple[str, str], StackOutputs] = {}
        #: deploy: the phases whose changes were applied (rollout order), and the phase that was
        #: being applied when the run stopped (None when none was): the CLI names both on an error.
        self.phases_done: list[DesiredStackSet] = []
        self.phase_running: DesiredStackSet | None = None

    # ------------------------------------------------------------------ clients

    def cfn(self) -> CloudFormationClient:
        """The administration client: both stack sets live in the primary region."""
        return self.factory.cloudformation(self.desired[0].region)

    def _target_cfn(self, account: str, region: str) -> CloudFormationClient:
        return self.factory.cloudformation(region, account, self.deployment.execution_role_name)

    # ------------------------------------------------------------------ observe and plan

    def observe(self, desired: DesiredStackSet, *, for_plan: bool = True) -> ObservedStackSet | None:
        # Overrides are only reported per instance (DescribeStackInstance): a plan always reads
        # them, even when the configuration has none, so that removing an override (an instance
        # still running with an old value, e.g. an old key ARN) is planned as an update too.
        return observe_stack_set(self.cfn(), desired.name, self.call_as, with_overrides=for_plan)

    def observe_all(self) -> list[tuple[DesiredStackSet, ObservedStackSet | None]]:
        return [(d, self.observe(d, for_plan=False)) for d in self.desired]

    def plan(self, *, resume: bool = False) -> list[StackSetPlan]:
        """Plans of both stack sets (rollout order). ``resume``: first wait for operations
        already running on them (an interrupted rollout) and plan against the result."""
        plans = []
        for desired in self.desired:
            observed = self.observe(desired)
            if resume and observed is not None and observed.running_operation_ids:
                self.reporter.info(
                    f"{desired.name}: waiting for {len(observed.running_operation_ids)} operation(s) "
                    "already in flight"
                )
                for op in observed.running_operation_ids:
                    self.wait(desired.name, op, len(observed.instances))
                observed = self.observe(desired)
            if observed is not None:
                observed = self.with_instance_templates(desired, observed)
            plans.append(
                plan_stack_set(desired, observed, require_managed_execution=self.require_managed_execution)
            )
        return plans

    def with_instance_templates(
        self, desired: DesiredStackSet, observed: ObservedStackSet
    ) -> ObservedStackSet:
        """``observed`` with the template each OUTDATED instance's stack actually runs.

        After a failed UpdateStackSet the stack set already holds the new template ("even if the
        stack set operation fails, the stack set is updated with your changes") while the
        instances not reached still run the old one: the planner diffs the desired template
        against theirs too (:func:`~stacksets.plan.instance_data_loss`), so a retry cannot push a
        replacing template to them without --allow-replacement. Read in the target account and
        region like the outputs; a template that cannot be read is recorded as ``template_error``.
        """
        instances = []
        for instance in observed.instances:
            if instance.status == "OUTDATED":
                instance = self._with_template(desired, instance)
            instances.append(instance)
        return attrs.evolve(observed, instances=tuple(instances))

    def _with_template(self, desired: DesiredStackSet, instance: ObservedInstance) -> ObservedInstance:
        try:
            stack = self._stack(desired.name, instance)
            if stack is None:  # no stack (e.g. its creation failed): nothing there to lose
                return instance
            cfn = self._target_cfn(instance.account, instance.region)
            body: Any = cfn.get_template(StackName=str(stack.get("StackId", "")), TemplateStage="Original")[
                "TemplateBody"
            ]
        except ClientError as exc:
            reason = unreadable_reason(exc) or f"{exc.operation_name} failed ({error_code(exc)})"
            return attrs.evolve(instance, template_error=reason)
        # botocore decodes a JSON TemplateBody into a dict; a YAML one stays a string.
        text = body if isinstance(body, str) else json.dumps(body)
        return attrs.evolve(instance, template_body=text)

    # ------------------------------------------------------------------ deploy

    def deploy(
        self,
        *,
        allow_replacement: bool = False,
        confirm: Callable[[list[StackSetPlan]], bool] | None = None,
        plans: list[StackSetPlan] | None = None,
    ) -> DeployResult:
        """Plan, check, and roll out. Raises :class:`DeployError` subclasses on failure."""
        self._verified_replica_outputs.clear()
        self.preflight()
        self._deadline = self.runtime.clock() + self.runtime.timeout
        plans = plans if plans is not None else self.plan(resume=True)
        blocked = plan_blocks_deploy(plans, allow_replacement)
        if blocked:
            raise DataLossRefused(blocked)
        result = DeployResult(plans=plans)
        if not any(p.changed for p in plans):
            return result
        # Both phases, before the first mutating call (and before asking): names the new instances
        # would take that an earlier destroy left behind (reads only when instances are created).
        self.check_retained(plans)
        if confirm is not None and not confirm(plans):
            raise Declined("deploy cancelled: nothing was changed")
        result.changed = True
        for plan in plans:
            self.phase_running = plan.desired
            if plan.desired.kind == "primary" and plan.changed:
                self.verify_replica_outputs()
            self.execute_phase(plan)
            self.phase_running = None
            if plan.changed:
                self.phases_done.append(plan.desired)
        result.operations = list(self.operations)
        return result

    def check_retained(self, plans: Sequence[StackSetPlan]) -> None:
        """Stop (:class:`~stacksets.retained.RetainedResourcesFound`) when a table or bucket that
        an instance to create would own exists already, e.g. retained by an earlier ``destroy``;
        no call when no instance is to be created (see :mod:`stacksets.retained`)."""
        from .retained import check_before_create  # retained imports this module

        check_before_create(self, plans)

    def execute_phase(self, plan: StackSetPlan) -> None:
        desired = plan.desired
        if not plan.changed:
            self.reporter.phase(desired.kind, desired.name, "no changes")
            return
        self.reporter.phase(desired.kind, desired.name, plan.action)
        to_add: Sequence[DesiredInstance] = plan.instances.add
        if plan.action == "create":
            self._create_stack_set(desired)
            to_add = desired.instances
        elif needs_stack_set_update(plan):
            total = len(desired.instances) - len(plan.instances.add)
            op = self._mutate(desired.name, "UpdateStackSet", self._update_request(desired))
            self.wait(desired.name, op, total)
        # UpdateStackSet brings every not-CURRENT instance up to date, but keeps each instance's
        # overrides: instances whose overrides differ still need UpdateStackInstances.
        updated_all = needs_stack_set_update(plan)
        outdated = [
            want
            for have, want in self._outdated_targets(plan)
            if not updated_all or dict(have.overrides) != dict(want.overrides)
        ]
        # One operation per distinct override set (and Region set), whatever the target count.
        unique = list({(i.account, i.region): i for i in outdated}.values())
        for targets, regions, overrides in operation_groups(unique):
            request = self._targets_request(desired, targets, regions, overrides, "UpdateStackInstances")
            op = self._mutate(desired.name, "UpdateStackInstances", request)
            self.wait(desired.name, op, len(targets) * len(regions))
        for targets, regions, overrides in operation_groups(to_add):
            request = self._targets_request(desired, targets, regions, overrides, "CreateStackInstances")
            op = self._mutate(desired.name, "CreateStackInstances", request)
            self.wait(desired.name, op, len(targets) * len(regions))
        remove = self._removal_targets(plan)
        for accounts, regions in group_targets(remove):
            # RetainStacks: the stacks (and the table and buckets in them) stay in the accounts,
            # they are only disassociated from the stack set. Deleting them is `destroy`'s job.
            request = {
                **self._targets_request(desired, accounts, regions, None, "DeleteStackInstances"),
                "RetainStacks": True,
            }
            op = self._mutate(desired.name, "DeleteStackInstances", request)
            self.wait(desired.name, op, len(accounts) * len(regions))
            self.reporter.info(
                f"{desired.name}: removed {len(accounts) * len(regions)} instance(s) no longer configured "
                f"from the stack set; their stacks were retained in {', '.join(accounts)}"
            )

    def _outdated_targets(self, plan: StackSetPlan) -> list[tuple[ObservedInstance, DesiredInstance]]:
        """Each outdated instance with the desired target it belongs to (its account, or its OU
        under SERVICE_MANAGED) and that target's overrides."""
        out = []
        for have in instances_to_update(plan):
            for want in plan.desired.instances:
                if want.region == have.region and want.account in (have.account, have.organizational_unit):
                    out.append((have, want))
                    break
        return out

    def _removal_targets(self, plan: StackSetPlan) -> list[DesiredInstance]:
        """Targets of DeleteStackInstances: accounts, or under SERVICE_MANAGED the OUs of the
        instances (an OU target deletes the OU's instances; instances whose OU is not reported
        cannot be targeted and are left alone, with a note)."""
        remove = instances_to_delete(plan)
        if plan.desired.permission_model != "SERVICE_MANAGED":
            return [DesiredInstance(i.account, i.region) for i in remove]
        unknown = sorted({i.account for i in remove if not i.organizational_unit})
        if unknown:
            self.reporter.info(
                f"{plan.desired.name}: instance(s) in {', '.join(unknown)} are not in a configured OU and "
                "CloudFormation reports no OU for them: left in place"
            )
        targets = {(i.organizational_unit, i.region) for i in remove if i.organizational_unit}
        return [DesiredInstance(ou, region) for ou, region in sorted(targets)]

    def _preferences(self, regions: Sequence[str]) -> dict[str, Any]:
        """OperationPreferences for an operation on ``regions``: RegionOrder only names them."""
        prefs = self.deployment.operation_preferences.to_api()
        if "RegionOrder" in prefs:
            order = [r for r in prefs["RegionOrder"] if r in regions]
            if order:
                prefs["RegionOrder"] = order
            else:
                del prefs["RegionOrder"]
        return prefs

    def _targets_request(
        self,
        desired: DesiredStackSet,
        targets: list[str],
        regions: list[str],
        overrides: Mapping[str, str] | None = None,
        api: str = "CreateStackInstances",
    ) -> dict[str, Any]:
        """Create/Update/DeleteStackInstances request: ``targets`` are accounts (SELF_MANAGED) or
        OUs (SERVICE_MANAGED, with the configured account filter). ``overrides``: None sends no
        ParameterOverrides; UpdateStackInstances always sends the full list (an empty one resets
        the instances to the stack set's values)."""
        request: dict[str, Any] = {"StackSetName": desired.name}
        if desired.permission_model == "SERVICE_MANAGED":
            deployment_targets: dict[str, Any] = {"OrganizationalUnitIds": targets}
            if self.deployment.account_filter_type != "NONE" and api != "DeleteStackInstances":
                deployment_targets["Accounts"] = list(self.deployment.accounts)
                deployment_targets["AccountFilterType"] = self.deployment.account_filter_type
            request["DeploymentTargets"] = deployment_targets
        else:
            request["Accounts"] = targets
        request["Regions"] = regions
        if overrides is not None and (overrides or api == "UpdateStackInstances"):
            request["ParameterOverrides"] = [
                {"ParameterKey": k, "ParameterValue": v} for k, v in sorted(overrides.items())
            ]
        request["OperationPreferences"] = self._preferences(regions)
        request["CallAs"] = self.call_as
        return request

    def _capabilities(self, desired: DesiredStackSet) -> list[str]:
        resources = desired.template.get("Resources", {})
        needs_iam = any(str(r.get("Type", "")).startswith("AWS::IAM::") for r in resources.values())
        return ["CAPABILITY_IAM"] if needs_iam else []

    def _common(self, desired: DesiredStackSet) -> dict[str, Any]:
        request: dict[str, Any] = {
            "StackSetName": desired.name,
            "Description": str(desired.template.get("Description", ""))[:1024],
            **self._template_source(desired),
            "Parameters": [
                {"ParameterKey": k, "ParameterValue": v} for k, v in sorted(desired.parameters.items())
            ],
            "Capabilities": self._capabilities(desired),
            "Tags": [{"Key": k, "Value": v} for k, v in sorted(desired.tags.items())],
            "PermissionModel": desired.permission_model,
            "ManagedExecution": {"Active": True},
            "CallAs": self.call_as,
        }
        if desired.permission_model == "SELF_MANAGED":
            # Sent on create and on every update, so that a change of only these is applied. An
            # unset AdministrationRoleARN is not sent (CloudFormation's default role) unless the
            # plan filled in the default role's ARN: UpdateStackSet without one keeps the old role.
            admin = desired.administration_role_arn or self.deployment.administration_role_arn
            if admin:
                request["AdministrationRoleARN"] = admin
            request["ExecutionRoleName"] = desired.execution_role_name or self.deployment.execution_role_name
        elif desired.auto_deployment is not None:
            # SERVICE_MANAGED: service-linked roles (no AdministrationRoleARN/ExecutionRoleName);
            # new accounts in the target OUs get instances automatically when enabled.
            # RetainStacksOnAccountRemoval is only sent when enabled (see auto_deployment_request).
            request["AutoDeployment"] = auto_deployment_request(desired.auto_deployment)
        return request

    def _template_source(self, desired: DesiredStackSet) -> dict[str, str]:
        """``TemplateBody``, or for templates over the limit ``TemplateURL`` of a content-addressed
        S3 object in ``deployment.template_bucket`` (uploaded once: skipped when it exists)."""
        if template_size(desired) <= self.template_limit:
            return {"TemplateBody": desired.template_body}
        bucket = self.deployment.template_bucket
        if not bucket:
            raise PreflightError([f"the {desired.kind} template is over the limit and no template_bucket"])
        body = desired.template_body.encode("utf-8")
        key = f"appstorage/{desired.name}/{hashlib.sha256(body).hexdigest()}.json"
        region = desired.region
        if (bucket, key) not in self._uploaded:
            s3 = self.factory.s3(region)
            try:
                s3.head_object(Bucket=bucket, Key=key)
            except ClientError as exc:
                if error_code(exc) not in ("404", "NoSuchKey", "NotFound"):
                    raise
                s3.put_object(Bucket=bucket, Key=key, Body=body, ContentType="application/json")
                self.reporter.info(f"{desired.name}: template uploaded to s3://{bucket}/{key}")
            self._uploaded.add((bucket, key))
        suffix = "amazonaws.com.cn" if partition_of(region) == "aws-cn" else "amazonaws.com"
        return {"TemplateURL": f"https://{bucket}.s3.{region}.{suffix}/{key}"}

    def preflight(self) -> list[str]:
        """Check what needs the templates and target counts, before any call (see
        :mod:`stacksets.preflight`). Raises :class:`PreflightError`; returns the warnings."""
        errors, warnings = preflight(self.env, self.desired, self.template_limit)
        if errors:
            raise PreflightError(errors)
        return warnings

    def _update_request(self, desired: DesiredStackSet) -> dict[str, Any]:
        request = self._common(desired)
        # No Accounts/Regions: CloudFormation updates every existing instance.
        request["OperationPreferences"] = self._preferences([i.region for i in desired.instances])
        return request

    def _create_stack_set(self, desired: DesiredStackSet) -> None:
        request = self._common(desired)
        request["ClientRequestToken"] = self.runtime.new_id()
        try:
            self.cfn().create_stack_set(**request)
        except ClientError as exc:
            if error_code(exc) != "NameAlreadyExistsException":
                raise
            self.reporter.info(f"{desired.name}: already exists (created by a concurrent run)")

    def _mutate(self, stack_set: str, api: str, request: dict[str, Any]) -> str:
        """Start a StackSet operation with an idempotent OperationId; returns the operation id.

        If another operation is in progress on the stack set, wait for it and retry with the
        same OperationId, so a retried call never starts the operation twice.
        """
        request = {**request, "OperationId": self.runtime.new_id()}
        method = getattr(self.cfn(), _METHODS[api])
        attempt = 0
        while True:
            try:
                response = method(**request)
            except ClientError as exc:
                code = error_code(exc)
                if code == "OperationIdAlreadyExistsException":
                    response = {"OperationId": request["OperationId"]}
                elif code == "OperationInProgressException":
                    running = running_operations(self.cfn(), stack_set, self.call_as)
                    self.reporter.info(f"{stack_set}: another operation is in progress; waiting for it")
                    for op in running:
                        self.wait(stack_set, op, 0)
                    # Always back off before retrying, and stop at the deadline: ListStackSetOperations
                    # may still list an operation as running that DescribeStackSetOperation already
                    # reports finished (or none at all), and the call keeps being refused meanwhile.
                    if self._deadline_passed():
                        raise StillInProgress(stack_set, api, running, self.runtime.timeout) from exc
                    self.runtime.sleep(self.runtime.backoff.delay(attempt, self.runtime.random()))
                    attempt += 1
                    continue
                elif code == "StaleRequestException":
                    raise StaleState(stack_set, api) from exc
                else:
                    raise
            op_id = str(response.get("OperationId") or request["OperationId"])
            self.operations.append(op_id)
            self.reporter.operation(stack_set, op_id, api)
            return op_id

    def _deadline_passed(self) -> bool:
        if self._deadline is None:
            self._deadline = self.runtime.clock() + self.runtime.timeout
        return self.runtime.clock() > self._deadline

    def _check_deadline(self, stack_set: str, ops: Sequence[str]) -> None:
        if self._deadline_passed():
            raise OperationTimeout(stack_set, ops, self.runtime.timeout)

    def wait(self, stack_set: str, operation_id: str, total: int) -> None:
        """Poll the operation with capped exponential backoff until it ends."""
        start = self.runtime.clock()
        attempt = 0
        cfn = self.cfn()
        self.waiting_on = (stack_set, operation_id)
        lost = 0  # consecutive polls that failed at the network level
        while True:
            try:
                op = cfn.describe_stack_set_operation(
                    StackSetName=stack_set,
                    OperationId=operation_id,
                    CallAs=self.call_as,
                )["StackSetOperation"]
            except NETWORK_ERRORS as exc:
                # botocore already retried this call; the operation runs on regardless, so keep
                # polling a few more times before giving up (waiting_on stays set for the CLI).
                lost += 1
                if lost > WAIT_NETWORK_RETRIES:
                    raise LostContact(stack_set, operation_id, exc) from exc
                self.reporter.info(f"{stack_set}: cannot reach CloudFormation ({exc}); retrying")
                self._check_deadline(stack_set, [operation_id])
                self.runtime.sleep(self.runtime.backoff.delay(attempt, self.runtime.random()))
                attempt += 1
                continue
            lost = 0
            status = op.get("Status", "")
            if status == "SUCCEEDED":
                self.waiting_on = None
                self.reporter.done(stack_set, operation_id, status)
                if op.get("StatusDetails", {}).get("FailedStackInstancesCount", 0):
                    # Within the failure tolerance, but not everywhere: say where.
                    failed = self.failed_instances(stack_set, operation_id)
                    self.partial_failures.append((stack_set, operation_id, failed))
                return
            if status in ("FAILED", "STOPPED"):
                self.waiting_on = None
                self.reporter.done(stack_set, operation_id, status)
                raise OperationFailed(
                    stack_set, operation_id, status, self.failed_instances(stack_set, operation_id)
                )
            self._check_deadline(stack_set, [operation_id])
            done = self._finished_instances(stack_set, operation_id) if self.count_progress else 0
            self.reporter.waiting(stack_set, operation_id, status, self.runtime.clock() - start, done, total)
            self.runtime.sleep(self.runtime.backoff.delay(attempt, self.runtime.random()))
            attempt += 1

    def _finished_instances(self, stack_set: str, operation_id: str) -> int:
        """How many instances of the operation are done (for the progress display only)."""
        paginator = self.cfn().get_paginator("list_stack_set_operation_results")
        pages = paginator.paginate(StackSetName=stack_set, OperationId=operation_id, CallAs=self.call_as)
        return sum(
            1
            for page in pages
            for s in page.get("Summaries", [])
            if s.get("Status") in ("SUCCEEDED", "FAILED", "CANCELLED")
        )

    def failed_instances(self, stack_set: str, operation_id: str) -> list[FailedInstance]:
        out = []
        paginator = self.cfn().get_paginator("list_stack_set_operation_results")
        for page in paginator.paginate(
            StackSetName=stack_set,
            OperationId=operation_id,
            CallAs=self.call_as,
        ):
            for s in page.get("Summaries", []):
                if s.get("Status") != "SUCCEEDED":
                    out.append(
                        FailedInstance(
                            account=s.get("Account", ""),
                            region=s.get("Region", ""),
                            status=s.get("Status", ""),
                            reason=s.get("StatusReason", ""),
                        )
                    )
        return out

    # ------------------------------------------------------------------ outputs

    def _stack(self, stack_set: str, instance: ObservedInstance) -> dict[str, Any] | None:
        """The instance's stack, read in its own account and region."""
        cfn = self._target_cfn(instance.account, instance.region)
        if instance.stack_id:
            try:
                stacks = cfn.describe_stacks(StackName=instance.stack_id)["Stacks"]
                if stacks:
                    return dict(stacks[0])
            except ClientError as exc:
                if error_code(exc) != "ValidationError":
                    raise
        # moto deviation: ListStackInstances reports a StackId that matches no stack (a fresh
        # random id on every call) and the instance stack is named "StackSet:<name>". AWS
        # names it "StackSet-<name>-<guid>" and the StackId above always resolves.
        paginator = cfn.get_paginator("describe_stacks")
        for page in paginator.paginate():
            for stack in page.get("Stacks", []):
                name = stack.get("StackName", "")
                if stack.get("StackStatus") == "DELETE_COMPLETE":
                    continue
                if name.startswith(f"StackSet-{stack_set}-") or name == f"StackSet:{stack_set}":
                    return dict(stack)
        return None

    def instance_outputs(self, desired: DesiredStackSet, instance: ObservedInstance) -> StackOutputs:
        stack = self._stack(desired.name, instance)
        outputs = {o["OutputKey"]: o.get("OutputValue", "") for o in (stack or {}).get("Outputs", [])}
        return StackOutputs(
            stack_set=desired.name,
            kind=desired.kind,
            account=instance.account,
            region=instance.region,
            stack_id=str((stack or {}).get("StackId", instance.stack_id)),
            status=str((stack or {}).get("StackStatus", "NOT FOUND")),
            outputs=outputs,
        )

    def collect_outputs(self) -> list[StackOutputs]:
        """Every output of every instance of both stack sets.

        An instance whose outputs cannot be read (the execution role cannot be assumed in its
        account, or DescribeStacks is denied: see :func:`unreadable_reason`) is listed with its
        ``error`` ("not readable: ...") and status NOT READABLE; the others are still collected."""
        out = []
        for desired, observed in self.observe_all():
            if observed is None:
                continue
            for instance in observed.instances:
                verified = self._verified_replica_outputs.get((instance.account, instance.region))
                if desired.kind == "replica" and verified is not None:
                    out.append(verified)  # read after the replica phase, unchanged since
                    continue
                try:
                    out.append(self.instance_outputs(desired, instance))
                except ClientError as exc:
                    reason = unreadable_reason(exc)
                    if reason is None:
                        raise
                    out.append(
                        StackOutputs(
                            stack_set=desired.name,
                            kind=desired.kind,
                            account=instance.account,
                            region=instance.region,
                            stack_id=instance.stack_id,
                            status="NOT READABLE",
                            outputs={},
                            error=f"not readable: {reason}",
                        )
                    )
        return out

    def verify_replica_outputs(self) -> None:
        """Check that the replica buckets are named as the primary template expects."""
        replica = next(d for d in self.desired if d.kind == "replica")
        primary = next(d for d in self.desired if d.kind == "primary")
        observed = self.observe(replica, for_plan=False)
        by_account = {i.account: i for i in (observed.instances if observed else ())}
        problems: list[str] = []
        service_managed = primary.permission_model == "SERVICE_MANAGED"
        if service_managed:
            # OU targets: the accounts are the ones CloudFormation expanded the OUs to.
            accounts = sorted(by_account)
            if not accounts:
                problems.append(f"no replica instance in {self.env.replica_region} in the target OUs")
        else:
            accounts = sorted({i.account for i in primary.instances})
        unreadable: list[str] = []
        for account in accounts:
            instance = by_account.get(account)
            if instance is None:
                problems.append(f"{account}: no replica instance in {self.env.replica_region}")
                continue
            if service_managed:
                if instance.status != "CURRENT":
                    problems.append(f"{account}: replica instance is {instance.status}")
                    continue
                # The member accounts may have no role this deployer can assume (the stacksets-exec
                # role trusts only the StackSets service): check the outputs where readable.
                try:
                    found = self.instance_outputs(replica, instance)
                except ClientError:
                    found = None
                if found is None or found.status == "NOT FOUND":
                    unreadable.append(account)
                    continue
            else:
                found = self.instance_outputs(replica, instance)
            self._verified_replica_outputs[(instance.account, instance.region)] = found
            outputs = found.outputs
            for purpose in (Purpose.FRONTEND_BACKUP, Purpose.IMAGES_BACKUP):
                name = bucket_name_for_region(
                    self.config.prefix, self.env.name, purpose, account, self.env.replica_region
                )
                expected = {
                    f"{purpose.logical_id}Name": name,
                    f"{purpose.logical_id}Arn": f"arn:{partition_of(self.env.replica_region)}:s3:::{name}",
                }
                for key, value in expected.items():
                    if outputs.get(key) != value:
                        problems.append(f"{account}: {key} is {outputs.get(key)!r}, expected {value!r}")
        if unreadable:
            self.reporter.info(
                f"replica outputs not readable in {', '.join(unreadable)} (role "
                f"{self.deployment.execution_role_name}): checked their instance status only"
            )
        if problems:
            raise ReplicaMismatch(
                "the replica outputs do not match what the primary template references; the primary "
                "phase was not started:\n  " + "\n  ".join(problems)
            )

    # ------------------------------------------------------------------ status

    def status(self) -> list[tuple[DesiredStackSet, ObservedStackSet | None]]:
        return self.observe_all()
