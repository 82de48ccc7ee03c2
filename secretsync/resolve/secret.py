"""The Secret an ExternalSecret should produce, as a manifest: the same bytes from the operator
and from `secretsync render`.

The managed label and data-hash annotation are ESO's, computed ESO's way (sha3-224 of Go's
`%+v` of the data map), so Secrets that ESO wrote are recognised as unchanged after migrating
and nothing is rewritten.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
from collections.abc import Mapping
from typing import Any

from secretsync.api.objects import ExternalSecret

MANAGED_LABEL = "reconcile.external-secrets.io/managed"
DATA_HASH_ANNOTATION = "reconcile.external-secrets.io/data-hash"
# kubectl's client-side apply record belongs to the ExternalSecret, not to the Secret it makes.
_NOT_COPIED = frozenset({"kubectl.kubernetes.io/last-applied-configuration"})


def data_hash(data: Mapping[str, bytes]) -> str:
    """ESO's ObjectHash(secret.Data): sha3-224 of Go's fmt `%+v` of a map[string][]byte."""
    items = " ".join(f"{key}:[{' '.join(str(b) for b in data[key])}]" for key in sorted(data))
    return hashlib.sha3_224(f"map[{items}]".encode()).hexdigest()


@dataclasses.dataclass(frozen=True)
class Desired:
    """What the target Secret should hold, before any cluster state is considered."""

    data: dict[str, bytes]
    labels: dict[str, str]
    annotations: dict[str, str]
    type: str | None
    """None keeps an existing Secret's type; a new Secret is Opaque."""


def desired(
    es: ExternalSecret, data: Mapping[str, bytes], rendered: Desired | None = None
) -> Desired:
    """Without a template the ExternalSecret's own labels and annotations are copied (as ESO
    does); with one, only the template's metadata is used."""
    if rendered is not None:
        base = rendered
    else:
        base = Desired(
            data=dict(data),
            labels=dict(es.metadata.labels),
            annotations={k: v for k, v in es.metadata.annotations.items() if k not in _NOT_COPIED},
            type=None,
        )
    return Desired(
        data=base.data,
        labels={**base.labels, MANAGED_LABEL: "true"},
        annotations={**base.annotations, DATA_HASH_ANNOTATION: data_hash(base.data)},
        type=base.type,
    )


def manifest(es: ExternalSecret, want: Desired) -> dict[str, Any]:
    secret: dict[str, Any] = {
        "apiVersion": "v1",
        "kind": "Secret",
        "metadata": {
            "name": es.target_name,
            "namespace": es.metadata.namespace,
            "labels": dict(sorted(want.labels.items())),
            "annotations": dict(sorted(want.annotations.items())),
        },
        "type": want.type or "Opaque",
        "data": {k: base64.b64encode(v).decode() for k, v in sorted(want.data.items())},
    }
    if es.spec.target.immutable:
        secret["immutable"] = True
    return secret
