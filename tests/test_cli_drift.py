"""``drift`` never reads a missing stack set as "in sync": a stack set that does not exist (both,
or one of the two), or a SELF_MANAGED one without instances, is reported with the reason and the
command exits 1, so a scheduled drift job fails after someone deleted them.

moto has no drift detection: the detection of a deployed stack set is answered through
tests/faults.py, everything else is moto's state."""

from __future__ import annotations

import json
from pathlib import Path

import boto3

from stacksets.cli import EXIT_FAILED, EXIT_OK
from stacksets.drift import StackSetDrift, drift_to_json, render_drift
from tests.faults import Faults, members, run_cli
from tests.helpers import ACCOUNTS

REPLICA = "tattoo-directory-dev-app-storage-replica"
PRIMARY = "tattoo-directory-dev-app-storage-primary"
NOT_DEPLOYED = (
    "NOT DEPLOYED: the stack set does not exist: deploy it, or check --config, --env and name_prefix "
    "(a drift check of a stack set that is not there cannot pass)"
)


def in_sync(kind: str, region: str) -> Faults:
    """Drift detection of ``kind``'s stack set answered: every instance IN_SYNC."""
    faults = Faults()
    detect = faults.respond(
        "DetectStackSetDrift", f"<OperationId>drift-{kind}</OperationId>", match={"StackSetName": kind}
    )
    faults.respond(
        "DescribeStackSetOperation",
        "<StackSetOperation><OperationId>x</OperationId><Status>SUCCEEDED</Status></StackSetOperation>",
        match={"OperationId": f"drift-{kind}"},
    )
    rows = [{"Account": a, "Region": region, "Status": "CURRENT", "DriftStatus": "IN_SYNC"} for a in ACCOUNTS]
    listing = faults.respond(
        "ListStackInstances", f"<Summaries>{members(rows)}</Summaries>", match={"StackSetName": kind}
    )
    listing.when = lambda params: detect.hits > 0 and kind in params.get("StackSetName", "")
    return faults


def delete_stack_set(endpoint: str, name: str, region: str) -> None:
    """Someone deletes the stack set (its instances first, as CloudFormation requires)."""
    cfn = boto3.client("cloudformation", region_name="us-east-1", endpoint_url=endpoint)
    cfn.delete_stack_instances(StackSetName=name, Accounts=ACCOUNTS, Regions=[region], RetainStacks=False)
    cfn.delete_stack_set(StackSetName=name)


def test_nothing_deployed_is_not_in_sync(moto_endpoint: str, tmp_path: Path) -> None:
    code, out, err = run_cli(moto_endpoint, "drift", "--env", "dev")
    assert code == EXIT_FAILED, err
    assert out.splitlines() == [
        "dev",
        f"{REPLICA} (replica): {NOT_DEPLOYED}",
        f"{PRIMARY} (primary): {NOT_DEPLOYED}",
        "dev: NOT CHECKED: 2 of 2 stack set(s) missing or without instances (listed above); this is not in sync",
    ]
    assert "in sync (0 drifted" not in out

    code, out, _ = run_cli(moto_endpoint, "drift", "--env", "dev", "--json")
    assert code == EXIT_FAILED
    data = json.loads(out)["dev"]
    assert data["in_sync"] is False and data["drifted"] == 0
    assert [(s["stack_set"], s["deployed"], s["in_sync"]) for s in data["stack_sets"]] == [
        (REPLICA, False, False),
        (PRIMARY, False, False),
    ]
    assert data["stack_sets"][0]["problem"].startswith("the stack set does not exist")


def test_one_of_the_two_deleted(moto_endpoint: str, deployed: Path) -> None:
    delete_stack_set(moto_endpoint, REPLICA, "us-west-2")
    faults = in_sync("primary", "us-east-1")
    code, out, err = run_cli(moto_endpoint, "drift", "--config", str(deployed), "--env", "dev", faults=faults)
    assert code == EXIT_FAILED, err
    lines = out.splitlines()
    assert f"{REPLICA} (replica): {NOT_DEPLOYED}" in lines
    assert any(line.startswith(f"{PRIMARY} (primary): 0 of 3 instance(s) drifted") for line in lines)
    assert lines[-1] == (
        "dev: NOT CHECKED: 1 of 2 stack set(s) missing or without instances (listed above); this is not in sync"
    )
    assert len(faults.calls("DetectStackSetDrift")) == 1  # only the one that exists


def test_both_there_and_in_sync_still_passes(moto_endpoint: str, deployed: Path) -> None:
    faults = in_sync("replica", "us-west-2")
    faults.rules.extend(in_sync("primary", "us-east-1").rules)
    code, out, err = run_cli(moto_endpoint, "drift", "--config", str(deployed), "--env", "dev", faults=faults)
    assert code == EXIT_OK, err
    assert out.splitlines()[-1] == "dev: in sync (0 drifted instances)"


def test_a_stack_set_without_instances(moto_endpoint: str, deployed: Path) -> None:
    cfn = boto3.client("cloudformation", region_name="us-east-1", endpoint_url=moto_endpoint)
    cfn.delete_stack_instances(
        StackSetName=REPLICA, Accounts=ACCOUNTS, Regions=["us-west-2"], RetainStacks=False
    )
    faults = in_sync("primary", "us-east-1")
    code, out, _ = run_cli(moto_endpoint, "drift", "--config", str(deployed), "--env", "dev", faults=faults)
    assert code == EXIT_FAILED
    assert (
        f"{REPLICA} (replica): NO INSTANCES: the stack set has no stack instances, but the configuration "
        "targets 3: run deploy to create them"
    ) in out.splitlines()


def test_rendering_and_json_of_a_missing_stack_set() -> None:
    """The report's own rule, without AWS: missing is never clean; an empty SERVICE_MANAGED one is."""
    missing = StackSetDrift(PRIMARY, "primary", deployed=False, problem="the stack set does not exist")
    empty_ous = StackSetDrift(REPLICA, "replica", deployed=True)
    assert not missing.clean and empty_ous.clean
    assert drift_to_json([missing, empty_ous])["in_sync"] is False
    assert drift_to_json([empty_ous])["in_sync"] is True
    assert render_drift("dev", [empty_ous]).splitlines() == [
        f"{REPLICA} (replica): no instances",
        "dev: in sync (0 drifted instances)",
    ]
