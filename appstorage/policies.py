"""IAM policy statements (awacs), each from a small named function.

Bucket policy statements take the bucket's ARN and its objects' ARN pattern as template
expressions; the replication role's statements take the source and destination bucket
ARNs. Every ARN is partition-safe (``${AWS::Partition}``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from awacs import kms, s3
from awacs.aws import (
    Allow,
    ArnLike,
    Bool,
    Condition,
    Deny,
    Null,
    NumericLessThan,
    PolicyDocument,
    Principal,
    Statement,
    StringEquals,
    StringEqualsIfExists,
    StringLike,
    StringNotEqualsIfExists,
)
from awacs.sts import AssumeRole
from troposphere import AccountId, If, NoValue, Sub

__all__ = [
    "ConditionalStatement",
    "allow_cloudfront_read",
    "allow_vpc_endpoint_access",
    "bucket_policy_document",
    "deny_customer_provided_keys",
    "deny_insecure_transport",
    "deny_kms_without_key_arn",
    "deny_other_encryption_type",
    "deny_other_kms_key",
    "deny_outdated_tls",
    "replication_decrypt_source",
    "replication_encrypt_destination",
    "replication_read_source_objects",
    "replication_read_sources",
    "replication_trust_policy",
    "replication_write_destinations",
]

Expr = Any  # a string or a troposphere intrinsic function


class ConditionalStatement(Statement):
    """A statement present only when a template condition holds (``Fn::If`` / ``AWS::NoValue``)."""

    def __init__(self, condition: str, statement: Statement) -> None:
        super().__init__(**statement.properties)
        self.__dict__["template_condition"] = condition

    def JSONrepr(self) -> Any:
        return If(self.__dict__["template_condition"], dict(super().JSONrepr()), NoValue)


def deny_insecure_transport(bucket_arn: Expr, objects_arn: Expr) -> Statement:
    """Deny every request that does not use TLS (``aws:SecureTransport`` false)."""
    return Statement(
        Sid="DenyInsecureTransport",
        Effect=Deny,
        Principal=Principal("*"),
        Action=[s3.Action("*")],
        Resource=[bucket_arn, objects_arn],
        Condition=Condition(Bool("aws:SecureTransport", "false")),
    )


def deny_outdated_tls(bucket_arn: Expr, objects_arn: Expr) -> Statement:
    """Deny requests made with TLS older than 1.2 (``s3:TlsVersion``)."""
    return Statement(
        Sid="DenyOutdatedTls",
        Effect=Deny,
        Principal=Principal("*"),
        Action=[s3.Action("*")],
        Resource=[bucket_arn, objects_arn],
        Condition=Condition(NumericLessThan("s3:TlsVersion", 1.2)),
    )


def _deny_uploads(sid: str, objects_arn: Expr, condition: Condition) -> Statement:
    """Deny ``s3:PutObject`` (uploads, copies, multipart uploads) to everyone when ``condition``
    holds."""
    return Statement(
        Sid=sid,
        Effect=Deny,
        Principal=Principal("*"),
        Action=[s3.PutObject],
        Resource=[objects_arn],
        Condition=condition,
    )


def deny_other_kms_key(objects_arn: Expr, key_arn: Expr) -> Statement:
    """Deny uploads that name a KMS key other than the bucket's (by its ARN).

    An object under another key can be neither replicated (the replication role may only use our
    keys) nor served (CloudFront may only decrypt with our keys). ``IfExists``: uploads that name
    no key get the bucket default, the normal case. Replicas are written with
    ``s3:ReplicateObject``, not ``s3:PutObject``, so replication is not affected.
    AWS: https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html
    """
    return _deny_uploads(
        "DenyUploadsWithAnotherKmsKey",
        objects_arn,
        Condition(StringNotEqualsIfExists("s3:x-amz-server-side-encryption-aws-kms-key-id", key_arn)),
    )


def deny_kms_without_key_arn(objects_arn: Expr) -> Statement:
    """Deny uploads that ask for SSE-KMS but name no key: S3 then uses the AWS managed key
    ``aws/s3``, not the bucket's, and :func:`deny_other_kms_key` (``IfExists``) lets them through.
    AWS (PutObject, ``SSEKMSKeyId``): "If you specify x-amz-server-side-encryption:aws:kms ... but
    do not provide x-amz-server-side-encryption-aws-kms-key-id, Amazon S3 uses the Amazon Web
    Services managed key (aws/s3) to protect the data."
    https://docs.aws.amazon.com/AmazonS3/latest/API/API_PutObject.html
    """
    return _deny_uploads(
        "DenyKmsUploadsWithoutKeyArn",
        objects_arn,
        Condition(
            [
                StringEquals("s3:x-amz-server-side-encryption", "aws:kms"),
                Null("s3:x-amz-server-side-encryption-aws-kms-key-id", "true"),
            ]
        ),
    )


def deny_other_encryption_type(objects_arn: Expr) -> Statement:
    """Deny uploads that ask for another server-side encryption type than SSE-KMS (``AES256``,
    ``aws:kms:dsse``): those would bypass the key's access control and its audit trail."""
    return _deny_uploads(
        "DenyUploadsWithAnotherEncryptionType",
        objects_arn,
        Condition(StringNotEqualsIfExists("s3:x-amz-server-side-encryption", "aws:kms")),
    )


