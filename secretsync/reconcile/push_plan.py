"""PushSecret decisions, pure: what each entry pushes, whether a remote value may be written,
what a change of spec leaves behind to delete, and the status that says so (ESO's semantics).

The shell (reconcile/push.py) reads the source Secret and the remote state and performs the
writes; nothing here does I/O, and no value ever reaches a message.
"""

from __future__ import annotations

import dataclasses
import datetime
import enum
import json
import re
from collections.abc import Mapping, Sequence
from typing import Any

from secretsync.api.push import (
    PushConversionStrategy,
    PushDeletionPolicy,
    PushSecretData,
    PushSecretSpec,
    UpdatePolicy,
)
from secretsync.errors import ConfigError, SecretSyncError
from secretsync.providers.base import PushRef, RemoteState
from secretsync.reconcile import status


class Reason(enum.StrEnum):
    """ESO's PushSecret condition reasons (Ready), plus Unsupported as for every kind."""

    SYNCED = "Synced"
    ERRORED = "Errored"
    SOURCE_DELETED = "SourceDeleted"
    """The source Secret is gone and, under deletionPolicy Delete, so is what was pushed."""


class Action(enum.Enum):
    WRITE = "write"
    KEEP = "keep"
    """IfNotExists and the remote value exists: left as it is, and still counted as synced."""
    REFUSE = "refuse"
    """The remote secret exists without the managed-by marker."""


@dataclasses.dataclass(frozen=True)
class Entry:
    ref: PushRef
    value: bytes = dataclasses.field(repr=False)
    source: PushSecretData

    @property
    def status_key(self) -> str:
        """ESO's statusRef: remoteKey, or remoteKey/property."""
        return self.ref.describe()


_ESCAPE = re.compile(r"_U([0-9a-fA-F]{4})_")


def _reverse_unicode(key: str) -> str:
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), key)


def _converted(data: Mapping[str, bytes], strategy: PushConversionStrategy) -> dict[str, bytes]:
    if strategy is PushConversionStrategy.NONE:
        return dict(data)
    return {_reverse_unicode(key): value for key, value in data.items()}


def whole_secret(data: Mapping[str, bytes]) -> bytes:
    """No secretKey: the whole Secret as one JSON object of strings, as ESO marshals it."""
    text = {key: value.decode("utf-8", "replace") for key, value in data.items()}
    return json.dumps(text, sort_keys=True, separators=(",", ":")).encode()


def entries(spec: PushSecretSpec, data: Mapping[str, bytes]) -> list[Entry]:
    """One Entry per spec.data item; a key missing from the source is the user's to fix."""
    found: list[Entry] = []
    for i, item in enumerate(spec.data):
        source = _converted(data, item.conversion_strategy)
        key = item.match.secret_key
        if key and key not in source:
            raise ConfigError(
                f"the source has no key {key!r}", field=f"spec.data[{i}].match.secretKey"
            )
        value = source[key] if key else whole_secret(source)
        remote = item.match.remote_ref
        ref = PushRef(remote.remote_key, remote.property or None, item.metadata)
        found.append(Entry(ref, value, item))
    return found


def decide(remote: RemoteState, policy: UpdatePolicy) -> Action:
    if policy is UpdatePolicy.IF_NOT_EXISTS and remote.has_value:
        return Action.KEEP  # ESO checks existence first: even a foreign value is just kept
    if remote.found and not remote.managed:
        return Action.REFUSE
    return Action.WRITE


Synced = dict[str, dict[str, dict[str, Any]]]
"""status.syncedPushSecrets: "Kind/name" of a store -> statusRef -> the spec.data entry."""


def store_key(kind: str, name: str) -> str:
    return f"{kind}/{name}"


def synced_entry(entry: Entry) -> dict[str, Any]:
    """The spec.data item as ESO records it (no value: the spec holds none)."""
    item = entry.source
    match: dict[str, Any] = {"remoteRef": {"remoteKey": entry.ref.remote_key}}
    if entry.ref.property:
        match["remoteRef"]["property"] = entry.ref.property
    if item.match.secret_key:
        match["secretKey"] = item.match.secret_key
    out: dict[str, Any] = {"match": match, "conversionStrategy": item.conversion_strategy.value}
    if item.metadata is not None:
        out["metadata"] = item.metadata
    return out


def previous_synced(raw_status: Mapping[str, Any] | None) -> Synced:
    found = (raw_status or {}).get("syncedPushSecrets") or {}
    if not isinstance(found, Mapping):
        return {}
    return {
        str(store): {str(k): dict(v) for k, v in refs.items() if isinstance(v, Mapping)}
        for store, refs in found.items()
        if isinstance(refs, Mapping)
    }


