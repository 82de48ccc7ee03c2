"""ClusterExternalSecret: one ExternalSecret per selected namespace, owned by the
ClusterExternalSecret, removed from namespaces that stop matching."""

from __future__ import annotations

import copy
import dataclasses
import hashlib
import json
from collections.abc import Mapping
from typing import Any

from secretsync.api.crds import GROUP, STORAGE_VERSION
from secretsync.api.objects import ClusterExternalSecret
from secretsync.resolve.stores import selector_matches

OWNER_LABEL = "externalsecrets.external-secrets.io/owned-by-cluster-external-secret"
# The apiserver fills CRD defaults into a stored spec, so the stored spec never equals the one
# written; a hash of what was written tells whether the child is current.
SPEC_HASH = "externalsecrets.external-secrets.io/cluster-spec-hash"


FORCE_SYNC = "external-secrets.io/force-sync"


def _spec_hash(spec: Mapping[str, Any]) -> str:
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()[:32]


def selected_namespaces(
    ces: ClusterExternalSecret, namespaces: Mapping[str, Mapping[str, str]]
) -> list[str]:
    """Namespaces named in spec.namespaces or matching any selector (ORed), that exist."""
    spec = ces.spec
    selectors = [
        *spec.namespace_selectors,
        *([spec.namespace_selector] if spec.namespace_selector else []),
    ]
    chosen = set(spec.namespaces) & set(namespaces)
    for name, labels in namespaces.items():
        for selector in selectors:
            raw = {
                "matchLabels": dict(selector.match_labels),
                "matchExpressions": list(selector.match_expressions),
            }
            if selector_matches(raw, labels):
                chosen.add(name)
    return sorted(chosen)


def child(ces_raw: Mapping[str, Any], ces: ClusterExternalSecret, namespace: str) -> dict[str, Any]:
    meta = ces.spec.external_secret_metadata
    return {
        "apiVersion": f"{GROUP}/{STORAGE_VERSION}",
        "kind": "ExternalSecret",
        "metadata": {
            "name": ces.spec.external_secret_name or ces.metadata.name,
            "namespace": namespace,
            "labels": {**(meta.labels if meta else {}), OWNER_LABEL: ces.metadata.name},
            "annotations": {
                **(meta.annotations if meta else {}),
                **_force_sync(ces),
                SPEC_HASH: _spec_hash(ces_raw["spec"]["externalSecretSpec"]),
            },
            "ownerReferences": [
                {
                    "apiVersion": f"{GROUP}/{STORAGE_VERSION}",
                    "kind": "ClusterExternalSecret",
                    "name": ces.metadata.name,
                    "uid": ces.metadata.uid,
                    "controller": True,
                    "blockOwnerDeletion": True,
                }
            ],
        },
        # The raw spec, not a re-serialised model: what the user wrote is what the child gets.
        "spec": copy.deepcopy(dict(ces_raw["spec"]["externalSecretSpec"])),
    }


def _force_sync(ces: ClusterExternalSecret) -> dict[str, str]:
    """ESO mirrors the force-sync annotation onto every child, so one edit refreshes them all."""
    value = ces.metadata.annotations.get(FORCE_SYNC)
    return {FORCE_SYNC: value} if value is not None else {}


@dataclasses.dataclass(frozen=True)
class Plan:
    create: list[dict[str, Any]]
    update: list[dict[str, Any]]
    delete: list[tuple[str, str]]
    failed: dict[str, str]


def plan(
    ces_raw: Mapping[str, Any],
    ces: ClusterExternalSecret,
    wanted: list[str],
    existing: Mapping[str, Mapping[str, Any]],
) -> Plan:
    """`existing`: namespace -> the ExternalSecret of the child's name there, if any."""
    create, update, failed = [], [], {}
    for namespace in wanted:
        body = child(ces_raw, ces, namespace)
        current = existing.get(namespace)
        if current is None:
            create.append(body)
        elif (current.get("metadata") or {}).get("labels", {}).get(
            OWNER_LABEL
        ) != ces.metadata.name:
            failed[namespace] = "an ExternalSecret of that name exists and is not ours"
        elif _differs(current, body):
            merged = copy.deepcopy(dict(current))
            merged["spec"] = body["spec"]
            merged["metadata"].update(
                labels=body["metadata"]["labels"], annotations=body["metadata"]["annotations"]
            )
            update.append(merged)
    delete = [
        (ns, str(current["metadata"]["name"]))
        for ns, current in existing.items()
        if ns not in wanted
        and (current.get("metadata") or {}).get("labels", {}).get(OWNER_LABEL) == ces.metadata.name
    ]
    return Plan(create, update, delete, failed)


def _differs(current: Mapping[str, Any], body: Mapping[str, Any]) -> bool:
    meta = current.get("metadata") or {}
    return bool(
        (meta.get("labels") or {}) != body["metadata"]["labels"]
        or (meta.get("annotations") or {}) != body["metadata"]["annotations"]
    )
