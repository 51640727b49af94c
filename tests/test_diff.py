"""stacksets.diff on the real templates of the bundled example and variants of them."""

from __future__ import annotations

import copy
import json
from collections.abc import Callable
from typing import Any

import pytest
import yaml

from appstorage.config import bundled_example_path, parse_config
from appstorage.render import to_json
from appstorage.templates import build_environment
from stacksets import schemas
from stacksets.diff import diff_templates, format_path
from stacksets.model import ResourceChange, TemplateDiff
from stacksets.schemas import SchemaUnavailable, create_only_properties, resource_schema

Template = dict[str, Any]
Raw = dict[str, Any]


def _raw() -> Raw:
    data: Raw = yaml.safe_load(bundled_example_path().read_text(encoding="utf-8"))
    return data


def _templates(raw: Raw, env: str = "prod") -> dict[str, Template]:
    built = build_environment(parse_config(raw), env)
    return {kind: json.loads(to_json(template)) for kind, template in built.items()}


BASE = _templates(_raw())


def _config_variant(edit: Callable[[Raw], None], kind: str = "primary") -> Template:
    raw = _raw()
    edit(raw)
    return _templates(raw)[kind]


def _by_id(diff: TemplateDiff) -> dict[str, ResourceChange]:
    ids = [c.logical_id for c in diff.resources]
    assert len(ids) == len(set(ids)), ids
    return {c.logical_id: c for c in diff.resources}


# --------------------------------------------------------------------------- template edits


def _table(t: Template) -> dict[str, Any]:
    props: dict[str, Any] = t["Resources"]["Table"]["Properties"]
    return props


def _set_prefix(raw: Raw) -> None:
    raw["name_prefix"] = "acme"


def _set_cors(raw: Raw) -> None:
    raw["environments"]["prod"]["cors_allowed_origins"] = ["https://tattoo.example.com"]


def _pitr_and_protection(raw: Raw) -> None:
    raw["environments"]["prod"]["table"]["pitr_recovery_period_days"] = 10
    raw["environments"]["prod"]["deletion_protection"] = False


def _no_replication(raw: Raw) -> None:
    raw["environments"]["prod"]["replication"] = False


def _remove_table(t: Template) -> None:
    del t["Resources"]["Table"]


def _remove_policy(t: Template) -> None:
    del t["Resources"]["ImagesBucketPolicy"]


def _rename_table(t: Template) -> None:
    t["Resources"]["AppTable"] = t["Resources"].pop("Table")


def _swap_sort_key(t: Template) -> None:
    _table(t)["KeySchema"][1]["AttributeName"] = "GSI1SK"


def _hash_only_key(t: Template) -> None:
    _table(t)["KeySchema"] = _table(t)["KeySchema"][:1]


def _pk_type(t: Template) -> None:
    _table(t)["AttributeDefinitions"][0]["AttributeType"] = "N"


def _gsi_key_type(t: Template) -> None:
    _table(t)["AttributeDefinitions"][3]["AttributeType"] = "N"


def _add_gsi(t: Template) -> None:
    props = _table(t)
    props["AttributeDefinitions"] += [
        {"AttributeName": "GSI3PK", "AttributeType": "S"},
        {"AttributeName": "GSI3SK", "AttributeType": "S"},
    ]
    gsi = copy.deepcopy(props["GlobalSecondaryIndexes"][0])
    gsi["IndexName"] = "GSI3"
    gsi["KeySchema"] = [
        {"AttributeName": "GSI3PK", "KeyType": "HASH"},
        {"AttributeName": "GSI3SK", "KeyType": "RANGE"},
    ]
    props["GlobalSecondaryIndexes"].append(gsi)


def _gsi_projection(t: Template) -> None:
    _table(t)["GlobalSecondaryIndexes"][1]["Projection"] = {"ProjectionType": "KEYS_ONLY"}


def _bucket_name_sub(t: Template) -> None:
    name = t["Resources"]["ImagesBucket"]["Properties"]["BucketName"]
    name["Fn::Sub"] = name["Fn::Sub"].replace("images", "pictures")


def _bucket_type(t: Template) -> None:
    t["Resources"]["FrontendBucket"]["Type"] = "AWS::S3Express::DirectoryBucket"


