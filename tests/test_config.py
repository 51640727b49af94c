"""Bad configuration: each rejected with exit code 2 and a message naming the field and the fix."""

from __future__ import annotations

import string
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from appstorage.build import main as build_main
from appstorage.config import ConfigError, load_config, parse_config
from appstorage.naming import Purpose, bucket_name_for_region
from appstorage.validators import NAME_RE, check_bucket_name, check_name
from tests.helpers import config_from, example_data, write_yaml

Mutation = Callable[[dict[str, Any]], None]


def env(name: str) -> Callable[[dict[str, Any]], dict[str, Any]]:
    return lambda d: d["environments"][name]


def setter(path: str, value: Any) -> Mutation:
    """Set a dotted path (creating mappings on the way)."""

    def mutate(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = data
        for part in parents:
            node = node.setdefault(part, {})
        node[last] = value

    return mutate


def deleter(path: str) -> Mutation:
    def mutate(data: dict[str, Any]) -> None:
        *parents, last = path.split(".")
        node = data
        for part in parents:
            node = node[part]
        del node[last]

    return mutate


P = "environments.prod"
INVALID: list[tuple[str, Mutation, str, str]] = [
    # (case id, mutation, field named in the error, words the message must contain)
    ("unknown top-level key", setter("projcet", "x"), "projcet", "did you mean 'project'"),
    ("unknown env key", setter(f"{P}.replicaton", True), f"{P}.replicaton", "did you mean 'replication'"),
    ("bad primary region", setter(f"{P}.primary_region", "us-east-9"), f"{P}.primary_region", "not an AWS region"),
    ("bad replica region", setter(f"{P}.replica_region", "mars-1"), f"{P}.replica_region", "not an AWS region"),
    ("equal regions with replication", setter(f"{P}.replica_region", "us-east-1"), f"{P}.replica_region",
     "both regions are us-east-1"),
    # Without replication too: both stacks would export the same names in one region.
    ("equal regions without replication", setter("environments.dev.replica_region", "us-east-1"),
     "environments.dev.replica_region", "the primary and replica stacks would export the same names"),
    ("regions in two partitions", setter(f"{P}.replica_region", "cn-north-1"), f"{P}.replica_region",
     "different AWS partitions"),
    ("account id of 11 digits", setter(f"{P}.deployment.accounts", ["12345678901"]),
     f"{P}.deployment.accounts[0]", "not 12 digits"),
    ("account id as a number", setter(f"{P}.deployment.accounts", [123456789012]),
     f"{P}.deployment.accounts[0]", "quote it"),
    ("no accounts", setter(f"{P}.deployment.accounts", []), f"{P}.deployment.accounts", "need target accounts"),
    ("malformed KMS ARN", setter(f"{P}.parameters.KmsKeyArn", "arn:aws:kms:us-east-1:123:key"),
     f"{P}.parameters.KmsKeyArn", "not a KMS key ARN"),
    ("KMS key in the wrong region", setter(
        f"{P}.parameters.KmsKeyArn", "arn:aws:kms:eu-west-1:111111111111:key/1234abcd-12ab-34cd-56ef-1234567890ab"),
     f"{P}.parameters.KmsKeyArn", "is in eu-west-1 but is used in us-east-1"),
    ("malformed CloudFront ARN", setter(f"{P}.parameters.CloudFrontDistributionArn", "arn:aws:cloudfront::1:dist"),
     f"{P}.parameters.CloudFrontDistributionArn", "not a CloudFront distribution ARN"),
    ("malformed administration role ARN", setter(f"{P}.deployment.administration_role_arn", "arn:aws:iam::role/x"),
     f"{P}.deployment.administration_role_arn", "not an IAM role ARN"),
    ("bucket name over 63 characters", setter("project", "a-very-long-project-name-for-the-tattoo-dir"),
     "environments.dev", "bucket name would be too long"),
    ("name_prefix not a valid name", setter("name_prefix", "Tattoo_Dir"), "name_prefix", "not a valid name"),
    ("project with a trailing hyphen", setter("project", "tattoo-"), "project", "not a valid name"),
    ("empty CORS origin", setter(f"{P}.cors_allowed_origins", [""]), f"{P}.cors_allowed_origins[0]",
     "CORS origin is empty"),
    ("CORS origin with a path", setter(f"{P}.cors_allowed_origins", ["https://x.example.com/app"]),
     f"{P}.cors_allowed_origins[0]", "not 'scheme://host[:port]'"),
    ("wildcard CORS origin", setter(f"{P}.cors_allowed_origins", ["*"]), f"{P}.cors_allowed_origins[0]",
     "any web site"),
    ("replication without replica key", deleter(f"{P}.parameters.ReplicaKmsKeyArn"),
     f"{P}.parameters.ReplicaKmsKeyArn", "no replica key"),
    ("missing KMS key", deleter(f"{P}.parameters.KmsKeyArn"), f"{P}.parameters.KmsKeyArn", "missing"),
    ("bad SSM path", setter(f"{P}.parameters.AccessLogsBucketName", "ssm:no/leading-slash"),
     f"{P}.parameters.AccessLogsBucketName", "not a valid SSM parameter name: a hierarchy starts with '/'"),
    ("literal log bucket without replica twin", setter(f"{P}.parameters.AccessLogsBucketName", "my-logs"),
     f"{P}.parameters.ReplicaAccessLogsBucketName", "replica region needs its own value"),
    ("replication not a boolean", setter(f"{P}.replication", "yes please"), f"{P}.replication", "expected bool"),
    ("PITR period over 35 days", setter(f"{P}.table.pitr_recovery_period_days", 36),
     f"{P}.table.pitr_recovery_period_days", "from 1 to 35"),
    ("unknown permission model", setter(f"{P}.deployment.permission_model", "SELF"),
     f"{P}.deployment.permission_model", "use one of"),
    ("max concurrency above tolerance + 1", setter(f"{P}.deployment.operation_preferences.max_concurrent_count", 5),
     f"{P}.deployment.operation_preferences.max_concurrent_count", "above failure tolerance + 1"),
    ("count and percentage together", setter(
        f"{P}.deployment.operation_preferences.failure_tolerance_percentage", 10),
     f"{P}.deployment.operation_preferences.failure_tolerance_percentage", "both as a count and a percentage"),
    ("OUs under SELF_MANAGED", setter(f"{P}.deployment.organizational_units", ["ou-ab12-cd34ef56"]),
     f"{P}.deployment.organizational_units", "needs permission_model: SERVICE_MANAGED"),
    ("SERVICE_MANAGED without OUs", setter(f"{P}.deployment.permission_model", "SERVICE_MANAGED"),
     f"{P}.deployment.organizational_units", "need target OUs"),
    ("environment name with capitals", lambda d: d["environments"].update(Prod=d["environments"].pop("prod")),
     "environments.Prod", "not a valid name"),
    ("no environments", setter("environments", {}), "environments", "non-empty mapping"),
    ("UNION account filter", lambda d: d["environments"]["prod"]["deployment"].update(
        permission_model="SERVICE_MANAGED", organizational_units=["ou-ab12-cd34ef56"], account_filter_type="UNION"),
     f"{P}.deployment.account_filter_type", "UNION is not supported by CreateStackInstances"),
    ("per-account override with OU targets", lambda d: d["environments"]["prod"]["deployment"].update(
        permission_model="SERVICE_MANAGED", organizational_units=["ou-ab12-cd34ef56"], accounts=[],
        overrides=[{"accounts": ["333333333333"], "parameters": {"S3VpcEndpointId": "vpce-0123456789abcdef0"}}]),
     f"{P}.deployment.overrides[0].accounts", "not supported with organizational unit targets"),
    ("region_order outside the stack sets", setter(f"{P}.deployment.operation_preferences.region_order", ["eu-west-1"]),
     f"{P}.deployment.operation_preferences.region_order[0]", "eu-west-1 is not a region of these stack sets"),
    ("tag key reserved", setter("tags", {"aws:owner": "me"}), "tags.aws:owner", "reserved"),
    # served buckets only take storage classes CloudFront can read without a restore
    ("replica images in GLACIER", setter(f"{P}.images.replica_storage_class", "GLACIER"),
     f"{P}.images.replica_storage_class", "cannot be read until they are restored"),
    ("replica images in DEEP_ARCHIVE", setter(f"{P}.images.replica_storage_class", "DEEP_ARCHIVE"),
     f"{P}.images.replica_storage_class", "CloudFront could not serve these images"),
    ("replica images in an unknown class", setter(f"{P}.images.replica_storage_class", "COLD"),
     f"{P}.images.replica_storage_class", "not a storage class for served objects"),
    ("zero read request units", setter(f"{P}.table.max_read_request_units", 0),
     f"{P}.table.max_read_request_units", "0 is not from 1 to 10,000,000"),
    ("write request units as text", setter(f"{P}.table.max_write_request_units", "many"),
     f"{P}.table.max_write_request_units", "expected a whole number"),
    ("malformed alarm topic", setter(f"{P}.parameters.AlarmTopicArn", "arn:aws:sns:us-east-1:1:t"),
     f"{P}.parameters.AlarmTopicArn", "not an SNS topic ARN"),
    ("alarm topic in another region", setter(f"{P}.parameters.AlarmTopicArn", "arn:aws:sns:eu-west-1:333333333333:ops"),
     f"{P}.parameters.AlarmTopicArn", "alarm actions must be in the alarm's region"),
    ("request metrics not a boolean", setter(f"{P}.monitoring.request_metrics", "on"),
     f"{P}.monitoring.request_metrics", "expected bool"),
    ("unknown monitoring key", setter(f"{P}.monitoring.alarms", False), f"{P}.monitoring.alarms", "allowed keys"),
]  # fmt: skip


@pytest.mark.parametrize(("case", "mutate", "field", "words"), INVALID, ids=[c[0] for c in INVALID])
def test_invalid_configuration_exits_2_naming_the_field(
    case: str, mutate: Mutation, field: str, words: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    data = example_data()
    mutate(data)
    config_file = write_yaml(tmp_path / "bad.yaml", data)
    code = build_main(["--config", str(config_file), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 2, case
    assert f"{config_file}: {field}:" in err
    assert words in err
    assert "Fix:" in err
    assert "Traceback" not in err
    assert not (tmp_path / "out").exists(), "nothing is written for a bad configuration"


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("project: a\nproject: b\n", "duplicate key 'project'"),
        ("project: [unclosed\n", "not valid YAML"),
        ("- just\n- a list\n", "expected a mapping"),
    ],
)
def test_unreadable_yaml_exits_2(
    text: str, words: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    config_file = tmp_path / "bad.yaml"
    config_file.write_text(text, encoding="utf-8")
    assert build_main(["--config", str(config_file)]) == 2
    err = capsys.readouterr().err
    assert words in err and "Traceback" not in err


def test_missing_file_and_unknown_env_exit_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert build_main(["--config", str(tmp_path / "nope.yaml")]) == 2
    assert "cannot be read" in capsys.readouterr().err
    assert build_main(["--env", "qa", "--out", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert "environments.qa: there is no environment 'qa'" in err and "dev, staging, prod" in err


def test_every_problem_is_reported_at_once() -> None:
    data = example_data()
    prod = data["environments"]["prod"]
    prod["primary_region"] = "nowhere-1"
    prod["cors_allowed_origins"] = ["*", "*"]  # a value problem and a shape problem in one list
    prod["table"] = {"pitr_recovery_period_days": 0}
    prod["replicaton"] = True
    data["environments"]["dev"]["deployment"]["accounts"] = ["1"]
    with pytest.raises(ConfigError) as err:
        parse_config(data, "x.yaml")
    fields = [e.field for e in err.value.errors]
    assert sorted(fields) == sorted(
        f"environments.{f}"
        for f in (
            "prod.primary_region",
            "prod.cors_allowed_origins[0]",
            "prod.cors_allowed_origins[1]",
            "prod.table.pitr_recovery_period_days",
            "prod.replicaton",
            "dev.deployment.accounts[0]",
        )
    )


def test_bundled_example_is_valid_and_immutable() -> None:
    config = load_config()
    assert list(config.environments) == ["dev", "staging", "prod"]
    prod = config.environments["prod"]
    assert (prod.primary_region, prod.replica_region, prod.replication) == ("us-east-1", "us-west-2", True)
    with pytest.raises(AttributeError):
        prod.replication = False  # type: ignore[misc]
    # The maps are immutable too, and the model is hashable (a frozen dataclass of frozen values).
    with pytest.raises(TypeError):
        prod.parameters["KmsKeyArn"] = None  # type: ignore[index]
    with pytest.raises(TypeError):
        config.tags["owner"] = "me"  # type: ignore[index]
    assert hash(config) == hash(load_config())
    assert len({config.environments["dev"], config.environments["prod"], load_config().environments["prod"]}) == 2


def test_settings_state_their_defaults_once() -> None:
    """A section left out of the file gets the model's defaults: the reader passes only the keys a
    file has, and a range is checked by the model's constructor with the loader's words."""
    from appstorage.config import ImagesSettings, PropsError, TableSettings

    data = example_data()
    del data["environments"]["prod"]["table"], data["environments"]["prod"]["images"]
    prod = config_from(data).environments["prod"]
    assert (prod.table, prod.images) == (TableSettings(), ImagesSettings())
    with pytest.raises(PropsError) as err:
        TableSettings(pitr_recovery_period_days=0)
    (error,) = err.value.errors
    data["environments"]["prod"]["table"] = {"pitr_recovery_period_days": 0}
    with pytest.raises(ConfigError) as loaded:
        config_from(data)
    (line,) = [e for e in loaded.value.errors if e.field.endswith("pitr_recovery_period_days")]
    assert (line.field, line.problem, line.fix) == (f"{P}.table.{error.field}", error.problem, error.fix)


# ------------------------------------------------------------------------ naming rules (hypothesis)

names = st.from_regex(NAME_RE, fullmatch=True).filter(lambda s: len(s) <= 40)
regions = st.sampled_from(["us-east-1", "us-west-2", "eu-west-1", "ap-southeast-2", "ca-central-1"])


def follows_the_naming_rule(name: str) -> bool:
    """The rule as the README states it, written without the validator's regex: lowercase
    letters, digits and single hyphens, starting with a letter and not ending with a hyphen."""
    allowed = set(string.ascii_lowercase + string.digits + "-")
    return (
        bool(name)
        and name[0] in string.ascii_lowercase
        and set(name) <= allowed
        and not name.endswith("-")
        and "--" not in name
    )


@given(st.text(alphabet=string.ascii_letters + string.digits + "-_. \n", max_size=12))
def test_the_name_check_follows_the_documented_rule(name: str) -> None:
    assert (check_name(name, "project") is None) == follows_the_naming_rule(name), repr(name)


@pytest.mark.parametrize("name", ["tattoo-directory", "a", "a1-b2", "x9"])
def test_names_following_the_rule_pass(name: str) -> None:
    assert follows_the_naming_rule(name) and check_name(name, "project") is None


@pytest.mark.parametrize("name", ["", "1abc", "Tattoo", "a--b", "ab-", "-ab", "a_b", "a.b", "ab\n"])
def test_names_breaking_the_rule_are_rejected(name: str) -> None:
    assert not follows_the_naming_rule(name)
    assert check_name(name, "project") is not None


@given(names, names, st.sampled_from(list(Purpose)), regions)
def test_bucket_names_are_valid_exactly_when_short_enough(
    prefix: str, env: str, purpose: Purpose, region: str
) -> None:
    name = bucket_name_for_region(prefix, env, purpose, "123456789012", region)
    problem = check_bucket_name(name)
    assert (problem is None) == (len(name) <= 63)
    if problem is None:
        assert name == name.lower() and name[0].isalnum() and name[-1].isalnum()


@given(names, names, regions)
def test_config_accepts_a_name_iff_every_bucket_name_fits(prefix: str, env_name: str, region: str) -> None:
    data = example_data()
    data["name_prefix"] = prefix
    # The replica region differs from the primary one (equal regions are refused on their own).
    replica = "us-west-2" if region != "us-west-2" else "us-east-1"
    data["environments"] = {
        env_name: {**data["environments"]["dev"], "primary_region": region, "replica_region": replica}
    }
    longest = max(
        len(bucket_name_for_region(prefix, env_name, p, "1" * 12, region if not p.is_backup else replica))
        for p in Purpose
    )
    try:
        parse_config(data)
    except ConfigError as err:
        assert longest > 63
        assert "bucket name would be too long" in str(err)
    else:
        assert longest <= 63
