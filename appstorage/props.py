"""Props for the builders: what a caller states about a table, a bucket and its policy.

The way CDK's ``aws-s3`` ``BucketProps`` work: a frozen object per resource, with documented safe
defaults, checked when it is built (``__post_init__``) with the validators the YAML path uses
(:mod:`appstorage.validators`), so a mistake fails at once, with the same problem and fix as in
a configuration file (:class:`appstorage.errors.PropsError`). A name, key or bucket may be a
literal or a troposphere token (``Ref``, ``Sub``, ``GetAtt``, ``ImportValue``...): tokens are
resolved by CloudFormation, so they are not checked (as CDK's ``validateBucketName`` returns
early for unresolved tokens).

The builders that take these props are :func:`appstorage.buckets.hardened_bucket`,
:func:`appstorage.buckets.bucket_policy` and :func:`appstorage.table.global_table`.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TypeAlias

from troposphere import AWSHelperFn
from troposphere.s3 import ReplicationConfiguration

from . import validators as v
from .errors import Problems, PropsError
from .frozen import FrozenMap
from .model import MAX_LIFECYCLE_DAYS, TableSettings

__all__ = [
    "BucketPolicyProps",
    "BucketProps",
    "CorsRule",
    "Expr",
    "Lifecycle",
    "TableProps",
    "checked_logical_id",
    "retention",
]

#: A literal string or a troposphere token that CloudFormation resolves.
Expr: TypeAlias = str | AWSHelperFn


def retention(retain: bool) -> dict[str, str]:
    """The resource attributes of ``retain``: keep the resource when it leaves the stack or is
    replaced (``Retain``), or CloudFormation's default (delete it)."""
    return {"DeletionPolicy": "Retain", "UpdateReplacePolicy": "Retain"} if retain else {}


def checked_logical_id(logical_id: str, builder: str) -> str:
    """``logical_id`` if CloudFormation accepts it, else a :class:`PropsError` naming ``builder``."""
    problems = Problems()
    if problems.add("logical_id", v.check_logical_id(logical_id)):
        raise PropsError(builder, problems.errors)
    return logical_id


def _check_expr(problems: Problems, name: str, value: object, check: Callable[[str], v.Problem]) -> None:
    """Check a literal with ``check``; accept a token as it is; refuse anything else."""
    if isinstance(value, str):
        problems.add(name, check(value))
    elif not isinstance(value, AWSHelperFn):
        problems.add(
            name,
            (
                f"{value!r} is neither a string nor a troposphere token",
                "pass a literal string, or a token such as Ref(...), Sub(...) or ImportValue(...)",
            ),
        )


def _strings(problems: Problems, owner: object, name: str, check: Callable[[str], v.Problem]) -> None:
    """Store the field as a tuple and check each item (a lone string is refused, not split)."""
    value = getattr(owner, name)
    if isinstance(value, str):
        problems.add(name, (f"{value!r} is a single string", f"pass a tuple: {name}=({value!r},)"))
        return
    object.__setattr__(owner, name, tuple(value))
    for i, item in enumerate(getattr(owner, name)):
        problems.add(f"{name}[{i}]", check(item))


def _tags(problems: Problems, owner: BucketProps | TableProps) -> None:
    object.__setattr__(owner, "tags", FrozenMap(owner.tags))
    for key, value in owner.tags.items():
        problems.add(f"tags.{key}", v.check_tag(key, value))


@dataclass(frozen=True, kw_only=True)
class CorsRule:
    """One CORS rule: which web origins may use which methods on the bucket's objects.

    - ``origins``: ``scheme://host[:port]`` each; ``*`` is refused (any web site could read and,
      with ``PUT``, upload).
    - ``methods``: default ``("GET", "HEAD")`` (read only); add ``"PUT"`` for pre-signed uploads.
    - ``allowed_headers``, ``exposed_headers``: default none.
    - ``max_age_seconds``: how long browsers cache the preflight answer, default 3000.
    - ``rule_id``: default none.
    """

    origins: tuple[str, ...]
    methods: tuple[str, ...] = ("GET", "HEAD")
    allowed_headers: tuple[str, ...] = ()
    exposed_headers: tuple[str, ...] = ()
    max_age_seconds: int = 3000
    rule_id: str | None = None

    def __post_init__(self) -> None:
        problems = Problems()
        _strings(problems, self, "origins", v.check_cors_origin)
        if not self.origins:
            problems.add(
                "origins", ("a CORS rule has no origin", "list the origins, e.g. 'https://x.example.com'")
            )
        _strings(problems, self, "methods", v.check_cors_method)
        _strings(problems, self, "allowed_headers", lambda _header: None)
        _strings(problems, self, "exposed_headers", lambda _header: None)
        problems.add("max_age_seconds", v.check_whole_number(self.max_age_seconds, 0, 2**31 - 1))
        problems.raise_for(self)