def _deletion_policy(t: Template) -> None:
    t["Resources"]["Table"]["DeletionPolicy"] = "Delete"


def _metadata_on_bucket(t: Template) -> None:
    t["Resources"]["FrontendBucket"]["Metadata"] = {"owner": "web"}


def _description(t: Template) -> None:
    t["Description"] = "changed"


def _drop_output(t: Template) -> None:
    del t["Outputs"]["TableArn"]


#: The CloudWatch alarms of each template (their names follow the table and bucket names).
_ALARMS = {
    kind: sorted(k for k, r in template["Resources"].items() if r["Type"] == "AWS::CloudWatch::Alarm")
    for kind, template in BASE.items()
}


def _edited(edit: Callable[[Template], None], kind: str = "primary") -> Template:
    template = copy.deepcopy(BASE[kind])
    edit(template)
    return template


# --------------------------------------------------------------------------- table of cases

# (id, new template, {logical id: (action, changed paths or None to skip, replacement paths, data loss)},
#  other sections, substring expected in each data-loss reason)
CASES: list[
    tuple[
        str,
        str,
        Template,
        dict[str, tuple[str, tuple[str, ...] | None, tuple[str, ...], bool]],
        tuple[str, ...],
        str,
    ]
] = [
    ("identical", "primary", copy.deepcopy(BASE["primary"]), {}, (), ""),
    ("identical replica", "replica", copy.deepcopy(BASE["replica"]), {}, (), ""),
    (
        "new name_prefix renames the table and buckets",
        "primary",
        _config_variant(_set_prefix),
        {
            "Table": ("modify", ("Properties.TableName",), ("Properties.TableName",), True),
            "FrontendBucket": ("modify", None, ("Properties.BucketName",), True),
            "ImagesBucket": ("modify", None, ("Properties.BucketName",), True),
            "ReplicationRole": ("modify", None, (), False),
            # the only published value spelled from names (the others are Ref/GetAtt of the resources)
            "ReplicaTableArnParameter": ("modify", ("Properties.Value",), (), False),
            # alarms are renamed too (AlarmName is createOnly): replaced, no data in them
            **{alarm: ("modify", None, ("Properties.AlarmName",), False) for alarm in _ALARMS["primary"]},
        },
        ("Outputs",),
        "replaces the",
    ),
    (
        "new name_prefix renames the backup buckets",
        "replica",
        _config_variant(_set_prefix, "replica"),
        {
            "FrontendBackupBucket": ("modify", None, ("Properties.BucketName",), True),
            "ImagesBackupBucket": ("modify", None, ("Properties.BucketName",), True),
            **{alarm: ("modify", None, ("Properties.AlarmName",), False) for alarm in _ALARMS["replica"]},
        },
        (),
        "create a new, empty bucket",
    ),
    (
        "CORS origin",
        "primary",
        _config_variant(_set_cors),
        {
            "FrontendBucket": (
                "modify",
                ("Properties.CorsConfiguration.CorsRules[0].AllowedOrigins",),
                (),
                False,
            ),
            "ImagesBucket": (
                "modify",
                ("Properties.CorsConfiguration.CorsRules[0].AllowedOrigins",),
                (),
                False,
            ),
        },
        (),
        "",
    ),
    (
        "PITR period and deletion protection",
        "primary",
        _config_variant(_pitr_and_protection),
        {
            "Table": (
                "modify",
                tuple(
                    f"Properties.Replicas[{i}].{path}"
                    for i in (0, 1)  # per replica: in place
                    for path in ("DeletionProtectionEnabled", "PointInTimeRecoverySpecification.RecoveryPeriodInDays")
                ),
                (),
                False,
            )
        },
        (),
        "",
    ),
    (
        "replication off removes the role, and the replica Region's table: data loss",
        "primary",
        _config_variant(_no_replication),
        {
            "ReplicationRole": ("remove", (), (), False),
            "FrontendBucket": ("modify", ("Properties.ReplicationConfiguration",), (), False),
            "ImagesBucket": ("modify", ("Properties.ReplicationConfiguration",), (), False),
            "Table": ("modify", ("Properties.Replicas",), (), True),
            # the outputs of the replication go, and their SSM parameters with them
            "ReplicaTableArnParameter": ("remove", (), (), False),
            "ReplicationRoleArnParameter": ("remove", (), (), False),
            **{
                alarm: ("remove", (), (), False)
                for alarm in _ALARMS["primary"]
                if "Replication" in alarm  # the replication alarms go with the replication
            },
        },
        ("Description", "Metadata", "Outputs", "Parameters"),
        "removing the replica in us-west-2 from Replicas deletes the table and its data in that Region",
    ),
    (
        "table removed",
        "primary",
        _edited(_remove_table),
        {"Table": ("remove", (), (), True)},
        (),
        "removed from the template",
    ),
    (
        "bucket policy removed",
        "primary",
        _edited(_remove_policy),
        {"ImagesBucketPolicy": ("remove", (), (), False)},
        (),
        "",
    ),
    (
        "table logical id renamed",
        "primary",
        _edited(_rename_table),
        {"Table": ("remove", (), (), True), "AppTable": ("add", (), (), False)},
        (),
        "logical id changed from Table to AppTable: CloudFormation would create a new, empty resource",
    ),
    (
        "sort key changed",
        "primary",
        _edited(_swap_sort_key),
        {
            "Table": (
                "modify",
                ("Properties.KeySchema[1].AttributeName",),
                ("Properties.KeySchema[1].AttributeName",),
                True,
            )
        },
        (),
        "Properties.KeySchema[1].AttributeName replaces the table",
    ),
    (
        "sort key dropped",
        "primary",
        _edited(_hash_only_key),
        {"Table": ("modify", ("Properties.KeySchema",), ("Properties.KeySchema",), True)},
        (),
        "unchanged custom TableName the update fails",
    ),
    (
        "table key attribute type",
        "primary",
        _edited(_pk_type),
        {
            "Table": (
                "modify",
                ("Properties.AttributeDefinitions[0].AttributeType",),
                ("Properties.AttributeDefinitions[0].AttributeType",),
                True,
            )
        },
        (),
        "replaces the table",
    ),
    (
        "GSI key attribute type is in place",
        "primary",
        _edited(_gsi_key_type),
        {"Table": ("modify", ("Properties.AttributeDefinitions[3].AttributeType",), (), False)},
        (),
        "",
    ),
    (
        "GSI added is in place",
        "primary",
        _edited(_add_gsi),
        {
            "Table": (
                "modify",
                ("Properties.AttributeDefinitions", "Properties.GlobalSecondaryIndexes"),
                (),
                False,
            )
        },
        (),
        "",
    ),
    (
        "GSI projection is in place",
        "primary",
        _edited(_gsi_projection),
        {
            "Table": (
                "modify",
                ("Properties.GlobalSecondaryIndexes[1].Projection.ProjectionType",),
                (),
                False,
            )
        },
        (),
        "",
    ),
    (
        "bucket name inside Fn::Sub",
        "primary",
        _edited(_bucket_name_sub),
        {"ImagesBucket": ("modify", ("Properties.BucketName",), ("Properties.BucketName",), True)},
        (),
        "orphaned",
    ),
    (
        "bucket type changed",
        "primary",
        _edited(_bucket_type),
        {"FrontendBucket": ("modify", ("Type",), ("Type",), True)},
        (),
        "type changed from AWS::S3::Bucket",
    ),
    (
        "deletion policy",
        "primary",
        _edited(_deletion_policy),
        {"Table": ("modify", ("DeletionPolicy",), (), False)},
        (),
        "",
    ),
    (
        "resource metadata",
        "primary",
        _edited(_metadata_on_bucket),
        {"FrontendBucket": ("modify", ("Metadata",), (), False)},
        (),
        "",
    ),
    ("description", "primary", _edited(_description), {}, ("Description",), ""),
    ("output removed", "primary", _edited(_drop_output), {}, ("Outputs",), ""),
]


