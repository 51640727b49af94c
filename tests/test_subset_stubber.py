"""The UpdateStackSet of a subset as AWS receives it, through botocore's Stubber (each request
validated against the service model). moto accepts Accounts/Regions but ignores what they mean
(tests/test_subset_e2e.py), and has no DeploymentTargets on UpdateStackSet at all."""

from __future__ import annotations

from typing import Any

import boto3
import pytest
from botocore.stub import ANY, Stubber

from stacksets.model import Scope
from stacksets.operations import OperationRunner
from stacksets.plan import plan_stack_set
from stacksets.rollout import apply_phase
from stacksets.staged import narrow
from stacksets.staging import TemplateStager
from tests.faults import FakeClock
from tests.helpers import ACCOUNTS, offline_factory
from tests.test_subset_plan import changed_template, environment, observed

A, B, C = ACCOUNTS


@pytest.mark.parametrize(
    ("deployment", "targets"),
    [
        ({}, {"Accounts": [A], "Regions": ["us-east-1"]}),
        (
            {"permission_model": "SERVICE_MANAGED", "organizational_units": ["ou-ab12-cd34ef56"]},
            {
                "DeploymentTargets": {
                    "OrganizationalUnitIds": ["ou-ab12-cd34ef56"],
                    "Accounts": [A],
                    "AccountFilterType": "INTERSECTION",
                },
                "Regions": ["us-east-1"],
            },
        ),
    ],
)
def test_update_stack_set_of_a_subset_names_its_instances(
    tmp_path: Any, deployment: dict[str, Any], targets: dict[str, Any]
) -> None:
    _, desired = environment(tmp_path, **deployment)
    primary = desired[1]
    deployed = observed(primary, template=changed_template(primary))
    plan = narrow(plan_stack_set(primary, deployed), Scope(accounts=(A,)))
    cfn = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    ).client("cloudformation")
    runner = OperationRunner(cfn, runtime=FakeClock().runtime())
    with Stubber(cfn) as stub:
        stub.add_response(
            "update_stack_set",
            {"OperationId": "op-0"},
            {
                "StackSetName": primary.name,
                "Description": ANY,
                "TemplateBody": primary.template_body,
                "Parameters": ANY,
                "Capabilities": ANY,
                "Tags": ANY,
                "PermissionModel": primary.permission_model,
                "ManagedExecution": {"Active": True},
                "CallAs": "SELF",
                "OperationPreferences": ANY,
                "OperationId": "op-0",
                **({"ExecutionRoleName": ANY} if not deployment else {}),
                **({"AutoDeployment": ANY} if deployment else {}),
                **targets,
            },
        )
        stub.add_response(
            "describe_stack_set_operation",
            {"StackSetOperation": {"OperationId": "op-0", "Status": "SUCCEEDED"}},
            {"StackSetName": primary.name, "OperationId": "op-0", "CallAs": "SELF"},
        )
        (result,) = apply_phase(plan, runner, TemplateStager(offline_factory()))
        stub.assert_no_pending_responses()
    assert result.id == "op-0" and result.status == "SUCCEEDED"
