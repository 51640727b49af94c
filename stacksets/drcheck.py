"""``dr-check``: read the live disaster-recovery state of every target account and say what is
not ready.

Per account of each selected environment (SELF_MANAGED: the configured accounts;
SERVICE_MANAGED: the accounts of the primary stack set's instances, from ListStackInstances),
read in that account (the execution role is assumed as for the outputs):

* the table (:func:`appstorage.naming.table_name`) in the primary region: DescribeTable
  ``TableStatus`` ACTIVE; with ``replication: true`` its ``Replicas`` list the replica region
  ACTIVE, and DescribeTable in the replica region is ACTIVE too;
* point-in-time recovery in every region the table should be in (DescribeContinuousBackups:
  ENABLED, with the recovery period when the API reports it, compared with
  ``table.pitr_recovery_period_days``);
* with replication: GetBucketReplication on the frontend and images buckets, an Enabled rule
  to the matching backup bucket with Replication Time Control and its metrics, delete marker
  replication and SSE-KMS objects selected;
* versioning Enabled (GetBucketVersioning) on the primary buckets and, with replication, on
  both backup buckets.

An environment with ``replication: false`` has no regional copy by configuration: one row per
account says so (status ``off``, not a failure) and the table, PITR and versioning are still
checked in the primary region.

Reading (:class:`AccountReader`) is separate from judging (:func:`account_checks` and the
``*_status`` functions, pure: plain dicts in, check rows out). A read that fails (access
denied, the role cannot be assumed, a table or bucket that does not exist, an endpoint that
cannot be reached) becomes a NOT READY row with the reason; the other reads go on.

Exit code (documented for CI): 0 when every check is ready (or off by configuration), 1 when
anything is not ready or could not be read, 2 for bad input (before any call).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import attrs
from botocore.exceptions import (
    BotoCoreError,
    ClientError,
    ConnectionClosedError,
    ConnectTimeoutError,
    EndpointConnectionError,
    NoCredentialsError,
    NoRegionError,
    ReadTimeoutError,
)
from botocore.parsers import ResponseParserError
from rich import box
from rich.table import Table
from rich.text import Text

from appstorage.config import Config, Environment
from appstorage.naming import Purpose, bucket_name_for_region, stack_set_name, table_name

from .cli import CREDENTIAL_ERRORS
from .execute import ACCESS_DENIED, unreadable_reason
from .observe import error_code, observe_stack_set
from .session import ClientFactory, partition_of

if TYPE_CHECKING:
    from .cli import Context

__all__ = [
    "DR_READ_HINT",
    "NOT_READY",
    "OFF",
    "READY",
    "AccountReader",
    "AccountState",
    "Check",
    "EnvironmentReport",
    "Read",
    "account_checks",
    "cmd_dr_check",
    "dr_check",
    "pitr_status",
    "render_dr_check",
    "replicas_status",
    "replication_status",
    "report_to_json",
    "table_status",
    "target_accounts",
    "versioning_status",
]

READY, NOT_READY, OFF = "ready", "NOT READY", "off"

#: The primary buckets that replicate, each to its backup bucket in the replica region.
REPLICATED = (Purpose.FRONTEND, Purpose.IMAGES)

#: What to do when the reads in a member account are refused.
DR_READ_HINT = (
    "set deployment.execution_role_name to a role this caller can assume in those accounts, allowed "
    "dynamodb:DescribeTable, dynamodb:DescribeContinuousBackups, s3:GetReplicationConfiguration and "
    "s3:GetBucketVersioning, then run dr-check again"
)

#: Error codes meaning "this table or bucket does not exist".
_TABLE_MISSING = frozenset({"ResourceNotFoundException", "TableNotFoundException"})
_BUCKET_MISSING = frozenset({"NoSuchBucket", "404", "NotFound"})
_UNREACHABLE = (EndpointConnectionError, ConnectTimeoutError, ConnectionClosedError, ReadTimeoutError)


# --------------------------------------------------------------------------- what was read


@attrs.frozen
class Read:
    """One response payload as a plain dict, or (``error``) why there is none: what is missing
    ("bucket ... not found", "no replication configuration") or "not read: <why>"."""

    data: Mapping[str, Any] | None = None
    error: str = ""


@attrs.frozen
class AccountState:
    """Everything read in one account. ``error``: nothing could be read there at all (the
    execution role cannot be assumed); the maps are then empty."""

    account: str
    #: region -> DescribeTable ``Table``
    tables: Mapping[str, Read] = attrs.field(factory=dict)
    #: region -> DescribeContinuousBackups ``ContinuousBackupsDescription``
    backups: Mapping[str, Read] = attrs.field(factory=dict)
    #: bucket name -> GetBucketReplication ``ReplicationConfiguration``
    replication: Mapping[str, Read] = attrs.field(factory=dict)
    #: bucket name -> GetBucketVersioning (``Status``, ``MFADelete``)
    versioning: Mapping[str, Read] = attrs.field(factory=dict)
    error: str = ""


@attrs.frozen
class Check:
    """One row of the report."""

    account: str
    region: str
    check: str
    status: str  # READY | NOT_READY | OFF
    detail: str
    #: the table or bucket the check is about (in the JSON; the printed table leaves it out: the
    #: check, account and region name it)
    resource: str = ""


@attrs.frozen
class EnvironmentReport:
    environment: str
    replication: bool
    primary_region: str
    replica_region: str
    accounts: tuple[str, ...]
    checks: tuple[Check, ...]

    @property
    def not_ready(self) -> tuple[Check, ...]:
        return tuple(c for c in self.checks if c.status == NOT_READY)

    @property
    def ready(self) -> bool:
        return not self.not_ready


# --------------------------------------------------------------------------- what is expected


def _bucket(config: Config, env: Environment, purpose: Purpose, account: str) -> tuple[str, str]:
    """(region, name) of one of the environment's buckets in ``account``."""
    region = env.replica_region if purpose.is_backup else env.primary_region
    return region, bucket_name_for_region(config.prefix, env.name, purpose, account, region)


