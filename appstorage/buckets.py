"""The four S3 buckets and their policies.

Every bucket: SSE-KMS with the region's customer-managed key and an S3 Bucket Key, all
four public access block flags, BucketOwnerEnforced, versioning, access logging to the
region's log bucket, SSE-C blocked, S3 request metrics (configurable), Retain policies.
Frontend buckets hold the SPA build (CloudFront does the SPA routing); images buckets hold
portfolio images with storage-class tiering into classes CloudFront can still serve.
"""

from __future__ import annotations

from typing import Any

from troposphere import GetAtt, Ref, Sub
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
    ReplicationConfiguration,
    ServerSideEncryptionByDefault,
    ServerSideEncryptionRule,
    VersioningConfiguration,
    WebsiteConfiguration,
)

from .model import Config, Environment
from .naming import Purpose, access_log_prefix, bucket_name
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
from .tags import tags
from .validators import check_servable_storage_class

__all__ = [
    "IMAGE_TIERS",
    "REQUEST_METRICS_ID",
    "SPA_ERROR_DOCUMENT",
    "SPA_INDEX_DOCUMENT",
    "build_bucket",
    "build_bucket_policy",
    "cors_rules",
    "lifecycle_rules",
    "servable",
]

SPA_INDEX_DOCUMENT = "index.html"
#: SPA routing: CloudFront maps 403/404 to the index document, so the error document is it too.
SPA_ERROR_DOCUMENT = "index.html"

IMAGE_UPLOAD_HEADERS = ["Content-Type", "Content-MD5", "Content-Length", "x-amz-*"]

#: Images (current and noncurrent versions): (storage class, days). Every class must stay
#: servable by CloudFront (checked at construction): Glacier Instant Retrieval, not GLACIER.
IMAGE_TIERS = (("STANDARD_IA", 30), ("GLACIER_IR", 90))
#: The request-metrics filter id: the whole bucket (CloudWatch dimension FilterId).
REQUEST_METRICS_ID = "EntireBucket"


def encryption(kms_key: Any) -> BucketEncryption:
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


def block_all_public_access() -> PublicAccessBlockConfiguration:
    return PublicAccessBlockConfiguration(
        BlockPublicAcls=True, BlockPublicPolicy=True, IgnorePublicAcls=True, RestrictPublicBuckets=True
    )


def cors_rules(env: Environment, purpose: Purpose) -> CorsConfiguration | None:
    """GET/HEAD from the configured origins; the primary images bucket also takes pre-signed PUTs."""
    if not env.cors_allowed_origins:
        return None
    rule: dict[str, Any] = {
        "Id": f"{purpose.value}-cors",
        "AllowedMethods": ["GET", "HEAD"],
        "AllowedOrigins": list(env.cors_allowed_origins),
        "MaxAge": 3000,
    }
    if purpose is Purpose.IMAGES:
        rule["AllowedMethods"] = ["GET", "HEAD", "PUT"]
        rule["AllowedHeaders"] = IMAGE_UPLOAD_HEADERS
    if purpose in (Purpose.IMAGES, Purpose.IMAGES_BACKUP):
        rule["ExposedHeaders"] = ["ETag"]
    return CorsConfiguration(CorsRules=[CorsRules(**rule)])


def abort_incomplete_uploads() -> LifecycleRule:
    return LifecycleRule(
        Id="abort-incomplete-multipart-uploads",
        Status="Enabled",
        AbortIncompleteMultipartUpload=AbortIncompleteMultipartUpload(DaysAfterInitiation=7),
    )


def servable(storage_class: str, where: str) -> str:
    """``storage_class`` if CloudFront can serve objects stored in it, else ValueError naming
    ``where`` it was asked for, the reason and the fix (builders check at construction, the
    configuration loader checks on load)."""
    problem = check_servable_storage_class(storage_class)
    if problem is not None:
        raise ValueError(f"{where}: {problem[0]}. Fix: {problem[1]}.")
    return storage_class


