"""Focused tests of what each builder puts in the templates (SPEC sections 3 to 5)."""

from __future__ import annotations

import json
import re
from typing import Any

import pytest
from cfnlint.api import lint
from troposphere import Parameter, Ref, Template

from appstorage import bucket_policy, build_bucket, build_table
from appstorage import validators as v
from appstorage.config import load_config
from appstorage.naming import Purpose
from appstorage.parameters import SPECS
from appstorage.render import to_json
from tests.helpers import config_from, example_data, rendered

CONFIG = load_config()
PROD_PRIMARY = rendered(CONFIG, "prod", "primary")
PROD_REPLICA = rendered(CONFIG, "prod", "replica")
DEV_PRIMARY = rendered(CONFIG, "dev", "primary")
ALL = {
    f"{env}-{kind}": rendered(CONFIG, env, kind)
    for env in CONFIG.environments
    for kind in ("primary", "replica")
}
BUCKETS = [
    (name, logical)
    for name, t in ALL.items()
    for logical, r in t["Resources"].items()
    if r["Type"] == "AWS::S3::Bucket"
]


def resources_of(template: dict[str, Any], rtype: str) -> dict[str, Any]:
    return {k: v for k, v in template["Resources"].items() if v["Type"] == rtype}


# ------------------------------------------------------------------------ table


def replicas(template: dict[str, Any]) -> list[dict[str, Any]]:
    return list(template["Resources"]["Table"]["Properties"]["Replicas"])


def test_table_keys_indexes_and_stream() -> None:
    table = PROD_PRIMARY["Resources"]["Table"]
    assert table["Type"] == "AWS::DynamoDB::GlobalTable"
    props = table["Properties"]
    assert props["KeySchema"] == [
        {"AttributeName": "PK", "KeyType": "HASH"},
        {"AttributeName": "SK", "KeyType": "RANGE"},
    ]
    assert {a["AttributeName"]: a["AttributeType"] for a in props["AttributeDefinitions"]} == {
        k: "S" for k in ("PK", "SK", "GSI1PK", "GSI1SK", "GSI2PK", "GSI2SK")
    }
    indexes = {i["IndexName"]: i for i in props["GlobalSecondaryIndexes"]}
    assert set(indexes) == {"GSI1", "GSI2"}
    for name, index in indexes.items():
        assert index["KeySchema"] == [
            {"AttributeName": f"{name}PK", "KeyType": "HASH"},
            {"AttributeName": f"{name}SK", "KeyType": "RANGE"},
        ]
        assert index["Projection"] == {"ProjectionType": "ALL"}
    assert props["BillingMode"] == "PAY_PER_REQUEST"
    assert props["StreamSpecification"] == {"StreamViewType": "NEW_AND_OLD_IMAGES"}
    assert props["SSESpecification"] == {"SSEEnabled": True, "SSEType": "KMS"}
    assert props["TableName"] == "tattoo-directory-prod"
    assert "WriteOnDemandThroughputSettings" not in props  # no cap unless configured


@pytest.mark.parametrize(
    ("env", "regions"),
    [
        ("dev", [{"Ref": "AWS::Region"}]),
        ("staging", [{"Ref": "AWS::Region"}]),
        ("prod", [{"Ref": "AWS::Region"}, "us-west-2"]),
    ],
)
def test_global_table_replicas_follow_replication(env: str, regions: list[Any]) -> None:
    """One replica in the stack's region; the replica region joins only with replication."""
    template = rendered(CONFIG, env, "primary")
    assert [r["Region"] for r in replicas(template)] == regions
    keys = [r["SSESpecification"] for r in replicas(template)]
    assert (
        keys
        == [{"KMSMasterKeyId": {"Ref": "KmsKeyArn"}}, {"KMSMasterKeyId": {"Ref": "ReplicaKmsKeyArn"}}][
            : len(regions)
        ]
    )
    replica_template = rendered(CONFIG, env, "replica")
    assert not [r for r in replica_template["Resources"].values() if r["Type"].startswith("AWS::DynamoDB")]


