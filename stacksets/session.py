"""boto3 clients for the deployer: created once per (service, region, account) and reused.

The boto3 :class:`~boto3.session.Session` is injected (the CLI builds it; tests and the
local emulator pass their own). Retries come from botocore's ``adaptive`` retry mode.
Clients for accounts other than the caller's use credentials from STS AssumeRole on the
stack set execution role in that account; the caller's own account needs no role. Those
credentials are refreshable: botocore assumes the role again before they expire, so a client
cached for a long run never signs with an expired token.
"""

from __future__ import annotations

import threading
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import boto3
import botocore.session
from botocore.config import Config as BotocoreConfig
from botocore.credentials import RefreshableCredentials
from botocore.exceptions import ClientError
from botocore.hooks import HierarchicalEmitter
from botocore.utils import parse_timestamp

from appstorage.validators import partition_of

from .awserrors import error_code

if TYPE_CHECKING:
    from mypy_boto3_cloudformation import CloudFormationClient
    from mypy_boto3_dynamodb import DynamoDBClient
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_s3 import S3Client
    from mypy_boto3_ssm import SSMClient
    from mypy_boto3_sts import STSClient

__all__ = [
    "DEFAULT_MAX_ATTEMPTS",
    "MUTATING_OPERATIONS",
    "CallLog",
    "ClientFactory",
    "partition_of",
    "url_suffix",
]

DEFAULT_MAX_ATTEMPTS = 8

#: AssumeRole errors that asking again in the same run would only repeat (the role's trust policy
#: or the caller's permissions refuse it, or the role does not exist); throttling is retried by
#: botocore and never lands here.
ASSUME_REFUSALS = frozenset({"AccessDenied", "AccessDeniedException", "InvalidClientTokenId"})


def url_suffix(region: str) -> str:
    """The domain of AWS endpoints in ``region``'s partition (``AWS::URLSuffix``)."""
    return "amazonaws.com.cn" if partition_of(region) == "aws-cn" else "amazonaws.com"


#: CloudFormation StackSet calls that change something.
MUTATING_OPERATIONS = frozenset(
    {
        "CreateStackSet",
        "UpdateStackSet",
        "DeleteStackSet",
        "CreateStackInstances",
        "UpdateStackInstances",
        "DeleteStackInstances",
        "StopStackSetOperation",
        "DetectStackSetDrift",
        "CreateStack",
        "UpdateStack",
        "DeleteStack",
    }
)


class CallLog:
    """Counts API calls by ``Service.Operation`` through botocore's ``before-call`` event."""

    def __init__(self) -> None:
        self.calls: Counter[str] = Counter()
        self._lock = threading.Lock()

    def attach(self, client: Any) -> None:
        client.meta.events.register("before-call.*.*", self._record)

    def _record(self, model: Any, **_: Any) -> None:
        with self._lock:
            self.calls[f"{model.service_model.service_name}.{model.name}"] += 1

    def by_operation(self) -> dict[str, int]:
        return dict(sorted(self.calls.items()))

    def mutating(self) -> dict[str, int]:
        return {
            k: n
            for k, n in sorted(self.calls.items())
            if k.startswith("cloudformation.") and k.split(".", 1)[1] in MUTATING_OPERATIONS
        }

    def count(self, operation: str) -> int:
        return sum(n for k, n in self.calls.items() if k.split(".", 1)[1] == operation)

    def reset(self) -> None:
        with self._lock:
            self.calls.clear()


