"""Workloads (Deployments, StatefulSets, DaemonSets, Argo Rollouts), their pods, and
ExternalSecrets as the rollout engine sees them: raw JSON dicts in, merge patches out."""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, cast

from kubernetes import client

from secretsync.api.crds import GROUP, STORAGE_VERSION
from secretsync.errors import NotFound
from secretsync.kube.client import mapped, release

_SUFFIX = {"Deployment": "deployment", "StatefulSet": "stateful_set", "DaemonSet": "daemon_set"}
# Argo Rollouts is a CRD: served only where it is installed, through the custom objects API.
ARGO = ("argoproj.io", "v1alpha1", "rollouts")
ARGO_KIND = "Rollout"


def _suffix(kind: str) -> str:
    try:
        return _SUFFIX[kind]
    except KeyError:
        raise NotFound(f"workload kind {kind} is not supported") from None


def _json(response: Any) -> dict[str, Any]:
    # _preload_content=False hands back the raw HTTP response: exact JSON, no model round trip.
    return dict(json.loads(response.data))


class WorkloadClient:
    """Reads go straight to the API server (no cache): a rollout's verdict must not be judged on
    a stale status."""

    def __init__(self, api: client.ApiClient, namespaces: tuple[str, ...] = ()) -> None:
        """`namespaces`: where list_external_secrets looks; empty means the whole cluster
        (namespaced RBAC forbids a cluster-wide list)."""
        self._namespaces = namespaces
        # The generated client types its methods by model; we pass and receive plain JSON.
        self._apps: Any = client.AppsV1Api(api)
        self._core: Any = client.CoreV1Api(api)
        self._custom = client.CustomObjectsApi(api)

    def list_kind(self, namespace: str, kind: str) -> list[dict[str, Any]]:
        """Raises NotFound when the kind is not served: an Argo Rollouts CRD not installed."""
        with mapped(f"listing {kind}s in {namespace}"):
            if kind == ARGO_KIND:
                listing = self._custom.list_namespaced_custom_object(*ARGO[:2], namespace, ARGO[2])
            else:
                method = getattr(self._apps, f"list_namespaced_{_suffix(kind)}")
                listing = _json(method(namespace, _preload_content=False))
        return [{**item, "kind": kind} for item in cast(dict[str, Any], listing).get("items") or []]

    def get(self, namespace: str, kind: str, name: str) -> dict[str, Any] | None:
        try:
            with mapped(f"reading {kind} {namespace}/{name}"):
                if kind == ARGO_KIND:
                    raw = self._custom.get_namespaced_custom_object(
                        *ARGO[:2], namespace, ARGO[2], name
                    )
                    return {**cast(dict[str, Any], raw), "kind": kind}
                method = getattr(self._apps, f"read_namespaced_{_suffix(kind)}")
                return {**_json(method(name, namespace, _preload_content=False)), "kind": kind}
        except NotFound:
            return None

    def patch(self, namespace: str, kind: str, name: str, patch: Mapping[str, Any]) -> None:
        with mapped(f"restarting {kind} {namespace}/{name}"):
            if kind == ARGO_KIND:
                self._custom.patch_namespaced_custom_object(
                    *ARGO[:2], namespace, ARGO[2], name, dict(patch)
                )
                return
            method = getattr(self._apps, f"patch_namespaced_{_suffix(kind)}")
            release(method(name, namespace, dict(patch), _preload_content=False))

    def pods(self, namespace: str, selector: Mapping[str, str]) -> list[dict[str, Any]]:
        labels = ",".join(f"{k}={v}" for k, v in sorted(selector.items()))
        with mapped(f"listing pods in {namespace}"):
            listing = _json(
                self._core.list_namespaced_pod(
                    namespace, label_selector=labels, _preload_content=False
                )
            )
        return list(listing.get("items") or [])

    def get_external_secret(self, namespace: str, name: str) -> dict[str, Any] | None:
        try:
            with mapped(f"reading externalsecret {namespace}/{name}"):
                raw = self._custom.get_namespaced_custom_object(
                    GROUP, STORAGE_VERSION, namespace, "externalsecrets", name
                )
        except NotFound:
            return None
        return cast(dict[str, Any], raw)

    def list_external_secrets(self) -> list[dict[str, Any]]:
        if not self._namespaces:
            with mapped("listing externalsecrets"):
                listing = self._custom.list_cluster_custom_object(
                    GROUP, STORAGE_VERSION, "externalsecrets"
                )
            return list(cast(dict[str, Any], listing).get("items") or [])
        found: list[dict[str, Any]] = []
        for namespace in self._namespaces:
            with mapped(f"listing externalsecrets in {namespace}"):
                listing = self._custom.list_namespaced_custom_object(
                    GROUP, STORAGE_VERSION, namespace, "externalsecrets"
                )
            found += cast(dict[str, Any], listing).get("items") or []
        return found

    def patch_external_secret_status(
        self, namespace: str, name: str, status: Mapping[str, Any]
    ) -> None:
        """A merge patch of the status subresource: only the keys given change."""
        with mapped(f"updating status of externalsecret {namespace}/{name}"):
            self._custom.patch_namespaced_custom_object_status(
                GROUP, STORAGE_VERSION, namespace, "externalsecrets", name, {"status": dict(status)}
            )
