"""End to end: the deployer against moto's HTTP server on 127.0.0.1 (the real wire protocol).

moto deviations met here (the deployer is written for AWS; the tests say where they bend):

* ManagedExecution is always reported inactive and OperationPreferences are ignored: the CLI
  does not treat "ManagedExecution off" as a change when an endpoint URL is given.
* Every operation finishes at once (SUCCEEDED): waiting is exercised in test_deploy_stubber.py.
* UpdateStackSet does not update the instances' stacks. Where a test needs the new template in
  the stacks (the replica-outputs check before the primary phase), :func:`emulate_stack_updates`
  does what CloudFormation does: it brings each instance stack to the new template.
* ListStackInstances never reports OUTDATED: a client hook reports it, as AWS does, where a test
  needs it (a failed UpdateStackSet leaves the stack set with the new template and the stacks
  with the old one, which is what moto's UpdateStackSet leaves too).
* ListStackInstances reports a StackId matching no stack; the deployer falls back to finding
  the instance stack by name (stacksets.compat: the CLI expects the emulator's deviations
  for any --endpoint-url).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import attrs
import pytest

from appstorage.config import load_config
from appstorage.naming import Purpose, bucket_name_for_region, output_name
from stacksets import outputs as outputs_module
from stacksets.compat import AWS, EMULATOR
from stacksets.desired import desired_stack_sets
from stacksets.errors import ReplicaMismatch
from stacksets.local import local_session
from stacksets.outputs import verify_replica_outputs
from stacksets.requests import stack_set_request
from stacksets.session import CallLog, ClientFactory
from stacksets.stacks import InstanceStacks
from stacksets.toolkit import environment_tools
from tests.faults import Faults, deploy, run_cli
from tests.helpers import ACCOUNTS, seeded, write_config


def emulate_stack_updates(endpoint: str) -> Any:
    """A client hook doing what AWS does on UpdateStackSet and moto does not: update the stacks
    (delete + create here, see below). Runs when the deployer sends UpdateStackSet."""
    factory = ClientFactory(local_session(), endpoint_url=endpoint)
    admin = factory.cloudformation("us-east-1")

    def handler(params: dict[str, Any], **_: Any) -> None:
        name = params["StackSetName"]
        instances = admin.list_stack_instances(StackSetName=name)["Summaries"]
        for inst in instances:
            cfn = factory.cloudformation(
                inst["Region"], inst["Account"], "AWSCloudFormationStackSetExecutionRole"
            )
            # moto's UpdateStack cannot apply this change (it loses the renamed table on the
            # way), so the emulation replaces the stack: the end state AWS reaches.
            cfn.delete_stack(StackName=f"StackSet:{name}")
            cfn.create_stack(
                StackName=f"StackSet:{name}",
                TemplateBody=params["TemplateBody"],
                Parameters=params["Parameters"],
                Capabilities=params.get("Capabilities", []),
            )

    def attach(client: Any) -> None:
        client.meta.events.register("provide-client-params.cloudformation.UpdateStackSet", handler)

    return attach


def template_outputs(config_path: Path, env: str) -> dict[str, set[str]]:
    from appstorage.templates import build_environment

    templates = build_environment(load_config(config_path), env)
    return {kind: set(t.outputs) for kind, t in templates.items()}


def test_deploy_dev_and_prod_to_three_accounts_then_no_changes(moto_endpoint: str, tmp_path: Path) -> None:
    config = write_config(tmp_path)
    seeded(moto_endpoint, config)
    outputs = str(tmp_path / "{env}-outputs.json")
    log = CallLog()
    code, out, err = deploy(moto_endpoint, config, "--env", "prod", outputs=outputs, log=log)
    assert code == 0, err
    # One CreateStackSet and one CreateStackInstances per phase, whatever the account count.
    assert log.count("CreateStackSet") == 4
    assert log.count("CreateStackInstances") == 4
    for env in ("dev", "prod"):
        data = json.loads((tmp_path / f"{env}-outputs.json").read_text())
        expected = template_outputs(config, env)
        assert len(data["stack_sets"]) == 2
        for stack_set in data["stack_sets"]:
            assert sorted(i["account"] for i in stack_set["instances"]) == ACCOUNTS
            for instance in stack_set["instances"]:
                assert set(instance["outputs"]) == expected[stack_set["kind"]]
                assert all(instance["outputs"].values())
                if stack_set["kind"] == "primary":
                    assert instance["outputs"]["TableName"] == f"tattoo-directory-{env}"
                    assert instance["account"] in instance["outputs"]["FrontendBucketName"]

    log.reset()
    code, out, err = deploy(moto_endpoint, config, "--env", "prod", outputs=outputs, log=log)
    assert code == 0, err
    assert log.mutating() == {}
    assert "dev: no changes" in out and "prod: no changes" in out


def test_changed_cors_origin_is_an_update(moto_endpoint: str, tmp_path: Path) -> None:
    config = write_config(tmp_path)
    seeded(moto_endpoint, config)
    assert deploy(moto_endpoint, config, outputs=tmp_path / "o.json")[0] == 0
    changed = write_config(tmp_path, dev__cors_allowed_origins=["https://new.tattoo.example.com"])

    code, out, err = run_cli(moto_endpoint, "plan", "--config", str(changed), "--env", "dev", "--json")
    assert code == 0, err
    plan = json.loads(out)["dev"]
    assert plan["changed"] is True and plan["data_loss"] is False
    cors = "Properties.CorsConfiguration.CorsRules[0].AllowedOrigins"
    for stack_set in plan["stack_sets"]:
        assert stack_set["action"] == "update" and stack_set["needs_stack_set_update"] is True
        changed_buckets = {r["logical_id"]: r for r in stack_set["template"]["resources"]}
        assert all(r["action"] == "modify" and r["changed_paths"] == [cors] for r in changed_buckets.values())
        assert len(changed_buckets) == 2  # the two buckets of each template, nothing else
        assert stack_set["instances"] == {"add": [], "remove": [], "outdated": []}

    log = CallLog()
    code, out, err = deploy(moto_endpoint, changed, outputs=tmp_path / "o.json", log=log)
    assert code == 0, err
    # moto: UpdateStackSet is accepted (OperationPreferences ignored) and finishes at once.
    assert log.count("UpdateStackSet") == 2
    assert log.count("CreateStackInstances") == 0
    code, out, _ = run_cli(moto_endpoint, "plan", "--config", str(changed), "--env", "dev")
    assert code == 0 and "no changes" in out


def test_new_name_prefix_is_data_loss(moto_endpoint: str, tmp_path: Path) -> None:
    config = write_config(tmp_path)
    seeded(moto_endpoint, config)
    assert deploy(moto_endpoint, config, outputs=tmp_path / "o.json")[0] == 0
    renamed = write_config(tmp_path, name_prefix="tattoo")
    seeded(moto_endpoint, renamed)

    log = CallLog()
    code, _out, err = deploy(moto_endpoint, renamed, outputs=tmp_path / "o.json", log=log)
    assert code == 1
    assert "DATA LOSS" in err and "Table" in err
    assert log.mutating() == {}

    code, _out, err = deploy(
        moto_endpoint,
        renamed,
        "--allow-replacement",
        outputs=tmp_path / "o.json",
        hooks=(emulate_stack_updates(moto_endpoint),),
    )
    assert code == 0, err
    data = json.loads((tmp_path / "o.json").read_text())
    primary = next(s for s in data["stack_sets"] if s["kind"] == "primary")
    assert {i["outputs"]["TableName"] for i in primary["instances"]} == {"tattoo-dev"}


def test_status_and_outputs_commands(moto_endpoint: str, tmp_path: Path) -> None:
    config = write_config(tmp_path)
    seeded(moto_endpoint, config)
    code, out, err = run_cli(moto_endpoint, "status", "--config", str(config), "--env", "dev", "--json")
    assert code == 0, err
    assert [s["status"] for s in json.loads(out)["dev"]] == ["NOT DEPLOYED", "NOT DEPLOYED"]
    outputs = tmp_path / "o.json"
    assert deploy(moto_endpoint, config, outputs=outputs)[0] == 0
    code, out, err = run_cli(moto_endpoint, "status", "--config", str(config), "--env", "dev", "--json")
    assert code == 0, err
    for stack_set in json.loads(out)["dev"]:
        assert sorted(i["account"] for i in stack_set["instances"]) == ACCOUNTS
        assert {i["status"] for i in stack_set["instances"]} == {"CURRENT"}
    outputs.unlink()
    log = CallLog()
    code, out, err = run_cli(
        moto_endpoint,
        "outputs",
        "--config",
        str(config),
        "--env",
        "dev",
        "--outputs-file",
        str(outputs),
        log=log,
    )
    assert code == 0, err
    assert log.mutating() == {}
    data = json.loads(outputs.read_text())
    assert sum(len(s["instances"]) for s in data["stack_sets"]) == 6
    assert "FrontendBackupBucketName" in out


def test_changed_tags_are_an_update_then_no_changes(moto_endpoint: str, tmp_path: Path) -> None:
    """The stack sets' own tags (not only the resources'): a configured tag is planned as a stack
    set setting and sent with UpdateStackSet; tags changed outside the deployer are put back."""
    config = write_config(tmp_path)
    seeded(moto_endpoint, config)
    outputs = str(tmp_path / "o.json")
    assert deploy(moto_endpoint, config, outputs=outputs)[0] == 0
    tagged = write_config(tmp_path, dev__tags={"owner": "storage-team"})

    code, out, err = run_cli(moto_endpoint, "plan", "--config", str(tagged), "--env", "dev", "--json")
    assert code == 0, err
    plan = json.loads(out)["dev"]
    for stack_set in plan["stack_sets"]:
        assert stack_set["action"] == "update" and stack_set["needs_stack_set_update"] is True
        assert stack_set["stack_set_changes"] == ["Tags: +owner=storage-team"]

    log = CallLog()
    code, out, err = deploy(moto_endpoint, tagged, outputs=outputs, log=log)
    assert code == 0, err
    assert log.count("UpdateStackSet") == 2
    admin = ClientFactory(local_session(), endpoint_url=moto_endpoint).cloudformation("us-east-1")
    names = [s["name"] for s in plan["stack_sets"]]
    for name in names:
        tags = admin.describe_stack_set(StackSetName=name)["StackSet"]["Tags"]
        assert {"Key": "owner", "Value": "storage-team"} in tags
    log.reset()
    code, out, err = deploy(moto_endpoint, tagged, outputs=outputs, log=log)
    assert code == 0, err
    assert log.mutating() == {}
    assert "dev: no changes" in out

    # Someone retags the replica stack set by hand: only its settings differ from the configuration.
    replica = names[0]
    deployed = admin.describe_stack_set(StackSetName=replica)["StackSet"]
    admin.update_stack_set(
        StackSetName=replica,
        TemplateBody=deployed["TemplateBody"],
        Parameters=deployed["Parameters"],
        Tags=[{"Key": "owner", "Value": "someone-else"}],
    )
    code, out, err = run_cli(moto_endpoint, "plan", "--config", str(tagged), "--env", "dev", "--json")
    assert code == 0, err
    retagged = json.loads(out)["dev"]["stack_sets"]
    assert [s["action"] for s in retagged] == ["update", "no change"]
    assert retagged[0]["template"]["changed"] is False
    [change] = retagged[0]["stack_set_changes"]
    assert (
        change.startswith("Tags: +cost-center=platform, +environment=dev") and "~owner=someone-else" in change
    )
    log.reset()
    code, out, err = deploy(moto_endpoint, tagged, outputs=outputs, log=log)
    assert code == 0, err
    assert log.count("UpdateStackSet") == 1
    code, out, _ = run_cli(moto_endpoint, "plan", "--config", str(tagged), "--env", "dev")
    assert code == 0 and "no changes" in out


def test_replica_outputs_are_read_once_per_instance(
    moto_endpoint: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The check before the primary phase reads the replica outputs; the collection at the end
    reuses them (the replica does not change during the primary phase)."""
    reads: list[tuple[str, str]] = []
    original = outputs_module.instance_outputs

    def counting(stacks: Any, desired: Any, instance: Any) -> Any:
        reads.append((desired.kind, instance.account))
        return original(stacks, desired, instance)

    monkeypatch.setattr(outputs_module, "instance_outputs", counting)
    config = write_config(tmp_path)
    seeded(moto_endpoint, config)
    code, _out, err = deploy(moto_endpoint, config, outputs=tmp_path / "o.json")
    assert code == 0, err
    assert sorted(reads) == sorted([("replica", a) for a in ACCOUNTS] + [("primary", a) for a in ACCOUNTS])
    data = json.loads((tmp_path / "o.json").read_text())
    replica = next(s for s in data["stack_sets"] if s["kind"] == "replica")
    assert {i["account"] for i in replica["instances"]} == set(ACCOUNTS)
    assert all(i["outputs"]["ImagesBackupBucketName"] for i in replica["instances"])


