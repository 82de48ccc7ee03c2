"""Stores and namespaces read from the cluster, for the operator and `render --kubeconfig`."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubernetes import client

from secretsync.api.crds import GROUP, STORAGE_VERSION
from secretsync.api.objects import SecretStore, parse_store
from secretsync.api.sources import StoreKind
from secretsync.errors import NotFound
from secretsync.kube.client import mapped


class ClusterLookup:
    def __init__(self, api: client.ApiClient) -> None:
        self._custom = client.CustomObjectsApi(api)
        self._core = client.CoreV1Api(api)

    def store(self, kind: StoreKind, namespace: str, name: str) -> SecretStore:
        with mapped(f"reading {kind.value} {name}"):
            raw: Any
            if kind is StoreKind.CLUSTER_SECRET_STORE:
                raw = self._custom.get_cluster_custom_object(
                    GROUP, STORAGE_VERSION, "clustersecretstores", name
                )
            else:
                raw = self._custom.get_namespaced_custom_object(
                    GROUP, STORAGE_VERSION, namespace, "secretstores", name
                )
        return parse_store(raw)

    def raw_store(self, kind: str, namespace: str | None, name: str) -> Mapping[str, Any] | None:
        """The store as stored, unparsed (its class matters even when we cannot parse it);
        None when it does not exist."""
        try:
            with mapped(f"reading {kind} {name}"):
                raw: Any
                if kind == StoreKind.CLUSTER_SECRET_STORE.value:
                    raw = self._custom.get_cluster_custom_object(
                        GROUP, STORAGE_VERSION, "clustersecretstores", name
                    )
                else:
                    raw = self._custom.get_namespaced_custom_object(
                        GROUP, STORAGE_VERSION, str(namespace), "secretstores", name
                    )
        except NotFound:
            return None
        return dict(raw)

    def raw_generator(
        self, api_version: str, kind: str, namespace: str | None, name: str
    ) -> Mapping[str, Any] | None:
        """A generator as stored (only its class is read from it); None when it does not exist.
        Every generator kind's plural is its lower-cased kind plus "s"."""
        group, _, version = api_version.partition("/")
        plural = f"{kind.lower()}s"
        try:
            with mapped(f"reading {kind} {name}"):
                raw: Any
                if namespace is None:
                    raw = self._custom.get_cluster_custom_object(group, version, plural, name)
                else:
                    raw = self._custom.get_namespaced_custom_object(
                        group, version, namespace, plural, name
                    )
        except NotFound:
            return None
        return {**dict(raw), "kind": kind}

    def namespace_labels(self, namespace: str) -> Mapping[str, str]:
        with mapped(f"reading namespace {namespace}"):
            found = self._core.read_namespace(namespace)
        return dict((found.metadata.labels if found.metadata else None) or {})
