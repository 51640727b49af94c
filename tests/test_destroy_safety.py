"""``destroy`` decides what survives from the DEPLOYED template, and refuses when it cannot be sure.

Deleting the instances with ``RetainStacks=False`` deletes their stacks; only ``DeletionPolicy:
Retain`` in the template those stacks run keeps the table and the buckets. The configured template
says nothing about that: the deployed one (and only when every instance is CURRENT) does.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any

import pytest

from appstorage.config import load_config
from stacksets.desired import desired_stack_sets
from stacksets.destroy import destroy_refusals, retained_resources
from stacksets.local import local_session
from stacksets.model import DesiredStackSet, ObservedInstance, ObservedStackSet
from stacksets.session import ClientFactory
from tests.faults import Faults, run_cli
from tests.helpers import ACCOUNTS

DEV = {d.kind: d for d in desired_stack_sets(load_config(), "dev")}
PRIMARY = DEV["primary"]
ACCOUNT = PRIMARY.instances[0].account
#: The table's resource type in the built primary template (AWS::DynamoDB::GlobalTable).
TABLE_TYPE = PRIMARY.template["Resources"]["Table"]["Type"]


def _body(edit: Any = None, desired: DesiredStackSet = PRIMARY) -> str:
    template = copy.deepcopy(dict(desired.template))
    if edit is not None:
        edit(template["Resources"])
    return json.dumps(template)


def _observed(body: str | None = None, *instances: ObservedInstance) -> ObservedStackSet:
    return ObservedStackSet(
        name=PRIMARY.name,
        status="ACTIVE",
        template_body=body if body is not None else PRIMARY.template_body,
        parameters=dict(PRIMARY.parameters),
        instances=instances or (ObservedInstance(ACCOUNT, "us-east-1", "CURRENT", "SUCCEEDED"),),
    )


def _drop_policy(logical_id: str, policy: str | None = None) -> Any:
    def edit(resources: dict[str, Any]) -> None:
        resources[logical_id].pop("DeletionPolicy", None)
        if policy is not None:
            resources[logical_id]["DeletionPolicy"] = policy

    return edit


REFUSALS = [
    ("deployed template retains everything, all CURRENT", _observed(), []),
    (
        "deployed table without DeletionPolicy (configured one has Retain)",
        _observed(_body(_drop_policy("Table"))),
        [f"Table ({TABLE_TYPE}) has DeletionPolicy Delete (the default)"],
    ),
    (
        "deployed bucket with DeletionPolicy Delete",
        _observed(_body(_drop_policy("ImagesBucket", "Delete"))),
        ["ImagesBucket (AWS::S3::Bucket) has DeletionPolicy Delete, not Retain"],
    ),
    (
        "RetainExceptOnCreate also keeps it on stack deletion",
        _observed(_body(_drop_policy("Table", "RetainExceptOnCreate"))),
        [],
    ),
    (
        "OUTDATED instance may run an older template",
        _observed(None, ObservedInstance(ACCOUNT, "us-east-1", "OUTDATED", "FAILED")),
        [f"the instance in {ACCOUNT} us-east-1 is OUTDATED/FAILED"],
    ),
    (
        "INOPERABLE instance",
        _observed(None, ObservedInstance(ACCOUNT, "us-east-1", "INOPERABLE", "INOPERABLE")),
        [f"the instance in {ACCOUNT} us-east-1 is INOPERABLE/INOPERABLE"],
    ),
    (
        "only instances the configuration does not name: nothing to delete, nothing to refuse",
        _observed(
            _body(_drop_policy("Table")), ObservedInstance("999999999999", "us-east-1", "OUTDATED", "FAILED")
        ),
        [],
    ),
    ("unreadable deployed template", _observed("{not json: ["), ["the deployed template cannot be read"]),
]


@pytest.mark.parametrize(("observed", "words"), [pytest.param(*c[1:], id=c[0]) for c in REFUSALS])
def test_destroy_refusals_come_from_the_deployed_template_and_instance_status(
    observed: ObservedStackSet, words: list[str]
) -> None:
    problems = destroy_refusals(PRIMARY, observed)
    assert len(problems) == len(words), problems
    for problem, expected in zip(problems, words, strict=True):
        assert expected in problem


def test_retained_list_is_the_deployed_templates_not_the_configured_one() -> None:
    def older(resources: dict[str, Any]) -> None:
        del resources["ImagesBucket"]  # an older deployed template without the images bucket
        resources["Table"]["DeletionPolicy"] = "Retain"

    retained = retained_resources(PRIMARY, _observed(_body(older)), [(ACCOUNT, "us-east-1")])
    ids = {r.logical_id for r in retained}
    assert "Table" in ids and "FrontendBucket" in ids
    assert "ImagesBucket" not in ids  # configured with Retain, but not deployed: not claimed retained


def test_destroy_refuses_before_any_delete_when_the_deployed_table_is_not_retained(
    moto_endpoint: str, deployed: Path
) -> None:
    """The stack set runs a template whose table has no DeletionPolicy Retain (say deployed by an
    older version): destroy must not delete the stacks (the table would go with them) and must not
    claim it is retained."""
    factory = ClientFactory(local_session(), endpoint_url=moto_endpoint)
    cfn = factory.cloudformation("us-east-1")
    current = cfn.describe_stack_set(StackSetName=PRIMARY.name)["StackSet"]
    template = json.loads(current["TemplateBody"])
    del template["Resources"]["Table"]["DeletionPolicy"]
    cfn.update_stack_set(
        StackSetName=PRIMARY.name,
        TemplateBody=json.dumps(template),
        Parameters=current.get("Parameters", []),
        Capabilities=["CAPABILITY_IAM"],
    )
    faults = Faults()
    code, out, err = run_cli(
        moto_endpoint, "destroy", "--config", str(deployed), "--env", "dev", "--yes", faults=faults
    )
    assert code == 1, (out, err)
    assert faults.deletes() == []
    assert "refusing to destroy dev" in err
    assert f"Table ({TABLE_TYPE}) has DeletionPolicy Delete (the default)" in err
    assert "appstorage-deploy deploy --env dev" in err
    assert "retained by DeletionPolicy Retain" not in out
    for account in ACCOUNTS:
        ddb = factory.client("dynamodb", "us-east-1", account, "AWSCloudFormationStackSetExecutionRole")
        assert ddb.describe_table(TableName="tattoo-directory-dev")["Table"]["TableStatus"]
