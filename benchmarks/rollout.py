"""Rollout benchmark with a modelled network: the deployer's CLI talks to moto's server (in this
process, with the emulator's models registered) through a forwarder that adds a delay to every
call (benchmarks/forwarder.py says where the default 100 ms comes from and what it models).

One environment of the bundled example (default ``prod``: two Regions, replication) is deployed
to generated accounts. For each account count and latency, on a fresh emulator:

* ``first``: the first deploy (both stack sets created, every instance created);
* ``rerun``: the same deploy again, nothing to change (must make no mutating call);
* ``change``: one parameter changed (``CloudFrontDistributionArn`` set), which updates both stack
  sets and every instance.

For each: wall time, calls by API (CallLog, per operation name), calls per account, and the calls
made with the administration account's credentials against those made in member accounts (from
the forwarder, which sees each request's credentials). Quick run (a few minutes):

    .venv/bin/python benchmarks/rollout.py --accounts 10 --latency-ms 0 100

Larger sizes, one process per size with a time limit, results appended to a JSON file:

    timeout 60m .venv/bin/python benchmarks/rollout.py --accounts 300 --json benchmarks/results/r300.json

Sizes above ``--max-first`` (300) cannot be deployed in one first deploy on moto (see
:func:`run_size`): they are set up in steps, unmeasured, and only rerun and change are measured;
``benchmarks/report.py`` fits the first deploy over the smaller sizes and extrapolates.
``benchmarks/report.py benchmarks/results/*.json`` prints the tables and the fitted curves.
moto finishes every operation at once: CloudFormation's own time per stack instance is not in
these figures (see benchmarks/README.md).
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import yaml

sys.path.insert(0, str(Path(__file__).resolve().parent))

from forwarder import DEFAULT_LATENCY_MS, LatencyForwarder, forwarding, tag_operations
from report import print_report

from appstorage.config import bundled_example_path, load_config
from stacksets.cli import main
from stacksets.local import LOCAL_CREDENTIALS, local_session, run_local_server, seed
from stacksets.session import CallLog, ClientFactory

#: The calls that start a StackSet operation (or create a stack set).
OPERATIONS = (
    "CreateStackSet",
    "UpdateStackSet",
    "CreateStackInstances",
    "UpdateStackInstances",
    "DeleteStackInstances",
)
SCENARIOS = ("first", "rerun", "change")
#: The one-parameter change of the ``change`` scenario (a literal: nothing to seed for it).
CHANGED_PARAMETER = ("CloudFrontDistributionArn", "arn:aws:cloudfront::123456789012:distribution/EBENCHMARK1")


def accounts(n: int) -> list[str]:
    return [f"{100000000000 + i:012d}" for i in range(1, n + 1)]


def write_config(directory: Path, env: str, n: int, *, changed: bool = False) -> Path:
    """The bundled example with only ``env``, deployed to ``n`` generated accounts; ``changed``:
    with the one-parameter change."""
    data = yaml.safe_load(bundled_example_path().read_text())
    data["environments"] = {env: data["environments"][env]}
    data["environments"][env]["deployment"]["accounts"] = accounts(n)
    if changed:
        key, value = CHANGED_PARAMETER
        data["environments"][env]["parameters"][key] = value
    path = directory / f"config-{env}-{n}{'-changed' if changed else ''}.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


@contextmanager
def moto_server(*, separate: bool = False, aws_instance_parameters: bool = False) -> Iterator[str]:
    """moto's server with the emulator's models registered (as tests/conftest.py): in this process,
    or (``separate``) in a child process of its own, so that its CPU does not share this process's
    interpreter lock with the deployer, as AWS's servers do not. ``aws_instance_parameters``: see
    :func:`model_aws_instance_parameters` (applied where the server runs)."""
    if separate:
        argv = [sys.executable, __file__, "--serve-moto"]
        if aws_instance_parameters:
            argv.append("--aws-instance-parameters")
        child = subprocess.Popen(argv, stdout=subprocess.PIPE, text=True)
        try:
            assert child.stdout is not None
            url = child.stdout.readline().strip()
            if not url.startswith("http://"):
                raise SystemExit(f"moto's server did not start (exit {child.poll()})")
            yield url
        finally:
            child.terminate()
            child.wait(30)
        return
    if aws_instance_parameters:
        moto_reports_parameters_as_sent()  # a class-level patch: applies to the server started next
    with run_local_server() as url:  # the server --local embeds (stacksets.local)
        yield url


def serve_moto(aws_instance_parameters: bool) -> int:
    """The child process of ``moto_server(separate=True)``: prints the URL, serves until killed."""
    with moto_server(aws_instance_parameters=aws_instance_parameters) as url:
        print(url, flush=True)
        threading.Event().wait()
    return 0


def model_aws_instance_parameters() -> None:
    """``--aws-instance-parameters``: the instance stacks report their parameters as AWS does, and
    the deployer is told so (:attr:`stacksets.compat.Compat.reports_instance_parameters`).

    On AWS, DescribeStacks of an instance's stack reports each parameter as the stack set sent it
    (an SSM-typed one by its name; the value in ResolvedValue); moto reports an SSM-typed
    parameter's resolved value, so against moto the deployer reads every instance's overrides
    with DescribeStackInstance. With this option the benchmark measures the read path the
    deployer takes on AWS: moto's instance stacks (named ``StackSet:<name>``) report the values
    they were created with (:func:`moto_reports_parameters_as_sent`, applied where the server
    runs), and the emulator's Compat says instance parameters are reported (here).
    This covers the scenarios measured here (no per-instance overrides): moto's stacks still do
    not follow UpdateStackInstances or UpdateStackSet (the ``change`` scenario changes a stack set
    parameter, for which the deployer reads every instance with DescribeStackInstance anyway).
    """
    import attrs

    import stacksets.compat

    stacksets.compat.EMULATOR = attrs.evolve(stacksets.compat.EMULATOR, reports_instance_parameters=True)


def moto_reports_parameters_as_sent() -> None:
    """moto's instance stacks (``StackSet:<name>``) report each parameter as it was sent (see
    :func:`model_aws_instance_parameters`); NoEcho values stay masked."""
    from moto.cloudformation.models import Stack

    resolved = Stack.parameter_list

    def as_sent(self: Any) -> list[dict[str, Any]]:
        listed: list[dict[str, Any]] = resolved.fget(self)  # type: ignore[attr-defined]
        if not str(self.name).startswith("StackSet:"):
            return listed
        sent = self.parameters or {}
        return [
            p
            if p.get("ParameterValue") == "****"
            else {**p, "ParameterValue": sent.get(p["ParameterKey"], p["ParameterValue"])}
            for p in listed
        ]

    Stack.parameter_list = property(as_sent)  # type: ignore[assignment,method-assign]


def reset(moto: str) -> None:
    request = urllib.request.Request(f"{moto}/moto-api/reset", method="POST")
    with urllib.request.urlopen(request, timeout=60) as response:
        response.read()


def seed_directly(moto: str, config: Path) -> float:
    """Seed what other modules provide (KMS keys, topics, SSM parameters, log buckets) straight
    into moto (no forwarder, not measured); returns the seconds it took."""
    start = time.perf_counter()
    loaded = load_config(config)
    seed(ClientFactory(local_session(), endpoint_url=moto), loaded, loaded.environments.values())
    return time.perf_counter() - start


def run_deploy(endpoint: str, config: Path, env: str, outputs: Path, log: CallLog) -> tuple[int, float, str]:
    """``appstorage-deploy deploy --yes`` against ``endpoint``; (exit code, wall seconds, stderr)."""
    err = io.StringIO()
    start = time.perf_counter()
    code = main(
        [
            *("deploy", "--config", str(config), "--env", env, "--yes"),
            *("--endpoint-url", endpoint, "--outputs-file", str(outputs)),
        ],
        session=local_session(),
        hooks=(log.attach, tag_operations),
        stdout=io.StringIO(),
        stderr=err,
    )
    return code, time.perf_counter() - start, err.getvalue()


def measure(
    scenario: str, forwarder: LatencyForwarder, config: Path, env: str, n: int, tmp: Path
) -> dict[str, Any]:
    """One deploy through the forwarder, with what it cost."""
    forwarder.traffic.reset()
    log = CallLog()
    cpu = time.process_time()
    code, wall, stderr = run_deploy(forwarder.url, config, env, tmp / "outputs.json", log)
    cpu = time.process_time() - cpu
    calls = log.by_operation()
    traffic = forwarder.traffic.snapshot()
    total = sum(calls.values())
    return {
        "scenario": scenario,
        "accounts": n,
        "instances": 2 * n,
        "latency_ms": round(forwarder.delay * 1000, 3),
        "exit_code": code,
        "stderr_tail": stderr[-2000:] if code else "",
        "wall_s": round(wall, 3),
        # CPU of this whole process (deployer, forwarder and moto) during the deploy
        "cpu_s": round(cpu, 3),
        "calls": total,
        "calls_per_account": round(total / n, 3),
        "calls_by_api": calls,
        "operations_started": sum(log.count(op) for op in OPERATIONS),
        "mutating_calls": sum(log.mutating().values()),
        # the time the forwarder's delay alone accounts for, were every call sequential
        "delay_s_if_sequential": round(traffic["requests"] * forwarder.delay, 3),
        **traffic,
    }


def unmeasured_deploy(moto: str, config: Path, env: str, tmp: Path) -> None:
    """A deploy straight to moto (no forwarder, not recorded): setting up or restoring state."""
    code, wall, stderr = run_deploy(moto, config, env, tmp / "outputs.json", CallLog())
    print(f"    (setup deploy of {config.name}: exit {code}, {wall:.1f}s)", file=sys.stderr, flush=True)
    if code != 0:
        raise SystemExit(f"setup deploy of {config.name} failed:\n{stderr[-2000:]}")


def grow(moto: str, env: str, n: int, step: int, tmp: Path) -> None:
    """Deploy ``n`` accounts in steps of ``step`` new accounts, straight to moto."""
    for size in [*range(step, n, step), n]:
        unmeasured_deploy(moto, write_config(tmp, env, size), env, tmp)


def _record(out: list[dict[str, Any]], save: Any, record: dict[str, Any]) -> bool:
    out.append(record)
    save()
    print(
        f"[{record['accounts']} accounts, {record['latency_ms']:g} ms] {record['scenario']}: "
        f"exit {record['exit_code']}, {record['wall_s']:.1f}s (CPU {record['cpu_s']:.1f}s), "
        f"{record['calls']} calls ({record['admin_requests']} admin, {record['member_requests']} member)",
        file=sys.stderr,
        flush=True,
    )
    if record["exit_code"] != 0:
        print(record["stderr_tail"], file=sys.stderr)
    return bool(record["exit_code"] == 0)


def run_size(
    moto: str,
    env: str,
    n: int,
    latencies: list[float],
    max_first: int,
    tmp: Path,
    out: list[dict[str, Any]],
    save: Any,
) -> None:
    """The three scenarios at ``n`` accounts, for each latency.

    Up to ``max_first`` accounts, each latency starts from a fresh emulator: first, rerun, change.
    Above it, one first deploy is not possible on moto: moto creates every stack inside the
    CreateStackInstances call (about 65 ms per stack here), so at 1,000 accounts that call outlasts
    the 60 s read timeout of the deployer's clients and botocore retries it. The environment is
    then deployed in steps of ``max_first`` new accounts straight to moto (not measured), and each
    latency measures rerun and change; the change is undone (straight to moto) before the next.
    """
    config = write_config(tmp, env, n)
    changed = write_config(tmp, env, n, changed=True)
    admin_keys = frozenset({LOCAL_CREDENTIALS["aws_access_key_id"]})
    grown = False
    for latency in latencies:
        label = f"[{n} accounts, {latency:g} ms]"
        if n <= max_first or not grown:
            reset(moto)
            seeded = seed_directly(moto, config)
            print(f"{label} seeded in {seeded:.1f}s", file=sys.stderr, flush=True)
        if n > max_first and not grown:
            started = time.perf_counter()
            grow(moto, env, n, max_first, tmp)
            grown = True
            print(f"{label} set up in {time.perf_counter() - started:.1f}s", file=sys.stderr, flush=True)
        scenarios = (("first", config), ("rerun", config), ("change", changed))
        with forwarding(moto, latency / 1000, admin_keys=admin_keys) as forwarder:
            for scenario, path in scenarios if n <= max_first else scenarios[1:]:
                record = measure(scenario, forwarder, path, env, n, tmp)
                record["seed_s"] = round(seeded, 3)
                if not _record(out, save, record):
                    return
        if n > max_first and latency != latencies[-1]:
            unmeasured_deploy(moto, config, env, tmp)  # undo the change for the next latency


def main_benchmark() -> int:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--accounts", type=int, nargs="+", default=[10, 100, 1000], help="account counts")
    parser.add_argument(
        "--latency-ms",
        type=float,
        nargs="+",
        default=[DEFAULT_LATENCY_MS],
        help=f"delay added to every call, milliseconds (default {DEFAULT_LATENCY_MS:g}; see forwarder.py)",
    )
    parser.add_argument("--env", default="prod", help="environment of the bundled example (default prod)")
    parser.add_argument(
        "--max-first",
        type=int,
        default=300,
        help="largest account count deployed in one first deploy (default 300); larger sizes are set up "
        "in steps of this many accounts, not measured, and only rerun and change are measured",
    )
    parser.add_argument(
        "--aws-instance-parameters",
        action="store_true",
        help="instance stacks report their parameters as on AWS, and the deployer reads overrides "
        "from them as it does on AWS (see model_aws_instance_parameters)",
    )
    parser.add_argument(
        "--moto-process",
        action="store_true",
        help="run moto's server in a child process (its CPU then is not this process's: cpu_s is the "
        "deployer's and the forwarder's)",
    )
    parser.add_argument("--json", type=Path, help="append the results to this JSON file")
    parser.add_argument("--note", default="", help="stored with each result (e.g. the commit measured)")
    args = parser.parse_args()
    results: list[dict[str, Any]] = []
    previous: list[dict[str, Any]] = []
    if args.json and args.json.exists():
        previous = json.loads(args.json.read_text())

    def save() -> None:
        for record in results:
            record.setdefault("note", args.note)
            record.setdefault("aws_instance_parameters", args.aws_instance_parameters)
            record.setdefault("moto_process", args.moto_process)
        if args.json:
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(json.dumps(previous + results, indent=1))

    if args.aws_instance_parameters:
        model_aws_instance_parameters()
    server = moto_server(separate=args.moto_process, aws_instance_parameters=args.aws_instance_parameters)
    with server as moto, tempfile.TemporaryDirectory() as tmp:
        for n in args.accounts:
            run_size(moto, args.env, n, args.latency_ms, args.max_first, Path(tmp), results, save)
    print_report(results)
    return 0 if all(r["exit_code"] == 0 for r in results) else 1


if __name__ == "__main__":
    if sys.argv[1:2] == ["--serve-moto"]:
        sys.exit(serve_moto("--aws-instance-parameters" in sys.argv[2:]))
    sys.exit(main_benchmark())
