"""Hardened S3 buckets and their policies, built from props (:mod:`appstorage.props`).

Every bucket: SSE-KMS with a customer-managed key and an S3 Bucket Key, SSE-C blocked, all
four public access block flags, BucketOwnerEnforced, versioning, access logging, a lifecycle
that expires noncurrent versions and aborts incomplete uploads; request metrics, CORS, website
hosting, replication and Retain policies as the props say. Every policy: TLS 1.2 or later only,
uploads only under the bucket's key; CloudFront reads and VPC endpoint access only when asked.
"""

from __future__ import annotations

from typing import Any

from troposphere import GetAtt, Ref, Sub, Tags
from troposphere.s3 import (
    AbortIncompleteMultipartUpload,
    BlockedEncryptionTypes,
    Bucket,
    BucketEncryption,
    BucketPolicy,
    CorsConfiguration,
    CorsRules,
    LifecycleConfiguration,
    LifecycleRule,
    LifecycleRuleTransition,
    LoggingConfiguration,
    MetricsConfiguration,
    NoncurrentVersionExpiration,
    NoncurrentVersionTransition,
    OwnershipControls,
    OwnershipControlsRule,
    PublicAccessBlockConfiguration,
    ServerSideEncryptionByDefault,
    ServerSideEncryptionRule,
    VersioningConfiguration,
    WebsiteConfiguration,
)

from .errors import FieldError, PropsError
from .policies import (
    allow_cloudfront_read,
    allow_vpc_endpoint_access,
    bucket_policy_document,
    deny_customer_provided_keys,
    deny_insecure_transport,
    deny_kms_without_key_arn,
    deny_other_encryption_type,
    deny_other_kms_key,
    deny_outdated_tls,
)
from .props import BucketPolicyProps, BucketProps, CorsRule, Expr, Lifecycle, checked_logical_id, retention

__all__ = [
    "ABORT_INCOMPLETE_UPLOADS_DAYS",
    "REQUEST_METRICS_ID",
    "SPA_ERROR_DOCUMENT",
    "SPA_INDEX_DOCUMENT",
    "bucket_policy",
    "hardened_bucket",
]

SPA_INDEX_DOCUMENT = "index.html"
#: SPA routing: CloudFront maps 403/404 to the index document, so the error document is it too.
SPA_ERROR_DOCUMENT = "index.html"
#: The request-metrics filter id: the whole bucket (CloudWatch dimension FilterId).
REQUEST_METRICS_ID = "EntireBucket"
#: Incomplete multipart uploads are aborted (and their parts deleted) after this many days.
ABORT_INCOMPLETE_UPLOADS_DAYS = 7


def _encryption(kms_key: Expr) -> BucketEncryption:
    """SSE-KMS with the customer-managed key and an S3 Bucket Key; SSE-C blocked explicitly (S3's
    default since April 2026 for new buckets, but not in every region nor for existing ones)."""
    return BucketEncryption(
        ServerSideEncryptionConfiguration=[
            ServerSideEncryptionRule(
                ServerSideEncryptionByDefault=ServerSideEncryptionByDefault(
                    SSEAlgorithm="aws:kms", KMSMasterKeyID=kms_key
                ),
                BucketKeyEnabled=True,
                BlockedEncryptionTypes=BlockedEncryptionTypes(EncryptionType=["SSE-C"]),
            )
        ]
    )


def _block_all_public_access() -> PublicAccessBlockConfiguration:
    return PublicAccessBlockConfiguration(
        BlockPublicAcls=True, BlockPublicPolicy=True, IgnorePublicAcls=True, RestrictPublicBuckets=True
    )


def _cors(rule: CorsRule) -> CorsConfiguration:
    props: dict[str, Any] = {
        "AllowedMethods": list(rule.methods),
        "AllowedOrigins": list(rule.origins),
        "MaxAge": rule.max_age_seconds,
    }
    if rule.rule_id is not None:
        props["Id"] = rule.rule_id
    if rule.allowed_headers:
        props["AllowedHeaders"] = list(rule.allowed_headers)
    if rule.exposed_headers:
        props["ExposedHeaders"] = list(rule.exposed_headers)
    return CorsConfiguration(CorsRules=[CorsRules(**props)])


