"""Resources that new stack instances would collide with: found before ``deploy`` creates any.

``destroy`` deletes the stacks but CloudFormation keeps the table and the buckets
(``DeletionPolicy: Retain``), under the names :mod:`appstorage.naming` gives them. Deploying the
same environment again would then fail inside the stack set operation, after the replica phase
was applied and with instances left FAILED: the table and bucket names are taken ("already
exists"). So before the first mutating call of a deploy that creates instances (a stack set
create, or instances to add, in either phase), the physical resources each new instance would
own are looked up in its account:

* :func:`physical_resources` / :func:`resources_to_create` (pure): from the desired template and
  the naming module, the table in the instance's Region and in every replica Region of a global
  table (``{"Ref": "AWS::Region"}`` is the instance's own Region, a literal Region is itself), and
  each bucket of the template in the instance's Region;
* :func:`find_existing`: DynamoDB DescribeTable and S3 HeadBucket (``ExpectedBucketOwner`` the
  account) in that account and Region, with the execution role like the outputs are read.
  HeadBucket: 404 free, 200 exists, 403 the name is taken (another account owns the bucket, or
  the role may not read it). ``deployment.read_concurrency`` accounts are looked up at a time,
  each account's lookups in order. A read that fails (the role cannot be assumed, access denied) is
  reported as unknown: the deploy stops rather than guessing.

Anything found stops the deploy with :class:`RetainedResourcesFound` (exit 1), before any
mutating call, listing each resource and the ways out: keep the data (import the resources; the
runbook section :data:`REDEPLOY_DOC`), delete them (the exact AWS CLI commands), or deploy under
another ``name_prefix``. A deploy that creates no instance makes none of these calls.

The same name resolution gives ``destroy`` its list of retained resources, from the deployed
template (:func:`physical_resources`).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import attrs
from botocore.exceptions import ClientError

from appstorage.naming import Purpose, bucket_name_for_region, table_name
from appstorage.validators import partition_of

from .awserrors import error_code, unreadable_reason
from .errors import DeployError
from .model import NAME_PROPERTIES, STATEFUL_TYPES, TABLE_TYPES, StackSetPlan
from .parallel import parallel_map
from .progress import NullReporter, Reporter
from .session import ClientFactory, url_suffix

__all__ = [
    "REDEPLOY_DOC",
    "Found",
    "OwnedResource",
    "RetainedResourcesFound",
    "check_before_create",
    "delete_commands",
    "find_existing",
    "physical_resources",
    "render_found",
    "resources_to_create",
]

#: The runbook section on keeping the data of retained resources when deploying again.
REDEPLOY_DOC = 'docs/disaster-recovery.md, section "Redeploying after destroy"'

#: What the execution role needs for the lookups (said when a lookup is refused).
LOOKUP_HINT = (
    "set deployment.execution_role_name to a role this caller can assume in those accounts (its trust "
    "policy must allow the caller's account; it needs dynamodb:DescribeTable and s3:ListBucket, which "
    "HeadBucket uses), then deploy again"
)

_REGION = re.compile(r"^[a-z]{2}(-[a-z]+)+-\d+$")
_PLACEHOLDER = re.compile(r"\$\{([^}]*)\}")


@attrs.frozen
class OwnedResource:
    """A physical resource one stack instance owns (or would own)."""

    account: str
    #: where the resource lives (a replica Region for a global table's replica)
    region: str
    logical_id: str
    resource_type: str
    name: str
    #: the Region of the instance (stack) whose template declares it
    home_region: str


# --------------------------------------------------------------------------- names (pure)


def _pseudo(account: str, region: str) -> dict[str, str]:
    return {
        "AWS::AccountId": account,
        "AWS::Region": region,
        "AWS::Partition": partition_of(region),
        "AWS::URLSuffix": url_suffix(region),
    }


def _resolve(value: Any, account: str, region: str) -> str | None:
    """A literal, or ``Ref``/``Fn::Sub`` of pseudo parameters only, as the stack would resolve it
    in ``account`` and ``region``; None for anything else (not known before deployment)."""
    pseudo = _pseudo(account, region)
    if isinstance(value, str):
        return value
    if not isinstance(value, Mapping) or len(value) != 1:
        return None
    if "Ref" in value:
        return pseudo.get(str(value["Ref"]))
    text = value.get("Fn::Sub")
    if not isinstance(text, str) or "${!" in text:
        return None
    if any(name not in pseudo for name in _PLACEHOLDER.findall(text)):
        return None
    return _PLACEHOLDER.sub(lambda m: pseudo[m.group(1)], text)


def _fallback_name(
    logical_id: str, resource_type: str, prefix: str, env: str, account: str, region: str
) -> str:
    """The name :mod:`appstorage.naming` gives the resource, by type (and, for a bucket, the
    purpose whose logical id it has)."""
    if resource_type in TABLE_TYPES:
        return table_name(prefix, env)
    if resource_type == "AWS::S3::Bucket":
        for purpose in Purpose:
            if purpose.logical_id == logical_id:
                return bucket_name_for_region(prefix, env, purpose, account, region)
    return f"(logical id {logical_id})"


def _replica_regions(resource: Mapping[str, Any], region: str) -> list[str]:
    """The Regions of a global table's replicas in an instance in ``region``: ``{"Ref":
    "AWS::Region"}`` is ``region``, a literal is itself, anything else is shown as written."""
    props = resource.get("Properties") or {}
    replicas = props.get("Replicas") if isinstance(props, Mapping) else None
    out = [region]  # a global table always has the stack's own Region among its replicas
    for replica in replicas if isinstance(replicas, list) else []:
        if not isinstance(replica, Mapping):
            continue
        value = replica.get("Region")
        if value == {"Ref": "AWS::Region"}:
            out.append(region)
        elif isinstance(value, str):
            out.append(value)
        else:
            out.append(f"(Region {json.dumps(value, sort_keys=True)})")
    return list(dict.fromkeys(out))


def physical_resources(
    logical_id: str, resource: Mapping[str, Any], account: str, region: str, *, prefix: str, env: str
) -> tuple[OwnedResource, ...]:
    """The physical resources that ``resource`` of a template makes in the instance in
    ``account`` and ``region``: one per replica Region for a global table, one otherwise.

    The name comes from the template's name property (its literal value, or a ``Fn::Sub`` of
    pseudo parameters resolved for the instance: a global table has one name in every Region),
    else from the naming module by resource type."""
    resource_type = str(resource.get("Type", ""))
    props = resource.get("Properties") or {}
    name_property = NAME_PROPERTIES.get(resource_type)
    global_table = resource_type == "AWS::DynamoDB::GlobalTable"
    regions = _replica_regions(resource, region) if global_table else [region]
    out = []
    for where in regions:
        name = None
        if name_property is not None and isinstance(props, Mapping) and name_property in props:
            name = _resolve(props[name_property], account, region)
        if name is None:
            name = _fallback_name(logical_id, resource_type, prefix, env, account, region)
        out.append(OwnedResource(account, where, logical_id, resource_type, name, region))
    return tuple(out)


def _template_resources(template: Mapping[str, Any]) -> list[tuple[str, Mapping[str, Any]]]:
    resources = template.get("Resources") or {}
    if not isinstance(resources, Mapping):
        return []
    return [(k, v) for k, v in sorted(resources.items()) if isinstance(v, Mapping)]


def resources_to_create(
    plans: Iterable[StackSetPlan], *, prefix: str, env: str
) -> tuple[tuple[OwnedResource, ...], tuple[str, ...]]:
    """The stateful resources (tables, buckets) that the instances each plan creates would own,
    and the targets that cannot be checked (SERVICE_MANAGED organizational units: their accounts
    are known only once CloudFormation expands them). Pure."""
    found: dict[tuple[str, str, str, str], OwnedResource] = {}
    unchecked: list[str] = []
    for plan in plans:
        desired = plan.desired
        for instance in plan.instances.add:
            if desired.permission_model == "SERVICE_MANAGED":
                unchecked.append(f"{desired.name}: {instance.account} {instance.region}")
                continue
            for logical_id, resource in _template_resources(desired.template):
                if resource.get("Type") not in STATEFUL_TYPES:
                    continue
                for owned in physical_resources(
                    logical_id, resource, instance.account, instance.region, prefix=prefix, env=env
                ):
                    key = (owned.account, owned.region, owned.resource_type, owned.name)
                    found.setdefault(key, owned)
    return tuple(found.values()), tuple(unchecked)


# --------------------------------------------------------------------------- lookups (boto3)

Status = Literal["exists", "taken", "unknown"]


@attrs.frozen
class Found:
    """A resource a new instance would create that exists (or may exist) already."""

    resource: OwnedResource
    status: Status
    detail: str = ""
    #: tables: the Regions DescribeTable lists as the table's replicas
    replica_regions: tuple[str, ...] = ()


def _table(factory: ClientFactory, role: str, r: OwnedResource) -> Found | None:
    ddb = factory.dynamodb(r.region, r.account, role)
    try:
        table = ddb.describe_table(TableName=r.name)["Table"]
    except ClientError as exc:
        if error_code(exc) == "ResourceNotFoundException":
            return None
        raise
    replicas = tuple(str(x.get("RegionName", "")) for x in table.get("Replicas", []) if x.get("RegionName"))
    details = [str(table.get("TableStatus", "status unknown"))]
    if table.get("DeletionProtectionEnabled"):
        details.append("deletion protection on")
    if replicas:
        details.append(f"global table with replicas in {', '.join(sorted({r.region, *replicas}))}")
    return Found(r, "exists", ", ".join(details), replicas)


#: HeadBucket error codes (the response has no body: botocore uses the HTTP status).
_NOT_FOUND = frozenset({"404", "NoSuchBucket", "NotFound"})
_FORBIDDEN = frozenset({"403", "Forbidden", "AccessDenied"})


def _bucket(factory: ClientFactory, role: str, r: OwnedResource) -> Found | None:
    s3 = factory.s3(r.region, r.account, role)
    try:
        # ExpectedBucketOwner: a bucket of that name owned by another account answers 403.
        s3.head_bucket(Bucket=r.name, ExpectedBucketOwner=r.account)
    except ClientError as exc:
        code = error_code(exc)
        if code in _NOT_FOUND:
            return None
        if code in _FORBIDDEN:
            return Found(
                r,
                "taken",
                f"S3 answers 403 to HeadBucket: the bucket exists and {r.account} does not own it (bucket "
                "names are global), or the role may not read it",
            )
        raise
    return Found(r, "exists")


def _lookup(factory: ClientFactory, role: str, r: OwnedResource) -> tuple[Found | None, str | None]:
    """What one lookup found (None: the name is free) and, when the account cannot be reached
    (AssumeRole failed, no role name), why: its other lookups are then not tried."""
    if not _REGION.match(r.region):
        return Found(r, "unknown", "its Region is not a literal in the template: not looked up"), None
    try:
        found = _table(factory, role, r) if r.resource_type in TABLE_TYPES else _bucket(factory, role, r)
    except ClientError as exc:
        message = str(exc.response.get("Error", {}).get("Message", ""))
        reason = unreadable_reason(exc) or (
            f"{exc.operation_name} failed ({error_code(exc)}{': ' + message if message else ''})"
        )
        return Found(r, "unknown", reason), (reason if exc.operation_name == "AssumeRole" else None)
    except ValueError as exc:  # no execution role name to assume in another account
        return Found(r, "unknown", str(exc)), str(exc)
    return found, None


def _account_lookups(
    factory: ClientFactory, role: str, resources: Sequence[OwnedResource]
) -> list[Found | None]:
    """One account's lookups, in order, one at a time: once the account proved unreachable the
    rest are ``unknown`` for the same reason, without asking again."""
    out: list[Found | None] = []
    unreachable: str | None = None
    for r in resources:
        if unreachable is not None:
            out.append(Found(r, "unknown", unreachable))
            continue
        found, unreachable = _lookup(factory, role, r)
        out.append(found)
    return out


def find_existing(
    factory: ClientFactory, role: str, resources: Sequence[OwnedResource], *, workers: int = 1
) -> list[Found]:
    """The ``resources`` that exist (or whose state could not be read), in order.

    Lookups run in each resource's account and Region with the execution role ``role`` (none in
    the caller's own account). A refused read, or a role that cannot be assumed, is ``unknown``
    with the reason; once AssumeRole failed in an account its other lookups are not tried.

    ``workers`` accounts are looked up at a time (:func:`stacksets.parallel.parallel_map`; the
    deploy passes ``deployment.read_concurrency``); each account's own lookups run in order, so
    what is found, and every message, is the same as one lookup at a time."""
    by_account: dict[str, list[int]] = {}
    for n, r in enumerate(resources):
        by_account.setdefault(r.account, []).append(n)
    groups = list(by_account.values())
    results: list[Found | None] = [None] * len(resources)
    answers = parallel_map(
        lambda group: _account_lookups(factory, role, [resources[n] for n in group]), groups, workers=workers
    )
    for group, found in zip(groups, answers, strict=True):
        for n, f in zip(group, found, strict=True):
            results[n] = f
    return [f for f in results if f is not None]


# --------------------------------------------------------------------------- the way out


_VERSIONS_QUERY = "{Objects: [Versions, DeleteMarkers][][].{Key: Key, VersionId: VersionId}, Quiet: `true`}"


def _table_commands(account_found: Sequence[Found]) -> list[str]:
    """Deletion commands for the tables found in one account: per table name, deletion
    protection off in every Region found, the other replicas removed from the home Region's
    global table (UpdateTable ReplicaUpdates Delete), then the home table deleted; a table that is
    not a replica of the home Region's is deleted on its own."""
    lines: list[str] = []
    by_name: dict[str, list[Found]] = {}
    for f in account_found:
        by_name.setdefault(f.resource.name, []).append(f)
    for name, found in by_name.items():
        regions = [f.resource.region for f in found]
        home = next((f for f in found if f.resource.region == f.resource.home_region), None)
        for region in regions:
            lines.append(
                f"aws dynamodb update-table --region {region} --table-name {name} "
                "--no-deletion-protection-enabled"
            )
        replicas = []
        if home is not None:
            replicas = [r for r in regions if r != home.resource.region and r in home.replica_regions]
            for region in replicas:
                update = json.dumps([{"Delete": {"RegionName": region}}])
                lines.append(
                    f"aws dynamodb update-table --region {home.resource.region} --table-name {name} "
                    f"--replica-updates '{update}'"
                )
                lines.append(f"aws dynamodb wait table-not-exists --region {region} --table-name {name}")
        for region in regions:
            if region not in replicas:
                lines.append(f"aws dynamodb delete-table --region {region} --table-name {name}")
    return lines


