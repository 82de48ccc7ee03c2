"""What a rollout leaves behind for people and for the next operator process (pure):
`status.rollout` and the RolloutFailed condition on the ExternalSecret, and the companion
Secret that keeps the previous data for a rollback."""

from __future__ import annotations

import base64
import dataclasses
import enum
from collections.abc import Mapping, Sequence
from typing import Any

from secretsync.rollout.workload import Workload

CONDITION = "RolloutFailed"
COMPANION_LABEL = "secretsync.io/previous-data-of"
COMPANION_HASH = "secretsync.io/data-hash"


class Phase(enum.StrEnum):
    PROGRESSING = "Progressing"
    SUCCEEDED = "Succeeded"
    FAILED = "Failed"  # onFailure Hold: the new data stays, nothing more is rolled
    ROLLING_BACK = "RollingBack"
    ROLLED_BACK = "RolledBack"
    ROLLBACK_FAILED = "RollbackFailed"

    @property
    def in_flight(self) -> bool:
        return self in (Phase.PROGRESSING, Phase.ROLLING_BACK)


@dataclasses.dataclass(frozen=True)
class Record:
    """status.rollout. Hashes only, never data: the same sha3-224 that ESO's data-hash
    annotation already shows on the Secret."""

    token: str
    phase: Phase
    started_at: str
    workloads: tuple[Workload, ...]
    data_hash: str
    """The data this rollout rolls out (for a rollback, the restored data)."""

    held_hash: str | None = None
    message: str = ""
    finished_at: str = ""
    """When the rollout (or its rollback) ended; an overlap rotation's grace counts from it."""

    def to_status(self) -> dict[str, Any]:
        ended = {"finishedAt": self.finished_at} if self.finished_at else {}
        return {
            **ended,
            "token": self.token,
            "phase": self.phase.value,
            "startedAt": self.started_at,
            "workloads": [str(w) for w in self.workloads],
            "dataHash": self.data_hash,
            "heldHash": self.held_hash,
            "message": self.message,
        }


def parse_record(namespace: str, status: Mapping[str, Any]) -> Record | None:
    raw = status.get("rollout")
    if not isinstance(raw, Mapping) or not raw.get("token"):
        return None
    try:
        phase = Phase(str(raw.get("phase")))
    except ValueError:
        return None
    workloads = (Workload.parse(namespace, str(w)) for w in raw.get("workloads") or [])
    return Record(
        token=str(raw["token"]),
        phase=phase,
        started_at=str(raw.get("startedAt") or ""),
        workloads=tuple(w for w in workloads if w is not None),
        data_hash=str(raw.get("dataHash") or ""),
        held_hash=raw.get("heldHash") or None,
        message=str(raw.get("message") or ""),
        finished_at=str(raw.get("finishedAt") or ""),
    )


def conditions(
    current: Sequence[Mapping[str, Any]], failed: bool, reason: str, message: str, now: str
) -> list[dict[str, Any]]:
    """All conditions with RolloutFailed set: a merge patch replaces the whole list, so the
    others (Ready) are carried over as they are."""
    status = "True" if failed else "False"
    old = next((c for c in current if c.get("type") == CONDITION), None)
    since = old.get("lastTransitionTime") if old and old.get("status") == status else None
    mine = {
        "type": CONDITION,
        "status": status,
        "reason": reason,
        "message": message,
        "lastTransitionTime": since or now,
    }
    return [*(dict(c) for c in current if c.get("type") != CONDITION), mine]


def companion_name(es_name: str) -> str:
    return f"{es_name}-secretsync-previous"


def companion(
    es_raw: Mapping[str, Any], data: Mapping[str, bytes], data_hash: str
) -> dict[str, Any]:
    """The companion Secret holding the last good data, owned by the ExternalSecret so that it
    goes when the ExternalSecret goes."""
    meta = es_raw.get("metadata") or {}
    owner = {
        "apiVersion": es_raw.get("apiVersion"),
        "kind": "ExternalSecret",
        "name": meta.get("name"),
        "uid": meta.get("uid"),
    }
    return {
        "apiVersion": "v1",
        "kind": "Secret",
        "type": "Opaque",
        "metadata": {
            "name": companion_name(str(meta.get("name"))),
            "namespace": meta.get("namespace"),
            "labels": {COMPANION_LABEL: str(meta.get("name"))},
            "annotations": {COMPANION_HASH: data_hash},
            "ownerReferences": [owner] if owner["uid"] else [],
        },
        "data": {k: base64.b64encode(v).decode() for k, v in data.items()},
    }


def decode(secret: Mapping[str, Any]) -> dict[str, bytes]:
    return {k: base64.b64decode(v) for k, v in (secret.get("data") or {}).items()}
