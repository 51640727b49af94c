"""GetBucketReplication answering what was put (a moto deviation corrected).

moto stores a bucket's replication configuration as put (the request's XML) but answers every
rule with ``DeleteMarkerReplication`` Disabled and ``Filter`` ``{"Prefix": ""}`` whatever was put,
and leaves ``SourceSelectionCriteria`` and ``ExistingObjectReplication`` out.
:func:`get_bucket_replication` replaces that one method, ``S3Response.get_bucket_replication``
(:func:`~stacksets.emulator.register_models` installs it), with one that answers the stored rules,
as AWS does: every element that was put, the filter as given (an empty prefix as the empty
string). It serves buckets configured through the S3 API as well as the emulator's bucket model.

Not emulated: replication itself (no object is copied; the role and the KMS keys are not checked).
"""

from __future__ import annotations

from typing import Any

from moto.core.common_types import TYPE_RESPONSE
from moto.core.responses import ActionResult
from moto.s3.exceptions import ReplicationConfigurationNotFoundError
from moto.s3.responses import S3Response

__all__ = ["get_bucket_replication"]


def _replication_rule_answer(rule: dict[str, Any]) -> dict[str, Any]:
    """A stored replication rule (as moto's PutBucketReplication handler stores the request's XML)
    in GetBucketReplication's shape: every element that was put, the filter as given (an empty
    prefix is the empty string, an ``And``'s ``Tag`` elements its ``Tags`` list)."""
    answer = {key: value for key, value in rule.items() if key not in ("Prefix", "Filter")}
    if "Prefix" in rule:
        answer["Prefix"] = rule["Prefix"] or ""
    if "Filter" in rule:
        stored = rule["Filter"] or {}
        given: dict[str, Any] = {"Prefix": stored["Prefix"] or ""} if "Prefix" in stored else {}
        if "Tag" in stored:
            given["Tag"] = stored["Tag"]
        if "And" in stored:
            conjunction = stored["And"] or {}
            given["And"] = {"Prefix": conjunction["Prefix"] or ""} if "Prefix" in conjunction else {}
            if "Tag" in conjunction:
                tags = conjunction["Tag"]
                given["And"]["Tags"] = tags if isinstance(tags, list) else [tags]
        answer["Filter"] = given
    return answer


def get_bucket_replication(self: S3Response) -> TYPE_RESPONSE:
    """moto's ``S3Response.get_bucket_replication`` answering what was stored (see the module)."""
    self.data["Action"] = "GetBucketReplication"
    replication = self.backend.get_bucket_replication(self.bucket_name)
    if not replication:
        raise ReplicationConfigurationNotFoundError(bucket_name=self.bucket_name)
    rules = [_replication_rule_answer(rule) for rule in replication["Rule"]]
    configuration = {"Role": replication["Role"], "Rules": rules}
    return self.serialized(ActionResult({"ReplicationConfiguration": configuration}))
