"""What the embedded emulator (moto) adds to moto's CloudFormation: models for
``AWS::DynamoDB::GlobalTable`` and ``AWS::CloudWatch::Alarm``, a model for ``AWS::S3::Bucket``
in place of moto's, and GetBucketReplication answering what was put.

moto 5 has no model for the first two and skips such resources with a warning; its bucket model
drops most of a bucket's properties. :func:`register_models` makes its parser use
:class:`GlobalTable`, :class:`MetricAlarm` and :class:`Bucket`, and corrects GetBucketReplication.

``AWS::DynamoDB::GlobalTable`` (:class:`GlobalTable`) creates the table through moto's own DynamoDB
backend in every region of ``Replicas`` (same name, key schema, attribute definitions, GSIs,
billing mode, stream and TTL) with each replica's SSE key, point-in-time recovery (and its recovery
period), deletion protection and tags. DescribeTable of such a table reports what AWS reports for
global tables version 2019.11.21: ``GlobalTableVersion`` and the *other* regions' replicas
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

``AWS::CloudWatch::Alarm`` (:class:`MetricAlarm`) puts the alarm into moto's own CloudWatch
backend, as PutMetricAlarm would, in the stack's region: a single-metric alarm (``Namespace``,
``MetricName``, ``Dimensions``, ``Statistic`` or ``ExtendedStatistic``, ``Period``, ``Unit``) or a
metric-math one (``Metrics``: ``Id``, ``Expression``, ``Label``, ``ReturnData``, ``Period``,
``MetricStat`` with its metric, period, stat and unit), with ``AlarmDescription``,
``EvaluationPeriods``, ``DatapointsToAlarm``, ``Threshold``, ``ThresholdMetricId``,
``ComparisonOperator``, ``TreatMissingData``, ``EvaluateLowSampleCountPercentile``, the alarm,
OK and insufficient-data actions, ``ActionsEnabled`` and ``Tags``; DescribeAlarms and
ListTagsForResource read them back. Without ``AlarmName`` the alarm is named as CloudFormation
names it, ``{stack}-{logical id}-{random}``, and keeps that name across updates. Ref is the
alarm name; GetAtt ``Arn`` its ARN.

Create: as PutMetricAlarm on AWS, a new alarm is INSUFFICIENT_DATA (moto's own PutMetricAlarm
makes it OK); the property combinations CloudWatch refuses (no ``ComparisonOperator`` or
``EvaluationPeriods``; ``Metrics`` together with the single-metric properties or with other than
exactly one query returning data; neither or both of ``Statistic`` and ``ExtendedStatistic``;
no ``Threshold`` nor ``ThresholdMetricId``; a malformed value) and an alarm of that name that
already exists (it is left alone, also when the stack is deleted) fail the resource and roll the
stack back, as for the global table. Update: a new ``AlarmName`` (or giving or dropping it) is a
replacement (the old alarm goes unless ``UpdateReplacePolicy`` is Retain); any other change
overwrites the alarm in place, keeping its state (as PutMetricAlarm does on AWS; moto's own
resets it to OK), and sets exactly the template's tags (on AWS PutMetricAlarm ignores tags when
it updates an alarm; the model replaces them as a Tags update does). A refused update fails the
UpdateStack call. Delete: the alarm and its tags (moto's DeleteAlarms leaves the tags), unless
``DeletionPolicy`` is Retain.

Not emulated for alarms: state evaluation (no metric is read; the state changes only through
SetAlarmState), actions (nothing is sent to the SNS topics or other targets, and their ARNs are
not checked), configuration-update entries in the alarm history, composite alarms
(``AWS::CloudWatch::CompositeAlarm``), cross-account metrics (a query's ``AccountId``).

``AWS::S3::Bucket`` (:class:`Bucket`): moto's own model (``FakeBucket``) creates the bucket and
applies ``BucketEncryption`` (the first rule's algorithm and key only) and ``Tags``; it drops every
other property. The emulator's model lets moto create the bucket, then applies through moto's S3
backend, stored as moto's S3 API handlers store the request: ``BucketEncryption`` again with
``BucketKeyEnabled``, ``Tags``, ``VersioningConfiguration``, ``LifecycleConfiguration`` (each
rule's ``Id``, ``Status``, ``Prefix``/``TagFilters`` as the rule's filter (neither: the empty
prefix, every object), expiration, transitions, noncurrent-version transitions and expiration,
abort of incomplete multipart uploads; the deprecated single-item forms too),
``CorsConfiguration``, ``LoggingConfiguration`` (without ``DestinationBucketName`` the bucket logs
to itself), ``OwnershipControls``, ``PublicAccessBlockConfiguration`` and
``ReplicationConfiguration`` (role and every element of the rules: priority, filter, delete
marker replication, source selection criteria, the destination with its account, storage class,
owner translation, encryption, replication time and metrics). GetBucketVersioning,
GetBucketLifecycleConfiguration, GetBucketCors, GetBucketLogging, GetBucketOwnershipControls,
GetPublicAccessBlock, GetBucketEncryption, GetBucketTagging and GetBucketReplication read them
back as declared. Ref is the bucket name; GetAtt as moto's (``Arn``, ``DomainName``,
``DualStackDomainName``, ``RegionalDomainName``, ``WebsiteURL``).

Create: what S3 refuses because of another bucket, checked before anything is applied (a logging
target that is not a bucket of the account or is in another region; replication without
``VersioningConfiguration`` Enabled, or to a destination bucket that does not exist or is not
versioned: "Destination bucket must have versioning enabled", AWS's words, with the bucket's name),
and what moto's S3 refuses (a bucket name taken, an unsupported CORS method, a malformed lifecycle
rule) fail the resource and roll the stack back, as for the global table; the bucket the model made
is deleted (a bucket of that name made elsewhere is left alone). Update: a new ``BucketName`` is a
replacement (the old bucket goes unless ``UpdateReplacePolicy`` is Retain); without
``BucketName`` the generated name is kept; anything else is applied in place, and what the
template no longer declares is removed (versioning, which a bucket cannot lose, is suspended). A
refused update changes nothing (the bucket's configuration is restored) and fails the UpdateStack
call. Delete (stack deletion, or the resource left the template): the bucket and its tags, unless
``DeletionPolicy`` is Retain; a bucket with objects stays (moto's DeleteBucket keeps it without a
word; on AWS the deletion fails: BucketNotEmpty).

moto deviations the bucket model corrects, besides the dropped properties: moto's handler drops
``BucketKeyEnabled``, keeps a configuration an update removed, makes up a new name for an unnamed
bucket on every update, deletes a replaced bucket whatever ``UpdateReplacePolicy`` says, and
ignores ``DeletionPolicy`` when an update removes the bucket. moto's PutBucketLogging (its
backend's, which the model bypasses for this one property after its own checks) also demands that
the target grant log delivery (an ACL grant to the log-delivery group, or a bucket-policy
statement it can parse); AWS documents the same account and the same region as the target's
requirements, the permission for deliveries is the log-storage module's bucket policy, and a
target with ACLs disabled (the default since April 2023) has no ACL to grant.

GetBucketReplication (moto deviation corrected): moto stores the configuration as put (the
request's XML) but answers every rule with ``DeleteMarkerReplication`` Disabled and ``Filter``
``{"Prefix": ""}`` whatever was put, and leaves ``SourceSelectionCriteria`` and
``ExistingObjectReplication`` out. :func:`register_models` replaces that one method,
``S3Response.get_bucket_replication``, with one that answers the stored rules, as AWS does: every
element that was put, the filter as given (an empty prefix as the empty string). It serves buckets
configured through the S3 API as well as the model's.

Not emulated for buckets: ``MetricsConfigurations`` (moto has no metrics-configuration API),
``AccelerateConfiguration``, ``AnalyticsConfigurations``, ``IntelligentTieringConfigurations``,
``InventoryConfigurations``, ``NotificationConfiguration``, ``ObjectLockConfiguration``,
``WebsiteConfiguration``, ``AccessControl``; lifecycle object-size filters and the
``NewerNoncurrentVersions`` of ``NoncurrentVersionExpiration`` (moto's lifecycle drops them),
``BlockedEncryptionTypes`` and ``TargetObjectKeyFormat`` (moto does not read them back); the
``aws:cloudformation:*`` tags AWS adds; default encryption (every AWS bucket is encrypted, SSE-S3
unless configured; moto reports no configuration for a bucket without ``BucketEncryption`` or
after its removal); refusing to suspend versioning while replication is configured; replication
itself (no object is copied, the role and the KMS keys are not checked) and log delivery.

A resource that a stack creation reaches after another of these models failed it (the stack is
ROLLBACK_COMPLETE already) is not created, as AWS deletes what it made when it rolls back.
"""

