"""Small helpers shared by the tests: the bundled example as data, configuration files, built
templates; for the deployer, test accounts, configuration writers, offline client factories,
seeding, and a closed port. (The CLI runners and fault injection are in :mod:`tests.faults`.)"""

from __future__ import annotations

import copy
import json
import socket
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import yaml

from appstorage.config import Config, bundled_example_path, load_config, parse_config
from appstorage.render import to_json
from appstorage.templates import build_environment

if TYPE_CHECKING:
    from stacksets.session import ClientFactory


def example_data() -> dict[str, Any]:
    """The bundled example as a fresh, mutable dict."""
    data: dict[str, Any] = yaml.safe_load(bundled_example_path().read_text(encoding="utf-8"))
    return copy.deepcopy(data)


def config_from(data: dict[str, Any]) -> Config:
    return parse_config(data, "test.yaml")


def rendered(config: Config, env: str, kind: str) -> dict[str, Any]:
    """A built template as plain JSON data (what CloudFormation receives)."""
    templates = build_environment(config, env)
    template = templates.primary if kind == "primary" else templates.replica
    result: dict[str, Any] = json.loads(to_json(template))
    return result


def write_yaml(path: Path, data: Any) -> Path:
    path.write_text(yaml.safe_dump(data, sort_keys=False), encoding="utf-8")
    return path


# ------------------------------------------------------------------ deployer tests

ACCOUNTS = ["111111111111", "222222222222", "333333333333"]


def write_config(tmp_path: Path, **changes: Any) -> Path:
    """The bundled example with dev and prod deployed to three accounts, plus ``changes``
    (``name_prefix=...``, or ``<env>__<field>=...`` for an environment's field), written to a
    new file in ``tmp_path``."""
    data = example_data()
    for env in ("dev", "prod"):
        data["environments"][env]["deployment"]["accounts"] = list(ACCOUNTS)
    for key, value in changes.items():
        if key == "name_prefix":
            data["name_prefix"] = value
        else:
            env, field = key.split("__")
            data["environments"][env][field] = value
    return write_yaml(tmp_path / f"config-{len(list(tmp_path.glob('config-*')))}.yaml", data)


def with_dev_deployment(deployment: Mapping[str, Any], *, replace: bool = True) -> dict[str, Any]:
    """The bundled example with the dev environment's ``deployment`` settings replaced by
    ``deployment``, or (``replace`` False) updated by it, a None value removing the key."""
    data = example_data()
    current = data["environments"]["dev"]["deployment"]
    if replace:
        current.clear()
    current.update(deployment)
    for key, value in deployment.items():
        if value is None:
            del current[key]
    return data


def write_dev_config(
    tmp_path: Path, deployment: Mapping[str, Any], *, replace: bool = True, name: str = "config.yaml"
) -> Path:
    """:func:`with_dev_deployment` written to ``tmp_path / name``."""
    return write_yaml(tmp_path / name, with_dev_deployment(deployment, replace=replace))


def offline_factory(*, max_attempts: int = 1, caller_account: str | None = None) -> ClientFactory:
    """A client factory with dummy credentials and no endpoint, for Stubber tests (any call a
    Stubber does not answer fails). ``caller_account``: spares the STS GetCallerIdentity."""
    from stacksets.session import ClientFactory

    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    return ClientFactory(session, max_attempts=max_attempts, caller_account=caller_account)


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port: int = s.getsockname()[1]
    return port


def seeded(endpoint: str, config_path: Path) -> None:
    """Seed what other modules provide (KMS, SSM, log buckets) for every environment."""
    from stacksets.local import local_session, seed
    from stacksets.session import ClientFactory

    config = load_config(config_path)
    seed(ClientFactory(local_session(), endpoint_url=endpoint), config, config.environments.values())


def reported_replication_rule(
    rule_id: str, destination_arn: str, replica_key: str, **destination: Any
) -> dict[str, Any]:
    """The templates' replication rule as S3's GetBucketReplication reports it: the whole bucket,
    delete markers and SSE-KMS objects replicated, the replica key, RTC 15 minutes with metrics;
    ``destination`` adds or replaces keys of ``Destination`` (e.g. ``StorageClass``)."""
    return {
        "ID": rule_id,
        "Priority": 1,
        "Status": "Enabled",
        "Filter": {"Prefix": ""},
        "DeleteMarkerReplication": {"Status": "Enabled"},
        "SourceSelectionCriteria": {"SseKmsEncryptedObjects": {"Status": "Enabled"}},
        "Destination": {
            "Bucket": destination_arn,
            "EncryptionConfiguration": {"ReplicaKmsKeyID": replica_key},
            "ReplicationTime": {"Status": "Enabled", "Time": {"Minutes": 15}},
            "Metrics": {"Status": "Enabled", "EventThreshold": {"Minutes": 15}},
            **destination,
        },
    }
