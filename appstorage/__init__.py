"""appstorage: Troposphere template builders for an application's storage layer.

One DynamoDB single table, four S3 buckets and cross-region replication, from one
validated YAML configuration. See the README for the configuration reference.
"""

from __future__ import annotations

from .adapter import build_bucket, build_bucket_policy, build_table
from .buckets import bucket_policy, hardened_bucket
from .config import Config, ConfigError, Environment, load_config, parse_config
from .naming import Purpose, bucket_name, export_name, stack_set_name, table_name
from .parameters import build_conditions, build_parameters
from .render import to_json, to_yaml
from .replication import build_replication_configuration, build_replication_role
from .templates import (
    EnvironmentTemplates,
    build_environment,
    build_primary_template,
    build_replica_template,
)

__version__ = "0.1.0"

__all__ = [
    "Config",
    "ConfigError",
    "Environment",
    "EnvironmentTemplates",
    "Purpose",
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
    "hardened_bucket",
    "load_config",
    "parse_config",
    "stack_set_name",
    "table_name",
    "to_json",
    "to_yaml",
]
