"""The DynamoDB single table: a global table, in every environment.

``AWS::DynamoDB::GlobalTable`` even with one replica: it costs the same as a plain table, and
adding the replica region later (``replication: true``) is then an in-place update of the
``Replicas`` list, never a change of resource type (which would replace, i.e. delete, the
table). The primary template declares it with the stack's own region as the first replica and,
with replication, the replica region as the second: DynamoDB keeps both read/write replicas in
sync (see docs/disaster-recovery.md for the RPO this gives).
"""

from __future__ import annotations

from typing import Any

from troposphere import AWS_REGION, Ref
from troposphere.dynamodb import (
    AttributeDefinition,
    ContributorInsightsSpecification,
    GlobalTable,
    GlobalTableGlobalSecondaryIndex,
    GlobalTableSSESpecification,
    KeySchema,
    PointInTimeRecoverySpecification,
    Projection,
    ReadOnDemandThroughputSettings,
    ReplicaGlobalSecondaryIndexSpecification,
    ReplicaSpecification,
    ReplicaSSESpecification,
    StreamSpecification,
    TimeToLiveSpecification,
    WriteOnDemandThroughputSettings,
)

from .model import Config, Environment
from .naming import TABLE_LOGICAL_ID, table_name
from .schema import INDEXES, KEY_ATTRIBUTES, PK, SK, Index
from .tags import tags

__all__ = ["GSI_NAMES", "TABLE_LOGICAL_ID", "build_table", "gsi"]

#: The global secondary indexes: GSI1 (location) and GSI2 (style), see :mod:`appstorage.schema`.
GSI_NAMES = tuple(index.name for index in INDEXES)


def gsi(index: Index, max_write_request_units: int | None = None) -> GlobalTableGlobalSecondaryIndex:
    """A global secondary index on its own key attributes, projecting all attributes."""
    props: dict[str, Any] = {}
    if max_write_request_units is not None:
        props["WriteOnDemandThroughputSettings"] = WriteOnDemandThroughputSettings(
            MaxWriteRequestUnits=max_write_request_units
        )
    return GlobalTableGlobalSecondaryIndex(
        IndexName=index.name,
        KeySchema=[
            KeySchema(AttributeName=index.partition_key, KeyType="HASH"),
            KeySchema(AttributeName=index.sort_key, KeyType="RANGE"),
        ],
        Projection=Projection(ProjectionType="ALL"),
        **props,
    )


def _replica(config: Config, env: Environment, region: Any, kms_key: Any) -> ReplicaSpecification:
    """One region's replica: its own key, PITR, deletion protection, insights, tags, read cap."""
    settings = env.table
    props: dict[str, Any] = {
        "Region": region,
        "SSESpecification": ReplicaSSESpecification(KMSMasterKeyId=kms_key),
        "PointInTimeRecoverySpecification": PointInTimeRecoverySpecification(
            PointInTimeRecoveryEnabled=True,
            RecoveryPeriodInDays=settings.pitr_recovery_period_days,
        ),
        "DeletionProtectionEnabled": env.deletion_protection,
        "Tags": tags(config, env),
    }
    if settings.contributor_insights:
        props["ContributorInsightsSpecification"] = ContributorInsightsSpecification(Enabled=True)
    if settings.max_read_request_units is not None:
        read_cap = ReadOnDemandThroughputSettings(MaxReadRequestUnits=settings.max_read_request_units)
        props["ReadOnDemandThroughputSettings"] = read_cap
        props["GlobalSecondaryIndexes"] = [
            ReplicaGlobalSecondaryIndexSpecification(IndexName=name, ReadOnDemandThroughputSettings=read_cap)
            for name in GSI_NAMES
        ]
    return ReplicaSpecification(**props)


def build_table(
    config: Config, env: Environment, *, kms_key: Any = None, replica_kms_key: Any = None
) -> GlobalTable:
    """The single table: PK/SK, GSI1 (location) and GSI2 (style), on-demand, a NEW_AND_OLD_IMAGES
    stream (OpenSearch sync; also what replicas need), Retain policies. One replica in the stack's
    region with ``kms_key`` (default the ``KmsKeyArn`` parameter) and, with replication, one in
    the replica region with ``replica_kms_key`` (default ``ReplicaKmsKeyArn``), each with PITR,
    deletion protection, contributor insights and the on-demand read cap as configured."""
    settings = env.table
    replicas = [_replica(config, env, Ref(AWS_REGION), kms_key if kms_key is not None else Ref("KmsKeyArn"))]
    if env.replication:
        replica_key = replica_kms_key if replica_kms_key is not None else Ref("ReplicaKmsKeyArn")
        replicas.append(_replica(config, env, env.replica_region, replica_key))
    props: dict[str, Any] = {
        "TableName": table_name(config.prefix, env.name),
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            AttributeDefinition(AttributeName=a, AttributeType="S") for a in KEY_ATTRIBUTES
        ],
        "KeySchema": [
            KeySchema(AttributeName=PK, KeyType="HASH"),
            KeySchema(AttributeName=SK, KeyType="RANGE"),
        ],
        "GlobalSecondaryIndexes": [gsi(index, settings.max_write_request_units) for index in INDEXES],
        "SSESpecification": GlobalTableSSESpecification(SSEEnabled=True, SSEType="KMS"),
        "StreamSpecification": StreamSpecification(StreamViewType="NEW_AND_OLD_IMAGES"),
        "Replicas": replicas,
    }
    if settings.ttl_attribute:
        props["TimeToLiveSpecification"] = TimeToLiveSpecification(
            AttributeName=settings.ttl_attribute, Enabled=True
        )
    if settings.max_write_request_units is not None:
        props["WriteOnDemandThroughputSettings"] = WriteOnDemandThroughputSettings(
            MaxWriteRequestUnits=settings.max_write_request_units
        )
    return GlobalTable(TABLE_LOGICAL_ID, DeletionPolicy="Retain", UpdateReplacePolicy="Retain", **props)
