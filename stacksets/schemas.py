"""Which property changes replace a resource, from the CloudFormation resource provider schemas.

The schemas are the ones cfn-lint ships (a required dependency), read through its public schema
manager (``cfnlint.schema.PROVIDER_SCHEMA_MANAGER``, imported on first use: about half a second).
A change of a ``createOnlyProperties`` property replaces the resource; so may a change of a
``conditionalCreateOnlyProperties`` one, which counts too (for a guard against data loss a false
alarm, overridable with ``--allow-replacement``, is the safe side). Changing a DynamoDB table's
``KeySchema`` always replaces it (documented rule), whatever the schema says.

A stateful resource type (:data:`~stacksets.model.STATEFUL_TYPES`) whose schema cfn-lint cannot
give raises :class:`SchemaUnavailable`: the planner would otherwise not see its replacements.
A type cfn-lint does not know at all (not a CloudFormation type) has no create-only properties.
"""

from __future__ import annotations

import functools
from typing import Any

from .errors import DeployError
from .model import STATEFUL_TYPES, TABLE_TYPES

__all__ = ["DEFAULT_SCHEMA_REGION", "SchemaUnavailable", "create_only_properties", "resource_schema"]

#: The schema set used for a Region cfn-lint has none for.
DEFAULT_SCHEMA_REGION = "us-east-1"


class SchemaUnavailable(DeployError):
    """cfn-lint cannot give the schema of a stateful resource type: replacements cannot be told."""


@functools.cache
def resource_schema(resource_type: str, region: str = DEFAULT_SCHEMA_REGION) -> dict[str, Any] | None:
    """The provider schema of ``resource_type`` in ``region`` (else in :data:`DEFAULT_SCHEMA_REGION`);
    None when cfn-lint does not know the type."""
    from cfnlint.schema import PROVIDER_SCHEMA_MANAGER, ResourceNotFoundError

    for where in dict.fromkeys((region, DEFAULT_SCHEMA_REGION)):
        try:
            schema: dict[str, Any] = PROVIDER_SCHEMA_MANAGER.get_resource_schema(where, resource_type).schema
            return schema
        except ResourceNotFoundError:
            return None
        except KeyError:  # no schema set for that Region
            continue
    return None


@functools.cache
def create_only_properties(resource_type: str, region: str = DEFAULT_SCHEMA_REGION) -> tuple[str, ...]:
    """JSON pointers (``/properties/BucketName``) of properties whose change replaces the resource
    (``conditionalCreateOnlyProperties`` included, see the module docstring)."""
    schema = resource_schema(resource_type, region)
    if schema is None:
        if resource_type in STATEFUL_TYPES:
            raise SchemaUnavailable(
                f"cfn-lint has no resource schema for {resource_type}: which changes replace it (and lose "
                "its data) cannot be told; reinstall cfn-lint (a dependency of appstorage)"
            )
        return ()
    pointers = tuple(schema.get("createOnlyProperties", ())) + tuple(
        schema.get("conditionalCreateOnlyProperties", ())
    )
    if resource_type in TABLE_TYPES and "/properties/KeySchema" not in pointers:
        pointers += ("/properties/KeySchema",)
    return tuple(dict.fromkeys(pointers))
