"""The YAML path's props: what an :class:`Environment` and a bucket :class:`Purpose` say, as props.

The environment templates (:mod:`appstorage.templates`) are built through these functions and the
props builders, like any other caller's template. The ``build_*`` functions here are that path
for one resource: they refer to the templates' parameters (``KmsKeyArn``,
``AccessLogsBucketName``, ``CloudFrontDistributionArn``, ``S3VpcEndpointId``,
``ReplicaKmsKeyArn``) and conditions unless given other values, so they fit a template built by
:func:`appstorage.templates.build_primary_template`; for a template of your own, use the props
builders (see the README).
"""

from __future__ import annotations

from troposphere import Ref
from troposphere.dynamodb import GlobalTable
from troposphere.s3 import Bucket, BucketPolicy, ReplicationConfiguration

from .buckets import bucket_policy, hardened_bucket
from .model import IMAGE_TIERS, Config, Environment
from .naming import TABLE_LOGICAL_ID, Purpose, access_log_prefix, bucket_name, table_name
from .parameters import CLOUDFRONT_CONDITION, VPC_ENDPOINT_CONDITION
from .props import BucketPolicyProps, BucketProps, CorsRule, Expr, Lifecycle, TableProps
from .table import global_table
from .tags import standard_tags

__all__ = [
    "FRONTEND_LIFECYCLE",
    "IMAGE_UPLOAD_HEADERS",
    "bucket_policy_props",
    "bucket_props",
    "build_bucket",
    "build_bucket_policy",
    "build_table",
    "cors_rule",
    "images_lifecycle",
    "table_props",
]

#: Frontend buckets: old deployment artifacts (noncurrent versions) expire after 30 days.
FRONTEND_LIFECYCLE = Lifecycle(rule_id="expire-old-deployments", noncurrent_expiration_days=30)
#: Headers a browser sends with a pre-signed upload to the images bucket.
IMAGE_UPLOAD_HEADERS = ("Content-Type", "Content-MD5", "Content-Length", "x-amz-*")

_FRONTEND = (Purpose.FRONTEND, Purpose.FRONTEND_BACKUP)
_IMAGES = (Purpose.IMAGES, Purpose.IMAGES_BACKUP)


def images_lifecycle(env: Environment) -> Lifecycle:
    """Images: STANDARD_IA at 30 days, GLACIER_IR at 90 (:data:`IMAGE_TIERS`, all servable by
    CloudFront), noncurrent versions likewise and expired after the configured period."""
    return Lifecycle(
        rule_id="tier-images",
        noncurrent_expiration_days=env.images.noncurrent_expiration_days,
        tiers=IMAGE_TIERS,
    )


def cors_rule(env: Environment, purpose: Purpose) -> CorsRule | None:
    """GET/HEAD from the configured origins; the primary images bucket also takes pre-signed PUTs."""
    if not env.cors_allowed_origins:
        return None
    uploads = purpose is Purpose.IMAGES
    return CorsRule(
        rule_id=f"{purpose.value}-cors",
        origins=env.cors_allowed_origins,
        methods=("GET", "HEAD", "PUT") if uploads else ("GET", "HEAD"),
        allowed_headers=IMAGE_UPLOAD_HEADERS if uploads else (),
        exposed_headers=("ETag",) if purpose in _IMAGES else (),
    )


def bucket_props(
    config: Config,
    env: Environment,
    purpose: Purpose,
    *,
    kms_key: Expr | None = None,
    access_logs_bucket: Expr | None = None,
    replication: ReplicationConfiguration | None = None,
) -> BucketProps:
    """The props of one of the environment's buckets. ``kms_key`` and ``access_logs_bucket``
    default to the ``KmsKeyArn`` and ``AccessLogsBucketName`` parameters; ``replication`` is set on
    primary buckets when cross-region replication is on (see :mod:`appstorage.replication`)."""
    return BucketProps(
        name=bucket_name(config.prefix, env.name, purpose),
        kms_key=kms_key if kms_key is not None else Ref("KmsKeyArn"),
        access_logs_bucket=access_logs_bucket
        if access_logs_bucket is not None
        else Ref("AccessLogsBucketName"),
        log_prefix=access_log_prefix(config.prefix, env.name, purpose),
        cors=cors_rule(env, purpose),
        lifecycle=FRONTEND_LIFECYCLE if purpose in _FRONTEND else images_lifecycle(env),
        website=env.website and purpose in _FRONTEND,
        request_metrics=env.monitoring.request_metrics,
        replication=replication,
        tags=standard_tags(config, env),
    )


def bucket_policy_props(purpose: Purpose, *, kms_key: Expr | None = None) -> BucketPolicyProps:
    """CloudFront reads scoped by the optional ``CloudFrontDistributionArn`` parameter; for images
    buckets, access through the VPC endpoint when the ``S3VpcEndpointId`` parameter is set."""
    images = purpose in _IMAGES
    return BucketPolicyProps(
        kms_key=kms_key if kms_key is not None else Ref("KmsKeyArn"),
        cloudfront_distribution=Ref("CloudFrontDistributionArn"),
        cloudfront_condition=CLOUDFRONT_CONDITION,
        vpc_endpoint=Ref("S3VpcEndpointId") if images else None,
        vpc_endpoint_condition=VPC_ENDPOINT_CONDITION if images else None,
    )


def table_props(
    config: Config, env: Environment, *, kms_key: Expr | None = None, replica_kms_key: Expr | None = None
) -> TableProps:
    """The table's props: ``kms_key`` (default the ``KmsKeyArn`` parameter) in the stack's region
    and, with replication, ``replica_kms_key`` (default ``ReplicaKmsKeyArn``) in the replica region."""
    return TableProps(
        name=table_name(config.prefix, env.name),
        kms_key=kms_key if kms_key is not None else Ref("KmsKeyArn"),
        replica_region=env.replica_region if env.replication else None,
        replica_kms_key=(replica_kms_key if replica_kms_key is not None else Ref("ReplicaKmsKeyArn"))
        if env.replication
        else None,
        settings=env.table,
        deletion_protection=env.deletion_protection,
        tags=standard_tags(config, env),
    )


def build_table(
    config: Config, env: Environment, *, kms_key: Expr | None = None, replica_kms_key: Expr | None = None
) -> GlobalTable:
    """The environment's table (logical id ``Table``), see :func:`table_props`."""
    return global_table(
        TABLE_LOGICAL_ID, table_props(config, env, kms_key=kms_key, replica_kms_key=replica_kms_key)
    )


def build_bucket(
    config: Config,
    env: Environment,
    purpose: Purpose,
    *,
    kms_key: Expr | None = None,
    access_logs_bucket: Expr | None = None,
    replication: ReplicationConfiguration | None = None,
) -> Bucket:
    """One of the environment's buckets (logical id from ``purpose``), see :func:`bucket_props`."""
    props = bucket_props(
        config, env, purpose, kms_key=kms_key, access_logs_bucket=access_logs_bucket, replication=replication
    )
    return hardened_bucket(purpose.logical_id, props)


def build_bucket_policy(bucket: Bucket, purpose: Purpose, *, kms_key: Expr | None = None) -> BucketPolicy:
    """The policy of one of the environment's buckets, see :func:`bucket_policy_props`."""
    return bucket_policy(bucket, bucket_policy_props(purpose, kms_key=kms_key))