from __future__ import annotations

import contextlib
import copy
from typing import Any

from moto.cloudformation import parsing
from moto.cloudformation.exceptions import UnformattedGetAttTemplateException, ValidationError
from moto.cloudformation.models import Event, Stack, cloudformation_backends
from moto.cloudwatch.models import (
    Alarm,
    CloudWatchBackend,
    Dimension,
    Metric,
    MetricDataQuery,
    MetricStat,
    cloudwatch_backends,
)
from moto.core.common_models import CloudFormationModel
from moto.core.common_types import TYPE_RESPONSE
from moto.core.exceptions import JsonRESTError, ServiceException
from moto.core.responses import ActionResult
from moto.dynamodb.exceptions import DeletionProtectedException, ResourceInUseException
from moto.dynamodb.models import dynamodb_backends
from moto.dynamodb.models.table import GlobalSecondaryIndex, Table
from moto.moto_api._internal import mock_random
from moto.s3.cloud_formation import cfn_to_api_encryption
from moto.s3.exceptions import (
    CrossLocationLoggingProhibited,
    ReplicationConfigurationNotFoundError,
    VersioningNotEnabledForReplication,
)
from moto.s3.models import FakeBucket, S3Backend, s3_backends
from moto.s3.responses import S3Response
from moto.utilities.utils import get_partition

__all__ = ["GLOBAL_TABLE_VERSION", "Bucket", "GlobalTable", "MetricAlarm", "ReplicaTable", "register_models"]

GLOBAL_TABLE_VERSION = "2019.11.21"


