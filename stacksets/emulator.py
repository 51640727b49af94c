"""What the embedded emulator (moto) adds to moto's CloudFormation: ``AWS::DynamoDB::GlobalTable``.

moto 5 has no model for it and skips the resource with a warning. :func:`register_models`
registers :class:`GlobalTable`, which creates the table through moto's own DynamoDB backend in
every region of ``Replicas`` (same name, key schema, attribute definitions, GSIs, billing mode,
stream and TTL) with each replica's SSE key, point-in-time recovery (and its recovery period),
deletion protection and tags. DescribeTable of such a table reports what AWS reports for global
tables version 2019.11.21: ``GlobalTableVersion`` and the *other* regions' replicas
(``RegionName``, ``ReplicaStatus`` ACTIVE, ``KMSMasterKeyId`` where set) in ``Replicas``, as in
AWS's "Determining the global table version" example; plus a ``TableId``. A lone replica
reports neither. Ref is the table name; GetAtt ``Arn``, ``StreamArn`` and ``TableId`` are the
stack region's table's.

Create: as on AWS, ``Replicas`` must include the stack's region and more than one replica needs a
stream; a table of that name already in a replica region fails the resource and rolls the
stack back (ROLLBACK_COMPLETE, the reason in the resource's CREATE_FAILED event) before any
table is made (moto keeps the stack's other resources). Update: added regions get a table,
removed ones lose theirs (refused while protected), the rest is applied in place; a new
``TableName`` is a replacement (the old tables go unless ``UpdateReplacePolicy`` is Retain); a
key schema change is refused as AWS refuses to replace a custom-named resource. moto cannot
roll an update back, so a refused update fails the UpdateStack call (ValidationError). Delete
(stack deletion, or the resource left the template): every replica's table, unless
``DeletionPolicy`` is Retain; refused, before any deletion, while a replica is protected.

Not emulated: replication itself (an item written to one replica is not copied to the others,
nor are existing items copied into an added replica; no replication latency, no
``ReplicationLatency`` metric), replica statuses other than ACTIVE, contributor insights (moto
has no such API), on-demand/provisioned throughput settings, table classes, KMS key checks,
the replicas' per-index settings, Kinesis stream and resource policy specifications.
"""

from __future__ import annotations

import contextlib
import copy
from typing import Any

from moto.cloudformation import parsing
from moto.cloudformation.exceptions import UnformattedGetAttTemplateException, ValidationError
from moto.cloudformation.models import Event, cloudformation_backends
from moto.core.common_models import CloudFormationModel
from moto.core.exceptions import JsonRESTError
from moto.dynamodb.exceptions import DeletionProtectedException, ResourceInUseException
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.table import GlobalSecondaryIndex, Table
from moto.moto_api._internal import mock_random

__all__ = ["GLOBAL_TABLE_VERSION", "GlobalTable", "ReplicaTable", "register_models"]

GLOBAL_TABLE_VERSION = "2019.11.21"


def register_models() -> None:
    """Make moto's CloudFormation parser see :class:`GlobalTable` (idempotent).

    Defining the class registered it (moto lists ``CloudFormationModel.__subclasses__()``); the
    parser caches that list, so the caches are cleared in case moto built them already.
    """
    for cached in (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map):
        cached.cache_clear()


def _flag(value: Any) -> bool:
    """A CloudFormation boolean: JSON true, or "true" from a parameter."""
    return value is True or str(value).lower() == "true"


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
            if _flag(ttl.get("Enabled"))
            else {"TimeToLiveStatus": "DISABLED"}
        )
        if _flag((props.get("SSESpecification") or {}).get("SSEEnabled")):
            key = (replica.get("SSESpecification") or {}).get("KMSMasterKeyId")
            self.sse_specification = {
                "Enabled": True,
                "SSEType": "KMS",
                "KMSMasterKeyId": key or self._get_default_encryption_key(self.account_id, self.region_name),
            }
            self.replica_key = key
        else:
            self.sse_specification, self.replica_key = None, None
        self.deletion_protection_enabled = _flag(replica.get("DeletionProtectionEnabled", False))
        self.tags = copy.deepcopy(replica.get("Tags", []))
        pitr = replica.get("PointInTimeRecoverySpecification") or {}
        spec: dict[str, Any] = {"PointInTimeRecoveryEnabled": _flag(pitr.get("PointInTimeRecoveryEnabled"))}
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