@dataclass(frozen=True, kw_only=True)
class Lifecycle:
    """The bucket's lifecycle: one rule for the whole bucket, and incomplete multipart uploads
    aborted after 7 days (always).

    - ``rule_id``: default ``"expire-noncurrent-versions"``.
    - ``noncurrent_expiration_days``: noncurrent versions (overwritten or deleted objects) are
      kept this long, the undo window; default 30. With ``tiers``, after the last tier.
    - ``tiers``: ``((storage class, days), ...)`` transitions of current and noncurrent versions;
      default none (everything stays STANDARD). Each class must be one CloudFront can still serve
      (the buckets are CloudFront origins): Glacier Instant Retrieval, never GLACIER.
    """

    rule_id: str = "expire-noncurrent-versions"
    noncurrent_expiration_days: int = 30
    tiers: tuple[tuple[str, int], ...] = ()

    def __post_init__(self) -> None:
        object.__setattr__(self, "tiers", tuple(tuple(tier) for tier in self.tiers))
        problems = Problems()
        after = 0
        for i, (storage_class, days) in enumerate(self.tiers):
            problems.add(f"tiers[{i}]", v.check_servable_storage_class(storage_class))
            if not problems.add(f"tiers[{i}]", v.check_whole_number(days, after + 1, MAX_LIFECYCLE_DAYS)):
                after = days
        problems.add(
            "noncurrent_expiration_days",
            v.check_whole_number(self.noncurrent_expiration_days, after + 1, MAX_LIFECYCLE_DAYS),
        )
        problems.raise_for(self)


@dataclass(frozen=True, kw_only=True)
class BucketProps:
    """A hardened bucket (:func:`appstorage.buckets.hardened_bucket`). Always: SSE-KMS with
    ``kms_key`` and an S3 Bucket Key, SSE-C blocked, all four public access block flags,
    BucketOwnerEnforced, versioning, server access logging.

    - ``kms_key`` (required): the customer-managed key's ARN (not an alias) or a token.
    - ``access_logs_bucket`` (required): the name of the bucket that receives the access logs.
    - ``name``: the bucket name; default none (CloudFormation generates one).
    - ``log_prefix``: where the logs go in ``access_logs_bucket``; default ``s3/<logical id>/``.
    - ``cors``: default none (no CORS configuration).
    - ``lifecycle``: default :class:`Lifecycle()` (noncurrent versions kept 30 days).
    - ``website``: S3 website hosting with ``index.html`` for the index and error documents
      (HTTP only, see the README's SPA hosting); default False.
    - ``request_metrics``: S3 request metrics for the whole bucket (billed); default True.
    - ``replication``: a ``ReplicationConfiguration``; default none.
    - ``tags``: default none.
    - ``retain``: ``DeletionPolicy``/``UpdateReplacePolicy: Retain``; default True.
    """

    kms_key: Expr
    access_logs_bucket: Expr
    name: Expr | None = None
    log_prefix: str | None = None
    cors: CorsRule | None = None
    lifecycle: Lifecycle = field(default_factory=Lifecycle)
    website: bool = False
    request_metrics: bool = True
    replication: ReplicationConfiguration | None = None
    tags: Mapping[str, str] = FrozenMap()
    retain: bool = True

    def __post_init__(self) -> None:
        problems = Problems()
        _check_expr(problems, "kms_key", self.kms_key, lambda arn: v.check_kms_key_arn(arn, None))
        _check_expr(problems, "access_logs_bucket", self.access_logs_bucket, v.check_access_logs_bucket)
        if self.name is not None:
            _check_expr(problems, "name", self.name, v.check_bucket_name)
        _tags(problems, self)
        problems.raise_for(self)


