"""Deterministic names, used by both templates, the validators and the deployer.

Physical names never depend on anything unknown at build time except the account id
and (in the template of its own region) the region, which CloudFormation substitutes.
"""

from __future__ import annotations

import enum

from troposphere import Sub

__all__ = [
    "MODULE",
    "Purpose",
    "bucket_name",
    "bucket_name_for_region",
    "export_name",
    "stack_set_name",
    "table_name",
]

#: The value of the ``module`` tag and part of the stack set names.
MODULE = "app-storage"


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


def table_name(prefix: str, env: str) -> str:
    """The DynamoDB table name: ``{prefix}-{env}``."""
    return f"{prefix}-{env}"


def bucket_name_for_region(prefix: str, env: str, purpose: Purpose, account: str, region: str) -> str:
    """The literal bucket name in one account and region (for validation and the deployer)."""
    return f"{prefix}-{env}-{purpose.value}-{account}-{region}"


def bucket_name(prefix: str, env: str, purpose: Purpose, region: str | None = None) -> Sub:
    """The bucket name as a template expression.

    ``region=None`` means the region the stack is deployed in (``${AWS::Region}``); the
    primary template passes the replica region explicitly to name the destination buckets.
    """
    where = "${AWS::Region}" if region is None else region
    return Sub(f"{prefix}-{env}-{purpose.value}-${{AWS::AccountId}}-{where}")


def export_name(project: str, env: str, output: str) -> str:
    """Export names never use ``${AWS::StackName}``: StackSet instance stack names are random."""
    return f"{project}-{env}-{output}"


def stack_set_name(prefix: str, env: str, kind: str) -> str:
    """The stack set of one template kind (``primary`` or ``replica``)."""
    return f"{prefix}-{env}-{MODULE}-{kind}"
