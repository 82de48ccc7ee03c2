"""The CustomResourceDefinitions secretsync serves, generated from the models.

external-secrets.io v1 is served and stored; v1beta1 is served with the same schema and no
conversion (strategy None), because manifests and clusters still use it (docs/design.md).
PushSecret, ClusterPushSecret (push.py) and the generator kinds are served as ESO serves them
(v1alpha1): the generators secretsync runs with typed specs (generators.py), the others kept
verbatim until secretsync implements them (unserved.py, docs/api.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from secretsync.api.externalsecret import ClusterExternalSecretSpec, ExternalSecretSpec
from secretsync.api.generators import (
    CLUSTER_GENERATOR,
    GENERATORS_GROUP,
    PLURALS,
    SPECS,
    ClusterGeneratorSpec,
)
from secretsync.api.push import ClusterPushSecretSpec, PushSecretSpec
from secretsync.api.schema import JSON, object_schema
from secretsync.api.store import SecretStoreSpec
from secretsync.api.unserved import STORED_KINDS, V1ALPHA1, StoredKind, spec_model

GROUP = "external-secrets.io"
VERSIONS = ("v1", "v1beta1")
STORAGE_VERSION = "v1"


@dataclass(frozen=True)
class Kind:
    kind: str
    plural: str
    short: tuple[str, ...]
    scope: str
    spec: type
    columns: tuple[JSON, ...]
    group: str = GROUP
    versions: tuple[str, ...] = VERSIONS
    storage: str = STORAGE_VERSION
    categories: tuple[str, ...] = ("external-secrets",)
    status_subresource: bool = True


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


def _stored(stored: StoredKind) -> Kind:
    age = {"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"}
    columns: tuple[JSON, ...] = (age,)
    if stored.kind == "GeneratorState":
        deadline = ".spec.garbageCollectionDeadline"
        columns = ({"name": "GC Deadline", "type": "string", "jsonPath": deadline}, age)
    generator = stored.group != GROUP
    return Kind(
        stored.kind,
        stored.plural,
        stored.short_names,
        stored.scope,
        spec_model(stored),
        columns,
        group=stored.group,
        versions=(V1ALPHA1,),
        storage=V1ALPHA1,
        categories=(
            ("external-secrets", "external-secrets-generators")
            if generator
            else ("external-secrets",)
        ),
        status_subresource=stored.status_subresource,
    )


_AGE = ({"name": "Age", "type": "date", "jsonPath": ".metadata.creationTimestamp"},)


def _generator(kind: str, plural: str, scope: str, spec: type) -> Kind:
    return Kind(
        kind,
        plural,
        (),
        scope,
        spec,
        _AGE,
        group=GENERATORS_GROUP,
        versions=(V1ALPHA1,),
        storage=V1ALPHA1,
        categories=("external-secrets", "external-secrets-generators"),
    )


def _push(kind: str, plural: str, short: tuple[str, ...], scope: str, spec: type) -> Kind:
    columns = (*_AGE, *_ready_columns())
    return Kind(kind, plural, short, scope, spec, columns, versions=(V1ALPHA1,), storage=V1ALPHA1)


KINDS = (
    Kind(
        "ExternalSecret", "externalsecrets", ("es",), "Namespaced", ExternalSecretSpec, _ES_COLUMNS
    ),
    Kind("SecretStore", "secretstores", ("ss",), "Namespaced", SecretStoreSpec, _STORE_COLUMNS),
    Kind(
        "ClusterSecretStore",
        "clustersecretstores",
        ("css",),
        "Cluster",
        SecretStoreSpec,
        _STORE_COLUMNS,
    ),
    Kind(
        "ClusterExternalSecret",
        "clusterexternalsecrets",
        ("ces",),
        "Cluster",
        ClusterExternalSecretSpec,
        _ready_columns(),
    ),
    *(_generator(kind.value, PLURALS[kind], "Namespaced", spec) for kind, spec in SPECS.items()),
    _generator(CLUSTER_GENERATOR, "clustergenerators", "Cluster", ClusterGeneratorSpec),
    _push("PushSecret", "pushsecrets", ("ps",), "Namespaced", PushSecretSpec),
    _push("ClusterPushSecret", "clusterpushsecrets", (), "Cluster", ClusterPushSecretSpec),
    *(_stored(stored) for stored in STORED_KINDS),
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
        # No required spec: ESO's CRDs do not require one either.
    }
    versions = [
        {
            "name": version,
            "served": True,
            "storage": version == kind.storage,
            "schema": {"openAPIV3Schema": schema},
            "subresources": {"status": {}} if kind.status_subresource else {},
            "additionalPrinterColumns": list(kind.columns),
        }
        for version in kind.versions
    ]
    return {
        "apiVersion": "apiextensions.k8s.io/v1",
        "kind": "CustomResourceDefinition",
        "metadata": {
            "name": f"{kind.plural}.{kind.group}",
            "labels": {"app.kubernetes.io/part-of": "secretsync"},
        },
        "spec": {
            "group": kind.group,
            "names": {
                "kind": kind.kind,
                "listKind": f"{kind.kind}List",
                "plural": kind.plural,
                "singular": kind.kind.lower(),
                **({"shortNames": list(kind.short)} if kind.short else {}),
                "categories": list(kind.categories),
            },
            "scope": kind.scope,
            # webhook: null removes the conversion webhook an ESO Helm install may have set, when
            # `kubectl apply` replaces its CRD with ours (None with a webhook is refused).
            "conversion": {"strategy": "None", "webhook": None},
            "versions": versions,
        },
    }


def all_crds() -> list[dict[str, Any]]:
    return [crd(kind) for kind in KINDS]
