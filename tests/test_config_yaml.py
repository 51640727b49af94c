"""A configuration file never crashes the loader, whatever bytes or nesting it holds: every input
ends as a :class:`Config` or a :class:`ConfigError` naming the line or the field, in bounded time.
Anchors, aliases and merge keys (``<<: *defaults``) share settings between environments."""

from __future__ import annotations

import contextlib
import copy
import datetime
import time
from pathlib import Path
from typing import Any

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from appstorage.config import Config, ConfigError, load_config, parse_config
from appstorage.loader import MAX_FILE_BYTES, MAX_VALUES, parse_yaml
from tests.helpers import example_data

#: Seconds any single file may take to load (the slowest cases below take a few milliseconds).
BOUND = 2.0


def load(raw: bytes) -> Config | ConfigError:
    """The loader on ``raw``: a Config or a ConfigError, timed; anything else fails the test."""
    start = time.perf_counter()
    try:
        result: Config | ConfigError = parse_config(parse_yaml(raw, "fuzz.yaml"), "fuzz.yaml")
    except ConfigError as error:
        result = error
    assert time.perf_counter() - start < BOUND
    if isinstance(result, ConfigError):
        assert result.errors, "a ConfigError lists at least one problem"
        for e in result.errors:
            assert "\n" not in e.problem and len(e.problem) < 1000, e.problem
        str(result)  # renders
    return result


def refused(raw: bytes) -> str:
    result = load(raw)
    assert isinstance(result, ConfigError), result
    return str(result)


# --------------------------------------------------------------------------- arbitrary input

YAML_PIECES = [*"{}[]:,-&*!|>'\"#%@`\t\n ?<=~.0123", "a", "<<", "&a", "*a", "yes", "0x", "1e9", "\ufeff", "é"]


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.binary(max_size=512))
def test_arbitrary_bytes(raw: bytes) -> None:
    load(raw)


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(YAML_PIECES), max_size=120).map("".join))
def test_arbitrary_yaml_like_text(text: str) -> None:
    load(text.encode("utf-8"))


# Values a hand-written file can hold where the example holds something else.
scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(10**60), max_value=10**60),
    st.floats(allow_nan=True, allow_infinity=True),
    st.text(max_size=30),
    st.dates(),
    st.binary(max_size=8),
    st.sampled_from(["", "*", "ssm:", "ssm:/", "ssm:a/b", "aws:x", "\t", "us-east-1", "111111111111", "PK"]),
)
values = st.recursive(
    scalars,
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=6) | st.integers(), inner, max_size=4)
    ),
    max_leaves=12,
)


def paths(node: Any, prefix: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    out = [prefix] if prefix else []
    if isinstance(node, dict):
        for key, value in node.items():
            out += paths(value, (*prefix, key))
    elif isinstance(node, list):
        for i, value in enumerate(node):
            out += paths(value, (*prefix, i))
    return out


EXAMPLE = example_data()
EXTRA = [
    ("environments", "dev", "table", "ttl_attribute"),
    ("environments", "dev", "deployment", "overrides"),
    ("environments", "dev", "deployment", "organizational_units"),
    ("environments", "dev", "deployment", "operation_preferences", "region_order"),
    ("environments", "dev", "tags"),
    ("name_prefix",),
    ("x-defaults",),
]
PATHS = paths(EXAMPLE) + EXTRA


def replaced(data: dict[str, Any], path: tuple[Any, ...], value: Any) -> None:
    node: Any = data
    for part in path[:-1]:
        if isinstance(node, dict):
            node = node.setdefault(part, {})
        elif isinstance(node, list) and isinstance(part, int) and part < len(node):
            node = node[part]
        else:
            return
    if isinstance(node, dict) or (
        isinstance(node, list) and isinstance(path[-1], int) and path[-1] < len(node)
    ):
        node[path[-1]] = value


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.tuples(st.sampled_from(PATHS), values), min_size=1, max_size=4))
def test_the_example_with_any_values_in_any_fields(changes: list[tuple[tuple[Any, ...], Any]]) -> None:
    data = copy.deepcopy(EXAMPLE)
    for path, value in changes:
        replaced(data, path, value)
    load(yaml.safe_dump(data, allow_unicode=True).encode("utf-8"))
    # the same data, handed to parse_config directly (the library path)
    with contextlib.suppress(ConfigError):
        parse_config(data, "data")


# --------------------------------------------------------------------------- what attacks the parser


