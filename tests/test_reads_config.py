"""deployment.read_concurrency: how many single-instance reads run at once (default 16, 1-64),
checked at load time with one line naming the field and the fix, and handed to the reads."""

from __future__ import annotations

from typing import Any

import pytest

from appstorage.config import ConfigError
from appstorage.deployment import DEFAULT_READ_CONCURRENCY, MAX_READ_CONCURRENCY
from stacksets.toolkit import environment_tools
from tests.helpers import config_from, offline_factory, with_dev_deployment


def _dev(value: Any) -> Any:
    data = with_dev_deployment({"read_concurrency": value}, replace=False)
    return config_from(data).environment("dev")


@pytest.mark.parametrize("value", [1, 8, MAX_READ_CONCURRENCY])
def test_accepted_values_reach_the_instance_reads(value: int) -> None:
    env = _dev(value)
    assert env.deployment.read_concurrency == value
    data = with_dev_deployment({"read_concurrency": value}, replace=False)
    tools = environment_tools(offline_factory(caller_account="999999999999"), config_from(data), env)
    assert tools.stacks.workers == value


def test_the_default() -> None:
    data = with_dev_deployment({}, replace=False)
    assert config_from(data).environment("dev").deployment.read_concurrency == DEFAULT_READ_CONCURRENCY == 16


@pytest.mark.parametrize(
    ("value", "said"),
    [
        (0, "0 reads at a time; the deployer runs 1 to 64"),
        (65, "65 reads at a time; the deployer runs 1 to 64"),
        (-3, "-3 reads at a time"),
        ("16", "expected int, got"),
        (True, "expected int, got"),
        (2.5, "expected int, got"),
    ],
)
def test_refused_values_name_the_field(value: Any, said: str) -> None:
    with pytest.raises(ConfigError) as err:
        _dev(value)
    text = str(err.value)
    assert "read_concurrency" in text and said in text


def test_the_command_line_replaces_the_setting(monkeypatch: pytest.MonkeyPatch) -> None:
    import stacksets.cli.context as context
    from tests.faults import run_cli

    seen: list[int] = []
    real = context.environment_tools

    def spy(factory: Any, config: Any, env: Any, **kwargs: Any) -> Any:
        seen.append(env.deployment.read_concurrency)
        return real(factory, config, env, **kwargs)

    monkeypatch.setattr(context, "environment_tools", spy)
    # An endpoint nothing listens on: the tools are made, then the first call fails (exit 1).
    code, _, err = run_cli("http://127.0.0.1:9", "plan", "--env", "dev", "--read-concurrency", "5")
    assert code == 1, err
    assert seen == [5]


@pytest.mark.parametrize("value", ["0", "65", "x", "-1"])
def test_the_command_line_value_is_checked_before_any_call(
    value: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.faults import run_cli

    code, _, _ = run_cli("http://127.0.0.1:9", "plan", "--env", "dev", f"--read-concurrency={value}")
    assert code == 2
    # argparse's own usage error, on stderr
    said = f"--read-concurrency: {value!r} is not a whole number from 1 to {MAX_READ_CONCURRENCY}"
    assert said in capsys.readouterr().err
