"""appstorage: Troposphere template builders for an application's storage layer.

One DynamoDB single table, S3 buckets and cross-region replication, from props (the library:
``BucketProps`` + ``hardened_bucket``, ``BucketPolicyProps`` + ``bucket_policy``, ``TableProps``
+ ``global_table``; ``publish_outputs`` hands a template's outputs over as SSM parameters) or
from one validated YAML configuration (``load_config`` + ``build_environment``). See the README.

The names below are imported when first used (PEP 562), so ``import appstorage.keys`` (the
access patterns, for application code) loads neither troposphere, awacs, boto3 nor PyYAML.
"""

from __future__ import annotations

import importlib
from types import MappingProxyType
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .adapter import build_bucket, build_bucket_policy, build_table
    from .buckets import bucket_policy, hardened_bucket
    from .errors import ConfigError, PropsError
    from .handoff import output_parameter, publish_outputs
    from .loader import load_config, parse_config
    from .model import Config, Environment, TableSettings
    from .naming import (
        Purpose,
        bucket_name,
        export_name,
        output_parameter_path,
        stack_set_name,
        table_name,
    )
    from .parameters import build_conditions, build_parameters
    from .props import BucketPolicyProps, BucketProps, CorsRule, Lifecycle, TableProps
    from .render import to_json, to_yaml
    from .replication import build_replication_configuration, build_replication_role
    from .table import global_table
    from .templates import (
        EnvironmentTemplates,
        build_environment,
        build_primary_template,
        build_replica_template,
    )

    __version__: str

__all__ = [
    "BucketPolicyProps",
    "BucketProps",
    "Config",
    "ConfigError",
    "CorsRule",
    "Environment",
    "EnvironmentTemplates",
    "Lifecycle",
    "PropsError",
    "Purpose",
    "TableProps",
    "TableSettings",
    "__version__",
    "bucket_name",
    "bucket_policy",
    "build_bucket",
    "build_bucket_policy",
    "build_conditions",
    "build_environment",
    "build_parameters",
    "build_primary_template",
    "build_replica_template",
    "build_replication_configuration",
    "build_replication_role",
    "build_table",
    "export_name",
    "global_table",
    "hardened_bucket",
    "load_config",
    "output_parameter",
    "output_parameter_path",
    "parse_config",
    "publish_outputs",
    "stack_set_name",
    "table_name",
    "to_json",
    "to_yaml",
]

#: Where each public name lives.
_HOMES = MappingProxyType(
    {
        **dict.fromkeys(("build_bucket", "build_bucket_policy", "build_table"), "adapter"),
        **dict.fromkeys(("bucket_policy", "hardened_bucket"), "buckets"),
        **dict.fromkeys(("ConfigError", "PropsError"), "errors"),
        **dict.fromkeys(("output_parameter", "publish_outputs"), "handoff"),
        **dict.fromkeys(("load_config", "parse_config"), "loader"),
        **dict.fromkeys(("Config", "Environment", "TableSettings"), "model"),
        **dict.fromkeys(
            (
                "Purpose",
                "bucket_name",
                "export_name",
                "output_parameter_path",
                "stack_set_name",
                "table_name",
            ),
            "naming",
        ),
        **dict.fromkeys(("build_conditions", "build_parameters"), "parameters"),
        **dict.fromkeys(("BucketPolicyProps", "BucketProps", "CorsRule", "Lifecycle", "TableProps"), "props"),
        **dict.fromkeys(("to_json", "to_yaml"), "render"),
        **dict.fromkeys(("build_replication_configuration", "build_replication_role"), "replication"),
        "global_table": "table",
        **dict.fromkeys(
            ("EnvironmentTemplates", "build_environment", "build_primary_template", "build_replica_template"),
            "templates",
        ),
    }
)


def __getattr__(name: str) -> Any:
    if name == "__version__":
        from importlib.metadata import PackageNotFoundError, version

        try:
            return version("appstorage")
        except PackageNotFoundError:  # pragma: no cover - running from a source tree
            return "0+unknown"
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{home}", __name__), name)


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})
