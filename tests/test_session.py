"""The boto3 clients of the deployer (stacksets.session)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import boto3
from botocore.stub import Stubber

from stacksets.session import ClientFactory


def test_assumed_role_credentials_are_assumed_again_when_they_expire() -> None:
    start = datetime(2030, 1, 1, tzinfo=UTC)
    now = [start]
    session = boto3.Session(
        aws_access_key_id="testing", aws_secret_access_key="testing", region_name="us-east-1"
    )
    factory = ClientFactory(session, max_attempts=1, now=lambda: now[0])
    role = "arn:aws:iam::222222222222:role/Exec"
    with Stubber(factory.client("sts", "us-east-1")) as sts:
        sts.add_response("get_caller_identity", {"Account": "111111111111"}, {})
        for n in (1, 2):
            sts.add_response(
                "assume_role",
                {
                    "Credentials": {
                        "AccessKeyId": f"ASIAEXAMPLEKEY000{n}",
                        "SecretAccessKey": f"secret-{n}",
                        "SessionToken": f"token-{n}",
                        "Expiration": start + timedelta(hours=n),
                    }
                },
                {"RoleArn": role, "RoleSessionName": "appstorage-deploy"},
            )
        cfn = factory.cloudformation("us-east-1", "222222222222", "Exec")
        credentials = cfn._request_signer._credentials  # type: ignore[attr-defined]
        assert credentials.get_frozen_credentials().token == "token-1"
        now[0] = start + timedelta(minutes=30)  # still valid: no new AssumeRole
        assert credentials.get_frozen_credentials().token == "token-1"
        now[0] = start + timedelta(minutes=58)  # about to expire: assumed again
        assert credentials.get_frozen_credentials().token == "token-2"
        assert factory.cloudformation("us-east-1", "222222222222", "Exec") is cfn  # same cached client
        sts.assert_no_pending_responses()
