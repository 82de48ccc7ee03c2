"""dataFrom[].rewrite[].merge: several JSON values merged into one (ESO 2.x `RewriteMerge`).

ESO's order and rules (runtime/esutils RewriteMerge):
- The keys that are not in `priority` are merged first, sorted, then the `priority` keys in the
  order listed; a later key's fields overwrite an earlier one's.
- A priority key that is absent fails the merge (`priorityPolicy: Strict`, the default) or is
  skipped (`IgnoreNotFound`).
- Every value must be a JSON object (or `null`, which adds nothing). Numbers are float64.
- A field defined by more than one value is a conflict: an error unless `conflictPolicy: Ignore`.
- `strategy: Extract` (default): the result holds one key per merged field (strings as they
  are, numbers in Go's shortest 'f' text, objects and lists as Go JSON); the input keys are gone.
- `strategy: JSON`: the input keys stay and `into` (required) holds the merged object as JSON,
  written without HTML escaping.

Messages name keys and fields, never values: the values are secrets.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Any

from secretsync.api.sources import (
    MergeConflictPolicy,
    MergePriorityPolicy,
    MergeStrategy,
    RewriteMerge,
)
from secretsync.errors import ConfigError
from secretsync.template.gojson import JSONError, marshal, unmarshal
from secretsync.template.values import format_float, from_bytes, to_bytes


def merge_order(merge: RewriteMerge, data: Mapping[str, bytes]) -> list[str]:
    """Non-priority keys sorted (Go's sort.Strings: byte order), then the priority keys."""
    rest = sorted((k for k in data if k not in merge.priority), key=lambda k: k.encode())
    return [*rest, *merge.priority]


def rewrite_merge(merge: RewriteMerge, data: Mapping[str, bytes], where: str) -> dict[str, bytes]:
    merged, conflicts = _merged(merge, data, where)
    if merge.conflict_policy is not MergeConflictPolicy.IGNORE and conflicts:
        raise ConfigError(
            f"merge failed with conflicts: {', '.join(conflicts)} (set conflictPolicy: Ignore "
            "to let the later value win, or priority to order them)",
            field=where,
        )
    if merge.strategy is MergeStrategy.JSON:
        if not merge.into:
            raise ConfigError("merge failed with missing 'into' field", field=f"{where}.into")
        return {**data, merge.into: to_bytes(_json(merged, where))}
    return {key: _byte_value(value, where) for key, value in merged.items()}


def _merged(
    merge: RewriteMerge, data: Mapping[str, bytes], where: str
) -> tuple[dict[str, Any], list[str]]:
    merged: dict[str, Any] = {}
    conflicts: list[str] = []
    for key in merge_order(merge, data):
        if key not in data:
            if merge.priority_policy is MergePriorityPolicy.IGNORE_NOT_FOUND:
                continue
            raise ConfigError(
                f"merge failed with key {key!r} not found in input map (listed in priority; "
                "set priorityPolicy: IgnoreNotFound to skip absent keys)",
                field=f"{where}.priority",
            )
        fields = _object(data[key], key, where)
        for name, value in fields.items():
            if name in merged:
                conflicts.append(name)
            merged[name] = value
    return merged, conflicts


def _object(value: bytes, key: str, where: str) -> dict[str, Any]:
    try:
        parsed = unmarshal(from_bytes(value))
    except ValueError:
        parsed = ...  # not JSON at all
    if parsed is None:
        return {}  # Go: unmarshalling null into a map leaves it empty, without an error
    if not isinstance(parsed, dict) or _has_infinity(parsed):
        raise ConfigError(
            f"merge failed: the value of key {key!r} is not a JSON object", field=where
        )
    return parsed


def _has_infinity(value: Any) -> bool:
    # Go refuses a number beyond float64 ("cannot unmarshal number 1e999"); Python reads inf.
    if isinstance(value, float):
        return math.isinf(value)
    if isinstance(value, dict):
        return any(_has_infinity(v) for v in value.values())
    if isinstance(value, list):
        return any(_has_infinity(v) for v in value)
    return False


def _byte_value(value: Any, where: str) -> bytes:
    """ESO's GetByteValue for what json.Unmarshal produced."""
    if value is None:
        return b""
    if isinstance(value, str):
        return to_bytes(value)
    if isinstance(value, bool):
        return b"true" if value else b"false"
    if isinstance(value, float):
        return format_float(value, "f").encode()
    return to_bytes(_json(value, where, escape_html=True))


def _json(value: Any, where: str, *, escape_html: bool = False) -> str:
    try:
        return marshal(value, escape_html=escape_html)
    except JSONError as exc:  # unreachable for parsed JSON; kept for a clear message
        raise ConfigError(f"merge failed to marshal the merged map: {exc}", field=where) from None