@dataclass(frozen=True, kw_only=True)
class BucketPolicyProps:
    """The policy of a hardened bucket (:func:`appstorage.buckets.bucket_policy`). Always: deny
    requests without TLS or with TLS older than 1.2, deny uploads under another KMS key, another
    encryption type or SSE-C. It adds only what is passed here; nothing refers to a parameter or
    condition the caller did not name.

    - ``kms_key``: the only key uploads may name; default the bucket's own default key.
    - ``cloudfront_distribution``: a distribution ARN (or token); adds ``AllowCloudFrontRead``,
      CloudFront (Origin Access Control) reading objects for that distribution. Default none.
    - ``cloudfront_condition``: a template condition of the caller's; with it, the read is
      scoped to the distribution when the condition holds and to any distribution of this account
      when it does not. Needs ``cloudfront_distribution``. Default none.
    - ``vpc_endpoint``: an S3 gateway endpoint id (or token); adds
      ``AllowAccountAccessThroughVpcEndpoint`` for this account's principals. Default none.
    - ``vpc_endpoint_condition``: a template condition of the caller's; the endpoint statement is
      present only when it holds. Needs ``vpc_endpoint``. Default none.
    """

    kms_key: Expr | None = None
    cloudfront_distribution: Expr | None = None
    cloudfront_condition: str | None = None
    vpc_endpoint: Expr | None = None
    vpc_endpoint_condition: str | None = None

    def __post_init__(self) -> None:
        problems = Problems()
        if self.kms_key is not None:
            _check_expr(problems, "kms_key", self.kms_key, lambda arn: v.check_kms_key_arn(arn, None))
        for value, condition, check in (
            ("cloudfront_distribution", "cloudfront_condition", v.check_cloudfront_distribution_arn),
            ("vpc_endpoint", "vpc_endpoint_condition", v.check_vpc_endpoint_id),
        ):
            if getattr(self, value) is not None:
                _check_expr(problems, value, getattr(self, value), check)
            if getattr(self, condition) is not None:
                problems.add(condition, v.check_logical_id(getattr(self, condition)))
                if getattr(self, value) is None:
                    problems.add(
                        condition,
                        (f"a condition without {value}", f"pass {value} too, or leave out {condition}"),
                    )
        problems.raise_for(self)


@dataclass(frozen=True, kw_only=True)
class TableProps:
    """The single table (:func:`appstorage.table.global_table`): an ``AWS::DynamoDB::GlobalTable``
    with the key schema of :mod:`appstorage.schema`, on-demand, a NEW_AND_OLD_IMAGES stream, and
    per replica SSE-KMS, point-in-time recovery and deletion protection.

    - ``kms_key`` (required): the key of the replica in the stack's region.
    - ``name``: the table name; default none (CloudFormation generates one).
    - ``replica_region``: a second read/write replica in this region; default none.
    - ``replica_kms_key``: that replica's key (required with ``replica_region``).
    - ``settings``: PITR period, TTL, contributor insights, request-unit caps; default
      :class:`appstorage.model.TableSettings()` (PITR 35 days, nothing else).
    - ``deletion_protection``: default True.
    - ``tags``: default none.
    - ``retain``: ``DeletionPolicy``/``UpdateReplacePolicy: Retain``; default True.
    """

    kms_key: Expr
    name: Expr | None = None
    replica_region: str | None = None
    replica_kms_key: Expr | None = None
    settings: TableSettings = field(default_factory=TableSettings)
    deletion_protection: bool = True
    tags: Mapping[str, str] = FrozenMap()
    retain: bool = True

    def __post_init__(self) -> None:
        problems = Problems()
        _check_expr(problems, "kms_key", self.kms_key, lambda arn: v.check_kms_key_arn(arn, None))
        if self.name is not None:
            _check_expr(problems, "name", self.name, v.check_table_name)
        region = self.replica_region
        if region is not None and problems.add("replica_region", v.check_region(region)):
            region = None
        if self.replica_kms_key is not None:
            _check_expr(
                problems,
                "replica_kms_key",
                self.replica_kms_key,
                lambda arn: v.check_kms_key_arn(arn, region),
            )
        if (self.replica_region is None) != (self.replica_kms_key is None):
            missing = "replica_kms_key" if self.replica_kms_key is None else "replica_region"
            problems.add(missing, ("a replica needs both its region and its key", f"pass {missing} too"))
        _tags(problems, self)
        problems.raise_for(self)
