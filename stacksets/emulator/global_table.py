"""``AWS::DynamoDB::GlobalTable`` for moto's CloudFormation (moto 5 has no model for it and skips
such a resource with a warning).

Emulated: :class:`GlobalTable` creates the table through moto's own DynamoDB backend in every
region of ``Replicas`` (same name, key schema, attribute definitions, GSIs, billing mode, stream
and TTL) with each replica's SSE key, point-in-time recovery (and its recovery period), deletion
protection and tags. DescribeTable of such a table (:class:`ReplicaTable`) reports what AWS
reports for global tables version 2019.11.21: ``GlobalTableVersion`` and the *other* regions'
replicas (``RegionName``, ``ReplicaStatus`` ACTIVE, ``KMSMasterKeyId`` where set) in
``Replicas``, as in AWS's "Determining the global table version" example; plus a ``TableId``. A
lone replica reports neither. Ref is the table name; GetAtt ``Arn``, ``StreamArn`` and
``TableId`` are the stack region's table's.

Create: as on AWS, ``Replicas`` must include the stack's region and more than one replica needs a
stream; a table of that name already in a replica region fails the resource and rolls the stack
back before any table is made. Update: added regions get a table, removed ones lose theirs
(refused while protected), the rest is applied in place; a new ``TableName`` is a replacement; a
key schema change is refused as AWS refuses to replace a custom-named resource. Delete: every
replica's table; refused, before any deletion, while a replica is protected. Rollback, refused
updates, replacement and the deletion and replace policies: see :mod:`.lifecycle`.

Not emulated: replication itself (an item written to one replica is not copied to the others, nor
are existing items copied into an added replica; no replication latency, no
``ReplicationLatency`` metric), replica statuses other than ACTIVE, contributor insights (moto has
no such API), on-demand/provisioned throughput settings, table classes, KMS key checks, the
replicas' per-index settings, Kinesis stream and resource policy specifications.
"""

from __future__ import annotations

import copy
from typing import Any

from moto.cloudformation.exceptions import UnformattedGetAttTemplateException, ValidationError
from moto.core.common_models import CloudFormationModel
from moto.core.exceptions import JsonRESTError
from moto.dynamodb.exceptions import DeletionProtectedException, ResourceInUseException
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.table import GlobalSecondaryIndex, Table
from moto.moto_api._internal import mock_random

from .lifecycle import EmulatedModel, flag

__all__ = ["GLOBAL_TABLE_VERSION", "GlobalTable", "ReplicaTable"]

GLOBAL_TABLE_VERSION = "2019.11.21"


class ReplicaTable(Table):
    """One region's table of a :class:`GlobalTable`: moto's table, described as a replica."""

    def __init__(self, group: GlobalTable, region: str, props: dict[str, Any]) -> None:
        super().__init__(
            group.name,
            account_id=group.account_id,
            region=region,
            schema=props["KeySchema"],
            attr=props["AttributeDefinitions"],
            indexes=props.get("LocalSecondaryIndexes"),
        )
        self.group = group
        self.table_id = str(mock_random.uuid4())
        self.replica_key: str | None = None

    def configure(self, props: dict[str, Any], replica: dict[str, Any]) -> None:
        """Apply the table-level ``props`` and this region's ``replica`` settings in place."""
        self.attr = props["AttributeDefinitions"]
        self.billing_mode = props.get("BillingMode", "PROVISIONED")
        self.global_indexes = [
            GlobalSecondaryIndex.create(
                {"IndexName": g["IndexName"], "KeySchema": g["KeySchema"], "Projection": g["Projection"]},
                self.table_key_attrs,
            )
            for g in props.get("GlobalSecondaryIndexes", [])
        ]
        stream = props.get("StreamSpecification")
        current = self.stream_specification or {}
        if (stream or {}).get("StreamViewType") != (
            current.get("StreamViewType") if current.get("StreamEnabled") else None
        ):
            self.set_stream_specification(dict(stream) if stream else None)
        ttl = props.get("TimeToLiveSpecification") or {}
        self.ttl = (
            {"TimeToLiveStatus": "ENABLED", "AttributeName": ttl["AttributeName"]}
            if flag(ttl.get("Enabled"))
            else {"TimeToLiveStatus": "DISABLED"}
        )
        if flag((props.get("SSESpecification") or {}).get("SSEEnabled")):
            key = (replica.get("SSESpecification") or {}).get("KMSMasterKeyId")
            self.sse_specification = {
                "Enabled": True,
                "SSEType": "KMS",
                "KMSMasterKeyId": key or self._get_default_encryption_key(self.account_id, self.region_name),
            }
            self.replica_key = key
        else:
            self.sse_specification, self.replica_key = None, None
        self.deletion_protection_enabled = flag(replica.get("DeletionProtectionEnabled", False))
        self.tags = copy.deepcopy(replica.get("Tags", []))
        pitr = replica.get("PointInTimeRecoverySpecification") or {}
        spec: dict[str, Any] = {"PointInTimeRecoveryEnabled": flag(pitr.get("PointInTimeRecoveryEnabled"))}
        if "RecoveryPeriodInDays" in pitr:
            spec["RecoveryPeriodInDays"] = int(pitr["RecoveryPeriodInDays"])
        dynamodb_backends[self.account_id][self.region_name].update_continuous_backups(self.name, spec)

    def describe(self, base_key: str = "TableDescription") -> dict[str, Any]:
        result = super().describe(base_key)
        description: dict[str, Any] = result[base_key]
        description["TableId"] = self.table_id
        others = [t for t in self.group.tables().values() if t.region_name != self.region_name]
        if others:
            description["GlobalTableVersion"] = GLOBAL_TABLE_VERSION
            description["Replicas"] = [
                {"RegionName": t.region_name, "ReplicaStatus": "ACTIVE"}
                | ({"KMSMasterKeyId": t.replica_key} if t.replica_key else {})
                for t in others
            ]
        return result