@pytest.mark.parametrize(("env", "days", "protected"), [("dev", 7, False), ("prod", 35, True)])
def test_table_pitr_and_deletion_protection_on_every_replica(env: str, days: int, protected: bool) -> None:
    for replica in replicas(rendered(CONFIG, env, "primary")):
        assert replica["PointInTimeRecoverySpecification"] == {
            "PointInTimeRecoveryEnabled": True,
            "RecoveryPeriodInDays": days,
        }
        assert replica["DeletionProtectionEnabled"] is protected
        assert "ContributorInsightsSpecification" not in replica


def test_table_optional_ttl_contributor_insights_and_request_unit_caps() -> None:
    assert "TimeToLiveSpecification" not in PROD_PRIMARY["Resources"]["Table"]["Properties"]
    data = example_data()
    data["environments"]["prod"]["table"] = {
        "ttl_attribute": "expiresAt",
        "contributor_insights": True,
        "max_read_request_units": 1000,
        "max_write_request_units": 200,
    }
    template = rendered(config_from(data), "prod", "primary")
    props = template["Resources"]["Table"]["Properties"]
    assert props["TimeToLiveSpecification"] == {"AttributeName": "expiresAt", "Enabled": True}
    assert props["WriteOnDemandThroughputSettings"] == {"MaxWriteRequestUnits": 200}
    for index in props["GlobalSecondaryIndexes"]:  # index writes are capped too
        assert index["WriteOnDemandThroughputSettings"] == {"MaxWriteRequestUnits": 200}
    assert len(replicas(template)) == 2
    for replica in replicas(template):
        assert replica["ContributorInsightsSpecification"] == {"Enabled": True}
        assert replica["ReadOnDemandThroughputSettings"] == {"MaxReadRequestUnits": 1000}
        assert replica["GlobalSecondaryIndexes"] == [
            {"IndexName": name, "ReadOnDemandThroughputSettings": {"MaxReadRequestUnits": 1000}}
            for name in ("GSI1", "GSI2")
        ]


@pytest.mark.parametrize("name", sorted(ALL))
def test_stateful_resources_are_retained(name: str) -> None:
    for logical, resource in ALL[name]["Resources"].items():
        if resource["Type"] in ("AWS::DynamoDB::GlobalTable", "AWS::S3::Bucket"):
            assert resource["DeletionPolicy"] == "Retain", logical
            assert resource["UpdateReplacePolicy"] == "Retain", logical


@pytest.mark.parametrize("name", sorted(ALL))
def test_every_taggable_resource_has_the_standard_tags(name: str) -> None:
    for logical, resource in ALL[name]["Resources"].items():
        if resource["Type"] == "AWS::S3::BucketPolicy":
            continue
        props = resource["Properties"]
        # A global table is tagged per replica.
        tag_lists = [r["Tags"] for r in props["Replicas"]] if "Replicas" in props else [props["Tags"]]
        for tag_list in tag_lists:
            # AWS::SSM::Parameter's Tags is a JSON object, every other type's a list of Key/Value.
            tags = tag_list if isinstance(tag_list, dict) else {t["Key"]: t["Value"] for t in tag_list}
            env = name.split("-")[0]
            assert tags["project"] == "tattoo-directory", logical
            assert tags["environment"] == env
            assert tags["module"] == "app-storage"
            assert tags["managed-by"] == "appstorage"
            assert tags["cost-center"] == "platform"  # configured tags are added


# ------------------------------------------------------------------------ buckets


