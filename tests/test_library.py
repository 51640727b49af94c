"""The library as a caller uses it: the README's example runs as written, lints clean with cfn-lint
and type-checks with mypy --strict; props add only what they are given; misuse fails when the
props are built, with the words the YAML path uses for the same value."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from cfnlint.api import lint
from troposphere import Ref, Sub, Template
from troposphere.s3 import Bucket

from appstorage import (
    BucketPolicyProps,
    BucketProps,
    CorsRule,
    Lifecycle,
    PropsError,
    TableProps,
    TableSettings,
    bucket_policy,
    global_table,
    hardened_bucket,
)
from appstorage.config import ConfigError, ImagesSettings, load_config, parse_config
from appstorage.model import IMAGE_TIERS
from appstorage.render import to_json
from tests.helpers import example_data

ROOT = Path(__file__).resolve().parent.parent
README = ROOT / "README.md"
SECTION = "## Using the builders from another template"
KEY = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
DISTRIBUTION = "arn:aws:cloudfront::111111111111:distribution/E2EXAMPLE1"
PSEUDO = {"AWS::AccountId", "AWS::Region", "AWS::Partition", "AWS::URLSuffix", "AWS::NoValue"}


def readme_example() -> str:
    """The python block of the README's library section, exactly as written there."""
    section = README.read_text(encoding="utf-8").split(SECTION, 1)[1].split("\n## ", 1)[0]
    match = re.search(r"```python\n(.*?)```", section, re.DOTALL)
    assert match is not None, f"the README's {SECTION!r} section has a python example"
    return match.group(1)


@pytest.fixture(scope="module")
def example() -> dict[str, Any]:
    namespace: dict[str, Any] = {"__name__": "readme_example"}
    exec(compile(readme_example(), f"{README}:{SECTION}", "exec"), namespace)
    return namespace


def refs_and_conditions(data: dict[str, Any]) -> tuple[set[str], set[str]]:
    """Every name a ``Ref``/``${...}`` refers to, and every condition name used, in a template."""
    text = json.dumps(data)
    refs = set(re.findall(r'"Ref": "([^"]+)"', text))
    refs |= {name.split(".")[0] for name in re.findall(r"\$\{([^}]+)\}", text)}
    conditions = set(re.findall(r'"Fn::If": \["([^"]+)"', text))
    conditions |= set(re.findall(r'"Condition": "([^"]+)"', text))
    return refs, conditions


def policy_sids(resources: dict[str, Any], policy: str) -> list[str]:
    statements = resources[policy]["Properties"]["PolicyDocument"]["Statement"]
    return [s["Fn::If"][1]["Sid"] if "Fn::If" in s else s["Sid"] for s in statements]


BASE_SIDS = [
    "DenyInsecureTransport",
    "DenyOutdatedTls",
    "DenyUploadsWithAnotherKmsKey",
    "DenyKmsUploadsWithoutKeyArn",
    "DenyUploadsWithAnotherEncryptionType",
    "DenyCustomerProvidedKeys",
]


# --------------------------------------------------------------------------- the README example


def test_readme_example_runs_and_lints_clean(example: dict[str, Any]) -> None:
    template = example["template"]
    assert isinstance(template, Template)
    assert example["body"] == to_json(template)
    assert [str(m) for m in lint(to_json(template), regions=["us-east-1"])] == []


def test_readme_example_has_two_image_buckets_and_only_what_it_asked_for(example: dict[str, Any]) -> None:
    data = json.loads(example["body"])
    resources = data["Resources"]
    buckets = {k for k, r in resources.items() if r["Type"] == "AWS::S3::Bucket"}
    assert buckets == {"Uploads", "PortfolioImages", "AvatarImages"}
    names = [resources[b]["Properties"]["BucketName"] for b in ("PortfolioImages", "AvatarImages")]
    assert len({json.dumps(n) for n in names}) == 2
    for images in ("PortfolioImages", "AvatarImages"):
        assert policy_sids(resources, f"{images}Policy") == [*BASE_SIDS, "AllowCloudFrontRead"]
        (rule,) = resources[images]["Properties"]["CorsConfiguration"]["CorsRules"]
        assert rule["AllowedOrigins"] == ["https://acme.example.com"]
    assert policy_sids(resources, "UploadsPolicy") == BASE_SIDS
    assert "CorsConfiguration" not in resources["Uploads"]["Properties"]
    assert resources["Directory"]["Type"] == "AWS::DynamoDB::GlobalTable"
    # nothing refers to a parameter, resource or condition the caller did not add
    refs, conditions = refs_and_conditions(data)
    assert refs <= set(data["Parameters"]) | set(resources) | PSEUDO
    assert conditions == set() and "Conditions" not in data