def _bucket_commands(found: Found) -> list[str]:
    r = found.resource
    listing = (
        f"aws s3api list-object-versions --region {r.region} --bucket {r.name} --no-paginate --output json "
        f"--query '{_VERSIONS_QUERY}'"
    )
    return [
        f'aws s3api delete-objects --region {r.region} --bucket {r.name} --delete "$({listing})"',
        f"aws s3api delete-bucket --region {r.region} --bucket {r.name}",
    ]


#: How to run the bucket commands (said once, before them).
EMPTYING_NOTE = (
    "each delete-objects line deletes up to 1,000 object versions and delete markers: repeat it until it "
    "fails for lack of Objects, then delete the bucket; 'aws s3 rm --recursive' would leave the old "
    "versions of these versioned buckets"
)


def delete_commands(found: Sequence[Found]) -> list[str]:
    """The AWS CLI commands that delete the existing resources, grouped by account (each group
    run with credentials for that account)."""
    lines: list[str] = []
    accounts = list(dict.fromkeys(f.resource.account for f in found if f.status == "exists"))
    for account in accounts:
        mine = [f for f in found if f.status == "exists" and f.resource.account == account]
        lines.append(f"# account {account}")
        lines.extend(_table_commands([f for f in mine if f.resource.resource_type in TABLE_TYPES]))
        for f in mine:
            if f.resource.resource_type == "AWS::S3::Bucket":
                lines.extend(_bucket_commands(f))
    return lines


