"""Small helpers shared by the template tests."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import yaml

from appstorage.config import Config, bundled_example_path, load_config, parse_config
from appstorage.render import to_json
from appstorage.templates import build_environment


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
    """The bundled example with dev and prod deployed to three accounts, plus ``changes``."""
    data = yaml.safe_load(bundled_example_path().read_text())
    for env in ("dev", "prod"):
        data["environments"][env]["deployment"]["accounts"] = list(ACCOUNTS)
    for key, value in changes.items():
        if key == "name_prefix":
            data["name_prefix"] = value
        else:
            env, field = key.split("__")
            data["environments"][env][field] = value
    path = tmp_path / f"config-{len(list(tmp_path.glob('config-*')))}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def seeded(endpoint: str, config_path: Path) -> None:
    """Seed what other modules provide (KMS, SSM, log buckets) for every environment."""
    from stacksets.local import local_session, seed
    from stacksets.session import ClientFactory

    config = load_config(config_path)
    seed(ClientFactory(local_session(), endpoint_url=endpoint), config, config.environments.values())
