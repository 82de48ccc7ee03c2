"""Whole API objects: metadata plus a parsed spec. Parsed once, where raw dicts enter."""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

from secretsync.api.crds import GROUP, VERSIONS
from secretsync.api.externalsecret import ClusterExternalSecretSpec, ExternalSecretSpec
from secretsync.api.parsing import parse
from secretsync.api.store import SecretStoreSpec
from secretsync.errors import ConfigError

SECRET_STORE = "SecretStore"
CLUSTER_SECRET_STORE = "ClusterSecretStore"
EXTERNAL_SECRET = "ExternalSecret"
CLUSTER_EXTERNAL_SECRET = "ClusterExternalSecret"


@dataclasses.dataclass(frozen=True)
class ObjectMeta:
    name: str
    namespace: str | None = None
    uid: str | None = None
    generation: int = 0
    resource_version: str | None = None
    labels: Mapping[str, str] = dataclasses.field(default_factory=dict)
    annotations: Mapping[str, str] = dataclasses.field(default_factory=dict)


@dataclasses.dataclass(frozen=True)
class ExternalSecret:
    api_version: str
    metadata: ObjectMeta
    spec: ExternalSecretSpec

    @property
    def target_name(self) -> str:
        return self.spec.target.name or self.metadata.name


@dataclasses.dataclass(frozen=True)
class SecretStore:
    kind: str
    """SecretStore or ClusterSecretStore."""

    metadata: ObjectMeta
    spec: SecretStoreSpec


@dataclasses.dataclass(frozen=True)
class ClusterExternalSecret:
    metadata: ObjectMeta
    spec: ClusterExternalSecretSpec


def parse_metadata(raw: Mapping[str, Any]) -> ObjectMeta:
    meta = metadata_of(raw)
    name = meta.get("name")
    if not isinstance(name, str) or not name:
        raise ConfigError("is required", field="metadata.name")
    generation = meta.get("generation") or 0
    if not isinstance(generation, int):
        raise ConfigError("must be an integer", field="metadata.generation")
    return ObjectMeta(
        name=name,
        namespace=meta.get("namespace"),
        uid=meta.get("uid"),
        generation=generation,
        resource_version=meta.get("resourceVersion"),
        labels=_string_map(meta, "labels"),
        annotations=_string_map(meta, "annotations"),
    )


def metadata_of(raw: Mapping[str, Any]) -> Mapping[str, Any]:
    """`metadata` as a mapping (empty when absent); the apiserver guarantees one, a file may not."""
    meta = raw.get("metadata") or {}
    if not isinstance(meta, Mapping):
        raise ConfigError("must be an object", field="metadata")
    return meta


def _string_map(meta: Mapping[str, Any], key: str) -> dict[str, str]:
    value = meta.get(key) or {}
    if not isinstance(value, Mapping):
        raise ConfigError("must be an object of strings", field=f"metadata.{key}")
    return dict(value)


def is_ours(raw: Mapping[str, Any], kind: str) -> bool:
    group, _, version = str(raw.get("apiVersion", "")).partition("/")
    return raw.get("kind") == kind and group == GROUP and version in VERSIONS


def parse_external_secret(raw: Mapping[str, Any]) -> ExternalSecret:
    return ExternalSecret(
        api_version=str(raw.get("apiVersion")),
        metadata=parse_metadata(raw),
        spec=parse(ExternalSecretSpec, raw.get("spec"), "spec"),
    )


def parse_store(raw: Mapping[str, Any]) -> SecretStore:
    kind = str(raw.get("kind"))
    store = SecretStore(
        kind=kind,
        metadata=parse_metadata(raw),
        spec=parse(SecretStoreSpec, raw.get("spec"), "spec"),
    )
    if kind == SECRET_STORE and store.spec.conditions:
        raise ConfigError("only a ClusterSecretStore has conditions", field="spec.conditions")
    return store


def parse_cluster_external_secret(raw: Mapping[str, Any]) -> ClusterExternalSecret:
    return ClusterExternalSecret(
        metadata=parse_metadata(raw),
        spec=parse(ClusterExternalSecretSpec, raw.get("spec"), "spec"),
    )