def render_found(env: str, config_source: str, found: Sequence[Found]) -> str:
    """The error text: each resource (account, Region, type, name, what was found), then the
    ways out for what exists, what is taken and what is unknown."""
    lines = [
        f"refusing to deploy {env}: the new stack instances would create resources that already exist "
        "(retained by an earlier destroy, left by a removed instance's stack, or made outside this "
        "deployment), and creating them would fail half-way; nothing was changed:"
    ]
    label = {"exists": "exists", "taken": "name taken", "unknown": "unknown"}
    for f in found:
        r = f.resource
        lines.append(
            f"  {r.account} {r.region} {r.resource_type} {r.name}: {label[f.status]}"
            + (f" ({f.detail})" if f.detail else "")
        )
    existing = [f for f in found if f.status == "exists"]
    if existing:
        lines.append("the way out for the resources that exist:")
        lines.append(
            "  keep the data: import them into the new stacks instead of creating new ones; see "
            f"{REDEPLOY_DOC}"
        )
        lines.append(
            "  or, if the data is not wanted, delete them (this cannot be undone), with credentials for each "
            "account:"
        )
        if any(f.resource.resource_type == "AWS::S3::Bucket" for f in existing):
            lines.append(f"    ({EMPTYING_NOTE})")
        lines.extend(f"    {line}" for line in delete_commands(existing))
        lines.append(
            f"  or deploy this environment under another name: set name_prefix in {config_source} "
            "(every table and bucket name changes; the existing ones are left as they are)"
        )
    if any(f.status == "taken" for f in found):
        lines.append(
            "for the bucket names taken (403): another account owns them, so the way out is another "
            f"name_prefix in {config_source} (if the buckets are this account's, the role lacks "
            "s3:ListBucket)"
        )
    if any(f.status == "unknown" for f in found):
        lines.append(
            "for the resources marked unknown: they could not be looked up, and deploy does not guess; "
            + LOOKUP_HINT
        )
    return "\n".join(lines)