def register_models() -> None:
    """Make moto's CloudFormation parser use :class:`GlobalTable`, :class:`MetricAlarm` and
    :class:`Bucket`, and moto's S3 answer GetBucketReplication as stored (idempotent).

    Defining the classes registered them: moto's parser maps each type to the last class of
    ``CloudFormationModel.__subclasses__()`` (creation order) that declares it, so :class:`Bucket`,
    defined after moto's ``FakeBucket`` (imported above), is the one for ``AWS::S3::Bucket``. The
    parser caches its maps, so the caches are cleared in case moto built them already (and again
    after the check, so that moto builds them when it first parses a template, as it would); a map
    that does not resolve to these models (another moto) is an error rather than a silent fallback.
    """
    caches = (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map)
    for cached in caches:
        cached.cache_clear()
    S3Response.get_bucket_replication = _get_bucket_replication  # type: ignore[method-assign]
    models = parsing.get_model_map()
    for cached in caches:
        cached.cache_clear()
    for model in (GlobalTable, MetricAlarm, Bucket):
        if models.get(model.cloudformation_type()) is not model:
            raise RuntimeError(
                f"moto maps {model.cloudformation_type()} to {models.get(model.cloudformation_type())}, "
                f"not to the emulator's {model.__name__}"
            )


def _flag(value: Any) -> bool:
    """A CloudFormation boolean: JSON true, or "true" from a parameter."""
    return value is True or str(value).lower() == "true"


def _creating_stack(account_id: str, region_name: str, kwargs: dict[str, Any]) -> Stack | None:
    """The stack whose creation creates this resource (moto passes its id as ``StackId``)."""
    stack: Stack | None = cloudformation_backends[account_id][region_name].stacks.get(
        kwargs.get("StackId", "")
    )
    return stack


def _rolled_back(account_id: str, region_name: str, kwargs: dict[str, Any]) -> bool:
    """Whether another resource of this stack creation failed already (see :func:`_fail_creation`).

    AWS deletes what it made when it rolls back; moto creates resources one after the other, so
    the models create nothing once the stack is ROLLBACK_COMPLETE.
    """
    stack = _creating_stack(account_id, region_name, kwargs)
    return stack is not None and stack.status == "ROLLBACK_COMPLETE"


def _fail_creation(
    model: type[CloudFormationModel],
    physical_id: str,
    message: str,
    account_id: str,
    region_name: str,
    kwargs: dict[str, Any],
) -> None:
    """What AWS does when a resource cannot be created: the resource fails (its CREATE_FAILED event
    gives the reason), the stack rolls back (ROLLBACK_COMPLETE). moto would fail the CreateStack call
    and then every DescribeStacks, which re-parses the resource. Outside a stack creation (a
    resource added or replaced by an update, which moto cannot roll back) the call fails instead
    (ValidationError with ``message``)."""
    stack = _creating_stack(account_id, region_name, kwargs)
    if stack is None or stack.status != "CREATE_IN_PROGRESS":
        raise ValidationError(message=message)
    event = Event(
        stack_id=stack.stack_id,
        stack_name=stack.name,
        logical_resource_id=kwargs["LogicalId"],
        physical_resource_id=physical_id,
        resource_type=model.cloudformation_type(),
        resource_status="CREATE_FAILED",
        resource_status_reason=f"Resource handler returned message: {message!r}",
        resource_properties=None,
    )
    stack.events.append(event)
    stack._add_stack_event(
        "ROLLBACK_COMPLETE", f"The following resource(s) failed to create: [{kwargs['LogicalId']}]."
    )
    stack.status = "ROLLBACK_COMPLETE"


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
        if _rolled_back(account_id, region_name, kwargs):
            table.failed = True
            return table
        try:
            table._apply(cloudformation_json["Properties"])
        except (ResourceInUseException, ValidationError) as error:
            _fail_creation(cls, resource_name, error.message, account_id, region_name, kwargs)
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


#: The single-metric properties an alarm with ``Metrics`` must not have (CloudWatch's PutMetricAlarm).
_SINGLE_METRIC = ("Namespace", "MetricName", "Dimensions", "Statistic", "ExtendedStatistic", "Period", "Unit")


def _int(value: Any) -> int | None:
    """A CloudFormation integer (a number, or a string from a parameter), or None when absent."""
    return None if value is None else int(value)


def _dimensions(dimensions: list[dict[str, Any]] | None) -> list[dict[str, str]]:
    return [{"Name": str(d["Name"]), "Value": str(d["Value"])} for d in dimensions or []]


def _query(query: dict[str, Any]) -> MetricDataQuery:
    """One ``Metrics`` entry, built as moto's PutMetricAlarm handler builds it from a request
    (moto annotates ``period``/``return_data`` as strings but serialises what its request parser
    gives it: an int and a bool)."""
    metric_stat = None
    if "MetricStat" in query:
        stat, metric = query["MetricStat"], query["MetricStat"]["Metric"]
        dimensions = [Dimension(d["Name"], d["Value"]) for d in _dimensions(metric.get("Dimensions"))]
        stat_args: dict[str, Any] = {
            "metric": Metric(metric["MetricName"], metric["Namespace"], dimensions),
            "period": _int(stat["Period"]),
            "stat": stat["Stat"],
            "unit": stat.get("Unit"),
        }
        metric_stat = MetricStat(**stat_args)
    query_args: dict[str, Any] = {
        "query_id": query["Id"],
        "label": query.get("Label"),
        "period": _int(query.get("Period")),
        "return_data": _flag(query["ReturnData"]) if "ReturnData" in query else None,
        "expression": query.get("Expression"),
        "metric_stat": metric_stat,
    }
    return MetricDataQuery(**query_args)