def ref_of(recorded: Mapping[str, Any]) -> PushRef:
    remote = (recorded.get("match") or {}).get("remoteRef") or {}
    return PushRef(
        str(remote.get("remoteKey") or ""), remote.get("property") or None, recorded.get("metadata")
    )


def obsolete(previous: Synced, current: Synced) -> list[tuple[str, PushRef]]:
    """What was pushed before and is no longer pushed: deleted under deletionPolicy Delete."""
    gone: list[tuple[str, PushRef]] = []
    for store, refs in sorted(previous.items()):
        for name, recorded in sorted(refs.items()):
            if name not in current.get(store, {}):
                gone.append((store, ref_of(recorded)))
    return gone


def everything(previous: Synced) -> list[tuple[str, PushRef]]:
    """On deletion of the PushSecret (deletionPolicy Delete): every recorded ref."""
    return obsolete(previous, {})


def deletes(spec: PushSecretSpec) -> bool:
    return spec.deletion_policy is PushDeletionPolicy.DELETE


def deletes_raw(raw_spec: Mapping[str, Any] | None) -> bool:
    """deletionPolicy Delete, read from the raw spec (on deletion, a spec that no longer
    parses must not keep the PushSecret forever)."""
    return (raw_spec or {}).get("deletionPolicy") == PushDeletionPolicy.DELETE.value


def by_store(refs: Sequence[tuple[str, PushRef]]) -> dict[str, list[PushRef]]:
    grouped: dict[str, list[PushRef]] = {}
    for store, ref in refs:
        grouped.setdefault(store, []).append(ref)
    return grouped


Left = list[tuple[str, PushRef, SecretSyncError]]
"""What could not be deleted: store ("Kind/name"), ref, and why."""


def left_behind_message(left: Left) -> str:
    """The Warning of a PushSecret let go with values still in the stores: each store and ref,
    and the first reason (the names of remote keys only, never a value)."""
    places = "; ".join(
        f"{store}: {', '.join(ref.describe() for ref in refs)}"
        for store, refs in by_store([(store, ref) for store, ref, _ in left]).items()
    )
    return (
        f"deletionPolicy Delete: could not delete what was pushed ({left[0][2]}); left in the "
        f"stores: {places}. Delete them there by hand if they must go"
    )


def outcome_message(spec: PushSecretSpec) -> str:
    message = "PushSecret synced successfully"
    if spec.update_policy is UpdatePolicy.IF_NOT_EXISTS:
        message += ". Existing secrets in providers unchanged."
    return message


def new_status(
    raw_status: Mapping[str, Any] | None,
    *,
    ready: bool,
    reason: str,
    message: str,
    synced: Synced | None,
    now: datetime.datetime,
    resource_version: str | None = None,
) -> dict[str, Any]:
    """The status to patch: the Ready condition, and syncedPushSecrets when it is known.
    refreshTime and syncedResourceVersion move only on success (ESO's markAsDone)."""
    conditions: Sequence[Mapping[str, Any]] = [
        c for c in (raw_status or {}).get("conditions") or [] if isinstance(c, Mapping)
    ]
    outcome = status.Outcome(ready, status.Reason.SYNCED, message, synced=ready)
    condition = status.ready_condition(outcome, conditions, now)
    condition["reason"] = reason
    others = [dict(c) for c in conditions if c.get("type") != "Ready"]
    out: dict[str, Any] = {"conditions": [*others, condition]}
    if synced is not None:
        # A merge patch cannot drop map keys by omission: what is gone is set to null.
        before = previous_synced(raw_status)
        patch: dict[str, Any] = {store: dict(refs) for store, refs in synced.items()}
        for store, refs in before.items():
            if store not in synced:
                patch[store] = None
                continue
            for name in refs:
                if name not in synced[store]:
                    patch[store][name] = None
        out["syncedPushSecrets"] = patch
    if ready and resource_version is not None:
        out["refreshTime"] = status.timestamp(now)
        out["syncedResourceVersion"] = resource_version
    return out


def due(
    spec: PushSecretSpec,
    raw_status: Mapping[str, Any] | None,
    resource_version: str | None,
    now: datetime.datetime,
) -> float | None:
    """Seconds until the next push is due (0: now); None when none ever is (interval 0 and
    this generation pushed). A spec change (resourceVersion) is due at once, as in ESO."""
    current = raw_status or {}
    if current.get("syncedResourceVersion") != resource_version:
        return 0.0
    interval = spec.refresh_interval.total_seconds()
    if interval <= 0:
        return None
    last = status.parse_timestamp(current.get("refreshTime"))
    if last is None:
        return 0.0
    return max(0.0, (last - now).total_seconds() + interval)
