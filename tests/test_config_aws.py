"""Every value that ends up in an AWS name, tag or limit is checked at load time against the rule
AWS documents (the citations are in appstorage/awsnames.py), and values AWS accepts are accepted.

Where botocore's service models carry a rule (lengths, patterns, list sizes), the test compares
our constant with the model, so a rule AWS changes shows up here."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import botocore.session
import pytest

from appstorage import validators as v
from appstorage.config import ConfigError, parse_config
from appstorage.deployment import MAX_ORGANIZATIONAL_UNITS, PREFERENCE_RANGES
from appstorage.model import LONGEST_ALARM, LONGEST_OUTPUT, STANDARD_TAG_KEYS
from appstorage.render import to_json
from appstorage.tags import standard_tags
from appstorage.templates import build_environment
from tests.helpers import example_data

Change = Callable[[dict[str, Any]], None]
DEV = "environments.dev"


def dev(**fields: Any) -> Change:
    return lambda d: d["environments"]["dev"].update(fields)


def deployment(**fields: Any) -> Change:
    return lambda d: d["environments"]["dev"]["deployment"].update(fields)


def parameters(**fields: Any) -> Change:
    return lambda d: d["environments"]["dev"]["parameters"].update(fields)


def top(**fields: Any) -> Change:
    return lambda d: d.update(fields)


def problems(change: Change) -> dict[str, str]:
    """field -> problem of the bundled example with ``change`` (empty: accepted)."""
    data = example_data()
    change(data)
    try:
        parse_config(data, "aws.yaml")
    except ConfigError as error:
        return {e.field: e.problem for e in error.errors}
    return {}


LONG_SSM = "ssm:/" + "/".join(["level"] * 15)
HUGE_SSM = "ssm:/" + "p" * 1000

# --------------------------------------------------------------------------- accepted: AWS takes them

ACCEPTED: list[tuple[str, Change]] = [
    ("access-log bucket with dots (S3 allows them)",
     parameters(AccessLogsBucketName="logs.tattoo.example.com", ReplicaAccessLogsBucketName="logs.west.example.com")),
    ("SSM name without a hierarchy", parameters(KmsKeyArn="ssm:kms-key-arn")),
    ("SSM hierarchy of 15 levels", parameters(KmsKeyArn=LONG_SSM)),
    ("AWS's public SSM parameters", parameters(KmsKeyArn="ssm:/aws/service/some/public/value")),
    ("CORS origin with a wildcard inside a label", dev(cors_allowed_origins=["https://app-*.tattoo.example.com"])),
    ("CORS origin on the last port", dev(cors_allowed_origins=["http://localhost:65535"])),
    ("CORS origin with an IPv6 address", dev(cors_allowed_origins=["http://[::1]:3000"])),
    ("CORS origin of an IP address", dev(cors_allowed_origins=["http://127.0.0.1:8080"])),
    ("tag key with Unicode letters and spaces", top(tags={"Équipe de coût": "plateforme", "a.b:c/d=e+f-g@h": "x"})),
    ("46 configured tags + the 4 standard = 50", top(tags={f"t{i}": "x" for i in range(46)})),
    ("an environment tag overriding a top-level one", lambda d: (
        d.update(tags={"team": "a"}), d["environments"]["dev"].update(tags={"team": "b"}))),
    ("max_concurrent_count over 10,000 (the API has no maximum)", deployment(operation_preferences={
        "max_concurrent_count": 20_000, "failure_tolerance_count": 19_999})),
    ("50 organizational units", deployment(
        permission_model="SERVICE_MANAGED", accounts=[],
        organizational_units=[f"ou-ab12-{i:08d}" for i in range(50)])),
    ("execution role with every character IAM allows", deployment(execution_role_name="Stack+Set=Exec,Role.@_-1")),
    ("administration role with a path", deployment(
        administration_role_arn="arn:aws:iam::111111111111:role/org/stacksets/AWSCloudFormationStackSetAdministrationRole")),
    ("TTL attribute of 255 characters", dev(table={"ttl_attribute": "t" * 255})),
]  # fmt: skip


@pytest.mark.parametrize("change", [c for _, c in ACCEPTED], ids=[i for i, _ in ACCEPTED])
def test_accepted(change: Change) -> None:
    assert problems(change) == {}


# --------------------------------------------------------------------------- refused: AWS would refuse them

REFUSED: list[tuple[str, Change, str, str]] = [
    # tags: the stack sets and every resource carry them
    ("empty tag value (CloudFormation's Tag needs 1 character)", top(tags={"team": ""}),
     "tags.team", "the tag's value is empty; CloudFormation needs 1 to 256 characters"),
    ("tag key with a character no service takes", top(tags={"cost#center": "x"}),
     "tags.cost#center", "the tag key 'cost#center' has characters AWS refuses in tags: '#'"),
    ("tag value with a line break", top(tags={"team": "a\nb"}),
     "tags.team", "the tag value 'a\\nb' has characters AWS refuses in tags: '\\n'"),
    ("tag key of 129 characters", top(tags={"k" * 129: "x"}),
     "tags." + "k" * 129, "has a key of 129 and a value of 1 characters"),
    ("tag value of 257 characters", dev(tags={"team": "v" * 257}),
     f"{DEV}.tags.team", "has a key of 4 and a value of 257 characters"),
    ("AWS's own tag prefix in any case", top(tags={"AWS:owner": "me"}), "tags.AWS:owner", "reserved"),
    ("a standard tag in another case", top(tags={"Project": "x"}),
     "tags.Project", "'Project' is a standard tag (project, environment, module, managed-by)"),
    ("a standard tag that would be dropped", dev(tags={"environment": "x"}),
     f"{DEV}.tags.environment", "'environment' is a standard tag"),
    ("47 configured tags + the 4 standard = 51", top(tags={f"t{i}": "x" for i in range(47)}),
     f"{DEV}.tags", "the resources would get 51 tags (the 4 standard ones included); AWS allows 50"),
    ("two keys that differ only in case (IAM)", lambda d: (
        d.update(tags={"Team": "a"}), d["environments"]["dev"].update(tags={"team": "b"})),
     f"{DEV}.tags", "the tags Team, team differ only in case"),
    # SSM parameter names
    ("SSM hierarchy of 16 levels", parameters(KmsKeyArn=LONG_SSM + "/x"),
     f"{DEV}.parameters.KmsKeyArn", "has 16 levels; SSM allows 15"),
    ("SSM hierarchy without its leading slash", parameters(KmsKeyArn="ssm:a/b"),
     f"{DEV}.parameters.KmsKeyArn", "'ssm:a/b' is not a valid SSM parameter name: a hierarchy starts with '/'"),
    ("SSM name with an empty level", parameters(KmsKeyArn="ssm:/a//b"),
     f"{DEV}.parameters.KmsKeyArn", "a level between slashes is empty"),
    ("SSM name with a space", parameters(KmsKeyArn="ssm:/a b"),
     f"{DEV}.parameters.KmsKeyArn", "'ssm:/a b' is not a valid SSM parameter name"),
    ("SSM name SSM reserves", parameters(KmsKeyArn="ssm:/ssm-keys/kms"),
     f"{DEV}.parameters.KmsKeyArn", "starts with 'aws' or 'ssm', which SSM reserves"),
    ("SSM name over 2048 characters", parameters(KmsKeyArn="ssm:/" + "p" * 2048),
     f"{DEV}.parameters.KmsKeyArn", "2049 characters, SSM allows 2048"),
    ("SSM ARN over 1011 characters", parameters(KmsKeyArn=HUGE_SSM),
     f"{DEV}.parameters.KmsKeyArn", "the SSM parameter's ARN in us-east-1 would be 1045 characters; SSM allows 1011"),
    # S3 bucket names: another module's follow S3's rule
    ("access-log bucket shaped like an IP address",
     parameters(AccessLogsBucketName="192.168.10.1", ReplicaAccessLogsBucketName="logs-west"),
     f"{DEV}.parameters.AccessLogsBucketName", "bucket name '192.168.10.1' breaks S3 naming rules"),
    ("access-log bucket with two dots in a row",
     parameters(AccessLogsBucketName="logs..example", ReplicaAccessLogsBucketName="logs-west"),
     f"{DEV}.parameters.AccessLogsBucketName", "breaks S3 naming rules"),
    ("access-log bucket with a reserved suffix",
     parameters(AccessLogsBucketName="logs.mrap", ReplicaAccessLogsBucketName="logs-west"),
     f"{DEV}.parameters.AccessLogsBucketName", "uses a prefix or suffix reserved by S3"),
    ("our template bucket with a dot (virtual-hosted TLS)", deployment(template_bucket="templates.example"),
     f"{DEV}.deployment.template_bucket", "bucket name 'templates.example' has a dot"),
    ("our buckets under a reserved prefix", top(name_prefix="sthree"),
     DEV, "the frontend bucket name would be too long or invalid: bucket name 'sthree-dev-frontend-"),
    # CORS origins
    ("CORS origin on port 0", dev(cors_allowed_origins=["http://localhost:0"]),
     f"{DEV}.cors_allowed_origins[0]", "has port 0"),
    ("CORS origin on port 65536", dev(cors_allowed_origins=["http://localhost:65536"]),
     f"{DEV}.cors_allowed_origins[0]", "has port 65536"),
    ("CORS origin matching any https site", dev(cors_allowed_origins=["https://*"]),
     f"{DEV}.cors_allowed_origins[0]", "would let any web site read and upload objects"),
    ("CORS origin matching a whole top-level domain", dev(cors_allowed_origins=["https://*.com"]),
     f"{DEV}.cors_allowed_origins[0]", "would match any site of a top-level domain"),
    ("CORS origin with two wildcards", dev(cors_allowed_origins=["https://*.*.example.com"]),
     f"{DEV}.cors_allowed_origins[0]", "has more than one '*'"),
    ("CORS origin with a label over 63 characters", dev(cors_allowed_origins=[f"https://{'a' * 64}.example.com"]),
     f"{DEV}.cors_allowed_origins[0]", "a label is empty or longer than 63 characters"),
    # IAM role names: ASCII, 64 characters
    ("execution role with a non-ASCII letter", deployment(execution_role_name="Rôle"),
     f"{DEV}.deployment.execution_role_name", "'Rôle' is not an IAM role name"),
    ("execution role of 65 characters", deployment(execution_role_name="r" * 65),
     f"{DEV}.deployment.execution_role_name", "is not an IAM role name"),
    ("administration role name of 65 characters",
     deployment(administration_role_arn="arn:aws:iam::111111111111:role/" + "r" * 65),
     f"{DEV}.deployment.administration_role_arn", "is not an IAM role ARN"),
    # the table's TTL attribute
    ("TTL on a key attribute (strings never expire)", dev(table={"ttl_attribute": "PK"}),
     f"{DEV}.table.ttl_attribute", "'PK' is a key attribute of the table"),
    ("TTL attribute of 256 characters", dev(table={"ttl_attribute": "t" * 256}),
     f"{DEV}.table.ttl_attribute", "is not an attribute name"),
    # account lists and OUs
    ("51 organizational units", deployment(
        permission_model="SERVICE_MANAGED", accounts=[],
        organizational_units=[f"ou-ab12-{i:08d}" for i in range(51)]),
     f"{DEV}.deployment.organizational_units", "51 organizational units; AWS allows 50"),
    ("an OU id with capitals", deployment(permission_model="SERVICE_MANAGED", accounts=[],
                                          organizational_units=["ou-AB12-cd34ef56"]),
     f"{DEV}.deployment.organizational_units[0]", "is not an organizational unit or root id"),
    ("a CloudFront distribution id in lowercase",
     parameters(CloudFrontDistributionArn="arn:aws:cloudfront::111111111111:distribution/e2abc"),
     f"{DEV}.parameters.CloudFrontDistributionArn", "is not a CloudFront distribution ARN"),
    # names made of the project (export names) and the prefix (stack sets, alarms, the table)
    ("export names over 255 characters", top(project="p" * 220, name_prefix="tattoo"),
     DEV, "export name 'pppp"),
]  # fmt: skip


@pytest.mark.parametrize(("change", "field", "says"), [c[1:] for c in REFUSED], ids=[c[0] for c in REFUSED])
def test_refused(change: Change, field: str, says: str) -> None:
    found = problems(change)
    assert field in found, found
    assert says in found[field], found[field]


def test_every_tag_problem_and_count_at_once() -> None:
    found = problems(lambda d: d.update(tags={"": "x", "bad!": "", **{f"t{i}": "x" for i in range(50)}}))
    assert set(found) >= {
        "tags.",
        "tags.bad!",
        f"{DEV}.tags",
        "environments.staging.tags",
        "environments.prod.tags",
    }


# --------------------------------------------------------------------------- the rules, against botocore's models


@pytest.fixture(scope="module")
def models() -> Callable[[str], Any]:
    session = botocore.session.get_session()
    return session.get_service_model


def test_tag_rules_match_the_service_models(models: Callable[[str], Any]) -> None:
    cfn, iam = models("cloudformation"), models("iam")
    assert cfn.shape_for("TagKey").metadata == {"min": 1, "max": v.MAX_TAG_KEY}
    assert cfn.shape_for("TagValue").metadata == {"min": 1, "max": v.MAX_TAG_VALUE}  # stack set tags: 1
    assert cfn.operation_model("CreateStackSet").input_shape.members["Tags"].metadata == {"max": v.MAX_TAGS}
    key, value = iam.shape_for("tagKeyType").metadata, iam.shape_for("tagValueType").metadata
    assert (key["max"], value["min"], value["max"]) == (v.MAX_TAG_KEY, 0, v.MAX_TAG_VALUE)
    symbols = re.fullmatch(r"\[\\p\{L\}\\p\{Z\}\\p\{N\}(.*)\]\+", key["pattern"])
    assert symbols is not None and symbols[1].replace("\\", "") == v.TAG_SYMBOLS


def test_name_rules_match_the_service_models(models: Callable[[str], Any]) -> None:
    cfn = models("cloudformation")
    role = cfn.operation_model("CreateStackSet").input_shape.members["ExecutionRoleName"].metadata
    assert (role["min"], role["max"]) == (1, 64)
    units = cfn.shape_for("OrganizationalUnitId").metadata["pattern"]
    for text in ("Exec+Role=1,a.b@c_d-e", "Rôle", "a b", "role/x", "", "r" * 64):
        assert bool(re.fullmatch(role["pattern"], text)) == bool(v.IAM_ROLE_NAME_RE.fullmatch(text)), text
    for text in (
        "ou-ab12-cd34ef56",
        "r-ab12",
        "ou-AB12-cd34ef56",
        "ou-ab1-cd34ef56",
        "r-" + "a" * 33,
        "ou-ab12",
    ):
        assert bool(re.fullmatch(units, text)) == bool(v.OU_RE.fullmatch(text)), text
    assert cfn.shape_for("StackSetNameOrId").metadata["pattern"].startswith("[a-zA-Z][-a-zA-Z0-9]*")
    assert models("dynamodb").shape_for("TableName").metadata == {
        "min": 3,
        "max": 255,
        "pattern": "[a-zA-Z0-9_.-]+",
    }
    assert models("dynamodb").shape_for("TimeToLiveAttributeName").metadata == {
        "min": 1,
        "max": v.MAX_TTL_ATTRIBUTE,
    }
    assert models("cloudwatch").shape_for("AlarmName").metadata == {"min": 1, "max": v.MAX_ALARM_NAME}
    name = models("ssm").operation_model("PutParameter").input_shape.members["Name"].metadata
    assert name == {"min": 1, "max": v.SSM_MAX_NAME}
    preferences = cfn.shape_for("StackSetOperationPreferences").members
    for field, (lo, hi) in PREFERENCE_RANGES.items():
        member = preferences["".join(part.capitalize() for part in field.split("_"))].metadata
        assert member.get("min") == lo and member.get("max", hi) == hi, field


def test_the_limits_cited_in_the_api_reference() -> None:
    """Limits only the API reference states (not in the models): kept in one place."""
    assert MAX_ORGANIZATIONAL_UNITS == 50


def test_the_longest_names_are_the_templates_longest() -> None:
    """The export and alarm names checked at load time are the longest the templates make."""
    from appstorage.config import load_config

    config = load_config()
    outputs, alarms = set(), set()
    for env in config.environments:
        for _, template in build_environment(config, env).items():
            data = json.loads(to_json(template))
            outputs |= set(data.get("Outputs", {}))
            alarms |= {
                json.dumps(r["Properties"]["AlarmName"])
                for r in data["Resources"].values()
                if r["Type"] == "AWS::CloudWatch::Alarm"
            }
    assert len(LONGEST_OUTPUT) == max(len(o) for o in outputs)
    whats = {re.search(r"app-storage-(.*)-\$\{AWS::Region\}", a)[1] for a in alarms}  # type: ignore[index]
    assert len(LONGEST_ALARM) == max(len(w) for w in whats)


def test_the_standard_tags_are_the_models() -> None:
    from appstorage.config import load_config

    config = load_config()
    tags = standard_tags(config, config.environment("dev"))
    assert set(STANDARD_TAG_KEYS) <= set(tags) and set(tags) - set(STANDARD_TAG_KEYS) == set(config.tags)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (2**300, "a number of 301 bits"),
        ("x" * 500, "'" + "x" * 57),
        ([[[[[[1]]]]]], "[[[[...]]]]"),
        ({"a": list(range(100))}, "{'a': [0, 1, 2, 3, 4, 5, ...]}"),
    ],
)
def test_shown_is_bounded(value: object, expected: str) -> None:
    text = v.shown(value)
    assert text.startswith(expected) and len(text) <= 130