def _alarm_problem(props: dict[str, Any]) -> str | None:
    """What CloudWatch's PutMetricAlarm would refuse in these properties, or None."""
    for key in ("ComparisonOperator", "EvaluationPeriods"):
        if key not in props:
            return f"Properties validation failed: required key [{key}] not found"
    if "Threshold" not in props and "ThresholdMetricId" not in props:
        return "Properties validation failed: Threshold or ThresholdMetricId is required"
    if "Metrics" in props:
        mixed = [key for key in _SINGLE_METRIC if key in props]
        if mixed:
            return f"Metrics cannot be combined with {', '.join(mixed)}: give them in Metrics"
        for query in props["Metrics"]:
            if "Id" not in query:
                return "Properties validation failed: required key [Id] not found in Metrics"
            if ("Expression" in query) == ("MetricStat" in query):
                return f"Metrics {query['Id']}: exactly one of Expression and MetricStat must be given"
        returning = [q for q in props["Metrics"] if _flag(q.get("ReturnData", True))]
        if len(returning) != 1:
            return "Exactly one element of the metrics list should return data."
        return None
    if "MetricName" not in props:
        return "Properties validation failed: MetricName (or Metrics) is required"
    if ("Statistic" in props) == ("ExtendedStatistic" in props):
        return "Exactly one of Statistic and ExtendedStatistic must be given"
    return None


class MetricAlarm(CloudFormationModel):
    """``AWS::CloudWatch::Alarm``: a metric or metric-math alarm in moto's CloudWatch backend."""

    def __init__(
        self, name: str, account_id: str, region_name: str, resource: dict[str, Any], *, generated: bool
    ) -> None:
        self.name = name
        self.account_id = account_id
        self.region_name = region_name
        self.generated = generated  # CloudFormation made the name up (no AlarmName)
        self.failed = False
        self.deletion_policy = resource.get("DeletionPolicy", "Delete")
        self.replace_policy = resource.get("UpdateReplacePolicy", "Delete")

    @staticmethod
    def cloudformation_name_type() -> str:
        return "AlarmName"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::CloudWatch::Alarm"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return attr == "Arn"

    @property
    def physical_resource_id(self) -> str:
        return self.name

    def is_created(self) -> bool:
        return not self.failed

    @property
    def backend(self) -> CloudWatchBackend:
        backend: CloudWatchBackend = cloudwatch_backends[self.account_id][self.region_name]
        return backend

    def alarm(self) -> Alarm | None:
        """moto's alarm of this name, if it exists."""
        return self.backend.alarms.get(self.name)

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if not self.has_cfn_attr(attribute_name):
            raise UnformattedGetAttTemplateException()
        alarm = self.alarm()
        return None if alarm is None else alarm.alarm_arn  # None: the creation failed

    def _put(self, props: dict[str, Any], *, new: bool) -> None:
        """PutMetricAlarm with ``props``; ``new``: refused if the alarm exists (created elsewhere)."""
        try:
            problem = _alarm_problem(props)
            arguments = self._arguments(props) if problem is None else {}
        except (AttributeError, KeyError, TypeError, ValueError) as error:  # a malformed value
            raise ValidationError(
                message=f"Properties validation failed: {type(error).__name__} {error}"
            ) from error
        if problem is not None:
            raise ValidationError(message=problem)
        previous = self.alarm()
        if new and previous is not None:
            raise ValidationError(
                message=f"Resource of type '{self.cloudformation_type()}' with identifier '{self.name}' "
                "already exists."
            )
        try:
            alarm = self.backend.put_metric_alarm(**arguments)
        except ServiceException as error:  # moto's CloudFormation cannot serialise CloudWatch's errors
            raise ValidationError(message=error.message) from error
        if previous is None:
            alarm.state_value = "INSUFFICIENT_DATA"  # what AWS's PutMetricAlarm creates
        else:  # an update keeps the state on AWS; moto's PutMetricAlarm starts a new alarm
            alarm.state_value, alarm.state_reason = previous.state_value, previous.state_reason
            alarm.state_reason_data = previous.state_reason_data
            alarm.state_updated_timestamp = previous.state_updated_timestamp
            alarm.history = previous.history
        self.backend.tagger.delete_all_tags_for_resource(alarm.alarm_arn)
        self.backend.tagger.tag_resource(alarm.alarm_arn, [dict(t) for t in props.get("Tags", [])])

    def _arguments(self, props: dict[str, Any]) -> dict[str, Any]:
        """moto's ``put_metric_alarm`` arguments for ``props``, as its PutMetricAlarm handler passes them."""
        metrics = props.get("Metrics")
        return {
            "name": self.name,
            "namespace": props.get("Namespace"),
            "metric_name": props.get("MetricName"),
            "metric_data_queries": [_query(q) for q in metrics] if metrics else None,
            "comparison_operator": props["ComparisonOperator"],
            "evaluation_periods": int(props["EvaluationPeriods"]),
            "datapoints_to_alarm": _int(props.get("DatapointsToAlarm")),
            "period": _int(props.get("Period")),
            "threshold": float(props["Threshold"]) if "Threshold" in props else None,
            "statistic": props.get("Statistic"),
            "extended_statistic": props.get("ExtendedStatistic"),
            "description": props.get("AlarmDescription"),
            "dimensions": _dimensions(props.get("Dimensions")),
            "alarm_actions": list(props.get("AlarmActions", [])),
            "ok_actions": list(props.get("OKActions", [])),
            "insufficient_data_actions": list(props.get("InsufficientDataActions", [])),
            "unit": props.get("Unit"),
            "actions_enabled": _flag(props.get("ActionsEnabled", True)),
            "treat_missing_data": props.get("TreatMissingData"),
            "evaluate_low_sample_count_percentile": props.get("EvaluateLowSampleCountPercentile"),
            "threshold_metric_id": props.get("ThresholdMetricId"),
        }

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> MetricAlarm:
        props = cloudformation_json["Properties"]
        alarm = cls(
            resource_name, account_id, region_name, cloudformation_json, generated="AlarmName" not in props
        )
        if _rolled_back(account_id, region_name, kwargs):
            alarm.failed = True
            return alarm
        try:
            alarm._put(props, new=True)
        except ValidationError as error:
            _fail_creation(cls, resource_name, error.message, account_id, region_name, kwargs)
            alarm.failed = True
        return alarm

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: MetricAlarm,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> MetricAlarm:
        if original_resource.generated and "AlarmName" not in cloudformation_json["Properties"]:
            new_resource_name = original_resource.name  # moto makes up a new name on every update
        if new_resource_name != original_resource.name:  # a replacement
            replacement = cls.create_from_cloudformation_json(
                new_resource_name, cloudformation_json, account_id, region_name
            )
            if original_resource.replace_policy != "Retain":
                original_resource.delete_alarm()
            return replacement
        original_resource._put(cloudformation_json["Properties"], new=False)
        original_resource.deletion_policy = cloudformation_json.get("DeletionPolicy", "Delete")
        original_resource.replace_policy = cloudformation_json.get("UpdateReplacePolicy", "Delete")
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> None:
        raise NotImplementedError("moto deletes a MetricAlarm through MetricAlarm.delete")

    def delete(self, account_id: str, region_name: str) -> None:
        """Stack deletion, or the resource left the template: Retain keeps the alarm."""
        if self.deletion_policy != "Retain":
            self.delete_alarm()

    def delete_alarm(self) -> None:
        """DeleteAlarms, and the alarm's tags (which moto's DeleteAlarms keeps)."""
        alarm = self.alarm()
        if alarm is not None and not self.failed:
            self.backend.delete_alarms([self.name])
            self.backend.tagger.delete_all_tags_for_resource(alarm.alarm_arn)


