"""Resource-level diff of two CloudFormation templates (parsed JSON), with data-loss detection.

Pure: no AWS call, no boto3. Which property changes force a replacement comes from the
resource provider schemas (:mod:`stacksets.schemas`: cfn-lint's, ``createOnlyProperties`` and,
conservatively, ``conditionalCreateOnlyProperties``), plus the documented DynamoDB rule that
changing the ``AttributeType`` of a key attribute of the table replaces it.

The DynamoDB table has two kinds (:data:`~stacksets.model.TABLE_TYPES`). For a global table,
``Replicas`` is compared by Region: removing a replica deletes the table and its data in that
Region (CloudFormation removes it with UpdateTable, "deleting the replica and all of its items";
``DeletionPolicy`` only covers deleting the whole resource), so it is data loss; adding one, or
changing a replica's settings, is an in-place update. ``{"Ref": "AWS::Region"}`` (the stack's own
Region) is a Region of its own, never equal to a literal. Changing the type between the two
kinds, under the same logical id or a new one, is data loss with a reason pointing at the
runbook (:data:`TABLE_MOVE_DOC`): AWS warns that CloudFormation does not convert a table by a
type change ("Doing so might result in the deletion of your DynamoDB table", AWS::DynamoDB::GlobalTable
in the CloudFormation template reference).

Values are compared structurally: an intrinsic function (``{"Ref": ...}``, ``{"Fn::Sub": ...}``)
is one value, so any change inside it is a change of the property that holds it.
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from typing import Any, Literal

from .model import NAME_PROPERTIES, STATEFUL_TYPES, TABLE_TYPES, ResourceChange, TemplateDiff
from .schemas import DEFAULT_SCHEMA_REGION, create_only_properties

__all__ = [
    "OWN_REGION",
    "TABLE_MOVE_DOC",
    "diff_templates",
    "format_path",
    "replica_region_key",
]

#: Resource attributes (besides Type and Properties) compared as one value each.
_RESOURCE_ATTRIBUTES = (
    "Condition",
    "CreationPolicy",
    "DeletionPolicy",
    "DependsOn",
    "Metadata",
    "UpdatePolicy",
    "UpdateReplacePolicy",
)

#: The property holding a resource's custom physical name: CloudFormation cannot replace a
#: custom-named resource while the name stays the same.
_NAME_PROPERTY = NAME_PROPERTIES
_KIND = {"AWS::DynamoDB::Table": "table", "AWS::DynamoDB::GlobalTable": "table", "AWS::S3::Bucket": "bucket"}

#: Where the runbook explains how to move a table between the two kinds without losing data.
TABLE_MOVE_DOC = (
    'docs/disaster-recovery.md, section "Moving an environment from AWS::DynamoDB::Table to the global table"'
)

#: The replica Region key of ``{"Ref": "AWS::Region"}``: the Region of the stack (instance).
OWN_REGION = "the stack's own Region (Ref AWS::Region)"

Segment = str | int
PathT = tuple[Segment, ...]


class _Missing:
    """Marks an absent value, so that absent and present compare unequal."""

    def __repr__(self) -> str:
        return "<missing>"


_MISSING = _Missing()


# --------------------------------------------------------------------------- paths and values


def _pointer_segments(pointer: str) -> tuple[str, ...] | None:
    """``/properties/A/*/B`` -> ``("Properties", "A", "*", "B")``; None for other pointers."""
    parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer.split("/")[1:]]
    if len(parts) < 2 or parts[0] != "properties":
        return None
    return ("Properties", *parts[1:])


def format_path(path: Sequence[Segment]) -> str:
    """``("Properties", "CorsRules", 0, "AllowedOrigins")`` -> ``Properties.CorsRules[0].AllowedOrigins``."""
    out = ""
    for segment in path:
        if isinstance(segment, int):
            out += f"[{segment}]"
        else:
            out += ("." if out else "") + segment
    return out


def _is_intrinsic(value: Any) -> bool:
    if not isinstance(value, dict) or len(value) != 1:
        return False
    (key,) = value
    return isinstance(key, str) and (key == "Ref" or key.startswith("Fn::"))


def _is_container(value: Any) -> bool:
    return isinstance(value, list) or (isinstance(value, dict) and not _is_intrinsic(value))


def _changed_paths(old: Any, new: Any, path: PathT) -> Iterator[PathT]:
    """The deepest paths where ``old`` and ``new`` differ.

    Mappings are compared key by key; lists of the same length holding mappings or lists are
    compared element by element; any other difference (scalars, lists of scalars, lists whose
    length changed, intrinsic functions) is reported at the path holding the value.
    """
    if old == new:
        return
    if isinstance(old, dict) and isinstance(new, dict) and not _is_intrinsic(old) and not _is_intrinsic(new):
        for key in sorted(set(old) | set(new)):
            if key not in old or key not in new:
                yield (*path, key)
            else:
                yield from _changed_paths(old[key], new[key], (*path, key))
        return
    if (
        isinstance(old, list)
        and isinstance(new, list)
        and len(old) == len(new)
        and any(_is_container(v) for v in (*old, *new))
    ):
        for i, (a, b) in enumerate(zip(old, new, strict=True)):
            yield from _changed_paths(a, b, (*path, i))
        return
    yield path


def _select(value: Any, pattern: Sequence[str], path: PathT = ()) -> Iterator[tuple[PathT, Any]]:
    """The values matching a pointer pattern (``*`` matches any list index), by concrete path.

    Absent values are yielded as ``_MISSING``; an intrinsic function met on the way is the value.
    """
    if not pattern:
        yield path, value
        return
    if _is_intrinsic(value):
        yield path, value
        return
    head, rest = pattern[0], pattern[1:]
    if head == "*":
        if isinstance(value, list):
            for i, item in enumerate(value):
                yield from _select(item, rest, (*path, i))
        elif isinstance(value, dict):
            for key in sorted(value):
                yield from _select(value[key], rest, (*path, key))
        return
    if isinstance(value, dict) and head in value:
        yield from _select(value[head], rest, (*path, head))
    else:
        yield (*path, head), _MISSING


def _overlaps(a: PathT, b: PathT) -> bool:
    n = min(len(a), len(b))
    return a[:n] == b[:n]


# --------------------------------------------------------------------------- replacement


def _key_attributes(props: Mapping[str, Any]) -> set[str]:
    keys = props.get("KeySchema")
    if not isinstance(keys, list):
        return set()
    return {
        k["AttributeName"] for k in keys if isinstance(k, dict) and isinstance(k.get("AttributeName"), str)
    }


def _attribute_types(props: Mapping[str, Any]) -> dict[str, Any]:
    defs = props.get("AttributeDefinitions")
    if not isinstance(defs, list):
        return {}
    return {
        d["AttributeName"]: d.get("AttributeType")
        for d in defs
        if isinstance(d, dict) and isinstance(d.get("AttributeName"), str)
    }


def _dynamodb_key_type_paths(
    old: Mapping[str, Any], new: Mapping[str, Any], changed: list[PathT]
) -> set[PathT]:
    """Changed ``AttributeDefinitions`` paths that change the type of a table key attribute."""
    old_props = old.get("Properties") or {}
    new_props = new.get("Properties") or {}
    if not isinstance(old_props, dict) or not isinstance(new_props, dict):
        return set()
    keys = _key_attributes(old_props) | _key_attributes(new_props)
    old_types, new_types = _attribute_types(old_props), _attribute_types(new_props)
    retyped = {k for k in keys if k in old_types and k in new_types and old_types[k] != new_types[k]}
    if not retyped:
        return set()
    old_defs = old_props.get("AttributeDefinitions")
    new_defs = new_props.get("AttributeDefinitions")
    out: set[PathT] = set()
    for path in changed:
        if path[:2] != ("Properties", "AttributeDefinitions"):
            continue
        if len(path) == 2 or not isinstance(path[2], int):
            out.add(path)  # the whole list changed
            continue
        names = set()
        for defs in (old_defs, new_defs):
            if isinstance(defs, list) and path[2] < len(defs) and isinstance(defs[path[2]], dict):
                names.add(defs[path[2]].get("AttributeName"))
        if names & retyped:
            out.add(path)
    return out


def _replacement_paths(
    resource_type: str, old: Mapping[str, Any], new: Mapping[str, Any], changed: list[PathT], region: str
) -> set[PathT]:
    out: set[PathT] = set()
    for pointer in create_only_properties(resource_type, region):
        pattern = _pointer_segments(pointer)
        if pattern is None:
            continue
        before = dict(_select(old, pattern))
        after = dict(_select(new, pattern))
        differing = [
            p
            for p in sorted(set(before) | set(after), key=repr)
            if before.get(p, _MISSING) != after.get(p, _MISSING)
        ]
        for concrete in differing:
            hits = [c for c in changed if _overlaps(c, concrete)]
            out.update(hits)
    if resource_type in TABLE_TYPES:
        out |= _dynamodb_key_type_paths(old, new, changed)
    return out


# --------------------------------------------------------------------------- global table replicas


def replica_region_key(region: Any) -> str:
    """A ``Replicas[].Region`` value as a comparable key: a literal Region is itself,
    ``{"Ref": "AWS::Region"}`` is :data:`OWN_REGION` (never equal to a literal: which Region the
    stack is in is not known here), any other expression its canonical JSON."""
    if isinstance(region, str):
        return region
    if region == {"Ref": "AWS::Region"}:
        return OWN_REGION
    return json.dumps(region, sort_keys=True)


def _replica_keys(resource: Mapping[str, Any]) -> list[str]:
    """The Region keys of a global table's ``Replicas``, in template order, without repeats."""
    props = resource.get("Properties") or {}
    replicas = props.get("Replicas") if isinstance(props, Mapping) else None
    if not isinstance(replicas, list):
        return []
    keys = [replica_region_key(r.get("Region")) for r in replicas if isinstance(r, Mapping)]
    return list(dict.fromkeys(keys))


def _removed_replica_reasons(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """Why the replicas in ``old`` but not in ``new`` (compared by Region) lose data."""
    kept = set(_replica_keys(new))
    reasons = []
    for key in _replica_keys(old):
        if key in kept:
            continue
        if key == OWN_REGION:
            reasons.append(
                'removing the replica in the stack\'s own Region ({"Ref": "AWS::Region"}) from Replicas '
                "deletes the table and its data in that Region, where CloudFormation accepts it at all (the "
                "stack's own Region must stay among the replicas); a literal Region naming the same Region "
                'is not taken for it: write it as {"Ref": "AWS::Region"} again'
            )
        else:
            reasons.append(
                f"removing the replica in {key} from Replicas deletes the table and its data in that Region "
                "(CloudFormation deletes the replica; DeletionPolicy Retain only applies to deleting the "
                "whole table)"
            )
    return reasons


# --------------------------------------------------------------------------- reasons


def _kind(resource_type: str) -> str:
    return _KIND.get(resource_type, f"{resource_type} resource")


def _fate(resource: Mapping[str, Any], policy_key: str, kind: str) -> str:
    policy = resource.get(policy_key, "Delete")
    if policy in ("Retain", "RetainExceptOnCreate"):
        return (
            f"retain the old {kind} outside the stack ({policy_key}: {policy}): orphaned, "
            "its data not copied to the new one"
        )
    if policy == "Snapshot":
        return f"delete the old {kind} after a snapshot ({policy_key}: Snapshot)"
    return f"delete the old {kind} and its data"


def _table_kind_change(old_type: str, new_type: str) -> bool:
    """A change between AWS::DynamoDB::Table and AWS::DynamoDB::GlobalTable."""
    return old_type != new_type and old_type in TABLE_TYPES and new_type in TABLE_TYPES


def _not_converted(old_type: str, new_type: str) -> str:
    return (
        f"type changed from {old_type} to {new_type}: CloudFormation would not convert the table in place "
        "(AWS warns that changing the type might delete the table)"
    )


def _move_hint() -> str:
    return f"to move an environment between the two without losing data, read {TABLE_MOVE_DOC}"


def _removal_reason(logical_id: str, resource: Mapping[str, Any]) -> str:
    kind = _kind(str(resource.get("Type", "")))
    fate = _fate(resource, "DeletionPolicy", kind)
    return f"{kind} {logical_id} removed from the template: CloudFormation would {fate}"


def _rename_reason(old_id: str, new_id: str, old: Mapping[str, Any], new: Mapping[str, Any]) -> str:
    resource_type = str(old.get("Type", ""))
    new_type = str(new.get("Type", ""))
    kind = _kind(resource_type)
    reason = f"logical id changed from {old_id} to {new_id}"
    if _table_kind_change(resource_type, new_type):
        reason += f" and {_not_converted(resource_type, new_type)}; it"
    else:
        reason += ": CloudFormation"
    reason += f" would create a new, empty resource and {_fate(old, 'DeletionPolicy', kind)}"
    name = _NAME_PROPERTY.get(resource_type)
    if name is not None:
        old_name = (old.get("Properties") or {}).get(name, _MISSING)
        if old_name is not _MISSING and old_name == (new.get("Properties") or {}).get(name, _MISSING):
            reason += f"; the new {kind} has the same {name}, so creating it fails while the old one exists"
    if _table_kind_change(resource_type, new_type):
        reason += f"; {_move_hint()}"
    return reason


def _replacement_reason(
    resource_type: str, paths: Sequence[str], old: Mapping[str, Any], new: Mapping[str, Any]
) -> str:
    kind = _kind(resource_type)
    reason = (
        f"changing {', '.join(paths)} replaces the {kind}: CloudFormation would create a new, empty "
        f"{kind} and {_fate(old, 'UpdateReplacePolicy', kind)}"
    )
    if resource_type == "AWS::DynamoDB::GlobalTable":
        reason += " (in every replica Region)"
    name = _NAME_PROPERTY.get(resource_type)
    if name is not None and f"Properties.{name}" not in paths:
        old_name = (old.get("Properties") or {}).get(name, _MISSING)
        if old_name is not _MISSING and old_name == (new.get("Properties") or {}).get(name, _MISSING):
            reason += (
                f"; with an unchanged custom {name} the update fails instead "
                "(CloudFormation cannot replace a custom-named resource)"
            )
    return reason


# --------------------------------------------------------------------------- diff


def _resources(template: Mapping[str, Any] | None) -> Mapping[str, Mapping[str, Any]]:
    if template is None:
        return {}
    resources = template.get("Resources") or {}
    return {k: v for k, v in resources.items() if isinstance(v, Mapping)}


def _modify(
    logical_id: str, old: Mapping[str, Any], new: Mapping[str, Any], region: str
) -> ResourceChange | None:
    old_type, new_type = str(old.get("Type", "")), str(new.get("Type", ""))
    if old_type != new_type:
        if _table_kind_change(old_type, new_type):
            reason = f"{_not_converted(old_type, new_type)}; {_move_hint()}"
        elif old_type in STATEFUL_TYPES:
            reason = (
                f"type changed from {old_type} to {new_type}: CloudFormation refuses a type change in place "
                '("Update of resource type is not permitted"); removing the old resource would '
                f"{_fate(old, 'DeletionPolicy', _kind(old_type))}"
            )
        else:
            reason = ""
        return ResourceChange(
            logical_id=logical_id,
            resource_type=new_type,
            action="modify",
            changed_paths=("Type",),
            replacement_paths=("Type",),
            data_loss=old_type in STATEFUL_TYPES,
            reason=reason,
        )
    changed: list[PathT] = []
    for attribute in _RESOURCE_ATTRIBUTES:
        if old.get(attribute, _MISSING) != new.get(attribute, _MISSING):
            changed.append((attribute,))
    changed.extend(_changed_paths(old.get("Properties") or {}, new.get("Properties") or {}, ("Properties",)))
    if not changed:
        return None
    changed.sort(key=format_path)
    replacing = _replacement_paths(new_type, old, new, changed, region)
    replacement = tuple(format_path(p) for p in changed if p in replacing)
    reasons = []
    if replacement and new_type in STATEFUL_TYPES:
        reasons.append(_replacement_reason(new_type, replacement, old, new))
    if new_type == "AWS::DynamoDB::GlobalTable":
        reasons.extend(_removed_replica_reasons(old, new))
    return ResourceChange(
        logical_id=logical_id,
        resource_type=new_type,
        action="modify",
        changed_paths=tuple(format_path(p) for p in changed),
        replacement_paths=replacement,
        data_loss=bool(reasons),
        reason="; ".join(reasons),
    )


def _similarity(a: Mapping[str, Any], b: Mapping[str, Any]) -> int:
    pa, pb = a.get("Properties") or {}, b.get("Properties") or {}
    return sum(1 for k in pa if k in pb and pa[k] == pb[k])


def _pair_renames(
    removed: list[str],
    added: list[str],
    old: Mapping[str, Mapping[str, Any]],
    new: Mapping[str, Mapping[str, Any]],
) -> dict[str, str]:
    """Probable renames: a stateful resource removed and one of the same type added (old -> new id).

    The two table kinds count as one type: a Table removed and a GlobalTable added elsewhere is
    the same data moved (or lost), not two unrelated changes."""
    pairs: dict[str, str] = {}
    families: list[frozenset[str]] = [TABLE_TYPES]
    families += [frozenset({t}) for t in sorted(STATEFUL_TYPES - TABLE_TYPES)]
    for family in families:
        gone = [r for r in removed if old[r].get("Type") in family]
        came = [a for a in added if new[a].get("Type") in family]
        candidates = sorted(
            ((-_similarity(old[r], new[a]), r, a) for r in gone for a in came),
        )
        used: set[str] = set()
        for _, r, a in candidates:
            if r not in pairs and a not in used:
                pairs[r] = a
                used.add(a)
    return pairs


def diff_templates(
    old: Mapping[str, Any] | None, new: Mapping[str, Any], *, region: str = DEFAULT_SCHEMA_REGION
) -> TemplateDiff:
    """Compare a deployed template with a new one (both parsed JSON).

    ``old`` None means nothing is deployed yet: every resource is an "add" and every other
    top-level section of ``new`` counts as changed. ``region`` picks cfn-lint's schema set.
    """
    old_resources, new_resources = _resources(old), _resources(new)
    removed = sorted(set(old_resources) - set(new_resources))
    added = sorted(set(new_resources) - set(old_resources))
    renames = _pair_renames(removed, added, old_resources, new_resources)

    changes: list[ResourceChange] = []
    for logical_id in removed:
        resource = old_resources[logical_id]
        resource_type = str(resource.get("Type", ""))
        stateful = resource_type in STATEFUL_TYPES
        if logical_id in renames:
            target = renames[logical_id]
            reason = _rename_reason(logical_id, target, resource, new_resources[target])
        else:
            reason = _removal_reason(logical_id, resource) if stateful else ""
        changes.append(ResourceChange(logical_id, resource_type, "remove", data_loss=stateful, reason=reason))
    for logical_id in added:
        changes.append(ResourceChange(logical_id, str(new_resources[logical_id].get("Type", "")), "add"))
    for logical_id in sorted(set(old_resources) & set(new_resources)):
        change = _modify(logical_id, old_resources[logical_id], new_resources[logical_id], region)
        if change is not None:
            changes.append(change)
    changes.sort(key=lambda c: (c.logical_id, _ACTION_ORDER[c.action]))

    old_sections: Mapping[str, Any] = old or {}
    other = tuple(
        key
        for key in sorted((set(old_sections) | set(new)) - {"Resources"})
        if old is None or old_sections.get(key, _MISSING) != new.get(key, _MISSING)
    )
    return TemplateDiff(resources=tuple(changes), other_sections=other)


_ACTION_ORDER: dict[Literal["add", "remove", "modify"], int] = {"remove": 0, "add": 1, "modify": 2}