class GlobalTable(EmulatedModel, CloudFormationModel):
    """``AWS::DynamoDB::GlobalTable``: the same table in every region of ``Replicas``."""

    def __init__(self, name: str, account_id: str, region_name: str, resource: dict[str, Any]) -> None:
        super().__init__(name, account_id, region_name, resource)
        self.regions: list[str] = []

    @staticmethod
    def cloudformation_name_type() -> str:
        return "TableName"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::DynamoDB::GlobalTable"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in ("Arn", "StreamArn", "TableId")

    def tables(self) -> dict[str, ReplicaTable]:
        """This global table's replica tables that exist, by region."""
        found = {r: dynamodb_backends[self.account_id][r].tables.get(self.name) for r in self.regions}
        return {r: t for r, t in found.items() if isinstance(t, ReplicaTable) and t.group is self}

    def attribute(self, attribute_name: str) -> Any:
        table = self.tables().get(self.region_name)
        if table is None:  # the creation failed (the stack rolled back): AWS shows no outputs then
            return None
        if attribute_name == "Arn":
            return table.table_arn
        if attribute_name == "TableId":
            return table.table_id
        if not table.latest_stream_label:
            raise UnformattedGetAttTemplateException()
        return f"{table.table_arn}/stream/{table.latest_stream_label}"

    def create_resource(self, props: dict[str, Any]) -> None:
        self.update_resource(props)

    def update_resource(self, props: dict[str, Any]) -> None:
        try:
            self._apply(props)
        except JsonRESTError as error:  # moto's CloudFormation cannot serialise DynamoDB's errors
            raise ValidationError(message=error.message) from error

    def _apply(self, props: dict[str, Any]) -> None:
        """Make the replica tables match ``props``: create, delete, then configure in place."""
        replicas = {r["Region"]: r for r in props.get("Replicas", [])}
        if self.region_name not in replicas:
            raise ValidationError(message=f"Replicas must include the stack's region {self.region_name}")
        if len(replicas) > 1 and not (props.get("StreamSpecification") or {}).get("StreamViewType"):
            raise ValidationError(message="StreamSpecification is required with more than one replica")
        existing = self.tables()
        for region in replicas.keys() - existing.keys():
            if self.name in dynamodb_backends[self.account_id][region].tables:
                raise ResourceInUseException(f"Table already exists: {self.name} (in {region})")
        if any(existing[region].deletion_protection_enabled for region in existing.keys() - replicas.keys()):
            raise DeletionProtectedException(self.name)
        if any(table.schema != props["KeySchema"] for table in existing.values()):
            raise ValidationError(
                message="CloudFormation cannot update a stack when a custom-named resource requires "
                f"replacing. Rename {self.name} and update the stack again."
            )
        for region in existing.keys() - replicas.keys():
            dynamodb_backends[self.account_id][region].delete_table(self.name)
        self.regions = list(replicas)
        for region, replica in replicas.items():
            table = existing.get(region)
            if table is None:
                # moto's Table leaves CloudFormationModel's hooks abstract; it is never parsed as one.
                table = ReplicaTable(self, region, props)  # type: ignore[abstract]
                dynamodb_backends[self.account_id][region].tables[self.name] = table
            table.configure(props, replica)

    def remove_resource(self) -> None:
        """Delete every replica's table; refused, before any deletion, if one is protected."""
        tables = self.tables()
        if any(t.deletion_protection_enabled for t in tables.values()):
            raise ValidationError(message=DeletionProtectedException(self.name).message)
        for region in tables:
            dynamodb_backends[self.account_id][region].delete_table(self.name)
