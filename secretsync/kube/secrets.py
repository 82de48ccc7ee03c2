"""Target Secrets: read, create, replace and delete, as raw JSON dicts.

Raw JSON (not the client's model objects) keeps comparisons exact and avoids converting data
back and forth; the decisions about what to write live in secretsync.reconcile.writes.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, cast

from kubernetes import client

from secretsync.errors import NotFound
from secretsync.kube.client import mapped, release

FIELD_MANAGER = "secretsync"


class SecretClient:
    def __init__(self, api: client.ApiClient) -> None:
        self._core = client.CoreV1Api(api)

    def get(self, namespace: str, name: str) -> dict[str, Any] | None:
        try:
            with mapped(f"reading secret {namespace}/{name}"):
                response: Any = self._core.read_namespaced_secret(
                    name, namespace, _preload_content=False
                )
        except NotFound:
            return None
        return dict(json.loads(response.data))

    def create(self, namespace: str, body: Mapping[str, Any]) -> None:
        with mapped(f"creating secret {namespace}/{body['metadata']['name']}"):
            # The client accepts plain dicts as bodies; its annotations only know its models.
            response = self._core.create_namespaced_secret(
                namespace, cast(Any, body), field_manager=FIELD_MANAGER, _preload_content=False
            )
            release(response)

    def replace(self, namespace: str, body: Mapping[str, Any]) -> None:
        """A PUT carrying the resourceVersion we read: a concurrent change makes it Conflict."""
        name = body["metadata"]["name"]
        with mapped(f"updating secret {namespace}/{name}"):
            response = self._core.replace_namespaced_secret(
                name,
                namespace,
                cast(Any, body),
                field_manager=FIELD_MANAGER,
                _preload_content=False,
            )
            release(response)

    def delete(self, namespace: str, name: str) -> None:
        try:
            with mapped(f"deleting secret {namespace}/{name}"):
                release(
                    self._core.delete_namespaced_secret(name, namespace, _preload_content=False)
                )
        except NotFound:
            return
