"""ClusterPushSecret, pure (ESO's semantics): one PushSecret per namespace matching any of
`namespaceSelectors`, named `pushSecretName` (else the ClusterPushSecret's name), carrying
`pushSecretMetadata` and a controller ownerReference (so the garbage collector removes them with
it, and their own deletionPolicy runs); a namespace that stops matching loses its PushSecret; a
PushSecret of that name that is not the ClusterPushSecret's is left alone and the namespace
reported failed. cluster_pusher.py does the I/O."""

from __future__ import annotations

import copy
import dataclasses
import datetime
from collections.abc import Mapping, Sequence
from typing import Any

from secretsync.api.push import ClusterPushSecretSpec
from secretsync.reconcile import status
from secretsync.resolve.stores import selector_matches

GROUP_VERSION = "external-secrets.io/v1alpha1"
KIND, CHILD_KIND = "ClusterPushSecret", "PushSecret"
NOT_OURS = (
    "a PushSecret of that name exists and is not this ClusterPushSecret's; rename or delete it"
)
FAILED = "one or more namespaces failed"


def child_name(spec: ClusterPushSecretSpec, name: str) -> str:
    return spec.push_secret_name or name


def selected(spec: ClusterPushSecretSpec, namespaces: Mapping[str, Mapping[str, str]]) -> list[str]:
    """The existing namespaces any selector matches (ORed); none without selectors, as ESO."""
    chosen = set()
    for name, labels in namespaces.items():
        for selector in spec.namespace_selectors:
            raw = {
                "matchLabels": dict(selector.match_labels),
                "matchExpressions": list(selector.match_expressions),
            }
            if selector_matches(raw, labels):
                chosen.add(name)
    return sorted(chosen)


def owned(child: Mapping[str, Any], owner: str) -> bool:
    """ESO's test: the controller ownerReference names this ClusterPushSecret."""
    for ref in (child.get("metadata") or {}).get("ownerReferences") or []:
        if ref.get("controller") and (ref.get("kind"), ref.get("name")) == (KIND, owner):
            return str(ref.get("apiVersion")) == GROUP_VERSION
    return False


def child(raw: Mapping[str, Any], spec: ClusterPushSecretSpec, namespace: str) -> dict[str, Any]:
    meta = raw.get("metadata") or {}
    wanted = spec.push_secret_metadata
    return {
        "apiVersion": GROUP_VERSION,
        "kind": CHILD_KIND,
        "metadata": {
            "name": child_name(spec, str(meta.get("name"))),
            "namespace": namespace,
            "labels": dict(wanted.labels) if wanted else {},
            "annotations": dict(wanted.annotations) if wanted else {},
            "ownerReferences": [
                {
                    "apiVersion": GROUP_VERSION,
                    "kind": KIND,
                    "name": str(meta.get("name")),
                    "uid": str(meta.get("uid")),
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        # The raw spec as written: PushSecret's CRD declares no defaults, so what is stored is
        # what was written and compares equal.
        "spec": copy.deepcopy(dict((raw.get("spec") or {}).get("pushSecretSpec") or {})),
    }


@dataclasses.dataclass(frozen=True)
class Plan:
    create: list[dict[str, Any]]
    update: list[dict[str, Any]]
    delete: list[tuple[str, str]]
    """(namespace, name) of PushSecrets of ours no longer wanted."""
    failed: dict[str, str]


def plan(
    raw: Mapping[str, Any],
    spec: ClusterPushSecretSpec,
    wanted: Sequence[str],
    existing: Mapping[tuple[str, str], Mapping[str, Any]],
) -> Plan:
    """`existing`: (namespace, name) -> the PushSecret there, for the wanted namespaces and the
    ones provisioned before (under the current and the previous name)."""
    owner = str((raw.get("metadata") or {}).get("name"))
    name = child_name(spec, owner)
    create: list[dict[str, Any]] = []
    update: list[dict[str, Any]] = []
    failed: dict[str, str] = {}
    for namespace in wanted:
        body = child(raw, spec, namespace)
        current = existing.get((namespace, name))
        if current is None:
            create.append(body)
        elif not owned(current, owner):
            failed[namespace] = NOT_OURS
        elif _differs(current, body):
            merged = copy.deepcopy(dict(current))
            merged["spec"] = body["spec"]
            for key in ("labels", "annotations", "ownerReferences"):
                merged["metadata"][key] = body["metadata"][key]
            update.append(merged)
    delete = sorted(
        where
        for where, current in existing.items()
        if owned(current, owner) and not (where[1] == name and where[0] in wanted)
    )
    return Plan(create, update, delete, failed)


def _differs(current: Mapping[str, Any], body: Mapping[str, Any]) -> bool:
    meta = current.get("metadata") or {}
    return bool(
        current.get("spec") != body["spec"]
        or (meta.get("labels") or {}) != body["metadata"]["labels"]
        or (meta.get("annotations") or {}) != body["metadata"]["annotations"]
    )


def cluster_store_refs(raw: Mapping[str, Any]) -> list[tuple[str, None, str]]:
    """The ClusterSecretStores it names by name: the only stores whose class can decide whether
    a ClusterPushSecret is ours (a SecretStore is each namespace's own; each child PushSecret is
    then judged by its own stores)."""
    spec = ((raw.get("spec") or {}).get("pushSecretSpec") or {}).get("secretStoreRefs") or []
    return [
        ("ClusterSecretStore", None, str(ref["name"]))
        for ref in spec
        if isinstance(ref, Mapping) and ref.get("kind") == "ClusterSecretStore" and ref.get("name")
    ]


def previous(raw: Mapping[str, Any]) -> tuple[str | None, list[str]]:
    """The child name and namespaces the status records from the last pass."""
    current = raw.get("status") or {}
    name = current.get("pushSecretName")
    namespaces = [str(ns) for ns in current.get("provisionedNamespaces") or []]
    return (str(name) if name else None), namespaces


def new_status(
    raw: Mapping[str, Any],
    name: str,
    provisioned: Sequence[str],
    failed: Mapping[str, str],
    error: str | None,
    *,
    now: datetime.datetime,
    reason: str | None = None,
) -> dict[str, Any]:
    ready = error is None and not failed
    message = error or ("all namespaces provisioned" if ready else FAILED)
    outcome = status.Outcome(ready, status.Reason.SYNCED, message, synced=ready)
    current = raw.get("status") or {}
    condition = status.ready_condition(outcome, current.get("conditions") or [], now)
    condition["reason"] = reason or ("Synced" if ready else "Errored")
    return {
        "pushSecretName": name,
        "provisionedNamespaces": sorted(provisioned),
        "failedNamespaces": [
            {"namespace": ns, "reason": why} for ns, why in sorted(failed.items())
        ],
        "conditions": [condition],
    }
