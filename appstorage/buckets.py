"""The four S3 buckets and their policies.

Every bucket: SSE-KMS with the region's customer-managed key and an S3 Bucket Key, all
four public access block flags, BucketOwnerEnforced, versioning, access logging to the
region's log bucket, Retain policies. Frontend buckets hold the SPA build (CloudFront does
the SPA routing); images buckets hold portfolio images with storage-class tiering.
"""

from __future__ import annotations

from typing import Any

from troposphere import GetAtt, Ref, Sub
from troposphere.s3 import (
    AbortIncompleteMultipartUpload,
    Bucket,
    BucketEncryption,
    BucketPolicy,
    CorsConfiguration,
    CorsRules,
    LifecycleConfiguration,
    LifecycleRule,
    LifecycleRuleTransition,
    LoggingConfiguration,
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

from .config import Config, Environment
from .naming import Purpose, bucket_name
from .policies import (
    allow_cloudfront_read,
    allow_vpc_endpoint_access,
    bucket_policy_document,
    deny_insecure_transport,
    deny_outdated_tls,
)
from .tags import tags

__all__ = [
    "SPA_ERROR_DOCUMENT",
    "SPA_INDEX_DOCUMENT",
    "build_bucket",
    "build_bucket_policy",
    "cors_rules",
    "lifecycle_rules",
]

SPA_INDEX_DOCUMENT = "index.html"
#: SPA routing: CloudFront maps 403/404 to the index document, so the error document is it too.
SPA_ERROR_DOCUMENT = "index.html"

IMAGE_UPLOAD_HEADERS = ["Content-Type", "Content-MD5", "Content-Length", "x-amz-*"]


def encryption(kms_key: Any) -> BucketEncryption:
    return BucketEncryption(
        ServerSideEncryptionConfiguration=[
            ServerSideEncryptionRule(
                ServerSideEncryptionByDefault=ServerSideEncryptionByDefault(
                    SSEAlgorithm="aws:kms", KMSMasterKeyID=kms_key
                ),
                BucketKeyEnabled=True,
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


def lifecycle_rules(env: Environment, purpose: Purpose) -> LifecycleConfiguration:
    """Frontend: old deployment artifacts expire after 30 days. Images: STANDARD_IA at 30 days,
    GLACIER at 90, noncurrent versions likewise and expired after the configured period."""
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
            LifecycleRuleTransition(StorageClass="STANDARD_IA", TransitionInDays=30),
            LifecycleRuleTransition(StorageClass="GLACIER", TransitionInDays=90),
        ],
        NoncurrentVersionTransitions=[
            NoncurrentVersionTransition(StorageClass="STANDARD_IA", TransitionInDays=30),
            NoncurrentVersionTransition(StorageClass="GLACIER", TransitionInDays=90),
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
            LogFilePrefix=f"s3/{config.prefix}-{env.name}-{purpose.value}/",
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
    if replication is not None:
        props["ReplicationConfiguration"] = replication
    return Bucket(
        purpose.logical_id,
        DeletionPolicy="Retain",
        UpdateReplacePolicy="Retain",
        **props,
    )


def build_bucket_policy(bucket: Bucket, purpose: Purpose) -> BucketPolicy:
    """TLS only (1.2+), CloudFront OAC reads, and for images buckets access through the VPC
    endpoint when one is given."""
    bucket_arn = GetAtt(bucket, "Arn")
    objects_arn = Sub(f"${{{bucket.title}.Arn}}/*")
    statements = [
        deny_insecure_transport(bucket_arn, objects_arn),
        deny_outdated_tls(bucket_arn, objects_arn),
        allow_cloudfront_read(objects_arn),
    ]
    if purpose in (Purpose.IMAGES, Purpose.IMAGES_BACKUP):
        statements.append(allow_vpc_endpoint_access(bucket_arn, objects_arn))
    return BucketPolicy(
        f"{bucket.title}Policy",
        Bucket=Ref(bucket),
        PolicyDocument=bucket_policy_document(statements),
    )
