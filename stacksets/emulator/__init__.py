"""What the embedded emulator (moto) adds to moto's CloudFormation: models for
``AWS::DynamoDB::GlobalTable`` and ``AWS::CloudWatch::Alarm``, models for ``AWS::S3::Bucket`` and
``AWS::SSM::Parameter`` in place of moto's, and GetBucketReplication answering what was put.

moto 5 has no model for the first two and skips such resources with a warning; its bucket model
drops most of a bucket's properties, its SSM parameter model fails on a template's tags, and its
GetBucketReplication answers made-up rule elements.
:func:`register_models` (called by ``stacksets.local.run_local_server`` and the tests' moto
server) makes moto's parser use the models below and corrects GetBucketReplication.

One module per concern, each saying what it emulates, what it does not and which moto deviations
it corrects:

* :mod:`.lifecycle`: what every model does the same way (:class:`~.lifecycle.EmulatedModel`):
  a refused creation rolls the stack back and stops the rest of that creation, a new name is a
  replacement (an unnamed resource keeps its generated name), ``DeletionPolicy`` and
  ``UpdateReplacePolicy`` Retain keep the resource, a refused update fails the UpdateStack call;
* :mod:`.global_table`: :class:`GlobalTable` (and :class:`ReplicaTable`, one region's table),
  the same table in every replica region through moto's DynamoDB backend;
* :mod:`.alarm`: :class:`MetricAlarm`, a metric or metric-math alarm through moto's CloudWatch
  backend;
* :mod:`.bucket`: :class:`Bucket`, moto's bucket with every property the templates use applied
  through moto's S3 backend;
* :mod:`.parameter`: :class:`SsmParameter`, a parameter through moto's SSM backend (the stacks'
  outputs handed over);
* :mod:`.s3_replication`: GetBucketReplication answering the stored rules;
* :mod:`.marker`: ``GET /moto-api/appstorage``, which tells a server with these models from a
  plain moto server.
"""

from __future__ import annotations

from moto.cloudformation import parsing
from moto.moto_api._internal import urls as moto_api_urls
from moto.s3.responses import S3Response

from .alarm import MetricAlarm
from .bucket import Bucket
from .global_table import GLOBAL_TABLE_VERSION, GlobalTable, ReplicaTable
from .marker import MARKER_ROUTE, describe_emulator
from .parameter import SsmParameter
from .s3_replication import get_bucket_replication

__all__ = [
    "GLOBAL_TABLE_VERSION",
    "Bucket",
    "GlobalTable",
    "MetricAlarm",
    "ReplicaTable",
    "SsmParameter",
    "register_models",
]


def register_models() -> None:
    """Make moto's CloudFormation parser use :class:`GlobalTable`, :class:`MetricAlarm`,
    :class:`Bucket` and :class:`SsmParameter`, and moto's S3 answer GetBucketReplication as
    stored; a moto server of this process answers ``GET /moto-api/appstorage`` (:mod:`.marker`). Idempotent.

    Defining the classes registered them: moto's parser maps each type to the last class of
    ``CloudFormationModel.__subclasses__()`` (creation order) that declares it, so :class:`Bucket`,
    defined after moto's ``FakeBucket`` (which :mod:`.bucket` imports first), is the one for
    ``AWS::S3::Bucket`` (and :class:`SsmParameter`, after moto's ``Parameter``, for
    ``AWS::SSM::Parameter``). The parser caches its maps, so the caches are cleared in case moto
    built them already (and again after the check, so that moto builds them when it first parses a
    template, as it would); a map that does not resolve to these models (another moto) is an error
    rather than a silent fallback.
    """
    caches = (parsing.get_model_list, parsing.get_model_map, parsing.get_name_type_map)
    for cached in caches:
        cached.cache_clear()
    S3Response.get_bucket_replication = get_bucket_replication  # type: ignore[method-assign]
    # Read when moto builds its /moto-api app, on that path's first request.
    moto_api_urls.url_paths[MARKER_ROUTE] = describe_emulator
    models = parsing.get_model_map()
    for cached in caches:
        cached.cache_clear()
    for model in (GlobalTable, MetricAlarm, Bucket, SsmParameter):
        if models.get(model.cloudformation_type()) is not model:
            raise RuntimeError(
                f"moto maps {model.cloudformation_type()} to {models.get(model.cloudformation_type())}, "
                f"not to the emulator's {model.__name__}"
            )
