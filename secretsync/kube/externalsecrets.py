"""ExternalSecret status writes and listing, through the status subresource."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubernetes import client

from secretsync.api.crds import GROUP, STORAGE_VERSION
from secretsync.kube.client import mapped
from secretsync.kube.secrets import FIELD_MANAGER


class StatusClient:
    def __init__(self, api: client.ApiClient) -> None:
        self._custom = client.CustomObjectsApi(api)

    def patch_status(
        self,
        plural: str,
        namespace: str | None,
        name: str,
        status: Mapping[str, Any],
        *,
        version: str = STORAGE_VERSION,
    ) -> None:
        """`version`: v1alpha1 for PushSecrets, which have no v1."""
        body = {"status": dict(status)}
        with mapped(f"updating status of {plural} {name}"):
            if namespace is None:
                self._custom.patch_cluster_custom_object_status(
                    GROUP, version, plural, name, body, field_manager=FIELD_MANAGER
                )
            else:
                self._custom.patch_namespaced_custom_object_status(
                    GROUP,
                    version,
                    namespace,
                    plural,
                    name,
                    body,
                    field_manager=FIELD_MANAGER,
                )