def test_replica_outputs_not_as_the_primary_expects_stop_before_the_primary_phase(
    moto_endpoint: str, deployed: Path
) -> None:
    config = load_config(deployed)
    factory = ClientFactory(local_session(), endpoint_url=moto_endpoint)
    tools = environment_tools(factory, config, config.environment("dev"), compat=EMULATOR)
    replica, primary = tools.desired
    verified = verify_replica_outputs(tools.cfn, replica, primary, tools.stacks)
    assert sorted(account for account, _ in verified) == ACCOUNTS
    assert all(o.outputs[output_name(Purpose.IMAGES_BACKUP, "Name")] for o in verified.values())

    # The primary template of another name prefix expects other bucket names.
    other = attrs.evolve(replica, environment=attrs.evolve(replica.environment, name_prefix="other"))
    with pytest.raises(ReplicaMismatch) as raised:
        verify_replica_outputs(tools.cfn, other, primary, tools.stacks)
    message = str(raised.value)
    expected = bucket_name_for_region("other", "dev", Purpose.IMAGES_BACKUP, ACCOUNTS[0], "us-west-2")
    assert f"{ACCOUNTS[0]}: ImagesBackupBucketName is " in message and f"expected {expected!r}" in message
    assert "the primary phase was not started" in message

    # The emulator's instance stacks are found only through its compat seam (moto's StackIds do
    # not resolve): with AWS's rules they have no stack, so no outputs, and the check says so.
    strict = InstanceStacks(factory, config.environment("dev").deployment.execution_role_name, AWS)
    with pytest.raises(ReplicaMismatch, match="ImagesBackupBucketName is None"):
        verify_replica_outputs(tools.cfn, replica, primary, strict)


