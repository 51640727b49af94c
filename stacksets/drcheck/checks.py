"""The judging half of ``dr-check``: what was read in one account (plain dicts) -> report rows.

Pure: no boto3, no calls. :class:`Read` and :class:`AccountState` hold what
:class:`~stacksets.drcheck.reader.AccountReader` read; :func:`account_checks` turns one account's
state into :class:`Check` rows, one per thing checked, with the ``*_status`` functions:

* :func:`table_status`: DescribeTable ``TableStatus`` ACTIVE, in the primary region and, with
  ``replication: true``, in the replica region;
* :func:`replicas_status`: the primary region's ``Replicas`` list the replica region ACTIVE;
* :func:`pitr_status`: point-in-time recovery ENABLED in every region the table should be in
  (:func:`table_regions`), with the recovery period when the API reports it, compared with
  ``table.pitr_recovery_period_days``;
* :func:`replication_status`: with replication, the frontend and images buckets (:data:`REPLICATED`)
  have an Enabled rule to the matching backup bucket for every object, with Replication Time
  Control and its metrics, delete marker replication and SSE-KMS objects selected;
* :func:`versioning_status`: versioning Enabled on the primary buckets and, with replication, on
  both backup buckets (:func:`versioned_buckets`).

An environment with ``replication: false`` has no regional copy by configuration: one row per
account says so (status :data:`OFF`, not a failure) and the table, PITR and versioning are still
checked in the primary region. A read that gave no data is a :data:`NOT_READY` row with the reason.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

import attrs

from appstorage.config import Config, Environment
from appstorage.naming import Purpose, bucket_arn_for_region, bucket_name_for_region, table_name
from appstorage.validators import partition_of

__all__ = [
    "NOT_READY",
    "OFF",
    "READY",
    "REPLICATED",
    "ROLE_CHECK",
    "AccountState",
    "Check",
    "EnvironmentReport",
    "Read",
    "account_checks",
    "bucket_location",
    "pitr_status",
    "replicas_status",
    "replication_status",
    "table_regions",
    "table_status",
    "versioned_buckets",
    "versioning_status",
]

#: A row's status: ready, not ready (a failure, exit 1), or off by configuration (not a failure).
READY, NOT_READY, OFF = "ready", "NOT READY", "off"

#: The primary buckets that replicate, each to its backup bucket in the replica region.
REPLICATED = (Purpose.FRONTEND, Purpose.IMAGES)

#: The check of an account where nothing could be read (the execution role cannot be assumed).
ROLE_CHECK = "execution role"

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
    """The rows of every account of one environment, and what was checked: ``accounts`` (none
    when there was no account to check; a row then says why)."""

    environment: str
    replication: bool
    primary_region: str
    replica_region: str
    accounts: tuple[str, ...]
    checks: tuple[Check, ...]

    @property
    def not_ready(self) -> tuple[Check, ...]:
        """The NOT READY rows."""
        return tuple(c for c in self.checks if c.status == NOT_READY)

    @property
    def ready(self) -> bool:
        """No row is NOT READY (rows that are off by configuration do not count)."""
        return not self.not_ready


# --------------------------------------------------------------------------- what is expected


def bucket_location(config: Config, env: Environment, purpose: Purpose, account: str) -> tuple[str, str]:
    """(region, name) of one of the environment's buckets in ``account``."""
    region = env.replica_region if purpose.is_backup else env.primary_region
    return region, bucket_name_for_region(config.prefix, env.name, purpose, account, region)


def table_regions(env: Environment) -> tuple[str, ...]:
    """Where the table should be: the primary region, and the replica region with replication."""
    return (env.primary_region, env.replica_region) if env.replication else (env.primary_region,)


def versioned_buckets(config: Config, env: Environment, account: str) -> list[tuple[Purpose, str, str]]:
    """(purpose, region, name) of every bucket whose versioning is checked."""
    purposes = [*REPLICATED, *(p.backup for p in REPLICATED)] if env.replication else list(REPLICATED)
    return [(p, *bucket_location(config, env, p, account)) for p in purposes]


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
        return [Check(account, "", ROLE_CHECK, NOT_READY, f"not checked: {state.error}")]
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
            _, source = bucket_location(config, env, purpose, account)
            _, target = bucket_location(config, env, purpose.backup, account)
            arn = bucket_arn_for_region(partition_of(replica), target)
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
