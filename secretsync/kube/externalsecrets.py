"""ExternalSecret status writes, through the status subresource, and our finalizer."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubernetes import client

from secretsync.api.crds import GROUP, STORAGE_VERSION
from secretsync.errors import NotFound
from secretsync.kube.client import MERGE_PATCH, mapped, request, resource_path
from secretsync.kube.secrets import FIELD_MANAGER


class StatusClient:
    """Status writes go out raw (kube.client.request): one per sync, and the generated client
    also parsed the whole object it answers with, which nothing reads."""

    def __init__(self, api: client.ApiClient) -> None:
        self._api = api

    def patch_status(
        self,
        plural: str,
        namespace: str | None,
        name: str,
        status: Mapping[str, Any],
        *,
        version: str = STORAGE_VERSION,
    ) -> None:
        """`version`: v1alpha1 for PushSecrets, which have no v1. A JSON merge patch, as the
        generated client sends a dict: `status` replaces the fields it names, keeps the rest."""
        where = ("namespaces", namespace) if namespace is not None else ()
        request(
            self._api,
            "PATCH",
            resource_path("apis", GROUP, version, *where, plural, name, "status"),
            what=f"updating status of {plural} {name}",
            query={"fieldManager": FIELD_MANAGER},
            body={"status": dict(status)},
            content_type=MERGE_PATCH,
        )


class FinalizerClient:
    """Adds and removes one finalizer on an ExternalSecret with JSON patches that touch only
    that entry, tested against the list just read: other controllers' finalizers, and the rest
    of the object, are left alone, and a concurrent change fails the patch (to be retried)."""

    def __init__(
        self,
        api: client.ApiClient,
        plural: str = "externalsecrets",
        version: str = STORAGE_VERSION,
    ) -> None:
        """`plural`/`version`: pushsecrets and v1alpha1 for PushSecrets (deletionPolicy Delete)."""
        self._custom = client.CustomObjectsApi(api)
        self._plural, self._version = plural, version

    def add(self, namespace: str, name: str, finalizer: str) -> None:
        present = self._present(namespace, name)
        if finalizer in present:
            return
        ops: list[dict[str, Any]]
        if present:
            ops = [
                {"op": "test", "path": "/metadata/finalizers", "value": present},
                {"op": "add", "path": "/metadata/finalizers/-", "value": finalizer},
            ]
        else:
            ops = [{"op": "add", "path": "/metadata/finalizers", "value": [finalizer]}]
        self._patch(namespace, name, ops, f"adding finalizer to {self._plural} {name}")

    def remove(self, namespace: str, name: str, finalizer: str) -> None:
        """Nothing to do when the object or the finalizer is gone already."""
        try:
            present = self._present(namespace, name)
            if finalizer not in present:
                return
            index = present.index(finalizer)
            ops = [
                {"op": "test", "path": f"/metadata/finalizers/{index}", "value": finalizer},
                {"op": "remove", "path": f"/metadata/finalizers/{index}"},
            ]
            self._patch(namespace, name, ops, f"removing finalizer from {self._plural} {name}")
        except NotFound:
            return

    def _present(self, namespace: str, name: str) -> list[str]:
        with mapped(f"reading {self._plural} {name}"):
            found: Any = self._custom.get_namespaced_custom_object(
                GROUP, self._version, namespace, self._plural, name
            )
        return [str(f) for f in (found.get("metadata") or {}).get("finalizers") or []]

    def _patch(self, namespace: str, name: str, ops: list[dict[str, Any]], what: str) -> None:
        with mapped(what):
            self._custom.patch_namespaced_custom_object(
                GROUP,
                self._version,
                namespace,
                self._plural,
                name,
                ops,
                field_manager=FIELD_MANAGER,
                _content_type="application/json-patch+json",
            )