class RetainedResourcesFound(DeployError):
    """Resources the new instances would create exist already (or could not be checked): nothing
    was changed (exit 1)."""

    def __init__(self, env: str, config_source: str, found: Sequence[Found]) -> None:
        self.found = tuple(found)
        super().__init__(render_found(env, config_source, found))


def check_before_create(
    plans: Sequence[StackSetPlan],
    factory: ClientFactory,
    role: str,
    reporter: Reporter | None = None,
    *,
    workers: int = 1,
) -> None:
    """Look up what the instances ``plans`` create would own, in both phases, before the first
    mutating call (in each account with the execution role ``role``, ``workers`` accounts at a
    time); raise
    :class:`RetainedResourcesFound` when anything exists or is unknown. No call at all when no
    instance is to be created."""
    if not plans:
        return
    env = plans[0].desired.environment
    resources, unchecked = resources_to_create(plans, prefix=env.name_prefix, env=env.name)
    if unchecked:
        (reporter or NullReporter()).info(
            "not checked for retained resources (organizational units: their accounts are known only once "
            f"CloudFormation expands them): {'; '.join(unchecked)}"
        )
    if not resources:
        return
    found = find_existing(factory, role, resources, workers=workers)
    found.sort(key=lambda f: attrs.astuple(f.resource))  # by account, Region, ...
    if found:
        raise RetainedResourcesFound(env.name, env.config_source, found)
