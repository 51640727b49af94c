"""Instances no rollout fixes by itself, and changes CloudFormation refuses.

* INOPERABLE (a failed deletion left the stack unstable; "excluded from further UpdateStackSet
  operations", remedy DeleteStackInstances with RetainStacks=true) and SKIPPED_SUSPENDED_ACCOUNT
  instances are not planned as outdated (deploy would retry them forever and never say "no
  changes"): they are notes, in the text plan and in the JSON plan.
* "You cannot modify PermissionModel if there are stack instances" (UpdateStackSet): a blocker;
  deploy refuses before any mutating call, whatever ``--allow-replacement`` says.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

import attrs
import pytest

from appstorage.config import load_config
from stacksets.cli import main
from stacksets.desired import desired_stack_sets
from stacksets.errors import DeployBlocked
from stacksets.local import local_session
from stacksets.model import ObservedInstance, ObservedStackSet
from stacksets.plan import plan_blocks_deploy, plan_stack_set
from stacksets.planview import plan_to_json, render_plan
from stacksets.session import CallLog
from tests.helpers import seeded, write_config

DEV = {d.kind: d for d in desired_stack_sets(load_config(), "dev")}
PRIMARY = DEV["primary"]
ACCOUNT = PRIMARY.instances[0].account


def _observed(*instances: ObservedInstance, **changes: Any) -> ObservedStackSet:
    observed = ObservedStackSet(
        name=PRIMARY.name,
        status="ACTIVE",
        template_body=PRIMARY.template_body,
        parameters=dict(PRIMARY.parameters),
        instances=instances,
        managed_execution=True,
    )
    return attrs.evolve(observed, **changes)


def _instance(status: str, detailed: str, account: str = ACCOUNT) -> ObservedInstance:
    return ObservedInstance(account, "us-east-1", status, detailed)


HELD = [
    # (case, instance, action, outdated, note words)
    ("CURRENT", _instance("CURRENT", "SUCCEEDED"), "no change", 0, []),
    ("OUTDATED/FAILED is retried", _instance("OUTDATED", "FAILED"), "update", 1, []),
    (
        "INOPERABLE is a note with the remedy, not outdated",
        _instance("INOPERABLE", "INOPERABLE"),
        "no change",
        0,
        ["is INOPERABLE", "RetainStacks=true"],
    ),
    (
        "INOPERABLE status without detailed status",
        _instance("INOPERABLE", ""),
        "no change",
        0,
        ["is INOPERABLE"],
    ),
    (
        "suspended account is a note, not outdated",
        _instance("OUTDATED", "SKIPPED_SUSPENDED_ACCOUNT"),
        "no change",
        0,
        ["OUTDATED/SKIPPED_SUSPENDED_ACCOUNT", "operations skip it"],
    ),
    (
        "an INOPERABLE instance no longer configured is removed (RetainStacks=true), not a note",
        _instance("INOPERABLE", "INOPERABLE", account="999999999999"),
        "update",
        0,
        [],
    ),
]


@pytest.mark.parametrize(
    ("instance", "action", "outdated", "words"), [pytest.param(*c[1:], id=c[0]) for c in HELD]
)
def test_inoperable_and_suspended_instances_are_notes_not_outdated(
    instance: ObservedInstance, action: str, outdated: int, words: list[str]
) -> None:
    others = () if instance.account == ACCOUNT else (_instance("CURRENT", "SUCCEEDED"),)
    plan = plan_stack_set(PRIMARY, _observed(instance, *others))
    assert plan.action == action
    assert len(plan.instances.outdated) == outdated
    notes = plan.notes
    assert len(notes) == (1 if words else 0)
    text = render_plan([plan])
    data = plan_to_json([plan])["stack_sets"][0]
    for w in words:
        assert w in notes[0]
    assert [line.removeprefix("  NOTE: ") for line in text.splitlines() if "NOTE:" in line] == list(notes)
    assert data["notes"] == list(notes)
    assert plan.blockers == ()


PERMISSION = [
    ("instances: blocked", (_instance("CURRENT", "SUCCEEDED"),), True),
    ("no instances: allowed", (), False),
]


@pytest.mark.parametrize(("instances", "blocked"), [pytest.param(*c[1:], id=c[0]) for c in PERMISSION])
def test_permission_model_change_with_instances_blocks_deploy(
    instances: tuple[ObservedInstance, ...], blocked: bool
) -> None:
    plan = plan_stack_set(PRIMARY, _observed(*instances, permission_model="SERVICE_MANAGED"))
    assert plan.action == "update"
    assert bool(plan.blockers) is blocked
    assert plan_to_json([plan])["blocked"] is blocked
    assert ("BLOCKED:" in render_plan([plan])) is blocked
    for allow in (False, True):
        if blocked:
            with pytest.raises(DeployBlocked, match="permission model cannot change from SERVICE_MANAGED"):
                plan_blocks_deploy([plan], allow_replacement=allow)
        else:
            assert plan_blocks_deploy([plan], allow_replacement=allow) == []


def test_deploy_refuses_a_permission_model_change_with_instances_without_mutating(
    moto_endpoint: str, tmp_path: Path
) -> None:
    import yaml

    config = write_config(tmp_path)
    seeded(moto_endpoint, config)
    out, err = io.StringIO(), io.StringIO()
    args = ["--endpoint-url", moto_endpoint, "--yes", "--outputs-file", str(tmp_path / "o.json")]
    common = {"session": local_session(), "stdout": out, "stderr": err}
    assert main(["deploy", "--config", str(config), "--env", "dev", *args], **common) == 0, err.getvalue()  # type: ignore[arg-type]
    data = yaml.safe_load(config.read_text())
    data["environments"]["dev"]["deployment"] = {
        "permission_model": "SERVICE_MANAGED",
        "organizational_units": ["ou-ab12-cd34ef56"],
    }
    changed = tmp_path / "service.yaml"
    changed.write_text(yaml.safe_dump(data))
    log, out, err = CallLog(), io.StringIO(), io.StringIO()
    code = main(
        ["deploy", "--config", str(changed), "--env", "dev", "--allow-replacement", *args],
        session=local_session(),
        hooks=(log.attach,),
        stdout=out,
        stderr=err,
    )
    assert code == 1, err.getvalue()
    assert log.mutating() == {}
    assert "BLOCKED:" in out.getvalue()
    assert "the permission model cannot change from SELF_MANAGED to SERVICE_MANAGED" in err.getvalue()
    assert "Traceback" not in err.getvalue()