@pytest.mark.parametrize(
    ("kind", "new", "expected", "sections", "reason"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
def test_diff_templates(
    kind: str,
    new: Template,
    expected: dict[str, tuple[str, tuple[str, ...] | None, tuple[str, ...], bool]],
    sections: tuple[str, ...],
    reason: str,
) -> None:
    diff = diff_templates(BASE[kind], new)
    changes = _by_id(diff)
    assert set(changes) == set(expected)
    for logical_id, (action, paths, replacement, data_loss) in expected.items():
        change = changes[logical_id]
        assert change.action == action, logical_id
        if paths is not None:
            assert change.changed_paths == paths, logical_id
        assert set(change.replacement_paths) <= set(change.changed_paths)
        assert change.replacement_paths == replacement, logical_id
        assert change.data_loss is data_loss, logical_id
        assert bool(change.reason) is data_loss, logical_id
        if data_loss:
            assert reason in change.reason, change.reason
    assert diff.other_sections == sections
    assert diff.changed is bool(expected or sections)
    assert {c.logical_id for c in diff.data_loss} == {k for k, v in expected.items() if v[3]}


@pytest.mark.parametrize("kind", ["primary", "replica"])
def test_first_deploy_adds_everything(kind: str) -> None:
    diff = diff_templates(None, BASE[kind])
    assert {c.logical_id for c in diff.resources} == set(BASE[kind]["Resources"])
    assert all(c.action == "add" and not c.data_loss for c in diff.resources)
    assert diff.other_sections == tuple(sorted(set(BASE[kind]) - {"Resources"}))


def test_changes_are_sorted_and_diff_is_deterministic() -> None:
    new = _config_variant(_set_prefix)
    first, second = diff_templates(BASE["primary"], new), diff_templates(BASE["primary"], new)
    assert first == second
    ids = [c.logical_id for c in first.resources]
    assert ids == sorted(ids)


def test_rename_pairs_by_similarity() -> None:
    """Two buckets renamed at once: each removed bucket pairs with its own new id."""
    new = copy.deepcopy(BASE["primary"])
    new["Resources"]["WebBucket"] = new["Resources"].pop("FrontendBucket")
    new["Resources"]["PictureBucket"] = new["Resources"].pop("ImagesBucket")
    changes = _by_id(diff_templates(BASE["primary"], new))
    assert "from FrontendBucket to WebBucket" in changes["FrontendBucket"].reason
    assert "from ImagesBucket to PictureBucket" in changes["ImagesBucket"].reason


@pytest.mark.parametrize(
    ("resource_type", "pointer"),
    [
        ("AWS::S3::Bucket", "/properties/BucketName"),
        ("AWS::DynamoDB::Table", "/properties/TableName"),
        ("AWS::DynamoDB::Table", "/properties/KeySchema"),
        ("AWS::S3::BucketPolicy", "/properties/Bucket"),
        ("AWS::IAM::Role", "/properties/RoleName"),
    ],
)
def test_create_only_properties(resource_type: str, pointer: str) -> None:
    pointers = create_only_properties(resource_type)
    assert pointer in pointers
    assert "/properties/CorsConfiguration" not in pointers
    assert "/properties/GlobalSecondaryIndexes" not in pointers
    assert create_only_properties(resource_type, "xx-nowhere-1") == pointers  # us-east-1's schemas


def test_schemas_come_from_cfn_lint() -> None:
    assert resource_schema("AWS::S3::Bucket") is not None
    assert resource_schema("AWS::Not::AType") is None
    assert create_only_properties("AWS::Not::AType") == ()


def test_a_stateful_type_without_a_schema_stops_the_plan(monkeypatch: pytest.MonkeyPatch) -> None:
    """No silent fallback: without the schema the data-loss guard would be blind."""
    monkeypatch.setattr(schemas, "resource_schema", lambda resource_type, region: None)
    create_only_properties.cache_clear()
    try:
        with pytest.raises(SchemaUnavailable, match="no resource schema for AWS::S3::Bucket"):
            create_only_properties("AWS::S3::Bucket")
        assert create_only_properties("AWS::SNS::Topic") == ()  # not stateful: nothing to guard
    finally:
        create_only_properties.cache_clear()


@pytest.mark.parametrize(
    ("path", "text"),
    [
        (
            ("Properties", "CorsConfiguration", "CorsRules", 0, "AllowedOrigins"),
            "Properties.CorsConfiguration.CorsRules[0].AllowedOrigins",
        ),
        (("Properties", "KeySchema", 1), "Properties.KeySchema[1]"),
        (("DeletionPolicy",), "DeletionPolicy"),
    ],
)
def test_format_path(path: tuple[str | int, ...], text: str) -> None:
    assert format_path(path) == text
