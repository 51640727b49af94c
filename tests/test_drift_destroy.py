"""``drift`` and ``destroy``.

moto deviations (checked in moto 5.2's cloudformation backend; the deployer is written for AWS):

* moto implements no drift detection at all (no DetectStackSetDrift, no
  ListStackInstanceResourceDrifts): drift is tested with botocore's Stubber (request shapes
  validated against the service model; tests/test_drift_admin.py) and, through the CLI, against
  moto with the drift calls' responses injected (tests/faults.py).
* moto ignores ``RetainStacks`` on DeleteStackInstances and always deletes the instance stacks
  (AWS deletes them only with RetainStacks false, which is what destroy sends); stack deletion
  does honour ``DeletionPolicy: Retain``, so the table and buckets survive as on AWS.
* moto ignores the OperationId sent with DeleteStackInstances and returns its own.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest

from appstorage.naming import Purpose, bucket_name_for_region
from stacksets.local import local_session
from stacksets.session import ClientFactory
from tests.faults import Faults, Rule, members, run_cli
from tests.helpers import ACCOUNTS

ROLE = "AWSCloudFormationStackSetExecutionRole"

# --------------------------------------------------------------------------- drift, CLI on moto


def _drift_faults(drift: dict[str, str], resource_drifts: str = "") -> Faults:
    """moto has no drift detection: answer its calls, and report ``drift`` (kind -> status) in
    the ListStackInstances made after the detection (the one before it goes to moto)."""
    faults = Faults()
    for kind, status in drift.items():
        detect = faults.respond(
            "DetectStackSetDrift", f"<OperationId>drift-{kind}</OperationId>", match={"StackSetName": kind}
        )
        faults.respond(
            "DescribeStackSetOperation",
            "<StackSetOperation><OperationId>x</OperationId><Status>SUCCEEDED</Status></StackSetOperation>",
            match={"OperationId": f"drift-{kind}"},
        )
        region = "us-west-2" if kind == "replica" else "us-east-1"
        rows = [
            {
                "Account": a,
                "Region": region,
                "Status": "CURRENT",
                "StackId": f"stack-{kind}-{a}",
                "DriftStatus": status,
            }
            for a in ACCOUNTS
        ]
        listing = faults.respond(
            "ListStackInstances", f"<Summaries>{members(rows)}</Summaries>", match={"StackSetName": kind}
        )
        listing.when = _after(detect, kind)
    faults.respond("ListStackInstanceResourceDrifts", resource_drifts, times=None)
    return faults


def _after(detect: Rule, kind: str) -> Callable[[dict[str, str]], bool]:
    return lambda params: detect.hits > 0 and kind in params.get("StackSetName", "")


def test_drift_cli_in_sync_exits_0(moto_endpoint: str, deployed: Path) -> None:
    faults = _drift_faults({"replica": "IN_SYNC", "primary": "IN_SYNC"})
    code, out, err = run_cli(moto_endpoint, "drift", "--config", str(deployed), "--env", "dev", faults=faults)
    assert code == 0, err
    assert "dev: in sync (0 drifted instances)" in out
    assert len(faults.calls("DetectStackSetDrift")) == 2
    assert faults.calls("ListStackInstanceResourceDrifts") == []  # nothing drifted: no per-instance reads
    assert faults.calls("AssumeRole") == []
    assert faults.deletes() == []


def test_drift_cli_drifted_exits_1_with_json(moto_endpoint: str, deployed: Path) -> None:
    drifts = members(
        [
            {
                "StackId": "s",
                "LogicalResourceId": "Table",
                "PhysicalResourceId": "tattoo-directory-dev",
                "ResourceType": "AWS::DynamoDB::Table",
                "StackResourceDriftStatus": "MODIFIED",
                "Timestamp": "2026-01-01T00:00:00Z",
                "PropertyDifferences": members(
                    [
                        {
                            "PropertyPath": "/BillingMode",
                            "ExpectedValue": "PAY_PER_REQUEST",
                            "ActualValue": "PROVISIONED",
                            "DifferenceType": "NOT_EQUAL",
                        }
                    ]
                ),
            }
        ]
    )
    faults = _drift_faults({"replica": "IN_SYNC", "primary": "DRIFTED"}, f"<Summaries>{drifts}</Summaries>")
    code, out, err = run_cli(
        moto_endpoint, "drift", "--config", str(deployed), "--env", "dev", "--json", faults=faults
    )
    assert code == 1, err
    data = json.loads(out)["dev"]
    assert data["drifted"] == 3 and data["in_sync"] is False
    primary = next(s for s in data["stack_sets"] if s["kind"] == "primary")
    instance = primary["instances"][0]
    assert instance["resources"][0]["properties"][0] == {
        "path": "/BillingMode",
        "expected": "PAY_PER_REQUEST",
        "actual": "PROVISIONED",
        "difference": "NOT_EQUAL",
    }
    # ListStackInstanceResourceDrifts per drifted instance, in the administration account (the
    # request names the member account and Region), with the detection's id and the filter; no
    # role is assumed in any member account.
    calls = faults.calls("ListStackInstanceResourceDrifts")
    assert sorted(c["StackInstanceAccount"] for c in calls) == ACCOUNTS
    assert {
        (
            c["StackSetName"],
            c["StackInstanceRegion"],
            c["OperationId"],
            c["StackInstanceResourceDriftStatuses.member.1"],
            c["StackInstanceResourceDriftStatuses.member.2"],
            c["CallAs"],
        )
        for c in calls
    } == {
        (
            "tattoo-directory-dev-app-storage-primary",
            "us-east-1",
            "drift-primary",
            "MODIFIED",
            "DELETED",
            "SELF",
        )
    }
    assert faults.calls("AssumeRole") == []
    assert faults.calls("DescribeStackResourceDrifts") == []


# --------------------------------------------------------------------------- destroy, moto e2e


def _factory(endpoint: str) -> ClientFactory:
    return ClientFactory(local_session(), endpoint_url=endpoint)


def test_destroy_deletes_instances_then_stack_sets_and_keeps_retained_data(
    moto_endpoint: str, deployed: Path
) -> None:
    faults = Faults()
    code, out, err = run_cli(
        moto_endpoint, "destroy", "--config", str(deployed), "--env", "dev", "--yes", faults=faults
    )
    assert code == 0, err
    deletes = [(op, p.get("StackSetName", "")) for op, p in faults.requests if op.startswith("Delete")]
    primary, replica = "tattoo-directory-dev-app-storage-primary", "tattoo-directory-dev-app-storage-replica"
    assert deletes == [
        ("DeleteStackInstances", primary),
        ("DeleteStackSet", primary),
        ("DeleteStackInstances", replica),
        ("DeleteStackSet", replica),
    ]
    for call in faults.calls("DeleteStackInstances"):
        assert call["RetainStacks"] == "false"
        assert call["CallAs"] == "SELF"
        assert [call[f"Accounts.member.{n}"] for n in (1, 2, 3)] == ACCOUNTS
    # the stack sets are gone
    code, status, err = run_cli(moto_endpoint, "status", "--config", str(deployed), "--env", "dev", "--json")
    assert code == 0, err
    assert [s["status"] for s in json.loads(status)["dev"]] == ["NOT DEPLOYED", "NOT DEPLOYED"]
    # ... and the retained table and buckets exist, named in the output
    factory = _factory(moto_endpoint)
    for account in ACCOUNTS:
        ddb = factory.client("dynamodb", "us-east-1", account, ROLE)
        assert ddb.describe_table(TableName="tattoo-directory-dev")["Table"]["TableStatus"]
        assert f"{account} us-east-1 AWS::DynamoDB::GlobalTable tattoo-directory-dev" in out
        assert f"{account} us-west-2 AWS::DynamoDB::GlobalTable" not in out  # dev: no replica Region
        for purpose, region in (
            (Purpose.FRONTEND, "us-east-1"),
            (Purpose.IMAGES, "us-east-1"),
            (Purpose.FRONTEND_BACKUP, "us-west-2"),
            (Purpose.IMAGES_BACKUP, "us-west-2"),
        ):
            name = bucket_name_for_region("tattoo-directory", "dev", purpose, account, region)
            factory.s3(region, account, ROLE).head_bucket(Bucket=name)
            assert f"{account} {region} AWS::S3::Bucket {name}" in out
        # the instance stacks were deleted (RetainStacks false)
        for region in ("us-east-1", "us-west-2"):
            stacks = factory.cloudformation(region, account, ROLE).list_stacks()["StackSummaries"]
            assert all(s["StackStatus"] == "DELETE_COMPLETE" for s in stacks if "StackSet" in s["StackName"])
    assert "still hold data and cost money" in out

    # again: nothing left, said so, nothing deleted
    faults = Faults()
    code, out, err = run_cli(
        moto_endpoint, "destroy", "--config", str(deployed), "--env", "dev", "--yes", faults=faults
    )
    assert code == 0, err
    assert out.count("does not exist, nothing to delete") == 2
    assert faults.deletes() == []


def test_destroy_never_deletes_what_the_config_does_not_name(
    moto_endpoint: str, deployed: Path, tmp_path: Path
) -> None:
    import yaml

    data = yaml.safe_load(deployed.read_text())
    data["environments"]["dev"]["deployment"]["accounts"] = ACCOUNTS[:2]
    fewer = tmp_path / "fewer.yaml"
    fewer.write_text(yaml.safe_dump(data))
    faults = Faults()
    code, out, err = run_cli(
        moto_endpoint, "destroy", "--config", str(fewer), "--env", "dev", "--yes", faults=faults
    )
    assert code == 1, err
    deleted = faults.calls("DeleteStackInstances")
    assert len(deleted) == 2
    assert all("333333333333" not in json.dumps(c) for c in deleted)
    assert faults.calls("DeleteStackSet") == []
    assert (
        out.count("stack set KEPT: it still has instances the configuration does not name: 333333333333") == 2
    )


def test_destroy_without_yes_and_without_a_tty_is_refused(moto_endpoint: str, deployed: Path) -> None:
    faults = Faults()
    code, out, err = run_cli(
        moto_endpoint, "destroy", "--config", str(deployed), "--env", "dev", faults=faults
    )
    assert code == 2
    assert "pass --yes" in err and "Traceback" not in err + out
    assert faults.requests == []  # no API call at all


def test_destroy_prompt_needs_the_environment_name(
    moto_endpoint: str, deployed: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin.isatty", lambda: True)
    prompts: list[str] = []

    def answer(text: str) -> str:
        prompts.append(text)
        return "y"  # not the environment name

    faults = Faults()
    code, _, err = run_cli(
        moto_endpoint,
        "destroy",
        "--config",
        str(deployed),
        "--env",
        "dev",
        faults=faults,
        confirm_input=answer,
    )
    assert code == 1
    assert "cancelled: nothing was deleted" in err and "(dev)" in prompts[0]
    assert "delete stack set and instance(s) 111111111111 us-east-1" in err
    assert faults.deletes() == []
    code, out, err = run_cli(
        moto_endpoint,
        "destroy",
        "--config",
        str(deployed),
        "--env",
        "dev",
        faults=faults,
        confirm_input=lambda _: "dev",
    )
    assert code == 0, err
    assert out.count("stack set deleted") == 2


def test_destroy_needs_an_environment(moto_endpoint: str) -> None:
    faults = Faults()
    code, _, err = run_cli(moto_endpoint, "destroy", "--yes", faults=faults)
    assert code == 2 and "destroy needs --env" in err and faults.requests == []