def table_regions(env: Environment) -> tuple[str, ...]:
    """Where the table should be: the primary region, and the replica region with replication."""
    return (env.primary_region, env.replica_region) if env.replication else (env.primary_region,)


def versioned_buckets(config: Config, env: Environment, account: str) -> list[tuple[Purpose, str, str]]:
    """(purpose, region, name) of every bucket whose versioning is checked."""
    purposes = [*REPLICATED, *(p.backup for p in REPLICATED)] if env.replication else list(REPLICATED)
    return [(p, *_bucket(config, env, p, account)) for p in purposes]


# --------------------------------------------------------------------------- pure checks


def _failed(read: Read) -> tuple[str, str] | None:
    if read.data is None:
        return NOT_READY, read.error or "not read"
    return None


def table_status(read: Read) -> tuple[str, str]:
    """DescribeTable ``Table``: ACTIVE is ready; anything else (CREATING, UPDATING,
    INACCESSIBLE_ENCRYPTION_CREDENTIALS, ARCHIVED, ...) is not."""
    failed = _failed(read)
    if failed:
        return failed
    assert read.data is not None
    status = str(read.data.get("TableStatus") or "no TableStatus reported")
    return (READY if status == "ACTIVE" else NOT_READY), status


def _replica_text(replica: Mapping[str, Any]) -> str:
    text = f"{replica.get('RegionName', '?')} {replica.get('ReplicaStatus') or 'no status'}"
    for key in ("ReplicaStatusDescription", "ReplicaStatusPercentProgress"):
        value = replica.get(key)
        if value and replica.get("ReplicaStatus") != "ACTIVE":
            text += f" ({value}{'%' if key.endswith('Progress') else ''})"
    return text


