"""Namespaces, and the ExternalSecrets a ClusterExternalSecret creates in them (or the
PushSecrets a ClusterPushSecret does)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, cast

from kubernetes import client

from secretsync.api.crds import GROUP, STORAGE_VERSION
from secretsync.errors import NotFound
from secretsync.kube.client import mapped

PLURAL = "externalsecrets"


class ChildClient:
    def __init__(
        self, api: client.ApiClient, plural: str = PLURAL, version: str = STORAGE_VERSION
    ) -> None:
        """`plural`/`version`: pushsecrets and v1alpha1 for a ClusterPushSecret's children."""
        self._core = client.CoreV1Api(api)
        self._custom = client.CustomObjectsApi(api)
        self._plural, self._version = plural, version

    def namespaces(self) -> dict[str, dict[str, str]]:
        found: dict[str, dict[str, str]] = {}
        token: str | None = None
        while True:
            with mapped("listing namespaces"):
                page = self._core.list_namespace(limit=500, _continue=token)
            for item in page.items:
                if item.metadata and item.metadata.name:
                    found[item.metadata.name] = dict(item.metadata.labels or {})
            token = page.metadata.var_continue if page.metadata else None
            if not token:
                return found

    def children(self, label: str, owner: str) -> dict[str, dict[str, Any]]:
        """Namespace -> the ExternalSecret carrying `label=owner` there."""
        with mapped(f"listing {self._plural} of {owner}"):
            listing = self._custom.list_cluster_custom_object(
                GROUP, self._version, self._plural, label_selector=f"{label}={owner}"
            )
        items = cast(dict[str, Any], listing).get("items") or []
        return {str(i["metadata"]["namespace"]): dict(i) for i in items}

    def get(self, namespace: str, name: str) -> dict[str, Any] | None:
        try:
            with mapped(f"reading {self._plural} {namespace}/{name}"):
                found = self._custom.get_namespaced_custom_object(
                    GROUP, self._version, namespace, self._plural, name
                )
        except NotFound:
            return None
        return dict(cast(Mapping[str, Any], found))

    def create(self, body: Mapping[str, Any]) -> None:
        namespace = body["metadata"]["namespace"]
        with mapped(f"creating {self._plural} {namespace}/{body['metadata']['name']}"):
            self._custom.create_namespaced_custom_object(
                GROUP, self._version, namespace, self._plural, dict(body)
            )

    def replace(self, body: Mapping[str, Any]) -> None:
        namespace, name = body["metadata"]["namespace"], body["metadata"]["name"]
        with mapped(f"updating {self._plural} {namespace}/{name}"):
            self._custom.replace_namespaced_custom_object(
                GROUP, self._version, namespace, self._plural, name, dict(body)
            )

    def delete(self, namespace: str, name: str) -> None:
        try:
            with mapped(f"deleting {self._plural} {namespace}/{name}"):
                self._custom.delete_namespaced_custom_object(
                    GROUP, self._version, namespace, self._plural, name
                )
        except NotFound:
            return