class GlobalTable(CloudFormationModel):
    """``AWS::DynamoDB::GlobalTable``: the same table in every region of ``Replicas``."""

    def __init__(self, name: str, account_id: str, region_name: str, resource: dict[str, Any]) -> None:
        self.name = name
        self.account_id = account_id
        self.region_name = region_name
        self.regions: list[str] = []
        self.failed = False
        self.deletion_policy = resource.get("DeletionPolicy", "Delete")
        self.replace_policy = resource.get("UpdateReplacePolicy", "Delete")

    @staticmethod
    def cloudformation_name_type() -> str:
        return "TableName"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::DynamoDB::GlobalTable"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr in ("Arn", "StreamArn", "TableId")

    @property
    def physical_resource_id(self) -> str:
        return self.name

    def is_created(self) -> bool:
        return not self.failed

    def tables(self) -> dict[str, ReplicaTable]:
        """This global table's replica tables that exist, by region."""
        found = {r: dynamodb_backends[self.account_id][r].tables.get(self.name) for r in self.regions}
        return {r: t for r, t in found.items() if isinstance(t, ReplicaTable) and t.group is self}

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if not self.has_cfn_attr(attribute_name):
            raise UnformattedGetAttTemplateException()
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

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> GlobalTable:
        table = cls(resource_name, account_id, region_name, cloudformation_json)
        try:
            table._apply(cloudformation_json["Properties"])
        except (ResourceInUseException, ValidationError) as error:
            stack = cloudformation_backends[account_id][region_name].stacks.get(kwargs.get("StackId", ""))
            if stack is None or stack.status != "CREATE_IN_PROGRESS":
                raise ValidationError(message=error.message) from error
            # What AWS does (moto would fail the CreateStack call and then every DescribeStacks,
            # which re-parses the resource): the resource fails, the stack rolls back.
            reason = f"Resource handler returned message: {error.message!r}"
            event = Event(
                stack_id=stack.stack_id,
                stack_name=stack.name,
                logical_resource_id=kwargs["LogicalId"],
                physical_resource_id=resource_name,
                resource_type=cls.cloudformation_type(),
                resource_status="CREATE_FAILED",
                resource_status_reason=reason,
                resource_properties=None,
            )
            stack.events.append(event)
            stack._add_stack_event(
                "ROLLBACK_COMPLETE", f"The following resource(s) failed to create: [{kwargs['LogicalId']}]."
            )
            stack.status = "ROLLBACK_COMPLETE"
            table.failed = True
        return table

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: GlobalTable,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> GlobalTable:
        if new_resource_name != original_resource.name:  # a replacement
            replacement = cls.create_from_cloudformation_json(
                new_resource_name, cloudformation_json, account_id, region_name
            )
            if original_resource.replace_policy != "Retain":
                # On AWS a failed clean-up (a protected table) leaves the old table; the update completes.
                with contextlib.suppress(ValidationError):
                    original_resource.delete_tables()
            return replacement
        original_resource.deletion_policy = cloudformation_json.get("DeletionPolicy", "Delete")
        original_resource.replace_policy = cloudformation_json.get("UpdateReplacePolicy", "Delete")
        try:
            original_resource._apply(cloudformation_json["Properties"])
        except JsonRESTError as error:  # moto's CloudFormation cannot serialise DynamoDB's errors
            raise ValidationError(message=error.message) from error
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> None:
        raise NotImplementedError("moto deletes a GlobalTable through GlobalTable.delete")

    def delete(self, account_id: str, region_name: str) -> None:
        """Stack deletion, or the resource left the template: Retain keeps the tables."""
        if self.deletion_policy != "Retain":
            self.delete_tables()

    def delete_tables(self) -> None:
        """Delete every replica's table; refused, before any deletion, if one is protected."""
        tables = self.tables()
        if any(t.deletion_protection_enabled for t in tables.values()):
            raise ValidationError(message=DeletionProtectedException(self.name).message)
        for region in tables:
            dynamodb_backends[self.account_id][region].delete_table(self.name)
