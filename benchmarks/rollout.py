"""Rollout benchmark against the local emulator (moto's server): one environment to 1, 10 and
50 accounts. For each: StackSet operations started, API calls by operation name, wall time,
and the mutating calls of an immediate re-run (must be 0).

    .venv/bin/python benchmarks/rollout.py [--accounts 1 10 50] [--env dev]

moto finishes every operation at once, so wall time here is the deployer's own overhead
(API round trips), not CloudFormation's provisioning time.
"""

from __future__ import annotations

import argparse
import io
import tempfile
import time
import urllib.request
from pathlib import Path

import yaml
from rich.console import Console
from rich.table import Table

from appstorage.config import bundled_example_path, load_config
from stacksets.cli import main
from stacksets.local import local_session, run_local_server, seed
from stacksets.session import CallLog, ClientFactory

OPERATIONS = ("CreateStackInstances", "UpdateStackSet", "UpdateStackInstances", "DeleteStackInstances")


def accounts(n: int) -> list[str]:
    return [f"{100000000000 + i:012d}" for i in range(1, n + 1)]


def config_for(directory: Path, env: str, n: int) -> Path:
    data = yaml.safe_load(bundled_example_path().read_text())
    data["environments"] = {env: data["environments"][env]}
    data["environments"][env]["deployment"]["accounts"] = accounts(n)
    path = directory / f"config-{n}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


def reset(endpoint: str) -> None:
    request = urllib.request.Request(f"{endpoint}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=10) as response:
        response.read()


def deploy(endpoint: str, config: Path, env: str, outputs: Path, log: CallLog) -> float:
    start = time.perf_counter()
    code = main(
        [
            "deploy",
            "--config",
            str(config),
            "--env",
            env,
            "--endpoint-url",
            endpoint,
            "--yes",
            "--outputs-file",
            str(outputs),
        ],
        session=local_session(),
        hooks=(log.attach,),
        stdout=io.StringIO(),
        stderr=io.StringIO(),
    )
    if code != 0:
        raise SystemExit(f"deploy failed with exit code {code}")
    return time.perf_counter() - start


def main_benchmark() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--accounts", type=int, nargs="+", default=[1, 10, 50])
    parser.add_argument("--env", default="dev")
    args = parser.parse_args()
    console = Console(width=160)
    summary = Table(title=f"rollout of {args.env} (replica + primary) against moto")
    for column in (
        "accounts",
        "StackSet operations started",
        "API calls",
        "wall time",
        "re-run mutating calls",
        "re-run API calls",
        "re-run wall time",
    ):
        summary.add_column(column, justify="right")
    by_operation: dict[int, dict[str, int]] = {}
    with run_local_server() as endpoint, tempfile.TemporaryDirectory() as tmp:
        for n in args.accounts:
            reset(endpoint)
            config = config_for(Path(tmp), args.env, n)
            loaded = load_config(config)
            seed(ClientFactory(local_session(), endpoint_url=endpoint), loaded, loaded.environments.values())
            log = CallLog()
            wall = deploy(endpoint, config, args.env, Path(tmp) / "outputs.json", log)
            started = sum(log.count(op) for op in OPERATIONS)
            by_operation[n] = log.by_operation()
            rerun = CallLog()
            rerun_wall = deploy(endpoint, config, args.env, Path(tmp) / "outputs.json", rerun)
            summary.add_row(
                str(n),
                str(started),
                str(sum(by_operation[n].values())),
                f"{wall:.1f}s",
                str(sum(rerun.mutating().values())),
                str(sum(rerun.calls.values())),
                f"{rerun_wall:.1f}s",
            )
    calls = Table(title="API calls of the first deploy, by operation")
    calls.add_column("operation")
    for n in args.accounts:
        calls.add_column(f"{n} account(s)", justify="right")
    for op in sorted({k for counts in by_operation.values() for k in counts}):
        calls.add_row(op, *(str(by_operation[n].get(op, 0)) for n in args.accounts))
    console.print(summary)
    console.print(calls)


if __name__ == "__main__":
    main_benchmark()