def test_readme_example_type_checks_with_mypy_strict(tmp_path: Path) -> None:
    """The example passes mypy --strict, and the same run fails a copy that leaves out a
    required prop (the gate can fail)."""
    code = readme_example()
    call = "BucketProps(kms_key=key, access_logs_bucket=logs)"
    assert code.count(call) == 1
    (tmp_path / "readme_example.py").write_text(code, encoding="utf-8")
    (tmp_path / "readme_broken.py").write_text(
        code.replace(call, "BucketProps(kms_key=key)"), encoding="utf-8"
    )
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", "--config-file", str(ROOT / "pyproject.toml"),
         str(tmp_path / "readme_example.py"), str(tmp_path / "readme_broken.py")],
        cwd=ROOT, capture_output=True, text=True, timeout=600, check=False,
    )  # fmt: skip
    errors = [line for line in result.stdout.splitlines() if ": error:" in line]
    assert errors, result.stdout + result.stderr
    assert all("readme_broken.py" in line for line in errors), errors
    assert any('Missing named argument "access_logs_bucket"' in line for line in errors), errors


# --------------------------------------------------------------------------- props add only what is given


@pytest.mark.parametrize(
    ("props", "sids", "conditions"),
    [
        (BucketPolicyProps(), BASE_SIDS, set()),
        (BucketPolicyProps(cloudfront_distribution=DISTRIBUTION), [*BASE_SIDS, "AllowCloudFrontRead"], set()),
        (BucketPolicyProps(vpc_endpoint="vpce-0123456789abcdef0"), [*BASE_SIDS, "AllowAccountAccessThroughVpcEndpoint"], set()),
        (BucketPolicyProps(cloudfront_distribution=Ref("Cdn"), cloudfront_condition="HasCdn"),
         [*BASE_SIDS, "AllowCloudFrontRead"], {"HasCdn"}),
        (BucketPolicyProps(vpc_endpoint=Ref("Vpce"), vpc_endpoint_condition="HasVpce"),
         [*BASE_SIDS, "AllowAccountAccessThroughVpcEndpoint"], {"HasVpce"}),
    ],
)  # fmt: skip
def test_a_policy_adds_only_what_its_props_name(
    props: BucketPolicyProps, sids: list[str], conditions: set[str]
) -> None:
    bucket = hardened_bucket("Assets", BucketProps(kms_key=KEY, access_logs_bucket="my-logs"))
    data = {"Resources": {"AssetsPolicy": json.loads(json.dumps(bucket_policy(bucket, props).to_dict()))}}
    assert policy_sids(data["Resources"], "AssetsPolicy") == sids
    refs, used = refs_and_conditions(data)
    assert used == conditions
    assert refs - PSEUDO <= {"Assets", "Cdn", "Vpce"}
    assert json.dumps(data).count(KEY) == 1  # the upload rule takes the bucket's own key


def test_the_bucket_props_defaults() -> None:
    props = hardened_bucket("Assets", BucketProps(kms_key=KEY, access_logs_bucket="my-logs")).to_dict()
    assert props["DeletionPolicy"] == props["UpdateReplacePolicy"] == "Retain"
    bucket = props["Properties"]
    assert "BucketName" not in bucket and "Tags" not in bucket and "CorsConfiguration" not in bucket
    assert bucket["LoggingConfiguration"] == {
        "DestinationBucketName": "my-logs",
        "LogFilePrefix": "s3/Assets/",
    }
    expire, abort = bucket["LifecycleConfiguration"]["Rules"]
    assert expire == {
        "Id": "expire-noncurrent-versions",
        "NoncurrentVersionExpiration": {"NoncurrentDays": 30},
        "Status": "Enabled",
    }
    assert abort["AbortIncompleteMultipartUpload"] == {"DaysAfterInitiation": 7}
    assert bucket["MetricsConfigurations"] == [{"Id": "EntireBucket"}]
    assert bucket["VersioningConfiguration"] == {"Status": "Enabled"}
    kept = hardened_bucket("Scratch", BucketProps(kms_key=KEY, access_logs_bucket="my-logs", retain=False))
    assert "DeletionPolicy" not in kept.to_dict()