def lifecycle_rules(env: Environment, purpose: Purpose) -> LifecycleConfiguration:
    """Frontend: old deployment artifacts expire after 30 days. Images: STANDARD_IA at 30 days,
    GLACIER_IR at 90 (:data:`IMAGE_TIERS`, all servable by CloudFront), noncurrent versions
    likewise and expired after the configured period."""
    if purpose in (Purpose.FRONTEND, Purpose.FRONTEND_BACKUP):
        versions = LifecycleRule(
            Id="expire-old-deployments",
            Status="Enabled",
            NoncurrentVersionExpiration=NoncurrentVersionExpiration(NoncurrentDays=30),
        )
        return LifecycleConfiguration(Rules=[versions, abort_incomplete_uploads()])
    tiering = LifecycleRule(
        Id="tier-images",
        Status="Enabled",
        Transitions=[
            LifecycleRuleTransition(StorageClass=servable(cls, "images lifecycle"), TransitionInDays=days)
            for cls, days in IMAGE_TIERS
        ],
        NoncurrentVersionTransitions=[
            NoncurrentVersionTransition(StorageClass=servable(cls, "images lifecycle"), TransitionInDays=days)
            for cls, days in IMAGE_TIERS
        ],
        NoncurrentVersionExpiration=NoncurrentVersionExpiration(
            NoncurrentDays=env.images.noncurrent_expiration_days
        ),
    )
    return LifecycleConfiguration(Rules=[tiering, abort_incomplete_uploads()])


def build_bucket(
    config: Config,
    env: Environment,
    purpose: Purpose,
    *,
    kms_key: Any = None,
    access_logs_bucket: Any = None,
    replication: ReplicationConfiguration | None = None,
) -> Bucket:
    """One hardened bucket. ``kms_key`` and ``access_logs_bucket`` default to the ``KmsKeyArn``
    and ``AccessLogsBucketName`` parameters; ``replication`` is set on primary buckets when
    cross-region replication is on (see :mod:`appstorage.replication`)."""
    props: dict[str, Any] = {
        "BucketName": bucket_name(config.prefix, env.name, purpose),
        "BucketEncryption": encryption(kms_key if kms_key is not None else Ref("KmsKeyArn")),
        "PublicAccessBlockConfiguration": block_all_public_access(),
        "OwnershipControls": OwnershipControls(
            Rules=[OwnershipControlsRule(ObjectOwnership="BucketOwnerEnforced")]
        ),
        "VersioningConfiguration": VersioningConfiguration(Status="Enabled"),
        "LoggingConfiguration": LoggingConfiguration(
            DestinationBucketName=access_logs_bucket
            if access_logs_bucket is not None
            else Ref("AccessLogsBucketName"),
            LogFilePrefix=access_log_prefix(config.prefix, env.name, purpose),
        ),
        "LifecycleConfiguration": lifecycle_rules(env, purpose),
        "Tags": tags(config, env),
    }
    cors = cors_rules(env, purpose)
    if cors is not None:
        props["CorsConfiguration"] = cors
    if env.website and purpose in (Purpose.FRONTEND, Purpose.FRONTEND_BACKUP):
        props["WebsiteConfiguration"] = WebsiteConfiguration(
            IndexDocument=SPA_INDEX_DOCUMENT, ErrorDocument=SPA_ERROR_DOCUMENT
        )
    if env.monitoring.request_metrics:
        props["MetricsConfigurations"] = [MetricsConfiguration(Id=REQUEST_METRICS_ID)]
    if replication is not None:
        props["ReplicationConfiguration"] = replication
    return Bucket(
        purpose.logical_id,
        DeletionPolicy="Retain",
        UpdateReplacePolicy="Retain",
        **props,
    )


def build_bucket_policy(bucket: Bucket, purpose: Purpose, *, kms_key: Any = None) -> BucketPolicy:
    """TLS only (1.2+); uploads only under the bucket's key (``kms_key``, default the ``KmsKeyArn``
    parameter), never another SSE type or SSE-C; CloudFront OAC reads; for images buckets access
    through the VPC endpoint when one is given."""
    bucket_arn = GetAtt(bucket, "Arn")
    objects_arn = Sub(f"${{{bucket.title}.Arn}}/*")
    statements = [
        deny_insecure_transport(bucket_arn, objects_arn),
        deny_outdated_tls(bucket_arn, objects_arn),
        deny_other_kms_key(objects_arn, kms_key if kms_key is not None else Ref("KmsKeyArn")),
        deny_kms_without_key_arn(objects_arn),
        deny_other_encryption_type(objects_arn),
        deny_customer_provided_keys(objects_arn),
        allow_cloudfront_read(objects_arn),
    ]
    if purpose in (Purpose.IMAGES, Purpose.IMAGES_BACKUP):
        statements.append(allow_vpc_endpoint_access(bucket_arn, objects_arn))
    return BucketPolicy(
        f"{bucket.title}Policy",
        Bucket=Ref(bucket),
        PolicyDocument=bucket_policy_document(statements),
    )
