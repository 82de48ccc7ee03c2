"""Target Secrets: read, create, replace and delete, as raw JSON dicts.

Raw JSON (not the client's model objects) keeps comparisons exact and avoids converting data
back and forth; the decisions about what to write live in secretsync.reconcile.writes. The
requests go out raw (kube.client.request), not through the generated CoreV1Api: four of them
per sync, and its per-call machinery cost more CPU than the requests themselves.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from kubernetes import client

from secretsync.errors import NotFound
from secretsync.kube.client import request, request_json, resource_path

FIELD_MANAGER = "secretsync"


def _path(namespace: str, name: str | None = None) -> str:
    collection = ("api", "v1", "namespaces", namespace, "secrets")
    return resource_path(*collection, *((name,) if name is not None else ()))


class SecretClient:
    def __init__(self, api: client.ApiClient) -> None:
        self._api = api

    def get(self, namespace: str, name: str) -> dict[str, Any] | None:
        try:
            return request_json(
                self._api, "GET", _path(namespace, name), what=f"reading secret {namespace}/{name}"
            )
        except NotFound:
            return None

    def create(self, namespace: str, body: Mapping[str, Any]) -> None:
        request(
            self._api,
            "POST",
            _path(namespace),
            what=f"creating secret {namespace}/{body['metadata']['name']}",
            query={"fieldManager": FIELD_MANAGER},
            body=body,
        )

    def replace(self, namespace: str, body: Mapping[str, Any]) -> None:
        """A PUT carrying the resourceVersion we read: a concurrent change makes it Conflict."""
        name = body["metadata"]["name"]
        request(
            self._api,
            "PUT",
            _path(namespace, name),
            what=f"updating secret {namespace}/{name}",
            query={"fieldManager": FIELD_MANAGER},
            body=body,
        )

    def delete(self, namespace: str, name: str) -> None:
        try:
            request(
                self._api,
                "DELETE",
                _path(namespace, name),
                what=f"deleting secret {namespace}/{name}",
            )
        except NotFound:
            return