def deny_customer_provided_keys(objects_arn: Expr) -> Statement:
    """Deny SSE-C uploads (customer-provided keys): S3 could not replicate or serve them. The
    bucket's encryption configuration also blocks SSE-C (``BlockedEncryptionTypes``)."""
    return _deny_uploads(
        "DenyCustomerProvidedKeys",
        objects_arn,
        Condition(Null("s3:x-amz-server-side-encryption-customer-algorithm", "false")),
    )


def allow_cloudfront_read(objects_arn: Expr, distribution: Expr, condition: str | None = None) -> Statement:
    """Let CloudFront (Origin Access Control) read objects for ``distribution``.

    With a template ``condition``, the read is scoped to ``distribution`` when it holds and to any
    distribution of this account when it does not (an optional distribution parameter).
    """
    this_distribution = Condition(StringEquals("AWS:SourceArn", distribution))
    scope: Any = this_distribution
    if condition is not None:
        any_distribution_of_this_account = Condition(
            [
                StringEquals("AWS:SourceAccount", AccountId),
                ArnLike(
                    "AWS:SourceArn",
                    Sub("arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/*"),
                ),
            ]
        )
        scope = If(condition, this_distribution, any_distribution_of_this_account)
    return Statement(
        Sid="AllowCloudFrontRead",
        Effect=Allow,
        Principal=Principal("Service", "cloudfront.amazonaws.com"),
        Action=[s3.GetObject],
        Resource=[objects_arn],
        Condition=scope,
    )


def allow_vpc_endpoint_access(
    bucket_arn: Expr, objects_arn: Expr, endpoint: Expr, condition: str | None = None
) -> Statement:
    """Let this account's principals (with IAM permission) use the bucket through the VPC endpoint;
    with a template ``condition``, only when it holds (an optional endpoint parameter)."""
    statement = Statement(
        Sid="AllowAccountAccessThroughVpcEndpoint",
        Effect=Allow,
        Principal=Principal("AWS", Sub("arn:${AWS::Partition}:iam::${AWS::AccountId}:root")),
        Action=[s3.GetObject, s3.PutObject, s3.DeleteObject, s3.ListBucket],
        Resource=[bucket_arn, objects_arn],
        Condition=Condition(StringEquals("aws:SourceVpce", endpoint)),
    )
    return statement if condition is None else ConditionalStatement(condition, statement)


def bucket_policy_document(statements: Sequence[Statement]) -> PolicyDocument:
    return PolicyDocument(Version="2012-10-17", Statement=list(statements))


# ----------------------------------------------------------------- replication role


def replication_trust_policy() -> PolicyDocument:
    """Only S3 may assume the replication role; when S3 says on whose behalf, it must be this
    account's.

    AWS's replication trust policy has no condition ("Step 2: Creating an IAM role for Amazon S3
    to assume", https://docs.aws.amazon.com/AmazonS3/latest/userguide/setting-repl-config-perm-overview.html),
    and no S3 page says S3 puts ``aws:SourceAccount`` into the request when it assumes the role;
    IAM: the key "is included in the request context only if accessing a resource triggers an AWS
    service to call another service on behalf of the resource owner"
    (https://docs.aws.amazon.com/IAM/latest/UserGuide/reference_policies_condition-keys.html#condition-keys-sourceaccount).
    ``StringEquals`` on an absent key is false and would stop every replication silently, so the
    confused-deputy check is ``IfExists``: it refuses another account when the key is present and
    never blocks S3 when it is not (``iam:PassRole`` already limits the role to this account).
    """
    return PolicyDocument(
        Version="2012-10-17",
        Statement=[
            Statement(
                Effect=Allow,
                Principal=Principal("Service", "s3.amazonaws.com"),
                Action=[AssumeRole],
                Condition=Condition(StringEqualsIfExists("aws:SourceAccount", AccountId)),
            )
        ],
    )


