"""Per-instance overrides follow the template parameters' mapping and kind.

* An override's value must be of the kind (literal or ``ssm:``) of the template parameter it
  feeds: the base value decides that parameter's Type (``AWS::SSM::Parameter::Value<String>`` for
  an ``ssm:`` path, ``String`` for a literal), and a mismatch would make every targeted instance
  fail (a key ARN read as an SSM parameter name) or receive a path as its value.
* Overrides reach the templates as the base parameters do (``Replica*`` twins): a literal
  ``KmsKeyArn`` override feeds the primary template only; the replica template's ``KmsKeyArn``
  takes ``ReplicaKmsKeyArn`` (so replica buckets never get a primary-region key).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from appstorage.config import ConfigError, parse_config
from stacksets.desired import desired_stack_sets
from tests.helpers import example_data

EAST_KEY = "arn:aws:kms:us-east-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"
WEST_KEY = "arn:aws:kms:us-west-2:111111111111:key/5678abcd-12ab-34cd-56ef-1234567890ab"
OTHER_EAST_KEY = "arn:aws:kms:us-east-1:111111111111:key/0000abcd-12ab-34cd-56ef-1234567890ab"
OTHER_WEST_KEY = "arn:aws:kms:us-west-2:111111111111:key/9999abcd-12ab-34cd-56ef-1234567890ab"
ACCOUNT = "111111111111"

Data = dict[str, Any]


def literal_base(env: str = "dev", replication: bool = False) -> Callable[[Data], Data]:
    """``env`` with literal (String) base parameters and its Replica* twins."""

    def edit(data: Data) -> Data:
        e: Data = data["environments"][env]
        e["replication"] = replication
        e["deployment"] = {"permission_model": "SELF_MANAGED", "accounts": [ACCOUNT]}
        e["parameters"] = {
            "KmsKeyArn": EAST_KEY,
            "ReplicaKmsKeyArn": WEST_KEY,
            "AccessLogsBucketName": "east-logs",
            "ReplicaAccessLogsBucketName": "west-logs",
        }
        return e

    return edit


def ssm_base(env: str = "dev") -> Callable[[Data], Data]:
    """``env`` as bundled (``ssm:`` base parameters), deployed to ACCOUNT."""

    def edit(data: Data) -> Data:
        e: Data = data["environments"][env]
        e["deployment"] = {"permission_model": "SELF_MANAGED", "accounts": [ACCOUNT]}
        return e

    return edit


def config(base: Callable[[Data], Data], *overrides: Data) -> Data:
    data = example_data()
    base(data)["deployment"]["overrides"] = list(overrides)
    return data


def F(env: str, i: int, key: str) -> str:
    return f"environments.{env}.deployment.overrides[{i}].parameters.{key}"


INVALID = [
    (
        "literal key override on an ssm: base (SSM-typed parameter)",
        config(ssm_base("prod"), {"accounts": ["333333333333"], "parameters": {"KmsKeyArn": EAST_KEY}}),
        F("prod", 0, "KmsKeyArn"),
        "would read the literal as an SSM parameter name",
    ),
    (
        "literal replica key override on an ssm: base",
        config(ssm_base("prod"), {"accounts": [ACCOUNT], "parameters": {"ReplicaKmsKeyArn": WEST_KEY}}),
        F("prod", 0, "ReplicaKmsKeyArn"),
        "is of type AWS::SSM::Parameter::Value<String>",
    ),
    (
        "ssm: override on a literal base (String parameter)",
        config(
            literal_base(), {"accounts": [ACCOUNT], "parameters": {"AccessLogsBucketName": "ssm:/x/logs"}}
        ),
        F("dev", 0, "AccessLogsBucketName"),
        "the path itself would be sent as the value",
    ),
    (
        "ssm: override of an optional parameter that is not set (String)",
        config(ssm_base(), {"regions": ["us-east-1"], "parameters": {"S3VpcEndpointId": "ssm:/x/vpce"}}),
        F("dev", 0, "S3VpcEndpointId"),
        "is a String (parameters.S3VpcEndpointId is not set)",
    ),
    (
        "ssm: replica twin override on a literal base",
        config(literal_base(), {"accounts": [ACCOUNT], "parameters": {"ReplicaKmsKeyArn": "ssm:/x/key"}}),
        F("dev", 0, "ReplicaKmsKeyArn"),
        "the replica template's KmsKeyArn parameter is a String",
    ),
    (
        "literal key override limited to the replica region reaches nothing",
        config(literal_base(), {"regions": ["us-west-2"], "parameters": {"KmsKeyArn": EAST_KEY}}),
        F("dev", 0, "KmsKeyArn"),
        "reaches no template parameter in us-west-2",
    ),
    (
        "replica key override without replication on an ssm: base reaches nothing",
        config(ssm_base(), {"accounts": [ACCOUNT], "parameters": {"ReplicaKmsKeyArn": "ssm:/x/replica-key"}}),
        F("dev", 0, "ReplicaKmsKeyArn"),
        "reaches no template parameter",
    ),
    (
        "replica key override in the primary region (it feeds the replica region)",
        config(literal_base(), {"accounts": [ACCOUNT], "parameters": {"ReplicaKmsKeyArn": EAST_KEY}}),
        F("dev", 0, "ReplicaKmsKeyArn"),
        "the key is in us-east-1 but is used in us-west-2",
    ),
    (
        "primary key override in the replica region",
        config(literal_base(), {"accounts": [ACCOUNT], "parameters": {"KmsKeyArn": WEST_KEY}}),
        F("dev", 0, "KmsKeyArn"),
        "the key is in us-west-2 but is used in us-east-1",
    ),
]


@pytest.mark.parametrize(("data", "field", "words"), [pytest.param(*c[1:], id=c[0]) for c in INVALID])
def test_mismatched_override_is_refused_on_load(data: Data, field: str, words: str) -> None:
    with pytest.raises(ConfigError) as err:
        parse_config(data, "c.yaml")
    message = str(err.value)
    line = next((x for x in message.splitlines() if f"c.yaml: {field}:" in x), None)
    assert line is not None, message
    assert words in message
    assert "Fix:" in message


VALID = [
    (
        "literal key: the replica takes ReplicaKmsKeyArn, never the primary-region key",
        config(
            literal_base(),
            {
                "accounts": [ACCOUNT],
                "parameters": {"KmsKeyArn": OTHER_EAST_KEY, "ReplicaKmsKeyArn": OTHER_WEST_KEY},
            },
        ),
        "dev",
        {"KmsKeyArn": OTHER_EAST_KEY},
        {"KmsKeyArn": OTHER_WEST_KEY},
    ),
    (
        "literal key alone: the replica keeps its base key",
        config(literal_base(), {"accounts": [ACCOUNT], "parameters": {"KmsKeyArn": OTHER_EAST_KEY}}),
        "dev",
        {"KmsKeyArn": OTHER_EAST_KEY},
        {},
    ),
    (
        "literal keys with replication: the primary's ReplicaKmsKeyArn and the replica's key",
        config(
            literal_base("prod", replication=True),
            {
                "accounts": [ACCOUNT],
                "parameters": {"KmsKeyArn": OTHER_EAST_KEY, "ReplicaKmsKeyArn": OTHER_WEST_KEY},
            },
        ),
        "prod",
        {"KmsKeyArn": OTHER_EAST_KEY, "ReplicaKmsKeyArn": OTHER_WEST_KEY},
        {"KmsKeyArn": OTHER_WEST_KEY},
    ),
    (
        "literal log bucket: the twin feeds the replica",
        config(
            literal_base(),
            {"accounts": [ACCOUNT], "parameters": {"AccessLogsBucketName": "a-logs"}},
            {"accounts": [ACCOUNT], "parameters": {"ReplicaAccessLogsBucketName": "b-logs"}},
        ),
        "dev",
        {"AccessLogsBucketName": "a-logs"},
        {"AccessLogsBucketName": "b-logs"},
    ),
    (
        "ssm: key path resolves in each region: both templates",
        config(ssm_base(), {"accounts": [ACCOUNT], "parameters": {"KmsKeyArn": "ssm:/alt/key"}}),
        "dev",
        {"KmsKeyArn": "/alt/key"},
        {"KmsKeyArn": "/alt/key"},
    ),
    (
        "regional literal override reaches only that region's stack set",
        config(
            literal_base(),
            {"regions": ["us-west-2"], "parameters": {"ReplicaAccessLogsBucketName": "b-logs"}},
        ),
        "dev",
        {},
        {"AccessLogsBucketName": "b-logs"},
    ),
    (
        "CloudFront distribution (no twin) reaches both",
        config(
            ssm_base(),
            {
                "accounts": [ACCOUNT],
                "parameters": {
                    "CloudFrontDistributionArn": "arn:aws:cloudfront::111111111111:distribution/ABC123"
                },
            },
        ),
        "dev",
        {"CloudFrontDistributionArn": "arn:aws:cloudfront::111111111111:distribution/ABC123"},
        {"CloudFrontDistributionArn": "arn:aws:cloudfront::111111111111:distribution/ABC123"},
    ),
]


@pytest.mark.parametrize(
    ("data", "env", "primary", "replica"), [pytest.param(*c[1:], id=c[0]) for c in VALID]
)
def test_overrides_reach_the_templates_like_the_base_parameters(
    data: Data, env: str, primary: dict[str, str], replica: dict[str, str]
) -> None:
    stack_sets = {d.kind: d for d in desired_stack_sets(parse_config(data, "c.yaml"), env)}
    assert [dict(i.overrides) for i in stack_sets["primary"].instances] == [primary]
    assert [dict(i.overrides) for i in stack_sets["replica"].instances] == [replica]
    for d in stack_sets.values():
        # Every override names a parameter of its template, of that parameter's type.
        declared = d.template["Parameters"]
        for i in d.instances:
            for key, value in i.overrides.items():
                ssm = declared[key]["Type"].startswith("AWS::SSM::")
                assert ssm == value.startswith("/"), (d.kind, key, value)