class ClientFactory:
    """Makes and caches boto3 clients.

    ``session`` is the caller's session; ``endpoint_url`` points every client at an
    AWS-compatible endpoint (the local emulator); ``hooks`` are called with each new client
    (tests and the benchmark count calls with them). ``caller_account``: the account of the
    session's credentials when known (else STS GetCallerIdentity tells, once).
    """

    def __init__(
        self,
        session: boto3.Session,
        *,
        endpoint_url: str | None = None,
        max_attempts: int = DEFAULT_MAX_ATTEMPTS,
        role_session_name: str = "appstorage-deploy",
        hooks: tuple[Callable[[Any], None], ...] = (),
        now: Callable[[], datetime] | None = None,
        caller_account: str | None = None,
    ) -> None:
        self.session = session
        #: The clock assumed-role credentials are checked against (UTC, timezone-aware; tests inject).
        self.now: Callable[[], datetime] = now or (lambda: datetime.now(UTC))
        self.endpoint_url = endpoint_url
        self.config = BotocoreConfig(
            retries={"mode": "adaptive", "total_max_attempts": max_attempts},
            connect_timeout=10,
            read_timeout=60,
        )
        self.role_session_name = role_session_name
        self.hooks = hooks
        self._clients: dict[tuple[str, str, str | None], Any] = {}
        self._sessions: dict[tuple[str, str], botocore.session.Session] = {}
        self._caller: str | None = caller_account
        #: guards ``_locks`` only; each client, session and the caller's account has its own lock
        self._lock = threading.Lock()
        self._locks: dict[tuple[str | None, ...], threading.RLock] = {}
        #: roles that could not be assumed (access denied): asked once per run, not per read
        self._refused: dict[tuple[str, str], ClientError] = {}
        # What every assumed-role session shares, set up once: the event handlers botocore and
        # boto3 register on a new session (about 130; registering them again per account cost
        # about a third of the CPU of an account's reads), and the service models (one loader:
        # each new session would read and parse them again, about 0.15 s of CPU per account).
        # After this the emitter is only read (emitted on and copied into each new client, which
        # registers its own handlers on its copy), and the sessions make their clients one at a
        # time (see client()), so no two threads use the shared parts at once.
        self._member_events = HierarchicalEmitter()
        template = botocore.session.Session(event_hooks=self._member_events)  # botocore's handlers
        boto3.Session(botocore_session=template)  # boto3's (S3 transfer methods, ...), its user agent
        self._member_template = template
        self._loader = template.get_component("data_loader")

    # ------------------------------------------------------------------ generic

    def client(self, service: str, region: str, account: str | None = None, role_name: str = "") -> Any:
        """The client of ``service`` in ``region``, in ``account`` (None: the caller's).

        Safe to call from several threads: clients are thread-safe, sessions are not. Each client
        is made once, under a lock of its own (service, Region, account), so that two accounts'
        AssumeRole calls are made at the same time while a second caller of the same client waits
        for the first. The clients themselves are made one at a time: the caller's session's under
        one lock, the assumed-role sessions' (which share an event emitter and a loader) under
        another. Making a client sends nothing (it is CPU only, held under the interpreter lock
        anyway), so this costs no waiting on the network.
        """
        if account is not None and account == self.caller_account():
            account = None
        key = (service, region, account)
        found = self._clients.get(key)
        if found is not None:
            return found
        with self._lock_for(("client", *key)):
            if key not in self._clients:
                if account is None:
                    with self._lock_for(("session",)):
                        client = self._new_client(self.session, service, region)
                else:
                    member = self._assumed(account, role_name, region)
                    with self._lock_for(("member sessions",)):
                        client = member.create_client(
                            service, region_name=region, endpoint_url=self.endpoint_url, config=self.config
                        )
                for hook in self.hooks:
                    hook(client)
                self._clients[key] = client
            return self._clients[key]

    def _new_client(self, session: boto3.Session, service: str, region: str) -> Any:
        return session.client(
            service,  # type: ignore[call-overload]
            region_name=region,
            endpoint_url=self.endpoint_url,
            config=self.config,
        )

    def _lock_for(self, key: tuple[str | None, ...]) -> threading.RLock:
        """The lock of one thing made once (a client, an assumed session, the caller's account)."""
        with self._lock:
            lock = self._locks.get(key)
            if lock is None:
                lock = self._locks[key] = threading.RLock()
            return lock

    def caller_account(self) -> str:
        """The account of the injected session's credentials (STS GetCallerIdentity, once)."""
        if self._caller is None:
            with self._lock_for(("caller",)):
                if self._caller is None:
                    region = self.session.region_name or "us-east-1"
                    sts: STSClient = self.client("sts", region, None)
                    self._caller = sts.get_caller_identity()["Account"]
        return self._caller

    def role_arn(self, account: str, role_name: str, region: str) -> str:
        return f"arn:{partition_of(region)}:iam::{account}:role/{role_name}"

    def _assumed(self, account: str, role_name: str, region: str) -> botocore.session.Session:
        """A session on the role in ``account`` whose credentials refresh themselves: botocore's
        :class:`~botocore.credentials.RefreshableCredentials` call AssumeRole again when they are
        within 15 minutes of expiry (10: blocking), so clients cached for the whole run keep
        working after long waits instead of failing with ExpiredToken."""
        if not role_name:
            raise ValueError(f"no role name to assume in account {account}")
        key = (account, role_name)
        with self._lock_for(("assume", account, role_name)):
            refused = self._refused.get(key)
            if refused is not None:
                # Asked again (another Region, another read): the answer would be the same.
                raise ClientError(refused.response, refused.operation_name)
            try:
                return self._sessions.get(key) or self._assume(key, region)
            except ClientError as exc:
                if error_code(exc) in ASSUME_REFUSALS:
                    self._refused[key] = exc
                raise

    def _assume(self, key: tuple[str, str], region: str) -> botocore.session.Session:
        account, role_name = key
        role_arn = self.role_arn(account, role_name, region)

        def assume() -> dict[str, str]:
            sts: STSClient = self.client("sts", region, None)
            creds = sts.assume_role(RoleArn=role_arn, RoleSessionName=self.role_session_name)["Credentials"]
            expiry = creds["Expiration"]
            return {
                "access_key": creds["AccessKeyId"],
                "secret_key": creds["SecretAccessKey"],
                "token": creds["SessionToken"],
                "expiry_time": expiry.isoformat() if isinstance(expiry, datetime) else str(expiry),
            }

        # The first AssumeRole happens now, so a role that cannot be assumed fails here.
        metadata = assume()
        credentials = RefreshableCredentials(
            access_key=metadata["access_key"],
            secret_key=metadata["secret_key"],
            token=metadata["token"],
            expiry_time=parse_timestamp(metadata["expiry_time"]),
            refresh_using=assume,
            method="sts-assume-role",
            time_fetcher=self.now,
        )
        # The handlers and the models every account shares (see __init__); clients are made with
        # botocore's create_client, as boto3.Session.client does (a boto3.Session per account would
        # register boto3's handlers on the shared emitter again each time).
        core = botocore.session.Session(event_hooks=self._member_events, include_builtin_handlers=False)
        core.register_component("data_loader", self._loader)
        template = self._member_template
        core.user_agent_name = template.user_agent_name
        core.user_agent_version = template.user_agent_version
        core.user_agent_extra = template.user_agent_extra
        core.set_config_variable("region", region)
        core._credentials = credentials  # type: ignore[attr-defined]  # botocore's documented pattern
        self._sessions[key] = core
        return core

    # ------------------------------------------------------------------ typed helpers

    def cloudformation(
        self, region: str, account: str | None = None, role_name: str = ""
    ) -> CloudFormationClient:
        client: CloudFormationClient = self.client("cloudformation", region, account, role_name)
        return client

    def s3(self, region: str, account: str | None = None, role_name: str = "") -> S3Client:
        client: S3Client = self.client("s3", region, account, role_name)
        return client

    def ssm(self, region: str, account: str | None = None, role_name: str = "") -> SSMClient:
        client: SSMClient = self.client("ssm", region, account, role_name)
        return client

    def kms(self, region: str, account: str | None = None, role_name: str = "") -> KMSClient:
        client: KMSClient = self.client("kms", region, account, role_name)
        return client

    def dynamodb(self, region: str, account: str | None = None, role_name: str = "") -> DynamoDBClient:
        client: DynamoDBClient = self.client("dynamodb", region, account, role_name)
        return client
