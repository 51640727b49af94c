"""The emulator's ``AWS::S3::Bucket`` model (stacksets.emulator.bucket), through CloudFormation
CreateStack/UpdateStack/DeleteStack on moto's real HTTP server, read back with S3's API; and its
GetBucketReplication (stacksets.emulator.s3_replication) through the S3 API alone."""

from __future__ import annotations

import re
from typing import Any

import pytest
from botocore.exceptions import ClientError

from tests.emulator_stacks import (
    BUCKETS,
    DELETIONS,
    DESTINATION,
    KEYS,
    LOGS,
    PRIMARY,
    REPLICA,
    RTC,
    SOURCE,
    bucket_stack_call,
    bucket_template,
    client,
    creation_failures,
    stack_outputs,
    without,
)

REPLICATION_ROLE = "arn:aws:iam::123456789012:role/replication"
ORIGINS = ["https://app.example.com", "https://www.app.example.com"]
TIERS = [{"StorageClass": "STANDARD_IA", "TransitionInDays": 30}, {"StorageClass": "GLACIER_IR", "TransitionInDays": 90}]
# The primary template's replication rule: RTC and its metrics, delete markers, SSE-KMS objects, the
# replica region's key, a storage class.
REPLICATION_RULE: dict[str, Any] = {
    "Id": "replicate-images",
    "Priority": 1,
    "Status": "Enabled",
    "Filter": {"Prefix": ""},
    "DeleteMarkerReplication": {"Status": "Enabled"},
    "SourceSelectionCriteria": {"SseKmsEncryptedObjects": {"Status": "Enabled"}},
    "Destination": {
        "Bucket": f"arn:aws:s3:::{DESTINATION}",
        "StorageClass": "STANDARD_IA",
        "EncryptionConfiguration": {"ReplicaKmsKeyID": KEYS[REPLICA]},
        **RTC,
    },
}
# Every bucket property the templates use (tests/golden/prod/primary.template.json, ImagesBucket),
# but MetricsConfigurations (not emulated: moto has no metrics-configuration API).
BUCKET: dict[str, Any] = {
    "BucketName": SOURCE,
    "BucketEncryption": {
        "ServerSideEncryptionConfiguration": [
            {"BucketKeyEnabled": True, "ServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": KEYS[PRIMARY]}}
        ]
    },
    "VersioningConfiguration": {"Status": "Enabled"},
    "LifecycleConfiguration": {
        "Rules": [
            {"Id": "tier-images", "Status": "Enabled", "Transitions": TIERS, "NoncurrentVersionTransitions": TIERS, "NoncurrentVersionExpiration": {"NoncurrentDays": 365}},
            {"Id": "abort-incomplete-multipart-uploads", "Status": "Enabled", "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}},
        ]
    },
    "CorsConfiguration": {
        "CorsRules": [
            {"Id": "images-cors", "AllowedHeaders": ["Content-Type", "x-amz-*"], "AllowedMethods": ["GET", "HEAD", "PUT"], "AllowedOrigins": ORIGINS, "ExposedHeaders": ["ETag"], "MaxAge": 3000}
        ]
    },
    "LoggingConfiguration": {"DestinationBucketName": LOGS, "LogFilePrefix": f"s3/{SOURCE}/"},
    "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
    "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "BlockPublicPolicy": True, "IgnorePublicAcls": True, "RestrictPublicBuckets": True},
    "ReplicationConfiguration": {"Role": REPLICATION_ROLE, "Rules": [REPLICATION_RULE]},
    "Tags": [{"Key": "project", "Value": "demo"}, {"Key": "environment", "Value": "prod"}],
}


def _api_rule(rule: dict[str, Any]) -> dict[str, Any]:
    """A replication rule as the S3 API spells it (``ID``; CloudFormation says ``Id``)."""
    return {("ID" if key == "Id" else key): value for key, value in rule.items()}


