"""The DynamoDB single table."""

from __future__ import annotations

from typing import Any

from troposphere import Ref
from troposphere.dynamodb import (
    AttributeDefinition,
    ContributorInsightsSpecification,
    GlobalSecondaryIndex,
    KeySchema,
    PointInTimeRecoverySpecification,
    Projection,
    SSESpecification,
    StreamSpecification,
    Table,
    TimeToLiveSpecification,
)

from .config import Config, Environment
from .naming import table_name
from .tags import tags

__all__ = ["TABLE_LOGICAL_ID", "build_table", "gsi"]

TABLE_LOGICAL_ID = "Table"


def gsi(name: str) -> GlobalSecondaryIndex:
    """A global secondary index ``name`` on ``{name}PK``/``{name}SK``, projecting all attributes."""
    return GlobalSecondaryIndex(
        IndexName=name,
        KeySchema=[
            KeySchema(AttributeName=f"{name}PK", KeyType="HASH"),
            KeySchema(AttributeName=f"{name}SK", KeyType="RANGE"),
        ],
        Projection=Projection(ProjectionType="ALL"),
    )


def build_table(config: Config, env: Environment, *, kms_key: Any = None) -> Table:
    """The single table: PK/SK, GSI1 (location) and GSI2 (style), on-demand, SSE-KMS with the
    customer-managed key (``kms_key``, default the ``KmsKeyArn`` parameter), PITR, a
    NEW_AND_OLD_IMAGES stream, Retain policies and deletion protection as configured."""
    key_attributes = ["PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK"]
    props: dict[str, Any] = {
        "TableName": table_name(config.prefix, env.name),
        "BillingMode": "PAY_PER_REQUEST",
        "AttributeDefinitions": [
            AttributeDefinition(AttributeName=a, AttributeType="S") for a in key_attributes
        ],
        "KeySchema": [
            KeySchema(AttributeName="PK", KeyType="HASH"),
            KeySchema(AttributeName="SK", KeyType="RANGE"),
        ],
        "GlobalSecondaryIndexes": [gsi("GSI1"), gsi("GSI2")],
        "SSESpecification": SSESpecification(
            SSEEnabled=True,
            SSEType="KMS",
            KMSMasterKeyId=kms_key if kms_key is not None else Ref("KmsKeyArn"),
        ),
        "PointInTimeRecoverySpecification": PointInTimeRecoverySpecification(
            PointInTimeRecoveryEnabled=True,
            RecoveryPeriodInDays=env.table.pitr_recovery_period_days,
        ),
        "StreamSpecification": StreamSpecification(StreamViewType="NEW_AND_OLD_IMAGES"),
        "DeletionProtectionEnabled": env.deletion_protection,
        "Tags": tags(config, env),
    }
    if env.table.ttl_attribute:
        props["TimeToLiveSpecification"] = TimeToLiveSpecification(
            AttributeName=env.table.ttl_attribute, Enabled=True
        )
    if env.table.contributor_insights:
        props["ContributorInsightsSpecification"] = ContributorInsightsSpecification(Enabled=True)
    return Table(TABLE_LOGICAL_ID, DeletionPolicy="Retain", UpdateReplacePolicy="Retain", **props)
