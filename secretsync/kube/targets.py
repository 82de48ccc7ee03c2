"""Targets other than Secrets (spec.target.manifest): a ConfigMap or any namespaced custom
resource, read and written as raw JSON dicts by apiVersion and kind.

The kind's resource name comes from API discovery (cached once found), so no client model is
needed for a custom resource. Each request names the object and the verb, so a missing
permission reads as `cannot create resource "widgets" in API group "example.com"`.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Mapping
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException

from secretsync.errors import ConfigError, NotFound
from secretsync.kube.client import mapped
from secretsync.kube.secrets import FIELD_MANAGER

_HEADERS = {"Accept": "application/json", "Content-Type": "application/json"}


class TargetClient:
    def __init__(self, api: client.ApiClient) -> None:
        self._api = api
        self._resources: dict[tuple[str, str], str] = {}
        self._lock = threading.Lock()

    def get(self, api_version: str, kind: str, namespace: str, name: str) -> dict[str, Any] | None:
        path = self._path(api_version, kind, namespace, name)
        try:
            with mapped(f"reading {kind} {namespace}/{name}"):
                return self._call("GET", path)
        except NotFound:
            return None

    def create(self, namespace: str, body: Mapping[str, Any]) -> None:
        kind, name = body["kind"], body["metadata"]["name"]
        path = self._path(body["apiVersion"], kind, namespace, None)
        with mapped(f"creating {kind} {namespace}/{name}"):
            self._call("POST", path, body)

    def replace(self, namespace: str, body: Mapping[str, Any]) -> None:
        """A PUT carrying the resourceVersion we read: a concurrent change makes it Conflict."""
        kind, name = body["kind"], body["metadata"]["name"]
        path = self._path(body["apiVersion"], kind, namespace, name)
        with mapped(f"updating {kind} {namespace}/{name}"):
            self._call("PUT", path, body)

    def delete(self, api_version: str, kind: str, namespace: str, name: str) -> None:
        path = self._path(api_version, kind, namespace, name)
        try:
            with mapped(f"deleting {kind} {namespace}/{name}"):
                self._call("DELETE", path)
        except NotFound:
            return

    def _call(
        self, method: str, path: str, body: Mapping[str, Any] | None = None
    ) -> dict[str, Any]:
        query = [("fieldManager", FIELD_MANAGER)] if method in ("POST", "PUT") else []
        request = self._api.param_serialize(
            method,
            path,
            query_params=query,
            header_params=dict(_HEADERS),
            body=dict(body) if body is not None else None,
            auth_settings=["BearerToken"],
        )
        response = self._api.call_api(*request)
        payload: bytes = response.read()  # type: ignore[no-untyped-call]
        if not 200 <= int(response.status) < 300:
            # The same exception the generated APIs raise, so `mapped` reads it the same way.
            text = payload.decode("utf-8", "replace") if payload else None
            raise ApiException(http_resp=response, body=text)
        return dict(json.loads(payload or b"{}"))

    def _path(self, api_version: str, kind: str, namespace: str, name: str | None) -> str:
        base = f"/api/{api_version}" if "/" not in api_version else f"/apis/{api_version}"
        plural = self._resource(api_version, kind, base)
        tail = f"/{name}" if name else ""
        return f"{base}/namespaces/{namespace}/{plural}{tail}"

    def _resource(self, api_version: str, kind: str, base: str) -> str:
        """The plural resource name of a namespaced kind, from discovery."""
        with self._lock:
            known = self._resources.get((api_version, kind))
        if known is not None:
            return known
        try:
            with mapped(f"discovering {kind} in {api_version}"):
                listing = self._call("GET", base)
        except NotFound:
            listing = {}
        for resource in listing.get("resources") or []:
            name = str(resource.get("name") or "")
            if resource.get("kind") != kind or "/" in name:
                continue
            if not resource.get("namespaced"):
                raise ConfigError(
                    f"{kind} ({api_version}) is cluster-scoped; a target must be namespaced",
                    field="spec.target.manifest",
                )
            with self._lock:
                self._resources[(api_version, kind)] = name
            return name
        # Not cached: a CRD installed later is found on the next attempt.
        raise ConfigError(
            f"the API server serves no kind {kind} in {api_version}; install its "
            "CustomResourceDefinition or fix apiVersion/kind",
            field="spec.target.manifest",
        )
