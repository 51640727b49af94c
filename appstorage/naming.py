"""Deterministic names, used by both templates, the validators and the deployer.

Each name has one formatter here. Where a name depends on the account or the region, the
formatter takes them as arguments: the literal form (``*_for_region``, for validation and the
deployer) passes real values, the template form passes ``${AWS::AccountId}``/``${AWS::Region}``
and wraps the result in ``Fn::Sub``. Physical names never depend on anything unknown at build
time except the account id and (in the template of its own region) the region, which
CloudFormation substitutes.

The literal forms need no troposphere (the deployer and the validators use them); the template
forms import it when called.
"""

from __future__ import annotations

import enum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from troposphere import Sub

__all__ = [
    "MODULE",
    "TABLE_LOGICAL_ID",
    "Purpose",
    "access_log_prefix",
    "alarm_name",
    "bucket_arn",
    "bucket_arn_for_region",
    "bucket_name",
    "bucket_name_for_region",
    "export_name",
    "output_name",
    "output_parameter_name",
    "output_parameter_path",
    "stack_set_name",
    "table_arn",
    "table_name",
]

#: The value of the ``module`` tag and part of the stack set names.
MODULE = "app-storage"
#: The logical id of the DynamoDB table in the primary template.
TABLE_LOGICAL_ID = "Table"

_ACCOUNT = "${AWS::AccountId}"
_REGION = "${AWS::Region}"
_PARTITION = "${AWS::Partition}"


class Purpose(enum.Enum):
    """What a bucket is for. The value is part of the bucket name."""

    FRONTEND = "frontend"
    FRONTEND_BACKUP = "frontend-backup"
    IMAGES = "images"
    IMAGES_BACKUP = "images-backup"

    @property
    def is_backup(self) -> bool:
        return self in (Purpose.FRONTEND_BACKUP, Purpose.IMAGES_BACKUP)

    @property
    def backup(self) -> Purpose:
        """The replica-region bucket this (primary) bucket replicates to."""
        return {Purpose.FRONTEND: Purpose.FRONTEND_BACKUP, Purpose.IMAGES: Purpose.IMAGES_BACKUP}[self]

    @property
    def logical_id(self) -> str:
        """The CloudFormation logical id of the bucket: ``FrontendBackupBucket`` etc."""
        return "".join(part.capitalize() for part in self.value.split("-")) + "Bucket"


def _sub(text: str) -> Sub:
    from troposphere import Sub

    return Sub(text)


def table_name(prefix: str, env: str) -> str:
    """The DynamoDB table name: ``{prefix}-{env}``."""
    return f"{prefix}-{env}"


def table_arn(prefix: str, env: str, region: str) -> Sub:
    """The partition-safe ARN of the table's replica in ``region`` (this account)."""
    return _sub(f"arn:{_PARTITION}:dynamodb:{region}:{_ACCOUNT}:table/{table_name(prefix, env)}")


def _bucket(prefix: str, env: str, purpose: Purpose, account: str, region: str) -> str:
    return f"{prefix}-{env}-{purpose.value}-{account}-{region}"


def bucket_name_for_region(prefix: str, env: str, purpose: Purpose, account: str, region: str) -> str:
    """The literal bucket name in one account and region (for validation and the deployer)."""
    return _bucket(prefix, env, purpose, account, region)


def bucket_name(prefix: str, env: str, purpose: Purpose, region: str | None = None) -> Sub:
    """The bucket name as a template expression.

    ``region=None`` means the region the stack is deployed in (``${AWS::Region}``); the
    primary template passes the replica region explicitly to name the destination buckets.
    """
    return _sub(_bucket(prefix, env, purpose, _ACCOUNT, _REGION if region is None else region))


def _s3_arn(partition: str, bucket: str) -> str:
    return f"arn:{partition}:s3:::{bucket}"


def bucket_arn_for_region(partition: str, bucket: str) -> str:
    """The literal ARN of the bucket named ``bucket`` in ``partition`` (``aws``, ``aws-cn``, ...)."""
    return _s3_arn(partition, bucket)


def bucket_arn(
    prefix: str, env: str, purpose: Purpose, region: str | None = None, *, objects: bool = False
) -> Sub:
    """The partition-safe ARN of one of our buckets (``objects``: of its objects, ``/*``) as a
    template expression, computed from its name (no reference: the replication role and the
    buckets do not depend on each other). ``region`` as for :func:`bucket_name`."""
    name = _bucket(prefix, env, purpose, _ACCOUNT, _REGION if region is None else region)
    return _sub(_s3_arn(_PARTITION, name) + ("/*" if objects else ""))


def access_log_prefix(prefix: str, env: str, purpose: Purpose) -> str:
    """Where a bucket's server access logs go in the access-log bucket: ``s3/{prefix}-{env}-{purpose}/``."""
    return f"s3/{prefix}-{env}-{purpose.value}/"


def output_name(resource: Purpose | str, attribute: str) -> str:
    """The template output of a resource's attribute: ``{logical id}{attribute}``, e.g.
    ``output_name(Purpose.IMAGES, "Name") == "ImagesBucketName"``, ``output_name("Table", "Arn")``."""
    logical_id = resource.logical_id if isinstance(resource, Purpose) else resource
    return f"{logical_id}{attribute}"


def alarm_name(prefix: str, env: str, what: str) -> Sub:
    """``{prefix}-{env}-app-storage-{what}-{region}``: readable in notifications, unique per
    account and region."""
    return _sub(f"{prefix}-{env}-{MODULE}-{what}-{_REGION}")


def export_name(project: str, env: str, output: str) -> str:
    """Export names never use ``${AWS::StackName}``: StackSet instance stack names are random."""
    return f"{project}-{env}-{output}"


def output_parameter_path(project: str, env: str) -> str:
    """Where a stack publishes its outputs as SSM parameters: ``/{project}/{env}/app-storage/``.

    Both templates use the same path: SSM parameters are per account and region, and the primary
    and replica stacks of an account run in two regions, so each region holds its own stack's
    outputs under the one path the modules running there read."""
    return f"/{project}/{env}/{MODULE}/"


def output_parameter_name(project: str, env: str, output: str) -> str:
    """The SSM parameter of one output: ``/{project}/{env}/app-storage/{output}``."""
    return output_parameter_path(project, env) + output


def stack_set_name(prefix: str, env: str, kind: str) -> str:
    """The stack set of one template kind (``primary`` or ``replica``)."""
    return f"{prefix}-{env}-{MODULE}-{kind}"