def _lifecycle(lifecycle: Lifecycle) -> LifecycleConfiguration:
    rule: dict[str, Any] = {
        "Id": lifecycle.rule_id,
        "Status": "Enabled",
        "NoncurrentVersionExpiration": NoncurrentVersionExpiration(
            NoncurrentDays=lifecycle.noncurrent_expiration_days
        ),
    }
    if lifecycle.tiers:
        rule["Transitions"] = [
            LifecycleRuleTransition(StorageClass=cls, TransitionInDays=days) for cls, days in lifecycle.tiers
        ]
        rule["NoncurrentVersionTransitions"] = [
            NoncurrentVersionTransition(StorageClass=cls, TransitionInDays=days)
            for cls, days in lifecycle.tiers
        ]
    abort = LifecycleRule(
        Id="abort-incomplete-multipart-uploads",
        Status="Enabled",
        AbortIncompleteMultipartUpload=AbortIncompleteMultipartUpload(
            DaysAfterInitiation=ABORT_INCOMPLETE_UPLOADS_DAYS
        ),
    )
    return LifecycleConfiguration(Rules=[LifecycleRule(**rule), abort])


def hardened_bucket(logical_id: str, props: BucketProps) -> Bucket:
    """One hardened ``AWS::S3::Bucket`` named ``logical_id`` in the template, as ``props`` say
    (see :class:`appstorage.props.BucketProps` for what is always there and each default)."""
    checked_logical_id(logical_id, "hardened_bucket")
    resource: dict[str, Any] = {
        "BucketEncryption": _encryption(props.kms_key),
        "PublicAccessBlockConfiguration": _block_all_public_access(),
        "OwnershipControls": OwnershipControls(
            Rules=[OwnershipControlsRule(ObjectOwnership="BucketOwnerEnforced")]
        ),
        "VersioningConfiguration": VersioningConfiguration(Status="Enabled"),
        "LoggingConfiguration": LoggingConfiguration(
            DestinationBucketName=props.access_logs_bucket,
            LogFilePrefix=props.log_prefix if props.log_prefix is not None else f"s3/{logical_id}/",
        ),
        "LifecycleConfiguration": _lifecycle(props.lifecycle),
    }
    if props.name is not None:
        resource["BucketName"] = props.name
    if props.tags:
        resource["Tags"] = Tags(**dict(sorted(props.tags.items())))
    if props.cors is not None:
        resource["CorsConfiguration"] = _cors(props.cors)
    if props.website:
        resource["WebsiteConfiguration"] = WebsiteConfiguration(
            IndexDocument=SPA_INDEX_DOCUMENT, ErrorDocument=SPA_ERROR_DOCUMENT
        )
    if props.request_metrics:
        resource["MetricsConfigurations"] = [MetricsConfiguration(Id=REQUEST_METRICS_ID)]
    if props.replication is not None:
        resource["ReplicationConfiguration"] = props.replication
    return Bucket(logical_id, **retention(props.retain), **resource)


def _default_key(bucket: Bucket) -> Expr:
    """The KMS key of the bucket's default encryption."""
    try:
        rule = bucket.BucketEncryption.ServerSideEncryptionConfiguration[0]
        key: Expr = rule.ServerSideEncryptionByDefault.KMSMasterKeyID
    except (AttributeError, IndexError, KeyError):
        raise PropsError(
            "bucket_policy",
            [
                FieldError(
                    "kms_key",
                    f"the bucket {bucket.title} has no default KMS key to take",
                    "pass BucketPolicyProps(kms_key=...), or build the bucket with hardened_bucket",
                )
            ],
        ) from None
    return key


def bucket_policy(bucket: Bucket, props: BucketPolicyProps | None = None) -> BucketPolicy:
    """The ``AWS::S3::BucketPolicy`` ``{bucket's logical id}Policy`` of a hardened bucket: TLS only
    (1.2+); uploads only under the bucket's key (``props.kms_key``, default the bucket's), never
    another SSE type or SSE-C; and only what ``props`` add (see
    :class:`appstorage.props.BucketPolicyProps`): CloudFront reads, VPC endpoint access."""
    props = props if props is not None else BucketPolicyProps()
    bucket_arn = GetAtt(bucket, "Arn")
    objects_arn = Sub(f"${{{bucket.title}.Arn}}/*")
    statements = [
        deny_insecure_transport(bucket_arn, objects_arn),
        deny_outdated_tls(bucket_arn, objects_arn),
        deny_other_kms_key(objects_arn, props.kms_key if props.kms_key is not None else _default_key(bucket)),
        deny_kms_without_key_arn(objects_arn),
        deny_other_encryption_type(objects_arn),
        deny_customer_provided_keys(objects_arn),
    ]
    if props.cloudfront_distribution is not None:
        statements.append(
            allow_cloudfront_read(objects_arn, props.cloudfront_distribution, props.cloudfront_condition)
        )
    if props.vpc_endpoint is not None:
        statements.append(
            allow_vpc_endpoint_access(
                bucket_arn, objects_arn, props.vpc_endpoint, props.vpc_endpoint_condition
            )
        )
    return BucketPolicy(
        f"{bucket.title}Policy",
        Bucket=Ref(bucket),
        PolicyDocument=bucket_policy_document(statements),
    )
