"""PushSecret and ClusterPushSecret: whose they are (their stores' controller class), and what
`secretsync render`, which pushes nothing, says about them (pure decisions)."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from secretsync.api.objects import CLUSTER_SECRET_STORE, SECRET_STORE
from secretsync.api.unserved import V1ALPHA1
from secretsync.errors import Unsupported
from secretsync.reconcile import classes, status

PLURALS = {"PushSecret": "pushsecrets", "ClusterPushSecret": "clusterpushsecrets"}
VERSION = V1ALPHA1


RENDER_INSTEAD = (
    "secretsync render pushes nothing; apply it to a cluster, where the operator pushes it"
)


def unsupported(kind: str) -> Unsupported:
    """For `secretsync render`, which resolves ExternalSecrets offline and writes nowhere."""
    return Unsupported(field="kind", instead=RENDER_INSTEAD, value=kind)


def store_refs(raw: Mapping[str, Any]) -> list[classes.StoreKey] | None:
    """The stores a (Cluster)PushSecret names; None when it selects stores by label, or names a
    SecretStore from a ClusterPushSecret (its namespace is each selected one): then whose it is
    cannot be told, and it is left alone."""
    spec = raw.get("spec") or {}
    cluster = raw.get("kind") == "ClusterPushSecret"
    if cluster:
        spec = spec.get("pushSecretSpec") or {}
    namespace = (raw.get("metadata") or {}).get("namespace")
    found: list[classes.StoreKey] = []
    for ref in spec.get("secretStoreRefs") or []:
        if not isinstance(ref, Mapping) or ref.get("labelSelector") or not ref.get("name"):
            return None
        kind = str(ref.get("kind") or SECRET_STORE)
        if kind == SECRET_STORE and cluster:
            return None
        found.append((kind, None if kind == CLUSTER_SECRET_STORE else namespace, str(ref["name"])))
    return found or None


def new_status(
    raw: Mapping[str, Any], message: str, now: datetime.datetime
) -> dict[str, Any] | None:
    """The status to patch in, or None when its Ready condition already says this."""
    current = raw.get("status") or {}
    conditions = [c for c in current.get("conditions") or [] if isinstance(c, Mapping)]
    outcome = status.Outcome(False, status.Reason.UNSUPPORTED, message, synced=False)
    ready = status.ready_condition(outcome, conditions, now)
    old = next((c for c in conditions if c.get("type") == "Ready"), None)
    if old is not None and all(old.get(k) == ready[k] for k in ("status", "reason", "message")):
        return None
    others = [dict(c) for c in conditions if c.get("type") != "Ready"]
    return {"conditions": [*others, ready]}