#: Each S3 read of the bucket: (operation, the answer's key). An error answers its code.
READS = {
    "versioning": ("get_bucket_versioning", "Status"),
    "replication": ("get_bucket_replication", "ReplicationConfiguration"),
    "lifecycle": ("get_bucket_lifecycle_configuration", "Rules"),
    "cors": ("get_bucket_cors", "CORSRules"),
    "logging": ("get_bucket_logging", "LoggingEnabled"),
    "ownership": ("get_bucket_ownership_controls", "OwnershipControls"),
    "public access block": ("get_public_access_block", "PublicAccessBlockConfiguration"),
    "encryption": ("get_bucket_encryption", "ServerSideEncryptionConfiguration"),
    "tags": ("get_bucket_tagging", "TagSet"),
}
READ_BACK: dict[str, Any] = {
    "versioning": "Enabled",
    "replication": {"Role": REPLICATION_ROLE, "Rules": [_api_rule(REPLICATION_RULE)]},
    "lifecycle": [
        {
            "ID": "tier-images",
            "Filter": {"Prefix": ""},  # no Prefix, no TagFilters: every object
            "Status": "Enabled",
            "Transitions": [{"Days": 30, "StorageClass": "STANDARD_IA"}, {"Days": 90, "StorageClass": "GLACIER_IR"}],
            "NoncurrentVersionTransitions": [{"NoncurrentDays": 30, "StorageClass": "STANDARD_IA"}, {"NoncurrentDays": 90, "StorageClass": "GLACIER_IR"}],
            "NoncurrentVersionExpiration": {"NoncurrentDays": 365},
        },
        {"ID": "abort-incomplete-multipart-uploads", "Filter": {"Prefix": ""}, "Status": "Enabled", "AbortIncompleteMultipartUpload": {"DaysAfterInitiation": 7}},
    ],
    "cors": [
        {"ID": "images-cors", "AllowedHeaders": ["Content-Type", "x-amz-*"], "AllowedMethods": ["GET", "HEAD", "PUT"], "AllowedOrigins": ORIGINS, "ExposeHeaders": ["ETag"], "MaxAgeSeconds": 3000}
    ],
    "logging": {"TargetBucket": LOGS, "TargetPrefix": f"s3/{SOURCE}/"},
    "ownership": {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]},
    "public access block": {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": True, "RestrictPublicBuckets": True},
    "encryption": {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "aws:kms", "KMSMasterKeyID": KEYS[PRIMARY]}, "BucketKeyEnabled": True}]},
    "tags": BUCKET["Tags"],
}
CHANGED_RULE = REPLICATION_RULE | {
    "Priority": 2,
    "DeleteMarkerReplication": {"Status": "Disabled"},
    "Destination": {"Bucket": f"arn:aws:s3:::{DESTINATION}", "StorageClass": "GLACIER_IR"},
}
CHANGED: dict[str, Any] = BUCKET | {
    "BucketEncryption": {"ServerSideEncryptionConfiguration": [{"ServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}}]},
    "LifecycleConfiguration": {"Rules": [{"Id": "expire", "Status": "Disabled", "Prefix": "tmp/", "ExpirationInDays": 1}]},
    "CorsConfiguration": {"CorsRules": [{"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]}]},
    "LoggingConfiguration": {"LogFilePrefix": "self/"},  # no DestinationBucketName: the bucket itself
    "OwnershipControls": {"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]},
    "PublicAccessBlockConfiguration": {"BlockPublicAcls": True, "IgnorePublicAcls": True},
    "ReplicationConfiguration": {"Role": REPLICATION_ROLE, "Rules": [CHANGED_RULE]},
    "Tags": [{"Key": "project", "Value": "renamed"}],
}
CHANGED_READ_BACK = READ_BACK | {
    "replication": {"Role": REPLICATION_ROLE, "Rules": [_api_rule(CHANGED_RULE)]},
    "lifecycle": [{"ID": "expire", "Filter": {"Prefix": "tmp/"}, "Status": "Disabled", "Expiration": {"Days": 1}}],
    "cors": [{"AllowedMethods": ["GET"], "AllowedOrigins": ["*"]}],
    "logging": {"TargetBucket": SOURCE, "TargetPrefix": "self/"},
    "ownership": {"Rules": [{"ObjectOwnership": "BucketOwnerPreferred"}]},
    "public access block": {"BlockPublicAcls": True, "IgnorePublicAcls": True, "BlockPublicPolicy": False, "RestrictPublicBuckets": False},
    "encryption": {"Rules": [{"ApplyServerSideEncryptionByDefault": {"SSEAlgorithm": "AES256"}, "BucketKeyEnabled": False}]},
    "tags": [{"Key": "project", "Value": "renamed"}],
}
# What a bucket reads after the template stopped declaring everything but its name.
REMOVED_READ_BACK = {
    "versioning": "Suspended",  # a bucket cannot go back to unversioned
    "replication": "ReplicationConfigurationNotFoundError",
    "lifecycle": "NoSuchLifecycleConfiguration",
    "cors": "NoSuchCORSConfiguration",
    "logging": None,  # GetBucketLogging answers no LoggingEnabled
    "ownership": "OwnershipControlsNotFoundError",
    "public access block": "NoSuchPublicAccessBlockConfiguration",
    # moto's answer for a bucket without encryption configuration; AWS reports its default
    # encryption (SSE-S3, AES256) instead.
    "encryption": "ServerSideEncryptionConfigurationNotFoundError",
    "tags": "NoSuchTagSet",
}


def _targets(endpoint: str, destination: str | None = "versioned") -> None:
    """The buckets BUCKET names, made outside the stack: the access-log bucket (the stack's region)
    and, unless ``destination`` is None, the replication destination in the replica region,
    versioned unless ``destination`` is "unversioned"."""
    client("s3", endpoint).create_bucket(Bucket=LOGS)
    if destination is None:
        return
    west = client("s3", endpoint, REPLICA)
    west.create_bucket(Bucket=DESTINATION, CreateBucketConfiguration={"LocationConstraint": REPLICA})
    if destination == "versioned":
        west.put_bucket_versioning(Bucket=DESTINATION, VersioningConfiguration={"Status": "Enabled"})


def _reads(endpoint: str, bucket: str = SOURCE) -> dict[str, Any]:
    """Every read of READS on ``bucket``: the answer's key, or the error's code."""
    s3 = client("s3", endpoint)
    found: dict[str, Any] = {}
    for what, (operation, key) in READS.items():
        try:
            found[what] = getattr(s3, operation)(Bucket=bucket).get(key)
        except ClientError as error:
            found[what] = error.response["Error"]["Code"]
    return found


def _exists(endpoint: str, bucket: str) -> bool:
    try:
        client("s3", endpoint).head_bucket(Bucket=bucket)
    except ClientError as error:
        assert error.response["Error"]["Code"] == "404"
        return False
    return True


def test_a_bucket_is_created_with_every_property(moto_endpoint: str) -> None:
    """moto's own model would leave versioning, replication, lifecycle, CORS, logging, ownership
    controls and the public access block unset (and BucketKeyEnabled false)."""
    _targets(moto_endpoint)
    stack = bucket_stack_call(moto_endpoint, "create", bucket_template(Bucket=BUCKET))
    assert stack["StackStatus"] == "CREATE_COMPLETE"
    assert _reads(moto_endpoint) == READ_BACK
    assert stack_outputs(stack) == {"BucketName": SOURCE, "BucketArn": f"arn:aws:s3:::{SOURCE}"}
    resources = client("cloudformation", moto_endpoint).describe_stack_resources(StackName=BUCKETS)["StackResources"]
    assert [(r["ResourceType"], r["PhysicalResourceId"]) for r in resources] == [("AWS::S3::Bucket", SOURCE)]


@pytest.mark.parametrize(("after", "expected"), [(CHANGED, CHANGED_READ_BACK), ({"BucketName": SOURCE}, REMOVED_READ_BACK)], ids=["changed", "removed"])
def test_an_update_changes_the_bucket_in_place(moto_endpoint: str, after: dict[str, Any], expected: dict[str, Any]) -> None:
    """Changed properties are applied, those the template no longer declares are removed; the
    bucket (and its objects) stays."""
    _targets(moto_endpoint)
    bucket_stack_call(moto_endpoint, "create", bucket_template(Bucket=BUCKET))
    s3 = client("s3", moto_endpoint)
    s3.put_object(Bucket=SOURCE, Key="kept", Body=b"x")
    stack = bucket_stack_call(moto_endpoint, "update", bucket_template(Bucket=after))
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    assert _reads(moto_endpoint) == expected
    assert s3.get_object(Bucket=SOURCE, Key="kept")["Body"].read() == b"x"


CORS_PATCH = {"CorsConfiguration": {"CorsRules": [{"AllowedMethods": ["PATCH"], "AllowedOrigins": ["*"]}]}}


@pytest.mark.parametrize(
    ("props", "prepare", "reason"),
    [
        (BUCKET | {"LoggingConfiguration": {"DestinationBucketName": "no-such-logs"}}, "versioned", "The target bucket for logging does not exist: no-such-logs"),
        (BUCKET | {"LoggingConfiguration": {"DestinationBucketName": DESTINATION}}, "versioned", "Cross S3 location logging not allowed."),
        (without(BUCKET, "VersioningConfiguration"), "versioned", "Versioning must be 'Enabled' on the bucket to apply a replication configuration"),
        (BUCKET | {"VersioningConfiguration": {"Status": "Suspended"}}, "versioned", "Versioning must be 'Enabled' on the bucket to apply a replication configuration"),
        (BUCKET, "unversioned", f"Destination bucket must have versioning enabled: {DESTINATION}"),
        (BUCKET, None, f"Destination bucket must exist: {DESTINATION}"),
        (BUCKET | CORS_PATCH, "versioned", "Found unsupported HTTP method in CORS config. Unsupported method is PATCH"),
        (BUCKET | {"LifecycleConfiguration": {"Rules": [{"Status": "Enabled", "ExpiredObjectDeleteMarker": True, "ExpirationInDays": 1}]}}, "versioned",
         "The XML you provided was not well-formed or did not validate against our published schema"),
        (BUCKET | {"ReplicationConfiguration": {"Role": REPLICATION_ROLE}}, "versioned", "Properties validation failed: KeyError 'Rules'"),
    ],
    ids=[
        "no-logging-target", "logging-target-elsewhere", "replication-unversioned", "replication-suspended",
        "destination-unversioned", "no-destination", "cors-method", "lifecycle-malformed", "replication-malformed",
    ],
)  # fmt: skip
def test_a_refused_bucket_rolls_the_stack_back(moto_endpoint: str, props: dict[str, Any], prepare: str | None, reason: str) -> None:
    """What S3 refuses fails the resource and rolls the stack back, as on AWS; the bucket the
    model made is deleted. (The messages for a missing target or destination are the emulator's.)"""
    _targets(moto_endpoint, prepare)
    stack = bucket_stack_call(moto_endpoint, "create", bucket_template(Bucket=props))
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    assert creation_failures(moto_endpoint, BUCKETS) == [("Bucket", f"Resource handler returned message: {reason!r}")]
    assert not _exists(moto_endpoint, SOURCE)


def test_a_bucket_name_taken_rolls_the_stack_back_and_leaves_the_bucket(moto_endpoint: str) -> None:
    _targets(moto_endpoint)
    client("s3", moto_endpoint).create_bucket(Bucket=SOURCE)
    stack = bucket_stack_call(moto_endpoint, "create", bucket_template(Bucket=BUCKET))
    assert stack["StackStatus"] == "ROLLBACK_COMPLETE"
    [(logical, reason)] = creation_failures(moto_endpoint, BUCKETS)
    assert logical == "Bucket" and "The requested bucket name is not available" in reason
    client("cloudformation", moto_endpoint).delete_stack(StackName=BUCKETS)
    assert _exists(moto_endpoint, SOURCE)
    assert _reads(moto_endpoint)["versioning"] is None and _reads(moto_endpoint)["tags"] == "NoSuchTagSet"


@pytest.mark.parametrize(
    ("after", "message"),
    [
        (CHANGED | CORS_PATCH, "Unsupported method is PATCH"),
        (CHANGED | {"LoggingConfiguration": {"DestinationBucketName": "no-such-logs"}}, "The target bucket for logging does not exist: no-such-logs"),
    ],
    ids=["refused-by-moto-after-other-changes", "refused-before-any-change"],
)
def test_a_refused_bucket_update_changes_nothing(moto_endpoint: str, after: dict[str, Any], message: str) -> None:
    """On AWS the update fails and rolls back; moto's CloudFormation fails the UpdateStack call.
    Either way the bucket is as it was, also what was applied before the refused property
    (encryption, tags, versioning and lifecycle come before CORS)."""
    _targets(moto_endpoint)
    bucket_stack_call(moto_endpoint, "create", bucket_template(Bucket=BUCKET))
    with pytest.raises(ClientError) as raised:
        bucket_stack_call(moto_endpoint, "update", bucket_template(Bucket=after))
    assert raised.value.response["Error"]["Code"] == "ValidationError"
    assert message in raised.value.response["Error"]["Message"]
    assert _reads(moto_endpoint) == READ_BACK


@pytest.mark.parametrize(("how", "policy", "kept"), DELETIONS)
def test_bucket_deletion_honours_the_deletion_policy(moto_endpoint: str, how: str, policy: str, kept: bool) -> None:
    """The bucket and its tags go (moto's DeleteBucket would keep the tags and hand them to a later
    bucket of that name); moto's CloudFormation ignores DeletionPolicy when an update removes a
    resource, the model honours it as AWS does."""
    _targets(moto_endpoint)
    other = {"BucketName": "app-other"}
    bucket_stack_call(moto_endpoint, "create", bucket_template(policy, Bucket=BUCKET, Other=other))
    if how == "delete-stack":
        client("cloudformation", moto_endpoint).delete_stack(StackName=BUCKETS)
    else:
        bucket_stack_call(moto_endpoint, "update", bucket_template(policy, Other=other))
    assert _exists(moto_endpoint, SOURCE) == kept
    if kept:
        assert _reads(moto_endpoint) == READ_BACK
    else:
        client("s3", moto_endpoint).create_bucket(Bucket=SOURCE)
        assert _reads(moto_endpoint)["tags"] == "NoSuchTagSet"
    assert _exists(moto_endpoint, "app-other") == (kept or how == "leave-the-template")


def test_a_bucket_with_objects_is_kept(moto_endpoint: str) -> None:
    """moto's DeleteBucket keeps a bucket with objects without a word, and so does the model (on
    AWS the deletion fails: BucketNotEmpty, the stack DELETE_FAILED)."""
    _targets(moto_endpoint)
    bucket_stack_call(moto_endpoint, "create", bucket_template(Bucket=BUCKET))
    client("s3", moto_endpoint).put_object(Bucket=SOURCE, Key="k", Body=b"x")
    client("cloudformation", moto_endpoint).delete_stack(StackName=BUCKETS)
    assert _exists(moto_endpoint, SOURCE)


@pytest.mark.parametrize(("policy", "old_kept"), [("Delete", False), ("Retain", True)])
def test_a_new_bucket_name_replaces_the_bucket(moto_endpoint: str, policy: str, old_kept: bool) -> None:
    """The new bucket has every property; the old one goes unless UpdateReplacePolicy is Retain
    (moto's own model deletes it whatever the policy)."""
    _targets(moto_endpoint)
    bucket_stack_call(moto_endpoint, "create", bucket_template(policy, Bucket=BUCKET))
    stack = bucket_stack_call(moto_endpoint, "update", bucket_template(policy, Bucket=BUCKET | {"BucketName": "app-images-2"}))
    assert stack["StackStatus"] == "UPDATE_COMPLETE"
    assert _reads(moto_endpoint, "app-images-2") == READ_BACK
    assert _exists(moto_endpoint, SOURCE) == old_kept
    assert stack_outputs(stack) == {"BucketName": "app-images-2", "BucketArn": "arn:aws:s3:::app-images-2"}


def test_a_bucket_without_a_name_keeps_its_generated_name(moto_endpoint: str) -> None:
    """CloudFormation names it ``{stack}-{logical id}-{random}`` (lower case) and keeps the name
    across updates (moto's parser makes up a new one on every update; the model keeps the first)."""
    unnamed = {"VersioningConfiguration": {"Status": "Enabled"}, "Tags": [{"Key": "project", "Value": "demo"}]}
    stack = bucket_stack_call(moto_endpoint, "create", bucket_template(Bucket=unnamed))
    name = stack_outputs(stack)["BucketName"]
    assert re.fullmatch(rf"{BUCKETS}-bucket-[0-9a-z]{{12}}", name), name
    stack = bucket_stack_call(moto_endpoint, "update", bucket_template(Bucket=unnamed | {"Tags": [{"Key": "project", "Value": "renamed"}]}))
    assert stack_outputs(stack) == {"BucketName": name, "BucketArn": f"arn:aws:s3:::{name}"}
    assert [b["Name"] for b in client("s3", moto_endpoint).list_buckets()["Buckets"]] == [name]
    reads = _reads(moto_endpoint, name)
    assert (reads["versioning"], reads["tags"]) == ("Enabled", [{"Key": "project", "Value": "renamed"}])


# GetBucketReplication through the S3 API alone (moto's PutBucketReplication handler stores the
# request): what was put, as AWS answers it.
API_RULE: dict[str, Any] = {
    "ID": "everything",
    "Priority": 1,
    "Status": "Enabled",
    "Filter": {"Prefix": ""},
    "DeleteMarkerReplication": {"Status": "Enabled"},
    "SourceSelectionCriteria": {"SseKmsEncryptedObjects": {"Status": "Enabled"}, "ReplicaModifications": {"Status": "Enabled"}},
    "ExistingObjectReplication": {"Status": "Enabled"},
    "Destination": {
        "Bucket": f"arn:aws:s3:::{DESTINATION}",
        "Account": "123456789012",
        "StorageClass": "GLACIER_IR",
        "AccessControlTranslation": {"Owner": "Destination"},
        "EncryptionConfiguration": {"ReplicaKmsKeyID": KEYS[REPLICA]},
        **RTC,
    },
}
TWO_TAGS = [{"Key": "tier", "Value": "gold"}, {"Key": "team", "Value": "media"}]


@pytest.mark.parametrize(
    "rules",
    [
        [API_RULE],
        [API_RULE | {"Filter": {"Prefix": "portfolio/"}, "DeleteMarkerReplication": {"Status": "Disabled"}}],
        [API_RULE | {"Filter": {"Tag": TWO_TAGS[0]}}],
        [API_RULE | {"Filter": {"And": {"Prefix": "p/", "Tags": TWO_TAGS}}}],
        [API_RULE | {"Filter": {"And": {"Tags": TWO_TAGS[:1]}}}],
        [{"ID": "v1", "Priority": 1, "Prefix": "", "Status": "Disabled", "Destination": {"Bucket": f"arn:aws:s3:::{DESTINATION}"}}],
        [API_RULE, API_RULE | {"ID": "second", "Priority": 2, "Filter": {"Prefix": "b/"}, "Status": "Disabled"}],
    ],
    ids=["every-element", "prefix", "tag", "and-prefix-tags", "and-one-tag", "v1-prefix", "two-rules"],
)
def test_get_bucket_replication_answers_what_was_put(moto_endpoint: str, rules: list[dict[str, Any]]) -> None:
    """moto's own answer: DeleteMarkerReplication Disabled and Filter {Prefix: ""} for every rule,
    no SourceSelectionCriteria nor ExistingObjectReplication."""
    _targets(moto_endpoint)
    s3 = client("s3", moto_endpoint)
    s3.create_bucket(Bucket=SOURCE)
    s3.put_bucket_versioning(Bucket=SOURCE, VersioningConfiguration={"Status": "Enabled"})
    s3.put_bucket_replication(Bucket=SOURCE, ReplicationConfiguration={"Role": REPLICATION_ROLE, "Rules": rules})
    assert s3.get_bucket_replication(Bucket=SOURCE)["ReplicationConfiguration"] == {"Role": REPLICATION_ROLE, "Rules": rules}
