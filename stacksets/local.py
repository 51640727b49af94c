"""``--local``: an AWS emulator (moto's server with :mod:`stacksets.emulator`'s models) on a free
loopback port, seeded with what other modules would provide, so every command works without an
AWS account. :func:`run_local_server` runs one inside the command (a throwaway one: it stops with
the command); ``appstorage-deploy local start`` runs one in the background that keeps its state
between commands (:mod:`stacksets.localserver`).

Seeded per target account and for both regions of each environment: a KMS key, an SNS topic
for the alarms, the SSM parameters the configuration names (``ssm:/...`` values) holding that
region's key ARN, access-log bucket name or topic ARN, and the access-log bucket itself. Other
accounts are reached the way the deployer reaches them on AWS: STS AssumeRole on the execution
role (moto maps the returned credentials to that account).
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Iterable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any

import boto3
from botocore.exceptions import ClientError

from appstorage.config import Config, Environment, ParameterValue

from .awserrors import error_code
from .session import ClientFactory

if TYPE_CHECKING:
    from mypy_boto3_kms import KMSClient
    from mypy_boto3_s3 import S3Client

__all__ = ["LOCAL_CREDENTIALS", "local_key_alias", "local_session", "run_local_server", "seed"]

LOCAL_CREDENTIALS = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing"}


def local_session(region: str = "us-east-1") -> boto3.Session:
    """A session with dummy credentials: nothing real ever reaches the emulator."""
    return boto3.Session(
        aws_access_key_id=LOCAL_CREDENTIALS["aws_access_key_id"],
        aws_secret_access_key=LOCAL_CREDENTIALS["aws_secret_access_key"],
        region_name=region,
    )


@contextmanager
def run_local_server() -> Iterator[str]:
    """Start moto's server on 127.0.0.1 (port chosen by the OS); yields its URL; stops it after."""
    from moto.server import ThreadedMotoServer

    from .emulator import register_models

    # The emulator's request log and its notes about resource types it only stubs (bucket
    # policies) are noise for the user of --local.
    logging.getLogger("werkzeug").setLevel(logging.ERROR)
    logging.getLogger("moto").setLevel(logging.ERROR)
    warnings.filterwarnings("ignore", module="moto")
    server: Any = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    register_models()
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def access_logs_bucket(prefix: str, env: str, account: str, region: str) -> str:
    return f"{prefix}-{env}-logs-{account}-{region}"[:63].rstrip("-")


def alarm_topic_name(prefix: str, env: str) -> str:
    """The monitoring module's alarm topic, as the emulator seeds it in each account and region."""
    return f"{prefix}-{env}-alarms"


def _create_bucket(s3: S3Client, bucket: str, region: str) -> None:
    """Create the bucket; one this account already has is left as it is (seeding is idempotent)."""
    try:
        if region == "us-east-1":
            s3.create_bucket(Bucket=bucket)
        else:
            s3.create_bucket(
                Bucket=bucket,
                CreateBucketConfiguration={"LocationConstraint": region},  # type: ignore[typeddict-item]
            )
    except ClientError as exc:
        if error_code(exc) != "BucketAlreadyOwnedByYou":
            raise


def _ssm_values(env: Environment) -> Iterable[tuple[str, ParameterValue]]:
    yield from env.parameters.items()
    for override in env.deployment.overrides:
        yield from override.parameters.items()


def local_key_alias(prefix: str) -> str:
    """The alias of the KMS key seeded for a configuration in each account and region."""
    return f"alias/{prefix}-local"


def _kms_key(kms: KMSClient, alias: str, description: str) -> str:
    """The ARN of the key behind ``alias``, created (with the alias) when there is none yet."""
    try:
        return str(kms.describe_key(KeyId=alias)["KeyMetadata"]["Arn"])
    except ClientError as exc:
        if error_code(exc) != "NotFoundException":
            raise
    metadata = kms.create_key(Description=description)["KeyMetadata"]
    kms.create_alias(AliasName=alias, TargetKeyId=metadata["KeyId"])
    return str(metadata["Arn"])


def seed(factory: ClientFactory, config: Config, envs: Iterable[Environment]) -> dict[str, int]:
    """Create the KMS keys, alarm topics, SSM parameters and access-log buckets the templates expect.

    Idempotent: seeding again finds the same key (by its alias, :func:`local_key_alias`), topic and
    bucket, and writes the same SSM values, so a deploy after it has nothing to change. Returns
    counts of what was seeded (found or created).
    """
    counts = {"kms_keys": 0, "ssm_parameters": 0, "buckets": 0, "sns_topics": 0}
    keys: dict[tuple[str, str], str] = {}
    for env in envs:
        topics: dict[tuple[str, str], str] = {}  # this environment's alarm topics
        role = env.deployment.execution_role_name
        regions = (env.primary_region, env.replica_region)
        for account in env.deployment.accounts:
            for region in regions:
                if (account, region) not in keys:
                    keys[account, region] = _kms_key(
                        factory.kms(region, account, role),
                        local_key_alias(config.prefix),
                        f"{config.project} local key",
                    )
                    counts["kms_keys"] += 1
                sns = factory.client("sns", region, account, role)
                topic = sns.create_topic(Name=alarm_topic_name(config.prefix, env.name))["TopicArn"]
                topics[account, region] = topic
                counts["sns_topics"] += 1
            for region in regions:
                bucket = access_logs_bucket(config.prefix, env.name, account, region)
                _create_bucket(factory.s3(region, account, role), bucket, region)
                counts["buckets"] += 1
                ssm = factory.ssm(region, account, role)
                for key, value in _ssm_values(env):
                    if not value.ssm:
                        continue
                    base = key.removeprefix("Replica")
                    own = env.replica_region if key.startswith("Replica") else region
                    seeded = {
                        "KmsKeyArn": keys[account, own],
                        "AccessLogsBucketName": access_logs_bucket(config.prefix, env.name, account, own),
                        "S3VpcEndpointId": "vpce-0123456789abcdef0",
                        "CloudFrontDistributionArn": f"arn:aws:cloudfront::{account}:distribution/E1LOCAL",
                        "AlarmTopicArn": topics[account, own],
                    }[base]
                    ssm.put_parameter(Name=value.value, Value=seeded, Type="String", Overwrite=True)
                    counts["ssm_parameters"] += 1
    return counts