def replication_read_sources(source_bucket_arns: Sequence[Expr]) -> Statement:
    return Statement(
        Sid="ReadReplicationConfiguration",
        Effect=Allow,
        Action=[s3.GetReplicationConfiguration, s3.ListBucket],
        Resource=list(source_bucket_arns),
    )


def replication_read_source_objects(source_object_arns: Sequence[Expr]) -> Statement:
    return Statement(
        Sid="ReadSourceObjectVersions",
        Effect=Allow,
        Action=[
            s3.GetObjectVersionForReplication,
            s3.GetObjectVersionAcl,
            s3.GetObjectVersionTagging,
        ],
        Resource=list(source_object_arns),
    )


def replication_write_destinations(destination_object_arns: Sequence[Expr]) -> Statement:
    return Statement(
        Sid="WriteReplicas",
        Effect=Allow,
        Action=[s3.ReplicateObject, s3.ReplicateDelete, s3.ReplicateTags],
        Resource=list(destination_object_arns),
    )


# KMS for replication, as AWS documents it. The pages disagree, so the role gets the union of what
# they require, each action confined by kms:ViaService (S3 in that region) and the encryption
# context (our buckets):
# - "You must grant the kms:Decrypt permission for the AWS KMS key that's used to decrypt the
#   source object. You must grant the kms:Encrypt permission for the AWS KMS key that's used to
#   encrypt the object replica." (replication-config-for-kms-objects, #replication-kms-permissions)
# - "To use replication with an S3 Bucket Key, the AWS KMS key policy for the KMS key that's used to
#   encrypt the object replica must include the kms:Decrypt permission for the calling principal.
#   The call to kms:Decrypt verifies the integrity of the S3 Bucket Key before using it." (same
#   page, #bk-replication): kms:Decrypt on the replica key.
# - The troubleshooting page's minimum: kms:Decrypt and kms:GenerateDataKey on the source key,
#   kms:GenerateDataKey and kms:Encrypt on the destination key (replication-troubleshoot).
# - Encryption context: "If you use SSE-KMS without enabling an S3 Bucket Key, the object ARN is
#   used ... If you use SSE-KMS and enable an S3 Bucket Key, the bucket ARN is used"
#   (UsingKMSEncryption, #encryption-context), and a replica keeps its source's settings
#   (bucket-key, #bucket-key-replication). Our buckets have Bucket Keys, but any uploader may send
#   x-amz-server-side-encryption-bucket-key-enabled: false, so both forms are allowed, with
#   AWS's StringLike form: the bucket ARN and bucket-ARN/*.
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-config-for-kms-objects.html
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/replication-troubleshoot.html
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/UsingKMSEncryption.html
# https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucket-key.html

#: KMS actions on the source objects' key and on the replica key (see the pages above).
SOURCE_KEY_ACTIONS = (kms.Decrypt, kms.GenerateDataKey)
REPLICA_KEY_ACTIONS = (kms.Encrypt, kms.GenerateDataKey, kms.Decrypt)


def _kms_via_s3(region: Expr, context_arns: Sequence[Expr]) -> Condition:
    """S3 calls KMS in ``region`` for our buckets: the encryption context is the bucket ARN (Bucket
    Key) or the object ARN (no Bucket Key), so ``context_arns`` holds both forms per bucket."""
    return Condition(
        [
            StringEquals("kms:ViaService", region),
            StringLike("kms:EncryptionContext:aws:s3:arn", list(context_arns)),
        ]
    )


def replication_decrypt_source(key_arn: Expr, source_context_arns: Sequence[Expr]) -> Statement:
    """Decrypt source objects with the primary region's key, only through S3 for those buckets."""
    return Statement(
        Sid="DecryptSourceObjects",
        Effect=Allow,
        Action=list(SOURCE_KEY_ACTIONS),
        Resource=[key_arn],
        Condition=_kms_via_s3(Sub("s3.${AWS::Region}.${AWS::URLSuffix}"), source_context_arns),
    )


def replication_encrypt_destination(
    key_arn: Expr, replica_region: str, destination_context_arns: Sequence[Expr]
) -> Statement:
    """Encrypt replicas with the replica region's key (and verify its Bucket Key), only through S3
    for those buckets."""
    return Statement(
        Sid="EncryptReplicas",
        Effect=Allow,
        Action=list(REPLICA_KEY_ACTIONS),
        Resource=[key_arn],
        Condition=_kms_via_s3(Sub(f"s3.{replica_region}.${{AWS::URLSuffix}}"), destination_context_arns),
    )