def test_a_table_adds_the_replica_region_only_when_asked() -> None:
    one = global_table("Directory", TableProps(kms_key=Ref("Key"))).to_dict()["Properties"]
    assert [r["Region"] for r in one["Replicas"]] == [{"Ref": "AWS::Region"}]
    assert "TableName" not in one and "Tags" not in one["Replicas"][0]
    two = TableProps(
        kms_key=Ref("Key"), replica_region="us-west-2", replica_kms_key=Ref("WestKey"), tags={"a": "b"}
    )
    replicas = global_table("Directory", two).to_dict()["Properties"]["Replicas"]
    assert [(r["Region"], r["SSESpecification"]["KMSMasterKeyId"]) for r in replicas] == [
        ({"Ref": "AWS::Region"}, {"Ref": "Key"}),
        ("us-west-2", {"Ref": "WestKey"}),
    ]
    assert all(r["Tags"] == [{"Key": "a", "Value": "b"}] for r in replicas)


# --------------------------------------------------------------------------- misuse


Mutation = Callable[[dict[str, Any]], None]
P = "environments.prod"
PROD = load_config().environments["prod"]


def setter(path: str, value: Any) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = data
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value

    return mutate


def rename_prod(name: str) -> Mutation:
    return lambda data: data["environments"].update({name: data["environments"].pop("prod")})