def bomb(width: int, depth: int, *, merge: bool = False) -> bytes:
    """Each level lists the one before ``width`` times: ``width ** depth`` values once expanded."""
    lines = ["l0: &l0 {k: v}" if merge else "l0: &l0 [v, v]"]
    for level in range(1, depth + 1):
        refs = ", ".join([f"*l{level - 1}"] * width)
        lines.append(f"l{level}: &l{level} {{<<: [{refs}]}}" if merge else f"l{level}: &l{level} [{refs}]")
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize("merge", [False, True], ids=["aliases", "merge-keys"])
def test_billion_laughs(merge: bool) -> None:
    assert "values once its aliases are expanded" in refused(bomb(10, 9, merge=merge))


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=1, max_value=12), st.integers(min_value=1, max_value=12), st.booleans())
def test_alias_fan_out_of_any_size(width: int, depth: int, merge: bool) -> None:
    """Refused exactly for its size: far over MAX_VALUES once expanded, or well under it, read."""
    result = load(bomb(width, depth, merge=merge))
    expanded = "values once its aliases are expanded" in str(result)
    if width**depth > 4 * MAX_VALUES:
        assert expanded
    elif 4 * width ** (depth + 1) < MAX_VALUES:
        assert not expanded


@pytest.mark.parametrize(
    ("raw", "says"),
    [
        (b"[" * 50_000 + b"]" * 50_000, "nested too deeply"),
        (b"a:\n" + b"".join(b" " * i + b"- \n" for i in range(1, 200)), "levels deep"),
        (b"a: &a [*a]\n", "a recursive structure"),
        (b"a: 0x" + b"f" * 5000 + b"\n", "a number of 5002 digits"),
        (b"a: " + b"9" * 5000 + b"\n", "a number of 5000 digits"),
        (b"a: " + b"x" * 20_000 + b"\n", "a value of 20,000 characters"),
        (b"a: 2024-13-45\n", "month must be in 1..12"),
        (b"a: !!int twelve\n", "invalid literal for int()"),
        (b"a: !!python/object:os.system x\n", "could not determine a constructor"),
        (b"? [a, b]\n: 1\n", "a key is a list or a mapping"),
        (b"a: 1\na: 2\n", "duplicate key 'a'"),
        (b"a: 1\n---\nb: 2\n", "but found another document"),
        (b"project: \xff\xfe\n", "is not UTF-8 text (byte 0xff at offset 9)"),
        (b"project: x\x00\n", "has the control character U+0000 at offset 10"),
        (b"project:\tx\n\tenvironments: {}\n", "found character '\\t' that cannot start any token"),
    ],
    ids=[
        "deep-flow",
        "deep-block",
        "recursive",
        "hex-number",
        "long-number",
        "long-value",
        "bad-date",
        "bad-int",
        "python-tag",
        "list-key",
        "duplicate",
        "two-documents",
        "not-utf8",
        "nul",
        "tab-indent",
    ],
)
def test_what_the_parser_refuses(raw: bytes, says: str) -> None:
    assert says in refused(raw)


def test_byte_order_marks_and_utf16_are_read(tmp_path: Path) -> None:
    text = yaml.safe_dump(example_data())
    for raw in (b"\xef\xbb\xbf" + text.encode(), text.encode("utf-16")):
        path = tmp_path / "bom.yaml"
        path.write_bytes(raw)
        assert load_config(path).project == "tattoo-directory"


def test_a_huge_file_is_refused_unread(tmp_path: Path) -> None:
    path = tmp_path / "huge.yaml"
    path.write_bytes(b"# " + b"x" * MAX_FILE_BYTES)
    with pytest.raises(ConfigError, match=r"is larger than 1,048,576 bytes"):
        load_config(path)


def test_a_directory_or_device_is_refused(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="cannot be read"):
        load_config(tmp_path)


def test_odd_values_in_fields_are_field_errors() -> None:
    data = example_data()
    dev = data["environments"]["dev"]
    dev["table"]["pitr_recovery_period_days"] = 2**200
    dev["cors_allowed_origins"] = [[[[["deep"]]]]]
    dev["tags"] = {"when": datetime.date(2024, 1, 1)}
    dev["deployment"]["permission_model"] = {"a": [1, 2, 3] * 50}
    with pytest.raises(ConfigError) as raised:
        parse_config(data, "odd.yaml")
    fields = {e.field: e.problem for e in raised.value.errors}
    assert fields["environments.dev.table.pitr_recovery_period_days"] == (
        "a number of 201 bits is not a whole number from 1 to 35"
    )
    assert fields["environments.dev.cors_allowed_origins[0]"] == "expected a string, got a list [[[[...]]]]"
    assert fields["environments.dev.tags.when"] == (
        "tag 'when': datetime.date(2024, 1, 1): tag keys and values must be strings"
    )
    assert fields["environments.dev.deployment.permission_model"].startswith("{'a': [1, 2, 3, 1, 2, 3, ...]}")