@pytest.mark.parametrize(("template", "logical"), BUCKETS)
def test_bucket_hardening(template: str, logical: str) -> None:
    props = ALL[template]["Resources"][logical]["Properties"]
    assert props["PublicAccessBlockConfiguration"] == {
        "BlockPublicAcls": True,
        "BlockPublicPolicy": True,
        "IgnorePublicAcls": True,
        "RestrictPublicBuckets": True,
    }
    assert props["OwnershipControls"] == {"Rules": [{"ObjectOwnership": "BucketOwnerEnforced"}]}
    assert props["VersioningConfiguration"] == {"Status": "Enabled"}
    (rule,) = props["BucketEncryption"]["ServerSideEncryptionConfiguration"]
    assert rule == {
        "BucketKeyEnabled": True,
        "BlockedEncryptionTypes": {"EncryptionType": ["SSE-C"]},
        "ServerSideEncryptionByDefault": {"KMSMasterKeyID": {"Ref": "KmsKeyArn"}, "SSEAlgorithm": "aws:kms"},
    }
    assert props["MetricsConfigurations"] == [{"Id": "EntireBucket"}]  # request and error rates
    assert props["LoggingConfiguration"]["DestinationBucketName"] == {"Ref": "AccessLogsBucketName"}
    assert props["LoggingConfiguration"]["LogFilePrefix"].endswith("/")
    abort = [r for r in props["LifecycleConfiguration"]["Rules"] if "AbortIncompleteMultipartUpload" in r]
    assert abort[0]["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}


def test_bucket_names_follow_the_naming_rule() -> None:
    names = {
        k: v["Properties"]["BucketName"] for k, v in resources_of(PROD_PRIMARY, "AWS::S3::Bucket").items()
    }
    assert names == {
        "FrontendBucket": {"Fn::Sub": "tattoo-directory-prod-frontend-${AWS::AccountId}-${AWS::Region}"},
        "ImagesBucket": {"Fn::Sub": "tattoo-directory-prod-images-${AWS::AccountId}-${AWS::Region}"},
    }
    replica = {
        k: v["Properties"]["BucketName"] for k, v in resources_of(PROD_REPLICA, "AWS::S3::Bucket").items()
    }
    assert replica["ImagesBackupBucket"] == {
        "Fn::Sub": "tattoo-directory-prod-images-backup-${AWS::AccountId}-${AWS::Region}"
    }


def test_replica_template_uses_the_replica_region_key_parameter() -> None:
    """The replica stack resolves KmsKeyArn from the same SSM path in its own region."""
    assert PROD_REPLICA["Parameters"]["KmsKeyArn"] == {
        "Default": "/tattoo-directory/prod/foundation/kms-key-arn",
        "Description": PROD_REPLICA["Parameters"]["KmsKeyArn"]["Description"],
        "Type": "AWS::SSM::Parameter::Value<String>",
    }
    assert "ReplicaKmsKeyArn" not in PROD_REPLICA["Parameters"]


def test_literal_parameters_get_an_allowed_pattern_and_replica_twins() -> None:
    data = example_data()
    params = data["environments"]["dev"]["parameters"]
    params["KmsKeyArn"] = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
    params["ReplicaKmsKeyArn"] = "arn:aws:kms:us-west-2:111111111111:key/mrk-1234abcd12ab34cd56ef1234567890ab"
    config = config_from(data)
    primary = rendered(config, "dev", "primary")["Parameters"]["KmsKeyArn"]
    replica = rendered(config, "dev", "replica")["Parameters"]["KmsKeyArn"]
    assert primary["Type"] == "String" and primary["Default"] == params["KmsKeyArn"]
    assert re.match(primary["AllowedPattern"], params["KmsKeyArn"])
    assert not re.match(primary["AllowedPattern"], "alias/foo")
    assert replica["Default"] == params["ReplicaKmsKeyArn"]


PATTERN_CASES = [
    # (parameter, the validator's regex, values both accept, values both refuse)
    ("KmsKeyArn", v.KMS_KEY_ARN_RE,
     ["arn:aws:kms:us-east-1:111111111111:key/mrk-1234abcd", "arn:aws-cn:kms:cn-north-1:111111111111:key/ab-12"],
     ["alias/foo", "arn:aws:kms:us-east-1:1:key/x", "arn:aws:kms:us-east-1:111111111111:alias/x"]),
    # S3's own rule: another module's bucket may have dots (https://docs.aws.amazon.com/AmazonS3/latest/userguide/bucketnamingrules.html)
    ("AccessLogsBucketName", v.BUCKET_RE, ["my-logs", "a1b", "my.logs", "logs.example.com"],
     ["My-Logs", "-logs", "ab", "my..logs", "192.168.1.10", "logs.", "xn--logs", "logs--ol-s3", "logs.mrap"]),
    ("CloudFrontDistributionArn", v.CLOUDFRONT_ARN_RE,
     ["arn:aws:cloudfront::111111111111:distribution/E2ABC"], ["arn:aws:cloudfront::1:distribution/E2", ""]),
    ("S3VpcEndpointId", v.VPCE_RE, ["vpce-0123456789abcdef0"], ["vpce-XYZ", "vpc-0123456789abcdef0"]),
    ("AlarmTopicArn", v.SNS_TOPIC_ARN_RE,
     ["arn:aws:sns:us-east-1:111111111111:ops", "arn:aws:sns:us-east-1:111111111111:ops.fifo"],
     ["arn:aws:sns:us-east-1:111111111111:ops.txt", "arn:aws:sqs:us-east-1:111111111111:ops"]),
]  # fmt: skip


@pytest.mark.parametrize(("name", "regex", "good", "bad"), PATTERN_CASES, ids=[c[0] for c in PATTERN_CASES])
def test_parameter_patterns_are_derived_from_the_validators(
    name: str, regex: re.Pattern[str], good: list[str], bad: list[str]
) -> None:
    """One regex per input, owned by the validators: the template's AllowedPattern accepts exactly
    the values the loader accepts (CloudFormation's Java regex has no ``(?P<name>`` groups)."""
    pattern = SPECS[name].pattern
    assert "(?P<" not in pattern
    for value in good:
        assert regex.match(value) and re.match(pattern, value), value
    for value in bad:
        assert not regex.match(value) and not re.match(pattern, value), value


def test_cloudformation_pattern_drops_only_named_groups() -> None:
    regex = re.compile(r"^(?P<a>x(y)?[()\]])\)(?P<b>(?:z|w))$")
    assert v.cloudformation_pattern(regex) == r"^x(y)?[()\]]\)(?:z|w)$"


def test_frontend_and_images_lifecycle_and_cors() -> None:
    res = PROD_PRIMARY["Resources"]
    frontend = res["FrontendBucket"]["Properties"]
    images = res["ImagesBucket"]["Properties"]
    (fcors,) = frontend["CorsConfiguration"]["CorsRules"]
    assert fcors["AllowedMethods"] == ["GET", "HEAD"]
    assert fcors["AllowedOrigins"] == ["https://tattoo.example.com", "https://www.tattoo.example.com"]
    (icors,) = images["CorsConfiguration"]["CorsRules"]
    assert icors["AllowedMethods"] == ["GET", "HEAD", "PUT"]
    assert icors["ExposedHeaders"] == ["ETag"]
    expire = frontend["LifecycleConfiguration"]["Rules"][0]
    assert expire["NoncurrentVersionExpiration"] == {"NoncurrentDays": 30}
    tier = images["LifecycleConfiguration"]["Rules"][0]
    # Every tier stays servable by CloudFront: Glacier Instant Retrieval, never Flexible Retrieval.
    assert tier["Transitions"] == [
        {"StorageClass": "STANDARD_IA", "TransitionInDays": 30},
        {"StorageClass": "GLACIER_IR", "TransitionInDays": 90},
    ]
    assert tier["NoncurrentVersionTransitions"] == [
        {"StorageClass": "STANDARD_IA", "TransitionInDays": 30},
        {"StorageClass": "GLACIER_IR", "TransitionInDays": 90},
    ]
    assert tier["NoncurrentVersionExpiration"] == {"NoncurrentDays": 365}
    assert "WebsiteConfiguration" not in frontend
    backup_cors = PROD_REPLICA["Resources"]["ImagesBackupBucket"]["Properties"]["CorsConfiguration"]
    assert backup_cors["CorsRules"][0]["AllowedMethods"] == ["GET", "HEAD"]  # replicas take no uploads


def test_website_flag_adds_website_configuration_and_output() -> None:
    data = example_data()
    data["environments"]["dev"]["website"] = True
    t = rendered(config_from(data), "dev", "primary")
    assert t["Resources"]["FrontendBucket"]["Properties"]["WebsiteConfiguration"] == {
        "ErrorDocument": "index.html",
        "IndexDocument": "index.html",
    }
    assert "FrontendWebsiteUrl" in t["Outputs"]


# ------------------------------------------------------------------------ bucket policies


def statements(template: dict[str, Any], policy: str) -> dict[str, Any]:
    out = {}
    for s in template["Resources"][policy]["Properties"]["PolicyDocument"]["Statement"]:
        if "Fn::If" in s:
            out[s["Fn::If"][1]["Sid"]] = {"conditional": s["Fn::If"]}
        else:
            out[s["Sid"]] = s
    return out


@pytest.mark.parametrize(("template", "logical"), BUCKETS)
def test_bucket_policy_denies_non_tls_and_old_tls(template: str, logical: str) -> None:
    sts = statements(ALL[template], f"{logical}Policy")
    insecure = sts["DenyInsecureTransport"]
    assert insecure["Effect"] == "Deny" and insecure["Principal"] == "*"
    assert insecure["Condition"] == {"Bool": {"aws:SecureTransport": "false"}}
    assert insecure["Resource"] == [{"Fn::GetAtt": [logical, "Arn"]}, {"Fn::Sub": f"${{{logical}.Arn}}/*"}]
    old_tls = sts["DenyOutdatedTls"]
    assert old_tls["Effect"] == "Deny"
    assert old_tls["Condition"] == {"NumericLessThan": {"s3:TlsVersion": 1.2}}


def test_cloudfront_statement_scoped_to_distribution_or_account() -> None:
    cf = statements(PROD_PRIMARY, "FrontendBucketPolicy")["AllowCloudFrontRead"]
    assert cf["Principal"] == {"Service": "cloudfront.amazonaws.com"}
    assert cf["Action"] == ["s3:GetObject"]
    condition, given, fallback = cf["Condition"]["Fn::If"]
    assert condition == "HasCloudFrontDistribution"
    assert given == {"StringEquals": {"AWS:SourceArn": {"Ref": "CloudFrontDistributionArn"}}}
    assert fallback == {
        "StringEquals": {"AWS:SourceAccount": {"Ref": "AWS::AccountId"}},
        "ArnLike": {
            "AWS:SourceArn": {"Fn::Sub": "arn:${AWS::Partition}:cloudfront::${AWS::AccountId}:distribution/*"}
        },
    }
    assert PROD_PRIMARY["Conditions"]["HasCloudFrontDistribution"] == {
        "Fn::Not": [{"Fn::Equals": [{"Ref": "CloudFrontDistributionArn"}, ""]}]
    }


@pytest.mark.parametrize(("template", "logical"), BUCKETS)
def test_bucket_policy_allows_uploads_only_under_the_bucket_key(template: str, logical: str) -> None:
    """Uploads naming another KMS key, another SSE type, or SSE-C are denied; uploads naming none
    (the bucket default) pass, hence IfExists. Replication writes (s3:ReplicateObject) are not
    PutObject, so the backups still receive replicas."""
    sts = statements(ALL[template], f"{logical}Policy")
    objects = [{"Fn::Sub": f"${{{logical}.Arn}}/*"}]
    expected = {
        "DenyUploadsWithAnotherKmsKey": {
            "StringNotEqualsIfExists": {
                "s3:x-amz-server-side-encryption-aws-kms-key-id": {"Ref": "KmsKeyArn"}
            }
        },
        # aws:kms without a key id would get the AWS managed key aws/s3, which nothing may use
        "DenyKmsUploadsWithoutKeyArn": {
            "StringEquals": {"s3:x-amz-server-side-encryption": "aws:kms"},
            "Null": {"s3:x-amz-server-side-encryption-aws-kms-key-id": "true"},
        },
        "DenyUploadsWithAnotherEncryptionType": {
            "StringNotEqualsIfExists": {"s3:x-amz-server-side-encryption": "aws:kms"}
        },
        "DenyCustomerProvidedKeys": {"Null": {"s3:x-amz-server-side-encryption-customer-algorithm": "false"}},
    }
    for sid, condition in expected.items():
        statement = sts[sid]
        assert statement["Effect"] == "Deny" and statement["Principal"] == "*", sid
        assert statement["Action"] == ["s3:PutObject"], sid
        assert statement["Resource"] == objects, sid
        assert statement["Condition"] == condition, sid


def test_request_metrics_are_configurable() -> None:
    data = example_data()
    data["environments"]["dev"]["monitoring"] = {"request_metrics": False}
    config = config_from(data)
    for kind in ("primary", "replica"):
        for bucket in resources_of(rendered(config, "dev", kind), "AWS::S3::Bucket").values():
            assert "MetricsConfigurations" not in bucket["Properties"]


@pytest.mark.parametrize(
    ("template", "policy", "has_vpce"),
    [
        ("prod-primary", "ImagesBucketPolicy", True),
        ("prod-replica", "ImagesBackupBucketPolicy", True),
        ("prod-primary", "FrontendBucketPolicy", False),
        ("prod-replica", "FrontendBackupBucketPolicy", False),
    ],
)
def test_vpc_endpoint_statement_only_on_images_buckets(template: str, policy: str, has_vpce: bool) -> None:
    sts = statements(ALL[template], policy)
    assert ("AllowAccountAccessThroughVpcEndpoint" in sts) is has_vpce
    if has_vpce:
        condition, statement, absent = sts["AllowAccountAccessThroughVpcEndpoint"]["conditional"]
        assert condition == "HasS3VpcEndpoint"
        assert absent == {"Ref": "AWS::NoValue"}
        assert statement["Condition"] == {"StringEquals": {"aws:SourceVpce": {"Ref": "S3VpcEndpointId"}}}


# ------------------------------------------------------------------------ replication


def test_prod_images_replication_has_rtc_metrics_and_replica_key() -> None:
    config = PROD_PRIMARY["Resources"]["ImagesBucket"]["Properties"]["ReplicationConfiguration"]
    assert config["Role"] == {"Fn::GetAtt": ["ReplicationRole", "Arn"]}
    (rule,) = config["Rules"]
    assert rule["Status"] == "Enabled" and rule["Priority"] == 1
    assert rule["Filter"] == {"Prefix": ""}
    assert rule["DeleteMarkerReplication"] == {"Status": "Enabled"}
    assert rule["SourceSelectionCriteria"] == {"SseKmsEncryptedObjects": {"Status": "Enabled"}}
    dest = rule["Destination"]
    assert dest["Bucket"] == {
        "Fn::Sub": "arn:${AWS::Partition}:s3:::tattoo-directory-prod-images-backup-${AWS::AccountId}-us-west-2"
    }
    assert dest["EncryptionConfiguration"] == {"ReplicaKmsKeyID": {"Ref": "ReplicaKmsKeyArn"}}
    assert dest["ReplicationTime"] == {"Status": "Enabled", "Time": {"Minutes": 15}}
    assert dest["Metrics"] == {"Status": "Enabled", "EventThreshold": {"Minutes": 15}}
    assert dest["StorageClass"] == "STANDARD_IA"
    frontend_dest = PROD_PRIMARY["Resources"]["FrontendBucket"]["Properties"]["ReplicationConfiguration"]
    assert "StorageClass" not in frontend_dest["Rules"][0]["Destination"]


def test_no_replication_in_dev() -> None:
    assert "ReplicationRole" not in DEV_PRIMARY["Resources"]
    assert "ReplicaKmsKeyArn" not in DEV_PRIMARY["Parameters"]
    for bucket in resources_of(DEV_PRIMARY, "AWS::S3::Bucket").values():
        assert "ReplicationConfiguration" not in bucket["Properties"]


def _role_statements() -> dict[str, dict[str, Any]]:
    role = PROD_PRIMARY["Resources"]["ReplicationRole"]["Properties"]
    (policy,) = role["Policies"]
    return {s["Sid"]: s for s in policy["PolicyDocument"]["Statement"]}


def test_replication_role_has_exactly_the_spec_actions() -> None:
    actions = sorted(a for s in _role_statements().values() for a in s["Action"])
    assert actions == sorted(
        [
            "s3:GetReplicationConfiguration",
            "s3:ListBucket",
            "s3:GetObjectVersionForReplication",
            "s3:GetObjectVersionAcl",
            "s3:GetObjectVersionTagging",
            "s3:ReplicateObject",
            "s3:ReplicateDelete",
            "s3:ReplicateTags",
            "kms:Decrypt",
            "kms:GenerateDataKey",
            "kms:Encrypt",
            "kms:GenerateDataKey",
            "kms:Decrypt",
        ]
    )
    assert not any("*" in a for a in actions)
    assert all(s["Effect"] == "Allow" for s in _role_statements().values())


def test_replication_role_trust_and_kms_conditions() -> None:
    role = PROD_PRIMARY["Resources"]["ReplicationRole"]["Properties"]
    (trust,) = role["AssumeRolePolicyDocument"]["Statement"]
    assert trust["Principal"] == {"Service": "s3.amazonaws.com"}
    assert trust["Action"] == ["sts:AssumeRole"]
    # IfExists: no AWS page says S3 sends aws:SourceAccount when it assumes the role; a plain
    # StringEquals on an absent key would stop every replication (security review F2).
    assert trust["Condition"] == {"StringEqualsIfExists": {"aws:SourceAccount": {"Ref": "AWS::AccountId"}}}
    sts = _role_statements()
    decrypt = sts["DecryptSourceObjects"]
    assert decrypt["Resource"] == [{"Ref": "KmsKeyArn"}]
    assert decrypt["Action"] == ["kms:Decrypt", "kms:GenerateDataKey"]
    assert decrypt["Condition"]["StringEquals"] == {
        "kms:ViaService": {"Fn::Sub": "s3.${AWS::Region}.${AWS::URLSuffix}"}
    }
    # Bucket ARN (objects written with an S3 Bucket Key) and object ARNs (written without one).
    source = "arn:${AWS::Partition}:s3:::tattoo-directory-prod-%s-${AWS::AccountId}-${AWS::Region}"
    assert decrypt["Condition"]["StringLike"] == {
        "kms:EncryptionContext:aws:s3:arn": [
            {"Fn::Sub": source % "frontend"},
            {"Fn::Sub": source % "images"},
            {"Fn::Sub": source % "frontend" + "/*"},
            {"Fn::Sub": source % "images" + "/*"},
        ]
    }
    encrypt = sts["EncryptReplicas"]
    assert encrypt["Resource"] == [{"Ref": "ReplicaKmsKeyArn"}]
    # Decrypt verifies the replica's S3 Bucket Key; GenerateDataKey makes the data key.
    assert encrypt["Action"] == ["kms:Encrypt", "kms:GenerateDataKey", "kms:Decrypt"]
    assert encrypt["Condition"]["StringEquals"] == {
        "kms:ViaService": {"Fn::Sub": "s3.us-west-2.${AWS::URLSuffix}"}
    }
    destination = "arn:${AWS::Partition}:s3:::tattoo-directory-prod-%s-${AWS::AccountId}-us-west-2"
    assert encrypt["Condition"]["StringLike"] == {
        "kms:EncryptionContext:aws:s3:arn": [
            {"Fn::Sub": destination % "frontend-backup"},
            {"Fn::Sub": destination % "images-backup"},
            {"Fn::Sub": destination % "frontend-backup" + "/*"},
            {"Fn::Sub": destination % "images-backup" + "/*"},
        ]
    }
    objects = sts["WriteReplicas"]["Resource"]
    assert all(arn["Fn::Sub"].endswith("-us-west-2/*") for arn in objects)


# ------------------------------------------------------------------------ outputs and ARNs


@pytest.mark.parametrize("name", sorted(ALL))
def test_outputs_export_deterministic_names_with_descriptions(name: str) -> None:
    env = name.split("-")[0]
    outputs = ALL[name]["Outputs"]
    assert outputs
    for key, output in outputs.items():
        assert output["Description"]
        assert output["Export"] == {"Name": f"tattoo-directory-{env}-{key}"}
    text = json.dumps(ALL[name])
    assert "AWS::StackName" not in text


def test_primary_outputs_cover_the_spec() -> None:
    assert set(PROD_PRIMARY["Outputs"]) == {
        "TableName", "TableArn", "TableStreamArn", "ReplicaTableArn",
        "FrontendBucketName", "FrontendBucketArn", "FrontendBucketRegionalDomainName",
        "ImagesBucketName", "ImagesBucketArn", "ImagesBucketRegionalDomainName",
        "ReplicationRoleArn", "SpaIndexDocument", "SpaErrorDocument",
    }  # fmt: skip
    assert PROD_PRIMARY["Outputs"]["ReplicaTableArn"]["Value"] == {
        "Fn::Sub": "arn:${AWS::Partition}:dynamodb:us-west-2:${AWS::AccountId}:table/tattoo-directory-prod"
    }
    assert "ReplicaTableArn" not in DEV_PRIMARY["Outputs"]
    assert set(PROD_REPLICA["Outputs"]) == {
        "FrontendBackupBucketName", "FrontendBackupBucketArn", "FrontendBackupBucketRegionalDomainName",
        "ImagesBackupBucketName", "ImagesBackupBucketArn", "ImagesBackupBucketRegionalDomainName",
        "SpaIndexDocument", "SpaErrorDocument",
    }  # fmt: skip


@pytest.mark.parametrize("name", sorted(ALL))
def test_every_arn_is_partition_safe(name: str) -> None:
    text = json.dumps([ALL[name]["Resources"], ALL[name]["Outputs"]])
    arns = re.findall(r"arn:(?:\$\{AWS::Partition\}|[a-z-]*):", text)
    assert arns, "the template builds ARNs"
    assert set(arns) == {"arn:${AWS::Partition}:"}


# ------------------------------------------------------------------------ reuse


def test_builders_compose_into_someone_elses_template() -> None:
    """Other template builders can put our table and a bucket with its policy into their own
    template: it lints clean, and building it again gives an equal, independent template."""
    env = CONFIG.environments["dev"]

    def theirs() -> Template:
        template = Template()
        key = template.add_parameter(Parameter("MyKey", Type="String"))
        template.add_resource(build_table(CONFIG, env, kms_key=Ref(key)))
        bucket = template.add_resource(
            build_bucket(CONFIG, env, Purpose.IMAGES, kms_key=Ref(key), access_logs_bucket="my-logs")
        )
        template.add_resource(bucket_policy(bucket))
        return template

    first, second = theirs(), theirs()
    data = json.loads(to_json(first))
    assert set(data["Resources"]) == {"Table", "ImagesBucket", "ImagesBucketPolicy"}
    (replica,) = data["Resources"]["Table"]["Properties"]["Replicas"]
    assert replica["SSESpecification"]["KMSMasterKeyId"] == {"Ref": "MyKey"}
    assert [str(m) for m in lint(to_json(first), regions=["us-east-1"])] == []
    # equal, and independent: no global template, no shared mutable state between builds
    assert to_json(second) == to_json(first)
    first.resources["Table"].TableName = "renamed"
    first.resources["ImagesBucket"].LoggingConfiguration.DestinationBucketName = "other-logs"
    again = json.loads(to_json(second))["Resources"]
    assert again["Table"]["Properties"]["TableName"] == "tattoo-directory-dev"
    assert again["ImagesBucket"]["Properties"]["LoggingConfiguration"]["DestinationBucketName"] == "my-logs"
    assert json.loads(to_json(first))["Resources"]["Table"]["Properties"]["TableName"] == "renamed"


@pytest.mark.parametrize("storage_class", ["GLACIER", "DEEP_ARCHIVE"])
def test_settings_built_in_code_refuse_unservable_replica_storage_classes(storage_class: str) -> None:
    """Objects built in code (not loaded from YAML) are checked at construction too, with the
    loader's words."""
    import dataclasses

    from appstorage.config import PropsError

    images = CONFIG.environments["prod"].images
    with pytest.raises(PropsError, match=r"replica_storage_class: .*cannot be read until they are restored"):
        dataclasses.replace(images, replica_storage_class=storage_class)