MISUSE: list[tuple[str, Callable[[], object], str, Mutation, str]] = [
    # (case, built in code, its field, the same value in a file, the file's field)
    ("CORS origin *", lambda: CorsRule(origins=("*",)), "origins[0]",
     setter(f"{P}.cors_allowed_origins", ["*"]), f"{P}.cors_allowed_origins[0]"),
    ("CORS origin * on an Environment", lambda: dataclasses.replace(PROD, cors_allowed_origins=("*",)),
     "cors_allowed_origins[0]", setter(f"{P}.cors_allowed_origins", ["*"]), f"{P}.cors_allowed_origins[0]"),
    ("bad bucket name", lambda: BucketProps(name="My Bucket", kms_key=KEY, access_logs_bucket="my-logs"), "name",
     setter(f"{P}.deployment.template_bucket", "My Bucket"), f"{P}.deployment.template_bucket"),
    ("KMS key that is not an ARN", lambda: BucketProps(kms_key="alias/my-key", access_logs_bucket="my-logs"),
     "kms_key", setter(f"{P}.parameters.KmsKeyArn", "alias/my-key"), f"{P}.parameters.KmsKeyArn"),
    ("table KMS key that is not an ARN", lambda: TableProps(kms_key="alias/my-key"), "kms_key",
     setter(f"{P}.parameters.KmsKeyArn", "alias/my-key"), f"{P}.parameters.KmsKeyArn"),
    ("PITR period of 0", lambda: TableProps(kms_key=KEY, settings=TableSettings(pitr_recovery_period_days=0)),
     "pitr_recovery_period_days", setter(f"{P}.table.pitr_recovery_period_days", 0),
     f"{P}.table.pitr_recovery_period_days"),
    ("zero read request units", lambda: TableSettings(max_read_request_units=0), "max_read_request_units",
     setter(f"{P}.table.max_read_request_units", 0), f"{P}.table.max_read_request_units"),
    ("access-log bucket with an underscore", lambda: BucketProps(kms_key=KEY, access_logs_bucket="Logs_Bucket"),
     "access_logs_bucket", setter(f"{P}.parameters.AccessLogsBucketName", "Logs_Bucket"),
     f"{P}.parameters.AccessLogsBucketName"),
    ("CloudFront ARN", lambda: BucketPolicyProps(cloudfront_distribution="arn:aws:cloudfront::1:dist"),
     "cloudfront_distribution", setter(f"{P}.parameters.CloudFrontDistributionArn", "arn:aws:cloudfront::1:dist"),
     f"{P}.parameters.CloudFrontDistributionArn"),
    ("VPC endpoint id", lambda: BucketPolicyProps(vpc_endpoint="vpce-XYZ"), "vpc_endpoint",
     setter(f"{P}.parameters.S3VpcEndpointId", "vpce-XYZ"), f"{P}.parameters.S3VpcEndpointId"),
    ("archive tier", lambda: Lifecycle(tiers=(("GLACIER", 30),)), "tiers[0]",
     setter(f"{P}.images.replica_storage_class", "GLACIER"), f"{P}.images.replica_storage_class"),
    ("archive replica class", lambda: ImagesSettings(replica_storage_class="DEEP_ARCHIVE"), "replica_storage_class",
     setter(f"{P}.images.replica_storage_class", "DEEP_ARCHIVE"), f"{P}.images.replica_storage_class"),
    ("noncurrent versions expire before the last tier",
     lambda: Lifecycle(tiers=IMAGE_TIERS, noncurrent_expiration_days=30), "noncurrent_expiration_days",
     setter(f"{P}.images.noncurrent_expiration_days", 30), f"{P}.images.noncurrent_expiration_days"),
    ("reserved tag key", lambda: BucketProps(kms_key=KEY, access_logs_bucket="my-logs", tags={"aws:owner": "me"}),
     "tags.aws:owner", setter("tags", {"aws:owner": "me"}), "tags.aws:owner"),
    ("environment name", lambda: dataclasses.replace(PROD, name="Prod_Env!"), "name",
     rename_prod("Prod_Env!"), "environments.Prod_Env!"),
    ("region", lambda: dataclasses.replace(PROD, primary_region="mars-central-9"), "primary_region",
     setter(f"{P}.primary_region", "mars-central-9"), f"{P}.primary_region"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("case", "build", "field", "mutate", "yaml_field"), MISUSE, ids=[c[0] for c in MISUSE]
)
def test_misuse_fails_at_construction_with_the_yaml_paths_words(
    case: str, build: Callable[[], object], field: str, mutate: Mutation, yaml_field: str
) -> None:
    with pytest.raises(PropsError) as built:
        build()
    in_code = {e.field: (e.problem, e.fix) for e in built.value.errors}
    assert field in in_code, (case, in_code)
    problem, fix = in_code[field]
    assert f"{field}: {problem}. Fix: {fix}." in str(built.value)
    data = example_data()
    mutate(data)
    with pytest.raises(ConfigError) as loaded:
        parse_config(data, "c.yaml")
    in_file = {e.field: (e.problem, e.fix) for e in loaded.value.errors}
    assert in_file.get(yaml_field) == (problem, fix), (case, in_file)


@pytest.mark.parametrize(
    ("build", "field", "words"),
    [
        (lambda: BucketPolicyProps(cloudfront_condition="HasCdn"), "cloudfront_condition", "without cloudfront_distribution"),
        (lambda: BucketPolicyProps(vpc_endpoint=Ref("Vpce"), vpc_endpoint_condition="has-vpce"), "vpc_endpoint_condition", "not alphanumeric"),
        (lambda: TableProps(kms_key=KEY, replica_region="us-west-2"), "replica_kms_key", "both its region and its key"),
        (lambda: TableProps(kms_key=KEY, replica_kms_key=Ref("WestKey")), "replica_region", "both its region and its key"),
        (lambda: TableProps(kms_key=KEY, replica_region="us-west-2", replica_kms_key=KEY), "replica_kms_key", "is used in us-west-2"),
        (lambda: TableProps(kms_key=KEY, name="t"), "name", "not a DynamoDB table name"),
        (lambda: BucketProps(kms_key=42, access_logs_bucket="my-logs"), "kms_key", "neither a string nor a troposphere token"),  # type: ignore[arg-type]
        (lambda: CorsRule(origins="https://acme.example.com"), "origins", "single string"),  # type: ignore[arg-type]
        (lambda: CorsRule(origins=()), "origins", "no origin"),
        (lambda: CorsRule(origins=("https://acme.example.com",), methods=("FETCH",)), "methods[0]", "not a CORS method"),
        (lambda: hardened_bucket("images-bucket", BucketProps(kms_key=KEY, access_logs_bucket="my-logs")), "logical_id", "not alphanumeric"),
        (lambda: global_table("Table_1", TableProps(kms_key=KEY)), "logical_id", "not alphanumeric"),
        (lambda: bucket_policy(Bucket("Plain")), "kms_key", "no default KMS key"),
    ],
)  # fmt: skip
def test_props_only_misuse_is_refused_naming_the_field(
    build: Callable[[], object], field: str, words: str
) -> None:
    with pytest.raises(PropsError) as error:
        build()
    lines = [e for e in error.value.errors if e.field == field]
    assert lines and words in lines[0].problem + lines[0].fix, error.value.errors


def test_tokens_are_not_checked() -> None:
    """As CDK's validateBucketName returns early for unresolved tokens: CloudFormation resolves
    them, so only literals are checked."""
    props = BucketProps(
        name=Sub("Not A Literal ${AWS::Region}"), kms_key=Ref("Key"), access_logs_bucket=Ref("Logs")
    )
    assert hardened_bucket("Assets", props).to_dict()["Properties"]["BucketName"] == {
        "Fn::Sub": "Not A Literal ${AWS::Region}"
    }
