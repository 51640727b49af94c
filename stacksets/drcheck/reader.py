"""The reading half of ``dr-check``: boto3 calls in every target account, through an injected
:class:`~stacksets.session.ClientFactory` (the execution role is assumed for accounts other than
the caller's, as for the outputs), into the plain dicts that :mod:`.checks` judges.

:func:`target_accounts` says which accounts of an environment to check (SELF_MANAGED: the
configured accounts; SERVICE_MANAGED: the accounts of the primary stack set's instances, from
ListStackInstances); :class:`AccountReader` reads one account (DescribeTable and
DescribeContinuousBackups in every region the table should be in, GetBucketReplication on the
replicating buckets, GetBucketVersioning on the versioned ones); :func:`dr_check` reads and
judges every target account of one environment.

A read that fails (access denied, the role cannot be assumed, a table or bucket that does not
exist, an endpoint that cannot be reached, an answer that cannot be parsed) becomes a NOT READY
row with the reason (:func:`read_error`); the other reads go on, except in a region found
unreachable. Only the caller's own credentials (missing, expired or invalid) stop the command.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError, NoRegionError
from botocore.parsers import ResponseParserError

from appstorage.config import Config, Environment
from appstorage.naming import stack_set_name, table_name

from ..awserrors import ACCESS_DENIED, CREDENTIAL_ERRORS, NETWORK_ERRORS, error_code, unreadable_reason
from ..observe import observe_stack_set
from ..session import ClientFactory
from .checks import (
    NOT_READY,
    REPLICATED,
    AccountState,
    Check,
    EnvironmentReport,
    Read,
    account_checks,
    bucket_location,
    table_regions,
    versioned_buckets,
)

__all__ = ["AccountReader", "dr_check", "read_error", "target_accounts"]

#: Error codes meaning "this table or bucket does not exist".
_TABLE_MISSING = frozenset({"ResourceNotFoundException", "TableNotFoundException"})
_BUCKET_MISSING = frozenset({"NoSuchBucket", "404", "NotFound"})


class _RoleRefused(Exception):
    """The execution role cannot be assumed in the account: nothing can be read there."""

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
    if isinstance(exc, NETWORK_ERRORS):
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
        """Everything :func:`account_checks` needs for ``env`` in ``account``; a failed read is a
        :class:`Read` with the reason, a refused role an :class:`AccountState` with ``error``."""
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
                if isinstance(exc, NETWORK_ERRORS):
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
                    region, bucket = bucket_location(config, env, purpose, account)
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