def replicas_status(read: Read, primary_region: str, replica_region: str) -> tuple[str, str]:
    """DescribeTable ``Table`` read in the primary region: its ``Replicas`` must list the
    replica region ACTIVE. DynamoDB lists the table's other replicas there (the table in the
    region read is described by ``TableStatus``); the primary region is accepted when listed,
    and must then be ACTIVE too."""
    failed = _failed(read)
    if failed:
        return failed
    assert read.data is not None
    replicas = [r for r in read.data.get("Replicas") or [] if isinstance(r, Mapping)]
    by_region = {str(r.get("RegionName", "")): r for r in replicas}
    listed = ", ".join(_replica_text(r) for r in replicas) or "none"
    replica = by_region.get(replica_region)
    if replica is None:
        return NOT_READY, f"no replica in {replica_region} (Replicas: {listed})"
    problems = [
        _replica_text(by_region[region])
        for region in (replica_region, primary_region)
        if region in by_region and by_region[region].get("ReplicaStatus") != "ACTIVE"
    ]
    if problems:
        return NOT_READY, "; ".join(problems)
    return READY, listed


def pitr_status(read: Read, period_days: int) -> tuple[str, str]:
    """DescribeContinuousBackups ``ContinuousBackupsDescription``: PointInTimeRecoveryStatus
    ENABLED, and the recovery period (when reported) equal to the configured one."""
    failed = _failed(read)
    if failed:
        return failed
    assert read.data is not None
    description = read.data.get("PointInTimeRecoveryDescription") or {}
    status = str(description.get("PointInTimeRecoveryStatus") or "")
    if status != "ENABLED":
        backups = read.data.get("ContinuousBackupsStatus")
        shown = status or "not reported"
        if backups and backups != "ENABLED":
            shown += f", continuous backups {backups}"
        return NOT_READY, f"{shown} (configured: ENABLED, {period_days} days)"
    period = description.get("RecoveryPeriodInDays")
    if period is None:
        return READY, "ENABLED (recovery period not reported)"
    if int(period) != period_days:
        return NOT_READY, f"ENABLED, recovery period {period} days, configured {period_days}"
    return READY, f"ENABLED, {period} days"


def _enabled(section: Any) -> bool:
    return isinstance(section, Mapping) and section.get("Status") == "Enabled"


def _filter_text(rule: Mapping[str, Any]) -> str:
    """The part of the bucket a rule is limited to; empty when it covers every object."""
    rule_filter = rule.get("Filter")
    if isinstance(rule_filter, Mapping):
        if rule_filter.get("Tag") or rule_filter.get("And"):
            return f"filter {json.dumps(dict(rule_filter), sort_keys=True, default=str)}"
        if rule_filter.get("Prefix"):
            return f"prefix {rule_filter['Prefix']!r}"
        return ""
    return f"prefix {rule['Prefix']!r}" if rule.get("Prefix") else ""


def _rule_problems(rule: Mapping[str, Any]) -> list[str]:
    destination = rule.get("Destination") or {}
    problems = []
    if not _enabled(destination.get("ReplicationTime")):
        problems.append("RTC off (ReplicationTime not Enabled)")
    if not _enabled(destination.get("Metrics")):
        problems.append("replication metrics off")
    if not _enabled(rule.get("DeleteMarkerReplication")):
        problems.append("delete markers not replicated")
    if not _enabled((rule.get("SourceSelectionCriteria") or {}).get("SseKmsEncryptedObjects")):
        problems.append("SSE-KMS objects not replicated")
    limited = _filter_text(rule)
    if limited:
        problems.append(f"only objects matching {limited} replicate")
    return problems


def replication_status(read: Read, destination_arn: str) -> tuple[str, str]:
    """GetBucketReplication ``ReplicationConfiguration``: an Enabled rule to
    ``destination_arn`` for every object, with RTC and its metrics, delete markers and SSE-KMS
    encrypted objects. Of several such rules the one with the fewest problems is reported."""
    failed = _failed(read)
    if failed:
        return failed
    assert read.data is not None
    rules = [r for r in read.data.get("Rules") or [] if isinstance(r, Mapping)]
    destination = destination_arn.rsplit(":", 1)[-1]
    to_backup = [r for r in rules if (r.get("Destination") or {}).get("Bucket") == destination_arn]
    if not to_backup:
        elsewhere = sorted({str((r.get("Destination") or {}).get("Bucket", "?")) for r in rules})
        found = f"rules go to {', '.join(elsewhere)}" if elsewhere else "no rules"
        return NOT_READY, f"no rule replicates to {destination} ({found})"
    enabled = [r for r in to_backup if r.get("Status") == "Enabled"]
    if not enabled:
        ids = ", ".join(str(r.get("ID", "?")) for r in to_backup)
        return NOT_READY, f"rule {ids} to {destination} is not Enabled"
    rule = min(enabled, key=lambda r: len(_rule_problems(r)))
    problems = _rule_problems(rule)
    if problems:
        return NOT_READY, f"rule {rule.get('ID', '?')}: {'; '.join(problems)}"
    minutes = (rule["Destination"]["ReplicationTime"].get("Time") or {}).get("Minutes")
    rtc = f"RTC {minutes} min" if minutes is not None else "RTC"
    return READY, f"{rtc}, metrics, delete markers, SSE-KMS (rule {rule.get('ID', '?')})"


