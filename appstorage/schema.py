"""The single table's key schema: attribute names, indexes and DynamoDB's key size limits.

One place for both sides of the table: :mod:`appstorage.table` declares these attributes and
indexes in the template, :mod:`appstorage.keys` writes and reads items with them. Imports
nothing, so application code that only needs the keys stays light.
"""

from __future__ import annotations

from typing import Final, NamedTuple

__all__ = [
    "GSI1",
    "GSI1PK",
    "GSI1SK",
    "GSI2",
    "GSI2PK",
    "GSI2SK",
    "INDEXES",
    "KEY_ATTRIBUTES",
    "PARTITION_KEY_MAX_BYTES",
    "PK",
    "SK",
    "SORT_KEY_MAX_BYTES",
    "Index",
]

#: The table's partition (HASH) and sort (RANGE) key attributes.
PK: Final = "PK"
SK: Final = "SK"
#: GSI1 (artists by location) and GSI2 (artists by style), keyed on their own attributes.
GSI1: Final = "GSI1"
GSI1PK: Final = "GSI1PK"
GSI1SK: Final = "GSI1SK"
GSI2: Final = "GSI2"
GSI2PK: Final = "GSI2PK"
GSI2SK: Final = "GSI2SK"

#: DynamoDB's limits on key attribute values, in bytes of UTF-8.
PARTITION_KEY_MAX_BYTES: Final = 2048
SORT_KEY_MAX_BYTES: Final = 1024


class Index(NamedTuple):
    """A global secondary index: its name and key attributes (every index projects ALL)."""

    name: str
    partition_key: str
    sort_key: str


#: The global secondary indexes, in template order.
INDEXES: Final = (Index(GSI1, GSI1PK, GSI1SK), Index(GSI2, GSI2PK, GSI2SK))
#: Every key attribute (all strings), in template order: the table's, then each index's.
KEY_ATTRIBUTES: Final = (PK, SK, *(attribute for index in INDEXES for attribute in index[1:]))
