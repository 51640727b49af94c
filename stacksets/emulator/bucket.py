"""``AWS::S3::Bucket`` for moto's CloudFormation, in place of moto's own model (``FakeBucket``), which
creates the bucket and applies ``BucketEncryption`` (the first rule's algorithm and key only) and
``Tags`` but drops every other property.

Emulated: :class:`Bucket` lets moto create the bucket, then applies through moto's S3 backend,
stored as moto's S3 API handlers store the request: ``BucketEncryption`` again with
``BucketKeyEnabled``, ``Tags``, ``VersioningConfiguration``, ``LifecycleConfiguration`` (each
rule's ``Id``, ``Status``, ``Prefix``/``TagFilters`` as the rule's filter (neither: the empty
prefix, every object), expiration, transitions, noncurrent-version transitions and expiration,
abort of incomplete multipart uploads; the deprecated single-item forms too),
``CorsConfiguration``, ``LoggingConfiguration`` (without ``DestinationBucketName`` the bucket logs
to itself), ``OwnershipControls``, ``PublicAccessBlockConfiguration`` and
``ReplicationConfiguration`` (role and every element of the rules: priority, filter, delete marker
replication, source selection criteria, the destination with its account, storage class, owner
translation, encryption, replication time and metrics). GetBucketVersioning,
GetBucketLifecycleConfiguration, GetBucketCors, GetBucketLogging, GetBucketOwnershipControls,
GetPublicAccessBlock, GetBucketEncryption, GetBucketTagging and GetBucketReplication (with
:mod:`.s3_replication`) read them back as declared. Ref is the bucket name; GetAtt as moto's
(``Arn``, ``DomainName``, ``DualStackDomainName``, ``RegionalDomainName``, ``WebsiteURL``).

Create: what S3 refuses because of another bucket, checked before anything is applied (a logging
target that is not a bucket of the account or is in another region; replication without
``VersioningConfiguration`` Enabled, or to a destination bucket that does not exist or is not
versioned: "Destination bucket must have versioning enabled", AWS's words, with the bucket's name),
and what moto's S3 refuses (a bucket name taken, an unsupported CORS method, a malformed lifecycle
rule) fail the resource and roll the stack back; the bucket the model made is deleted (a bucket of
that name made elsewhere is left alone). Update: a new ``BucketName`` is a replacement; without
``BucketName`` the generated name is kept; anything else is applied in place, and what the
template no longer declares is removed (versioning, which a bucket cannot lose, is suspended). A
refused update changes nothing (the bucket's configuration and tags are restored). Delete: the
bucket and its tags; a bucket with objects stays (moto's DeleteBucket keeps it without a word; on
AWS the deletion fails: BucketNotEmpty). Rollback, refused updates, replacement and the deletion
and replace policies: see :mod:`.lifecycle`.

moto deviations corrected, besides the dropped properties: moto's handler drops
``BucketKeyEnabled``, keeps a configuration an update removed, makes up a new name for an unnamed
bucket on every update, deletes a replaced bucket whatever ``UpdateReplacePolicy`` says, and
ignores ``DeletionPolicy`` when an update removes the bucket; moto's DeleteBucket keeps the
bucket's tags. moto's PutBucketLogging (its backend's, which the model bypasses for this one
property after its own checks) also demands that the target grant log delivery (an ACL grant to
the log-delivery group, or a bucket-policy statement it can parse); AWS documents the same account
and the same region as the target's requirements, the permission for deliveries is the
log-storage module's bucket policy, and a target with ACLs disabled (the default since April 2023)
has no ACL to grant.

Not emulated: ``MetricsConfigurations`` (moto has no metrics-configuration API),
``AccelerateConfiguration``, ``AnalyticsConfigurations``, ``IntelligentTieringConfigurations``,
``InventoryConfigurations``, ``NotificationConfiguration``, ``ObjectLockConfiguration``,
``WebsiteConfiguration``, ``AccessControl``; lifecycle object-size filters and the
``NewerNoncurrentVersions`` of ``NoncurrentVersionExpiration`` (moto's lifecycle drops them),
``BlockedEncryptionTypes`` and ``TargetObjectKeyFormat`` (moto does not read them back); the
``aws:cloudformation:*`` tags AWS adds; default encryption (every AWS bucket is encrypted, SSE-S3
unless configured; moto reports no configuration for a bucket without ``BucketEncryption`` or
after its removal); refusing to suspend versioning while replication is configured; replication
itself (no object is copied, the role and the KMS keys are not checked) and log delivery.
"""

from __future__ import annotations

import copy
from typing import Any

from moto.cloudformation.exceptions import ValidationError
from moto.core.common_models import CloudFormationModel
from moto.core.exceptions import ServiceException
from moto.s3.cloud_formation import cfn_to_api_encryption
from moto.s3.exceptions import CrossLocationLoggingProhibited, VersioningNotEnabledForReplication
from moto.s3.models import FakeBucket, S3Backend, s3_backends
from moto.utilities.utils import get_partition

from .lifecycle import EmulatedModel, malformed

__all__ = ["Bucket"]

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
    return malformed(error)


class Bucket(EmulatedModel, CloudFormationModel):
    """``AWS::S3::Bucket``: moto's bucket (created by moto's own CloudFormation handling,
    ``FakeBucket.create_from_cloudformation_json``), then every property moto drops applied
    through moto's S3 backend as the S3 API would store it."""

    def __init__(self, name: str, account_id: str, region_name: str, resource: dict[str, Any]) -> None:
        super().__init__(name, account_id, region_name, resource)
        self.properties: dict[str, Any] = {}  # as last applied (what an update removes)

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
    def backend(self) -> S3Backend:
        backend: S3Backend = s3_backends[self.account_id][get_partition(self.region_name)]
        return backend

    def bucket(self) -> FakeBucket | None:
        """moto's bucket of this name in this account, if it exists."""
        found: FakeBucket | None = self.backend.buckets.get(self.name)
        return found

    def attribute(self, attribute_name: str) -> Any:
        bucket = self.bucket()
        return None if bucket is None else bucket.get_cfn_attribute(attribute_name)  # None: creation failed

    def create_resource(self, props: dict[str, Any]) -> None:
        existed = self.name in s3_backends.bucket_accounts
        try:
            FakeBucket.create_from_cloudformation_json(
                self.name, {"Properties": props}, self.account_id, self.region_name
            )
            self._apply(props, {})
        except (ServiceException, *_MALFORMED) as error:
            if not existed:  # AWS's rollback deletes the bucket it made
                self.remove_resource()
            raise ValidationError(message=_message(error)) from error

    def update_resource(self, props: dict[str, Any]) -> None:
        self._apply(props, self.properties)

    def remove_resource(self) -> None:
        """DeleteBucket, and the bucket's tags (moto's DeleteBucket keeps them). A bucket with
        objects stays, as moto's DeleteBucket leaves it (on AWS the deletion fails: BucketNotEmpty)."""
        bucket = self.bucket()
        if bucket is None or self.failed or bucket.keys:
            return
        self.backend.tagger.delete_all_tags_for_resource(bucket.arn)
        self.backend.delete_bucket(self.name)

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