# ------------------------------------------------------------------ AWS::S3::Bucket

#: What moto's bucket holds of the configuration the model applies (restored when an update is refused).
_BUCKET_STATE = (
    "versioning_status",
    "rules",
    "cors",
    "logging",
    "ownership_rule",
    "public_access_block",
    "encryption",
    "replication",
)
#: A malformed property value (a missing key, a wrong type) met while converting it.
_MALFORMED = (AttributeError, KeyError, TypeError, ValueError, AssertionError)


def _xml(value: Any) -> Any:
    """``value`` as moto's S3 request handlers store a request's XML (xmltodict): every scalar a
    string, booleans ``true``/``false``."""
    if isinstance(value, dict):
        return {key: _xml(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_xml(item) for item in value]
    if isinstance(value, bool):
        return "true" if value else "false"
    return None if value is None else str(value)


def _renamed(source: dict[str, Any], names: dict[str, str]) -> dict[str, Any]:
    """The keys of ``source`` that ``names`` lists, by their API name (CloudFormation's -> the API's)."""
    return {api: source[cfn] for cfn, api in names.items() if cfn in source}


def _one_or_many(rule: dict[str, Any], many: str, one: str) -> list[dict[str, Any]]:
    """A list property and its deprecated single-item form (``Transitions`` and ``Transition``)."""
    return [*rule.get(many, []), *([rule[one]] if one in rule else [])]


def _lifecycle_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """One ``LifecycleConfiguration`` rule as PutBucketLifecycleConfiguration's XML gives it to moto.

    ``Prefix`` and ``TagFilters`` become the rule's ``Filter`` (no prefix: the empty prefix, every
    object)."""
    api: dict[str, Any] = _renamed(rule, {"Id": "ID", "Status": "Status"})
    tags = [{"Key": tag["Key"], "Value": tag["Value"]} for tag in rule.get("TagFilters", [])]
    prefix = rule.get("Prefix")
    if not tags:
        api["Filter"] = {"Prefix": prefix or ""}
    elif len(tags) == 1 and prefix is None:
        api["Filter"] = {"Tag": tags[0]}
    else:
        api["Filter"] = {"And": ({} if prefix is None else {"Prefix": prefix}) | {"Tag": tags}}
    expiration = _renamed(
        rule,
        {
            "ExpirationDate": "Date",
            "ExpirationInDays": "Days",
            "ExpiredObjectDeleteMarker": "ExpiredObjectDeleteMarker",
        },
    )
    if expiration:
        api["Expiration"] = expiration
    transitions = _one_or_many(rule, "Transitions", "Transition")
    if transitions:
        names = {"TransitionDate": "Date", "TransitionInDays": "Days", "StorageClass": "StorageClass"}
        api["Transition"] = [_renamed(t, names) for t in transitions]
    noncurrent = _one_or_many(rule, "NoncurrentVersionTransitions", "NoncurrentVersionTransition")
    if noncurrent:
        names = {
            "TransitionInDays": "NoncurrentDays",
            "StorageClass": "StorageClass",
            "NewerNoncurrentVersions": "NewerNoncurrentVersions",
        }
        api["NoncurrentVersionTransition"] = [_renamed(t, names) for t in noncurrent]
    expire = dict(rule.get("NoncurrentVersionExpiration") or {})
    if "NoncurrentVersionExpirationInDays" in rule:
        expire.setdefault("NoncurrentDays", rule["NoncurrentVersionExpirationInDays"])
    if expire:
        api["NoncurrentVersionExpiration"] = expire
    if "AbortIncompleteMultipartUpload" in rule:
        api["AbortIncompleteMultipartUpload"] = rule["AbortIncompleteMultipartUpload"]
    result: dict[str, Any] = _xml(api)
    return result


def _cors_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """One ``CorsConfiguration`` rule as PutBucketCors's XML gives it to moto."""
    names = {
        "Id": "ID",
        "AllowedMethods": "AllowedMethod",
        "AllowedOrigins": "AllowedOrigin",
        "AllowedHeaders": "AllowedHeader",
        "ExposedHeaders": "ExposeHeader",
        "MaxAge": "MaxAgeSeconds",
    }
    result: dict[str, Any] = _xml(_renamed(rule, names))
    return result


def _replication_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """One ``ReplicationConfiguration`` rule as PutBucketReplication's XML gives it to moto: the
    same elements but ``Id`` (``ID``) and the filter's ``TagFilter``/``TagFilters`` (``Tag``)."""
    names = {
        "Id": "ID",
        "Priority": "Priority",
        "Prefix": "Prefix",
        "Status": "Status",
        "SourceSelectionCriteria": "SourceSelectionCriteria",
        "Destination": "Destination",
        "DeleteMarkerReplication": "DeleteMarkerReplication",
    }
    api = _renamed(rule, names)
    if "Filter" in rule:
        api["Filter"] = _renamed(rule["Filter"], {"Prefix": "Prefix", "TagFilter": "Tag"})
        if "And" in rule["Filter"]:
            api["Filter"]["And"] = _renamed(rule["Filter"]["And"], {"Prefix": "Prefix", "TagFilters": "Tag"})
    result: dict[str, Any] = _xml(api)
    return result


def _bucket_name(arn: str) -> str:
    """The bucket of an S3 bucket ARN (``arn:aws:s3:::name``)."""
    return arn.rsplit(":", 1)[-1]


def _message(error: Exception) -> str:
    """What a refused bucket property says (moto's message, or what was malformed)."""
    if isinstance(error, ServiceException):
        return str(error.message)
    return f"Properties validation failed: {type(error).__name__} {error}"


class Bucket(CloudFormationModel):
    """``AWS::S3::Bucket``: moto's bucket (created by moto's own CloudFormation handling,
    ``FakeBucket.create_from_cloudformation_json``), then every property moto drops applied
    through moto's S3 backend as the S3 API would store it."""

    def __init__(
        self, name: str, account_id: str, region_name: str, resource: dict[str, Any], *, generated: bool
    ) -> None:
        self.name = name
        self.account_id = account_id
        self.region_name = region_name
        self.generated = generated  # CloudFormation made the name up (no BucketName)
        self.failed = False
        self.properties: dict[str, Any] = {}  # as last applied (what an update removes)
        self.deletion_policy = resource.get("DeletionPolicy", "Delete")
        self.replace_policy = resource.get("UpdateReplacePolicy", "Delete")

    @staticmethod
    def cloudformation_name_type() -> str:
        return "BucketName"

    @staticmethod
    def cloudformation_type() -> str:
        return "AWS::S3::Bucket"

    @classmethod
    def has_cfn_attr(cls, attr: str) -> bool:
        return FakeBucket.has_cfn_attr(attr)

    @property
    def physical_resource_id(self) -> str:
        return self.name

    def is_created(self) -> bool:
        return not self.failed

    @property
    def backend(self) -> S3Backend:
        backend: S3Backend = s3_backends[self.account_id][get_partition(self.region_name)]
        return backend

    def bucket(self) -> FakeBucket | None:
        """moto's bucket of this name in this account, if it exists."""
        found: FakeBucket | None = self.backend.buckets.get(self.name)
        return found

    def get_cfn_attribute(self, attribute_name: str) -> Any:
        if not self.has_cfn_attr(attribute_name):
            raise UnformattedGetAttTemplateException()
        bucket = self.bucket()
        return None if bucket is None else bucket.get_cfn_attribute(attribute_name)  # None: creation failed

    def _problem(self, props: dict[str, Any]) -> str | None:
        """What S3 refuses in ``props`` because of another bucket (or this one's versioning), or None."""
        logging = props.get("LoggingConfiguration")
        if logging is not None:
            target_name = logging.get("DestinationBucketName", self.name)
            target = self.backend.buckets.get(target_name)
            if target is None:
                return f"The target bucket for logging does not exist: {target_name}"
            if target.region_name != self.region_name:
                return CrossLocationLoggingProhibited().message
        replication = props.get("ReplicationConfiguration")
        if replication is None:
            return None
        if (props.get("VersioningConfiguration") or {}).get("Status") != "Enabled":
            return VersioningNotEnabledForReplication(self.name).message
        for rule in replication["Rules"]:
            name = _bucket_name(str(rule["Destination"]["Bucket"]))
            owner = s3_backends.bucket_accounts.get(name)
            destination = None if owner is None else s3_backends[owner[1]][owner[0]].buckets.get(name)
            if destination is None:
                return f"Destination bucket must exist: {name}"
            if destination.versioning_status != "Enabled":
                return f"Destination bucket must have versioning enabled: {name}"
        return None

    def _configure(self, props: dict[str, Any], previous: dict[str, Any]) -> None:
        """Make the bucket's configuration what ``props`` declares; what ``previous`` declared and
        ``props`` does not is removed (versioning, which cannot be removed, is suspended)."""
        problem = self._problem(props)
        if problem is not None:
            raise ValidationError(message=problem)
        backend, name = self.backend, self.name
        bucket = backend.get_bucket(name)

        if "BucketEncryption" in props:  # moto's handler drops BucketKeyEnabled
            encryption = cfn_to_api_encryption(props["BucketEncryption"])
            first = props["BucketEncryption"]["ServerSideEncryptionConfiguration"][0]
            if "BucketKeyEnabled" in first:
                encryption["Rule"]["BucketKeyEnabled"] = _xml(first["BucketKeyEnabled"])
            backend.put_bucket_encryption(name, encryption)
        elif "BucketEncryption" in previous:
            backend.delete_bucket_encryption(name)
        if "Tags" in props:
            backend.put_bucket_tagging(name, {str(t["Key"]): str(t["Value"]) for t in props["Tags"]})
        elif "Tags" in previous:
            backend.delete_bucket_tagging(name)

        if "VersioningConfiguration" in props:
            backend.put_bucket_versioning(name, str(props["VersioningConfiguration"]["Status"]))
        elif "VersioningConfiguration" in previous and bucket.versioning_status:
            backend.put_bucket_versioning(name, "Suspended")
        if "LifecycleConfiguration" in props:
            rules = [_lifecycle_rule(r) for r in props["LifecycleConfiguration"]["Rules"]]
            backend.put_bucket_lifecycle(name, rules)
        elif "LifecycleConfiguration" in previous:
            backend.delete_bucket_lifecycle(name)
        if "CorsConfiguration" in props:
            backend.put_bucket_cors(name, [_cors_rule(r) for r in props["CorsConfiguration"]["CorsRules"]])
        elif "CorsConfiguration" in previous:
            backend.delete_bucket_cors(name)
        if "LoggingConfiguration" in props:
            logging = props["LoggingConfiguration"]
            enabled = {
                "TargetBucket": logging.get("DestinationBucketName", name),
                "TargetPrefix": logging.get("LogFilePrefix", ""),
            } | _renamed(logging, {"TargetObjectKeyFormat": "TargetObjectKeyFormat"})
            # Set as PutBucketLogging stores it, after the checks of _problem: moto's
            # put_bucket_logging also insists on a log-delivery grant on the target (see the module).
            bucket.logging = _xml(enabled)
        elif "LoggingConfiguration" in previous:
            backend.put_bucket_logging(name, {})
        if "OwnershipControls" in props:
            ownership = str(props["OwnershipControls"]["Rules"][0]["ObjectOwnership"])
            # moto annotates a dict; its PutBucketOwnershipControls handler stores the string.
            backend.put_bucket_ownership_controls(name, ownership=ownership)  # type: ignore[arg-type]
        elif "OwnershipControls" in previous:
            backend.delete_bucket_ownership_controls(name)
        if "PublicAccessBlockConfiguration" in props:
            backend.put_public_access_block(name, _xml(props["PublicAccessBlockConfiguration"]))
        elif "PublicAccessBlockConfiguration" in previous:
            backend.delete_public_access_block(name)
        if "ReplicationConfiguration" in props:
            replication = props["ReplicationConfiguration"]
            rules = [_replication_rule(r) for r in replication["Rules"]]
            backend.put_bucket_replication(name, {"Role": str(replication["Role"]), "Rule": rules})
        elif "ReplicationConfiguration" in previous:
            backend.delete_bucket_replication(name)

    def _apply(self, props: dict[str, Any], previous: dict[str, Any]) -> None:
        """:meth:`_configure`, all or nothing: a refused property (ValidationError with the reason)
        leaves the bucket as it was, as AWS rolls a failed update back."""
        bucket = self.backend.get_bucket(self.name)
        saved = {attribute: getattr(bucket, attribute, None) for attribute in _BUCKET_STATE}
        tags = self.backend.tagger.list_tags_for_resource(bucket.arn)["Tags"]
        try:
            self._configure(props, previous)
        except (ServiceException, *_MALFORMED) as error:
            for attribute, value in saved.items():
                setattr(bucket, attribute, value)
            self.backend.tagger.delete_all_tags_for_resource(bucket.arn)
            self.backend.tagger.tag_resource(bucket.arn, tags)
            raise ValidationError(message=_message(error)) from error
        self.properties = copy.deepcopy(props)

    def remove_bucket(self) -> None:
        """DeleteBucket, and the bucket's tags (moto's DeleteBucket keeps them). A bucket with
        objects stays, as moto's DeleteBucket leaves it (on AWS the deletion fails: BucketNotEmpty)."""
        bucket = self.bucket()
        if bucket is None or self.failed or bucket.keys:
            return
        self.backend.tagger.delete_all_tags_for_resource(bucket.arn)
        self.backend.delete_bucket(self.name)

    @classmethod
    def create_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
        **kwargs: Any,
    ) -> Bucket:
        props = cloudformation_json.get("Properties") or {}
        model = cls(
            resource_name, account_id, region_name, cloudformation_json, generated="BucketName" not in props
        )
        if _rolled_back(account_id, region_name, kwargs):
            model.failed = True
            return model
        existed = resource_name in s3_backends.bucket_accounts
        try:
            FakeBucket.create_from_cloudformation_json(
                resource_name, cloudformation_json, account_id, region_name
            )
            model._apply(props, {})
        except (ServiceException, *_MALFORMED) as error:
            if not existed:  # AWS's rollback deletes the bucket it made
                model.remove_bucket()
            model.failed = True
            _fail_creation(cls, resource_name, _message(error), account_id, region_name, kwargs)
        return model

    @classmethod
    def update_from_cloudformation_json(
        cls,
        original_resource: Bucket,
        new_resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> Bucket:
        props = cloudformation_json["Properties"]
        if original_resource.generated and "BucketName" not in props:
            new_resource_name = original_resource.name  # moto makes up a new name on every update
        if new_resource_name != original_resource.name:  # a replacement
            replacement = cls.create_from_cloudformation_json(
                new_resource_name, cloudformation_json, account_id, region_name
            )
            if original_resource.replace_policy != "Retain":
                original_resource.remove_bucket()
            return replacement
        original_resource._apply(props, original_resource.properties)
        original_resource.deletion_policy = cloudformation_json.get("DeletionPolicy", "Delete")
        original_resource.replace_policy = cloudformation_json.get("UpdateReplacePolicy", "Delete")
        return original_resource

    @classmethod
    def delete_from_cloudformation_json(
        cls,
        resource_name: str,
        cloudformation_json: dict[str, Any],
        account_id: str,
        region_name: str,
    ) -> None:
        raise NotImplementedError("moto deletes a Bucket through Bucket.delete")

    def delete(self, account_id: str, region_name: str) -> None:
        """Stack deletion, or the resource left the template: Retain keeps the bucket."""
        if self.deletion_policy != "Retain":
            self.remove_bucket()


# ------------------------------------------------------------------ GetBucketReplication


def _replication_rule_answer(rule: dict[str, Any]) -> dict[str, Any]:
    """A stored replication rule (as moto's PutBucketReplication handler stores the request's XML)
    in GetBucketReplication's shape: every element that was put, the filter as given (an empty
    prefix is the empty string, an ``And``'s ``Tag`` elements its ``Tags`` list)."""
    answer = {key: value for key, value in rule.items() if key not in ("Prefix", "Filter")}
    if "Prefix" in rule:
        answer["Prefix"] = rule["Prefix"] or ""
    if "Filter" in rule:
        stored = rule["Filter"] or {}
        given: dict[str, Any] = {"Prefix": stored["Prefix"] or ""} if "Prefix" in stored else {}
        if "Tag" in stored:
            given["Tag"] = stored["Tag"]
        if "And" in stored:
            conjunction = stored["And"] or {}
            given["And"] = {"Prefix": conjunction["Prefix"] or ""} if "Prefix" in conjunction else {}
            if "Tag" in conjunction:
                tags = conjunction["Tag"]
                given["And"]["Tags"] = tags if isinstance(tags, list) else [tags]
        answer["Filter"] = given
    return answer


def _get_bucket_replication(self: S3Response) -> TYPE_RESPONSE:
    """moto's ``S3Response.get_bucket_replication`` answering what was stored (see the module)."""
    self.data["Action"] = "GetBucketReplication"
    replication = self.backend.get_bucket_replication(self.bucket_name)
    if not replication:
        raise ReplicationConfigurationNotFoundError(bucket_name=self.bucket_name)
    rules = [_replication_rule_answer(rule) for rule in replication["Rule"]]
    configuration = {"Role": replication["Role"], "Rules": rules}
    return self.serialized(ActionResult({"ReplicationConfiguration": configuration}))
