"""The restart itself: a pod template annotation that changes once per change (pure).

Like `kubectl rollout restart`, but besides the time it carries a change token that is unique per
change, so two changes within one second still produce two different templates (VSO #1228),
and so every pod of the new revision names the change that made it.
"""

from __future__ import annotations

import datetime
import secrets
from collections.abc import Mapping, Sequence
from typing import Any

RESTARTED_AT = "secretsync.io/restartedAt"
CHANGE_TOKEN = "secretsync.io/change-token"  # noqa: S105 (an annotation key)


def new_token(data_hash: str) -> str:
    """The data hash's head (which change) plus a random tail (which attempt): rolling the same
    data again, as a rollback does, still gets its own token."""
    return f"{data_hash[:10]}-{secrets.token_hex(4)}"


def tokens(annotations: Mapping[str, str]) -> frozenset[str]:
    return frozenset(t for t in (annotations.get(CHANGE_TOKEN) or "").split(",") if t)


def carries_token(obj: Mapping[str, Any], token: str) -> bool:
    """A pod (or, given its template, a workload) made for this change."""
    meta = obj.get("metadata") or {}
    return token in tokens(meta.get("annotations") or {})


def template_carries(workload: Mapping[str, Any], token: str) -> bool:
    template = (workload.get("spec") or {}).get("template") or {}
    return carries_token(template, token)


def restart_patch(change_tokens: Sequence[str], now: datetime.datetime) -> dict[str, Any]:
    """A merge patch for Deployment, StatefulSet and DaemonSet. Several tokens when changes of
    several Secrets were coalesced into one restart of the workload."""
    annotations = {
        RESTARTED_AT: now.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        CHANGE_TOKEN: ",".join(sorted(set(change_tokens))),
    }
    return {"spec": {"template": {"metadata": {"annotations": annotations}}}}