# --------------------------------------------------------------------------- OUTDATED instances after a failed update


def _report_outdated(client: Any) -> None:
    """ListStackInstances reports every instance OUTDATED (moto never does)."""

    def handler(parsed: dict[str, Any], **_: Any) -> None:
        for summary in parsed.get("Summaries", []):
            summary["Status"] = "OUTDATED"

    client.meta.events.register("after-call.cloudformation.ListStackInstances", handler)


def _failed_half_way(endpoint: str, renamed: Path) -> None:
    """What a failed ``--allow-replacement`` UpdateStackSet leaves: the stack sets hold the new
    template, the instance stacks still the old one (moto updates no stack: exactly that)."""
    config = load_config(renamed)
    cfn = ClientFactory(local_session(), endpoint_url=endpoint).cloudformation("us-east-1")
    for desired in desired_stack_sets(config, "dev"):
        request = stack_set_request(desired, {"TemplateBody": desired.template_body}, update=True)
        cfn.update_stack_set(**request, OperationId=f"x-{desired.kind}")


def test_retry_after_failed_replacing_update_is_still_refused_as_data_loss(
    moto_endpoint: str, deployed: Path
) -> None:
    config = deployed
    renamed = write_config(config.parent, name_prefix="tattoo")
    _failed_half_way(moto_endpoint, renamed)
    faults = Faults()
    code, out, err = run_cli(
        moto_endpoint,
        "deploy",
        "--config",
        str(renamed),
        "--env",
        "dev",
        "--yes",
        faults=faults,
        hooks=(_report_outdated,),
        outputs=config.parent / "outputs.json",
    )
    assert code == 1, out + err
    assert "refusing to deploy" in err and "--allow-replacement" in err
    assert "DATA LOSS: ImagesBucket" in out and "OUTDATED instance(s)" in out
    assert "DATA LOSS: ImagesBackupBucket" in out
    assert [op for op, _ in faults.requests if op.startswith(("Update", "Create", "Delete"))] == []
    assert faults.calls("GetTemplate")  # read in the instances' accounts

    # A template that cannot be read is treated as possible data loss, with the reason.
    faults = Faults()
    faults.error("GetTemplate", "AccessDenied", "no cloudformation:GetTemplate", times=None, status=403)
    code, out, err = run_cli(
        moto_endpoint,
        "plan",
        "--config",
        str(renamed),
        "--env",
        "dev",
        faults=faults,
        hooks=(_report_outdated,),
    )
    assert code == 0, err
    assert f"DATA LOSS: (stack of {ACCOUNTS[0]} us-west-2)" in out
    assert "deployed template could not be read (GetTemplate refused (AccessDenied" in out