def versioning_status(read: Read) -> tuple[str, str]:
    """GetBucketVersioning: ``Status`` Enabled. Suspended, or never enabled (no Status), is
    not ready: replication needs versioning on both buckets, and recovery needs old versions."""
    failed = _failed(read)
    if failed:
        return failed
    assert read.data is not None
    status = read.data.get("Status")
    if status == "Enabled":
        return READY, "Enabled"
    return NOT_READY, str(status) if status else "never enabled"


def account_checks(config: Config, env: Environment, state: AccountState) -> list[Check]:
    """The rows of one account, in a fixed order: primary region first, then the replica region."""
    account = state.account
    if state.error:
        return [Check(account, "", "execution role", NOT_READY, f"not checked: {state.error}")]
    rows: list[Check] = []

    def add(region: str, check: str, result: tuple[str, str], resource: str) -> None:
        rows.append(Check(account, region, check, *result, resource=resource))

    missing = Read(error="not read")
    name = table_name(config.prefix, env.name)
    primary, replica = env.primary_region, env.replica_region
    primary_table = state.tables.get(primary, missing)
    add(primary, "table", table_status(primary_table), name)
    if env.replication:
        add(replica, "table", table_status(state.tables.get(replica, missing)), name)
        add(replica, "table replica", replicas_status(primary_table, primary, replica), name)
    period = env.table.pitr_recovery_period_days
    for region in table_regions(env):
        add(region, "PITR", pitr_status(state.backups.get(region, missing), period), name)
    if env.replication:
        for purpose in REPLICATED:
            _, source = _bucket(config, env, purpose, account)
            _, target = _bucket(config, env, purpose.backup, account)
            arn = f"arn:{partition_of(replica)}:s3:::{target}"
            result = replication_status(state.replication.get(source, missing), arn)
            add(primary, f"replication {purpose.value}", result, source)
    for purpose, region, bucket in versioned_buckets(config, env, account):
        result = versioning_status(state.versioning.get(bucket, missing))
        add(region, f"versioning {purpose.value}", result, bucket)
    if not env.replication:
        rows.append(
            Check(
                account,
                replica,
                "regional DR copy",
                OFF,
                f"replication: false in the configuration: no table replica and no backup buckets in "
                f"{replica}",
            )
        )
    order = {primary: 0, replica: 1}
    rows.sort(key=lambda c: order.get(c.region, 2))  # stable: the order above within a region
    return rows


# --------------------------------------------------------------------------- reading


