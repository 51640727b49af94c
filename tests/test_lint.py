"""cfn-lint (the official linter) reports zero findings on every generated template."""

from __future__ import annotations

import pytest
from cfnlint.api import lint

from appstorage.config import load_config
from appstorage.render import to_json, to_yaml
from appstorage.templates import build_environment

CONFIG = load_config()
CASES = [
    (env, kind, template)
    for env in CONFIG.environments
    for kind, template in build_environment(CONFIG, env).items()
]


@pytest.mark.parametrize(("env", "kind", "template"), CASES, ids=[f"{e}-{k}" for e, k, _ in CASES])
@pytest.mark.parametrize("fmt", ["json", "yaml"])
def test_cfn_lint_has_no_findings(env: str, kind: str, template: object, fmt: str) -> None:
    environment = CONFIG.environments[env]
    region = environment.primary_region if kind == "primary" else environment.replica_region
    text = to_json(template) if fmt == "json" else to_yaml(template)  # type: ignore[arg-type]
    matches = lint(text, regions=[region])
    assert [str(m) for m in matches] == []


def test_cfn_lint_catches_a_broken_template() -> None:
    """The lint gate can fail: a template with an invalid property is reported."""
    broken = to_json(build_environment(CONFIG, "dev").primary).replace(
        '"BillingMode": "PAY_PER_REQUEST"', '"BillingMode": "PAY_PER_MOOD"'
    )
    assert lint(broken, regions=["us-east-1"])
