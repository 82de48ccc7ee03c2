"""The CustomResourceDefinitions secretsync serves, generated from the models.

external-secrets.io v1 is served and stored; v1beta1 is served with the same schema and no
conversion (strategy None), because manifests and clusters still use it (DESIGN.md §3).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from secretsync.api.externalsecret import ClusterExternalSecretSpec, ExternalSecretSpec
from secretsync.api.schema import JSON, object_schema
from secretsync.api.store import SecretStoreSpec

GROUP = "external-secrets.io"
VERSIONS = ("v1", "v1beta1")
STORAGE_VERSION = "v1"


@dataclass(frozen=True)
class Kind:
    kind: str
    plural: str
    short: str
    scope: str
    spec: type
    columns: tuple[JSON, ...]


def _ready_columns() -> tuple[JSON, ...]:
    return (
        {
            "name": "Status",
            "type": "string",
            "jsonPath": '.status.conditions[?(@.type=="Ready")].reason',
        },
        {
            "name": "Ready",
            "type": "string",
            "jsonPath": '.status.conditions[?(@.type=="Ready")].status',
        },
    )


_ES_COLUMNS = (
    {"name": "Store", "type": "string", "jsonPath": ".spec.secretStoreRef.name"},
    {"name": "Refresh Interval", "type": "string", "jsonPath": ".spec.refreshInterval"},
    *_ready_columns(),
    {"name": "Last Sync", "type": "date", "jsonPath": ".status.refreshTime"},
)
_STORE_COLUMNS = (
    {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},
    *_ready_columns(),
)

KINDS = (
    Kind("ExternalSecret", "externalsecrets", "es", "Namespaced", ExternalSecretSpec, _ES_COLUMNS),
    Kind("SecretStore", "secretstores", "ss", "Namespaced", SecretStoreSpec, _STORE_COLUMNS),
    Kind(
        "ClusterSecretStore",
        "clustersecretstores",
        "css",
        "Cluster",
        SecretStoreSpec,
        _STORE_COLUMNS,
    ),
    Kind(
        "ClusterExternalSecret",
        "clusterexternalsecrets",
        "ces",
        "Cluster",
        ClusterExternalSecretSpec,
        _ready_columns(),
    ),
)


def _status_schema() -> JSON:
    # Status is ours to write; keeping it open lets the operator add fields without a CRD bump.
    return {"type": "object", "x-kubernetes-preserve-unknown-fields": True}


def crd(kind: Kind) -> dict[str, Any]:
    schema = {
        "type": "object",
        "properties": {
            "apiVersion": {"type": "string"},
            "kind": {"type": "string"},
            "metadata": {"type": "object"},
            "spec": object_schema(kind.spec),
            "status": _status_schema(),
        },
        "required": ["spec"],
    }
    versions = [
        {
            "name": version,
            "served": True,
            "storage": version == STORAGE_VERSION,
            "schema": {"openAPIV3Schema": schema},
            "subresources": {"status": {}},
            "additionalPrinterColumns": list(kind.columns),
        }
        for version in VERSIONS
    ]
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": f"{kind.plural}.{GROUP}",
            "labels": {"app.kubernetes.io/part-of": "secretsync"},
        },
        "spec": {
            "group": GROUP,
            "names": {
                "kind": kind.kind,
                "listKind": f"{kind.kind}List",
                "plural": kind.plural,
                "singular": kind.kind.lower(),
                "shortNames": [kind.short],
                "categories": ["external-secrets"],
            },
            "scope": kind.scope,
            "conversion": {"strategy": "None"},
            "versions": versions,
        },
    }


def all_crds() -> list[dict[str, Any]]:
    return [crd(kind) for kind in KINDS]