# --------------------------------------------------------------------------- anchors and merge keys

SHARED = """\
# settings every environment shares, merged into each (x-... keys are ignored)
x-defaults: &defaults
  primary_region: us-east-1
  replica_region: us-west-2
  deletion_protection: true
  cors_allowed_origins: &origins ["https://tattoo.example.com"]
  parameters: &parameters
    KmsKeyArn: ssm:/tattoo-directory/foundation/kms-key-arn
    AccessLogsBucketName: ssm:/tattoo-directory/log-storage/access-logs-bucket
x-deployment: &deployment
  permission_model: SELF_MANAGED

project: tattoo-directory
environments:
  dev:
    <<: *defaults
    deletion_protection: false          # the environment's own key wins over the merged one
    cors_allowed_origins: ["https://dev.tattoo.example.com", "http://localhost:3000"]
    deployment: {<<: *deployment, accounts: ["111111111111"]}
  staging:
    <<: *defaults
    deployment: {<<: *deployment, accounts: ["222222222222"]}
  prod:
    <<: [*defaults]
    replication: true
    parameters:
      <<: *parameters
      ReplicaKmsKeyArn: ssm:/tattoo-directory/foundation/replica-kms-key-arn
    deployment: {<<: *deployment, accounts: ["333333333333"]}
"""


def test_environments_share_settings_through_anchors_and_merge_keys(tmp_path: Path) -> None:
    path = tmp_path / "shared.yaml"
    path.write_text(SHARED, encoding="utf-8")
    config = load_config(path)
    dev, staging, prod = (config.environment(n) for n in ("dev", "staging", "prod"))
    assert (dev.deletion_protection, staging.deletion_protection, prod.deletion_protection) == (
        False,
        True,
        True,
    )
    assert {e.primary_region for e in (dev, staging, prod)} == {"us-east-1"}
    assert dev.cors_allowed_origins == ("https://dev.tattoo.example.com", "http://localhost:3000")
    assert staging.cors_allowed_origins == ("https://tattoo.example.com",)
    assert str(staging.parameters["KmsKeyArn"]) == "ssm:/tattoo-directory/foundation/kms-key-arn"
    assert set(prod.parameters) == {"KmsKeyArn", "AccessLogsBucketName", "ReplicaKmsKeyArn"}
    assert [e.deployment.accounts for e in (dev, staging, prod)] == [
        ("111111111111",),
        ("222222222222",),
        ("333333333333",),
    ]


def test_an_alias_of_a_list_inside_a_list_is_a_field_error(tmp_path: Path) -> None:
    """YAML has no list splicing: ``[*origins, ...]`` nests the list, which the loader says."""
    path = tmp_path / "shared.yaml"
    path.write_text(
        SHARED.replace(
            '["https://dev.tattoo.example.com", "http://localhost:3000"]', '[*origins, "http://x"]'
        ),
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as raised:
        load_config(path)
    assert [e.field for e in raised.value.errors] == ["environments.dev.cors_allowed_origins[0]"]
    assert "expected a string, got a list ['https://tattoo.example.com']" in str(raised.value)


def test_duplicate_keys_are_still_refused_next_to_merge_keys() -> None:
    text = b"a: &a {x: 1}\nb:\n  <<: *a\n  y: 1\n  y: 2\n"
    assert "line 5, column 3: duplicate key 'y'" in refused(text)
    merged = parse_yaml(b"a: &a {x: 1, y: 1}\nb: &b {y: 2}\nc:\n  <<: [*b, *a]\n  x: 3\n")
    assert merged["c"] == {"x": 3, "y": 2}  # own keys win, then the first merged mapping


def test_the_readme_example_of_shared_settings_loads(tmp_path: Path) -> None:
    readme = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")
    section = readme.split("**Sharing settings between environments.**", 1)[1]
    example = section.split("```yaml\n", 1)[1].split("```", 1)[0]
    path = tmp_path / "shared.yaml"
    path.write_text(example, encoding="utf-8")
    config = load_config(path)
    dev, prod = config.environment("dev"), config.environment("prod")
    assert (dev.deletion_protection, prod.deletion_protection) == (False, True)
    assert (dev.replication, prod.replication) == (False, True)
    assert dev.parameters["KmsKeyArn"] == prod.parameters["KmsKeyArn"]
    assert "ReplicaKmsKeyArn" in prod.parameters and "ReplicaKmsKeyArn" not in dev.parameters
