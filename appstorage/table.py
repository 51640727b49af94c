"""The DynamoDB single table: a global table, built from :class:`appstorage.props.TableProps`.

``AWS::DynamoDB::GlobalTable`` even with one replica: it costs the same as a plain table, and
adding the replica region later (``replication: true``) is then an in-place update of the
``Replicas`` list, never a change of resource type (which would replace, i.e. delete, the
table). The primary template declares it with the stack's own region as the first replica and,
with replication, the replica region as the second: DynamoDB keeps both read/write replicas in
sync (see docs/disaster-recovery.md for the RPO this gives).
"""

from __future__ import annotations

from typing import Any

from troposphere import AWS_REGION, Ref, Tags
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

from .naming import TABLE_LOGICAL_ID
from .props import Expr, TableProps, checked_logical_id, retention
from .schema import INDEXES, KEY_ATTRIBUTES, PK, SK, Index

__all__ = ["GSI_NAMES", "TABLE_LOGICAL_ID", "global_table", "gsi"]

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


def _replica(props: TableProps, region: Expr, kms_key: Expr) -> ReplicaSpecification:
    """One region's replica: its own key, PITR, deletion protection, insights, tags, read cap."""
    settings = props.settings
    replica: dict[str, Any] = {
        "Region": region,
        "SSESpecification": ReplicaSSESpecification(KMSMasterKeyId=kms_key),
        "PointInTimeRecoverySpecification": PointInTimeRecoverySpecification(
            PointInTimeRecoveryEnabled=True,
            RecoveryPeriodInDays=settings.pitr_recovery_period_days,
        ),
        "DeletionProtectionEnabled": props.deletion_protection,
    }
    if props.tags:
        replica["Tags"] = Tags(**dict(sorted(props.tags.items())))
    if settings.contributor_insights:
        replica["ContributorInsightsSpecification"] = ContributorInsightsSpecification(Enabled=True)
    if settings.max_read_request_units is not None:
        read_cap = ReadOnDemandThroughputSettings(MaxReadRequestUnits=settings.max_read_request_units)
        replica["ReadOnDemandThroughputSettings"] = read_cap
        replica["GlobalSecondaryIndexes"] = [
            ReplicaGlobalSecondaryIndexSpecification(IndexName=name, ReadOnDemandThroughputSettings=read_cap)
            for name in GSI_NAMES
        ]
    return ReplicaSpecification(**replica)


def global_table(logical_id: str, props: TableProps) -> GlobalTable:
    """The single table ``logical_id``: PK/SK, GSI1 (location) and GSI2 (style) from
    :mod:`appstorage.schema`, on-demand, a NEW_AND_OLD_IMAGES stream (OpenSearch sync; also what
    replicas need). One replica in the stack's region with ``props.kms_key`` and, with
    ``props.replica_region``, one there with ``props.replica_kms_key``; each with PITR, deletion
    protection, contributor insights and the on-demand read cap as ``props.settings`` say (see
    :class:`appstorage.props.TableProps` for each default)."""
    checked_logical_id(logical_id, "global_table")
    settings = props.settings
    replicas = [_replica(props, Ref(AWS_REGION), props.kms_key)]
    if props.replica_region is not None and props.replica_kms_key is not None:
        replicas.append(_replica(props, props.replica_region, props.replica_kms_key))
    table: dict[str, Any] = {
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
    if props.name is not None:
        table["TableName"] = props.name
    if settings.ttl_attribute:
        table["TimeToLiveSpecification"] = TimeToLiveSpecification(
            AttributeName=settings.ttl_attribute, Enabled=True
        )
    if settings.max_write_request_units is not None:
        table["WriteOnDemandThroughputSettings"] = WriteOnDemandThroughputSettings(
            MaxWriteRequestUnits=settings.max_write_request_units
        )
    return GlobalTable(logical_id, **retention(props.retain), **table)