class _RoleRefused(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


def read_error(exc: Exception, resource: str = "") -> str:
    """Why a read gave no data, in one line: what does not exist, or "not read: <why>"."""
    if isinstance(exc, ClientError):
        code = error_code(exc)
        message = str(exc.response.get("Error", {}).get("Message", ""))
        if code in _TABLE_MISSING and resource:
            return f"table {resource} not found"
        if code in _BUCKET_MISSING and resource:
            return f"bucket {resource} not found"
        if code == "ReplicationConfigurationNotFoundError":
            return "no replication configuration"
        verb = "refused" if code in ACCESS_DENIED or code == "UnauthorizedOperation" else "failed"
        return f"not read: {exc.operation_name} {verb} ({code}{': ' + message if message else ''})"
    if isinstance(exc, _UNREACHABLE):
        return f"not read: endpoint not reachable ({exc})"
    if isinstance(exc, ResponseParserError):  # not a BotoCoreError: e.g. an HTML error page
        return f"not read: the endpoint's answer could not be parsed ({str(exc).splitlines()[0]})"
    return f"not read: {type(exc).__name__}: {exc}"


class AccountReader:
    """Reads what :func:`account_checks` judges, in one account, with the factory's clients
    (the execution role assumed for accounts other than the caller's). Never raises for a
    failed read, except for the caller's own credentials (NoCredentialsError, expired or
    invalid tokens), which stop the whole command."""

    def __init__(self, factory: ClientFactory, role_name: str) -> None:
        self.factory = factory
        self.role_name = role_name

    def read(self, config: Config, env: Environment, account: str) -> AccountState:
        unreachable: dict[str, str] = {}  # region -> why: its remaining reads are not attempted

        def get(service: str, region: str, resource: str, operation: str, **params: str) -> Read:
            if region in unreachable:
                return Read(error=unreachable[region])
            try:
                client = self.factory.client(service, region, account, self.role_name)
                response = dict(getattr(client, operation)(**params))
            except ClientError as exc:
                if error_code(exc) in CREDENTIAL_ERRORS:  # the caller's own: the CLI says to refresh
                    raise
                if exc.operation_name == "AssumeRole":
                    raise _RoleRefused(unreadable_reason(exc) or read_error(exc)) from exc
                return Read(error=read_error(exc, resource))
            except (NoCredentialsError, NoRegionError):
                raise
            except (BotoCoreError, ResponseParserError) as exc:
                reason = read_error(exc, resource)
                if isinstance(exc, _UNREACHABLE):
                    unreachable[region] = reason
                return Read(error=reason)
            response.pop("ResponseMetadata", None)
            return Read(data=response)

        name = table_name(config.prefix, env.name)
        tables: dict[str, Read] = {}
        backups: dict[str, Read] = {}
        replication: dict[str, Read] = {}
        versioning: dict[str, Read] = {}
        try:
            for region in table_regions(env):
                tables[region] = _inner(
                    get("dynamodb", region, name, "describe_table", TableName=name), "Table"
                )
                backups[region] = _inner(
                    get("dynamodb", region, name, "describe_continuous_backups", TableName=name),
                    "ContinuousBackupsDescription",
                )
            if env.replication:
                for purpose in REPLICATED:
                    region, bucket = _bucket(config, env, purpose, account)
                    replication[bucket] = _inner(
                        get("s3", region, bucket, "get_bucket_replication", Bucket=bucket),
                        "ReplicationConfiguration",
                    )
            for _, region, bucket in versioned_buckets(config, env, account):
                versioning[bucket] = get("s3", region, bucket, "get_bucket_versioning", Bucket=bucket)
        except _RoleRefused as exc:
            return AccountState(account, error=exc.reason)
        return AccountState(account, tables, backups, replication, versioning)


def _inner(read: Read, key: str) -> Read:
    """The payload's ``key`` (e.g. DescribeTable's ``Table``)."""
    if read.data is None:
        return read
    inner = read.data.get(key)
    if not isinstance(inner, Mapping):
        return Read(error=f"the response has no {key}")
    return Read(data=dict(inner))


def target_accounts(factory: ClientFactory, config: Config, env: Environment) -> tuple[list[str], str]:
    """The accounts to check, and why there are none when there are none.

    SELF_MANAGED: the configured accounts. SERVICE_MANAGED: the accounts of the primary stack
    set's instances (ListStackInstances in the administration region), whatever their status."""
    deployment = env.deployment
    if deployment.permission_model != "SERVICE_MANAGED":
        return list(deployment.accounts), ""
    name = stack_set_name(config.project, env.name, "primary")
    observed = observe_stack_set(factory.cloudformation(env.primary_region), name, deployment.call_as)
    if observed is None:
        return [], f"stack set {name} not found: nothing is deployed to check"
    accounts = sorted({i.account for i in observed.instances if i.account})
    if not accounts:
        return [], f"stack set {name} has no instances in the target OUs"
    return accounts, ""


def dr_check(
    factory: ClientFactory,
    config: Config,
    env: Environment,
    *,
    progress: Callable[[str], None] | None = None,
) -> EnvironmentReport:
    """Read and judge every target account of ``env``."""
    accounts, why_none = target_accounts(factory, config, env)
    reader = AccountReader(factory, env.deployment.execution_role_name)
    checks: list[Check] = []
    if why_none:
        checks.append(Check("-", env.primary_region, "stack instances", NOT_READY, why_none))
    for account in accounts:
        if progress is not None:
            progress(f"{env.name}: reading the DR state in {account}")
        checks.extend(account_checks(config, env, reader.read(config, env, account)))
    return EnvironmentReport(
        environment=env.name,
        replication=env.replication,
        primary_region=env.primary_region,
        replica_region=env.replica_region,
        accounts=tuple(accounts),
        checks=tuple(checks),
    )


# --------------------------------------------------------------------------- rendering

_STYLES = {READY: "green", NOT_READY: "bold red", OFF: "yellow"}


def summary_line(report: EnvironmentReport) -> str:
    """The final line of one environment."""
    accounts = len(report.accounts)
    counted = [c for c in report.checks if c.status != OFF]
    if report.ready:
        text = f"{report.environment}: READY ({len(counted)} checks in {accounts} account(s) ready"
        if not report.replication:
            text += f"; no regional DR copy: replication is off, nothing in {report.replica_region}"
        return text + ")"
    if not report.accounts:
        return f"{report.environment}: NOT READY: no account to check ({report.not_ready[0].detail})"
    bad_accounts = sorted({c.account for c in report.not_ready})
    return (
        f"{report.environment}: NOT READY: {len(report.not_ready)} of {len(counted)} checks in "
        f"{len(bad_accounts)} of {accounts} account(s) ({', '.join(bad_accounts)})"
    )


def render_dr_check(reports: Sequence[EnvironmentReport]) -> Table:
    """The table of every row (environment, account, region, check, status, detail); readable at
    100 columns: no vertical borders, the detail column folds."""
    table = Table(
        box=box.SIMPLE_HEAD, padding=(0, 1, 0, 0), pad_edge=False, show_edge=False, title="DR readiness"
    )
    table.add_column("env", no_wrap=True)
    table.add_column("account", no_wrap=True)
    table.add_column("region", no_wrap=True)
    table.add_column("check", overflow="fold")
    table.add_column("status", no_wrap=True)
    table.add_column("detail", overflow="fold", ratio=1)
    for report in reports:
        for c in report.checks:
            table.add_row(
                report.environment,
                c.account,
                c.region or "-",
                c.check,
                Text(c.status, style=_STYLES.get(c.status, "")),
                Text(c.detail),
            )
    return table


def report_to_json(report: EnvironmentReport) -> dict[str, Any]:
    return {
        "environment": report.environment,
        "ready": report.ready,
        "replication": report.replication,
        "primary_region": report.primary_region,
        "replica_region": report.replica_region,
        "accounts": list(report.accounts),
        "not_ready": len(report.not_ready),
        "checks": [attrs.asdict(c) for c in report.checks],
        "summary": summary_line(report),
    }


def _hints(reports: Iterable[EnvironmentReport]) -> list[str]:
    refused = any(
        c.check == "execution role" or "refused (" in c.detail for r in reports for c in r.not_ready
    )
    return [f"reads were refused in some accounts: {DR_READ_HINT}"] if refused else []


# --------------------------------------------------------------------------- command


def cmd_dr_check(ctx: Context) -> int:
    """Exit 0 when every check is ready (or off by configuration), 1 otherwise."""
    reports = [dr_check(ctx.factory, ctx.config, env, progress=ctx.reporter.info) for env in ctx.environments]
    ctx.reporter.close()
    if ctx.args.json:
        data = {r.environment: report_to_json(r) for r in reports}
        ctx.out.file.write(json.dumps(data, indent=2, sort_keys=True, default=str) + "\n")
    else:
        ctx.out.print(render_dr_check(reports))
        for report in reports:
            ctx.out.print(summary_line(report), markup=False, highlight=False)
    for hint in _hints(reports):
        ctx.err.print(hint, markup=False)
    return 0 if all(r.ready for r in reports) else 1
