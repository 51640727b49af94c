"""Cross-region replication: the rule on each primary bucket and the least-privilege role."""

from __future__ import annotations

from typing import Any

from troposphere import GetAtt, Ref, Sub
from troposphere.iam import Policy, Role
from troposphere.s3 import (
    DeleteMarkerReplication,
    EncryptionConfiguration,
    Metrics,
    ReplicationConfiguration,
    ReplicationConfigurationRules,
    ReplicationConfigurationRulesDestination,
    ReplicationRuleFilter,
    ReplicationTime,
    ReplicationTimeValue,
    SourceSelectionCriteria,
    SseKmsEncryptedObjects,
)

from . import naming
from .model import Config, Environment
from .naming import Purpose
from .policies import (
    bucket_policy_document,
    replication_decrypt_source,
    replication_encrypt_destination,
    replication_read_source_objects,
    replication_read_sources,
    replication_trust_policy,
    replication_write_destinations,
)
from .tags import tags

__all__ = [
    "REPLICATED",
    "REPLICATION_ROLE_LOGICAL_ID",
    "RTC_MINUTES",
    "bucket_arn",
    "build_replication_configuration",
    "build_replication_role",
    "rule_id",
]

REPLICATION_ROLE_LOGICAL_ID = "ReplicationRole"
#: Replication Time Control: 99.99% of objects within 15 minutes backs the RPO of 15 minutes.
RTC_MINUTES = 15
REPLICATED = (Purpose.FRONTEND, Purpose.IMAGES)


def bucket_arn(config: Config, env: Environment, purpose: Purpose, *, objects: bool = False) -> Sub:
    """The ARN of one of our buckets (:func:`appstorage.naming.bucket_arn`): backup buckets live in
    the replica region, primary buckets in the stack's own region."""
    region = env.replica_region if purpose.is_backup else None
    return naming.bucket_arn(config.prefix, env.name, purpose, region, objects=objects)


def rule_id(env: Environment, purpose: Purpose) -> str:
    """The id of a primary bucket's replication rule (also a dimension of its metrics)."""
    return f"replicate-{purpose.value}-to-{env.replica_region}"


def build_replication_configuration(
    config: Config, env: Environment, purpose: Purpose, *, role_arn: Any = None, replica_key: Any = None
) -> ReplicationConfiguration:
    """One rule for the whole bucket to its replica-region backup: delete markers, SSE-KMS
    objects re-encrypted with the replica key, Replication Time Control with metrics."""
    fifteen = ReplicationTimeValue(Minutes=RTC_MINUTES)
    destination: dict[str, Any] = {
        "Bucket": bucket_arn(config, env, purpose.backup),
        "EncryptionConfiguration": EncryptionConfiguration(
            ReplicaKmsKeyID=replica_key if replica_key is not None else Ref("ReplicaKmsKeyArn")
        ),
        "ReplicationTime": ReplicationTime(Status="Enabled", Time=fifteen),
        "Metrics": Metrics(Status="Enabled", EventThreshold=fifteen),
    }
    storage_class = env.images.replica_storage_class  # servable: checked by ImagesSettings
    if purpose is Purpose.IMAGES and storage_class != "STANDARD":
        destination["StorageClass"] = storage_class
    return ReplicationConfiguration(
        Role=role_arn if role_arn is not None else GetAtt(REPLICATION_ROLE_LOGICAL_ID, "Arn"),
        Rules=[
            ReplicationConfigurationRules(
                Id=rule_id(env, purpose),
                Priority=1,
                Status="Enabled",
                Filter=ReplicationRuleFilter(Prefix=""),
                DeleteMarkerReplication=DeleteMarkerReplication(Status="Enabled"),
                SourceSelectionCriteria=SourceSelectionCriteria(
                    SseKmsEncryptedObjects=SseKmsEncryptedObjects(Status="Enabled")
                ),
                Destination=ReplicationConfigurationRulesDestination(**destination),
            )
        ],
    )


def build_replication_role(
    config: Config, env: Environment, *, source_key: Any = None, replica_key: Any = None
) -> Role:
    """The role S3 assumes to replicate: exactly the actions replication needs, on exactly our
    buckets and keys, KMS use restricted to S3 in the right region for the right buckets."""
    sources = [bucket_arn(config, env, p) for p in REPLICATED]
    destinations = [bucket_arn(config, env, p.backup) for p in REPLICATED]
    source_objects = [bucket_arn(config, env, p, objects=True) for p in REPLICATED]
    destination_objects = [bucket_arn(config, env, p.backup, objects=True) for p in REPLICATED]
    statements = [
        replication_read_sources(sources),
        replication_read_source_objects(source_objects),
        replication_write_destinations(destination_objects),
        replication_decrypt_source(
            source_key if source_key is not None else Ref("KmsKeyArn"),
            [*sources, *source_objects],
        ),
        replication_encrypt_destination(
            replica_key if replica_key is not None else Ref("ReplicaKmsKeyArn"),
            env.replica_region,
            [*destinations, *destination_objects],
        ),
    ]
    return Role(
        REPLICATION_ROLE_LOGICAL_ID,
        Description=f"S3 cross-region replication of {config.project} {env.name} to {env.replica_region}",
        AssumeRolePolicyDocument=replication_trust_policy(),
        Policies=[Policy(PolicyName="s3-replication", PolicyDocument=bucket_policy_document(statements))],
        Tags=tags(config, env),
    )
