"""The kopf registrations. Event handlers only: kopf writes no diff-base annotations, adds no
finalizers and keeps no per-object tasks for them (our one finalizer, on ExternalSecrets whose
leases are revoked on deletion, is reconcile/lease_keeper.py's).
ExternalSecrets and managed Secrets are not watched through kopf at all, but by our own raw
list-then-watch threads (secretsync.kube.watch, started by operator.app): kopf would stream
every Secret in the cluster, and its per-event machinery was a quarter of the operator's CPU
with thousands of ExternalSecrets."""

from __future__ import annotations

import dataclasses
import logging
import os
from collections.abc import Collection, Iterable, Mapping
from typing import Any

import kopf

from secretsync.api.crds import GROUP, STORAGE_VERSION
from secretsync.api.unserved import V1ALPHA1
from secretsync.operator.controller import Controller
from secretsync.operator.scope import CLUSTER_KINDS
from secretsync.operator.telemetry import Health

log = logging.getLogger(__name__)


class NoDiffBase(kopf.DiffBaseStorage):
    """No diff-base: we register no change handlers, the only ones kopf diffs for, yet its
    default storage deep-copies every object and looks up its annotation on every event. An
    empty essence, old and new, gives the same diff, empty, at no cost; nothing is stored."""

    def build(
        self, *, body: kopf.Body, extra_fields: Iterable[kopf.FieldSpec] | None = None
    ) -> kopf.BodyEssence:
        return kopf.BodyEssence()

    def fetch(self, *, body: kopf.Body) -> kopf.BodyEssence | None:
        return kopf.BodyEssence()

    def store(self, *, body: kopf.Body, patch: kopf.Patch, essence: kopf.BodyEssence) -> None:
        return None


def build_registry(
    controller: Controller,
    health: Health,
    kubeconfig: str | None,
    workers: int,
    cluster_kinds: Collection[str] = CLUSTER_KINDS,
) -> kopf.OperatorRegistry:
    """`cluster_kinds`: the cluster-scoped kinds RBAC lets us list and watch (operator.scope);
    a handler for any other would be a watch kopf retries with tracebacks, then drops."""
    registry = kopf.OperatorRegistry()
    # kopf lists namespaces and watches CRDs to follow changes; unless both are allowed it
    # keeps to the namespaces it was given and the kinds found at startup, without warnings.
    scan = {"namespaces", "customresourcedefinitions"} <= set(cluster_kinds)

    @kopf.on.startup(registry=registry)
    def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
        # Our own Events carry the real cause; kopf's would be one more POST per object.
        settings.posting.enabled = False
        settings.persistence.diffbase_storage = NoDiffBase()
        settings.execution.max_workers = workers
        settings.watching.server_timeout = 300
        settings.watching.client_timeout = 330
        settings.networking.request_timeout = 60
        settings.scanning.disabled = not scan

    @kopf.on.login(registry=registry)
    def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
        if (
            kubeconfig
            or os.environ.get("KUBECONFIG")
            or not os.environ.get("KUBERNETES_SERVICE_HOST")
        ):
            return kopf.login_with_kubeconfig(**kwargs)
        info = kopf.login_with_service_account(**kwargs)
        return (
            None
            if info is None
            else dataclasses.replace(info, server=in_cluster_server(os.environ))
        )

    @kopf.on.event(GROUP, STORAGE_VERSION, "secretstores", registry=registry)
    async def secret_store(event: kopf.RawEvent, **_: Any) -> None:
        controller.on_store(event.get("type"), {**event["object"], "kind": "SecretStore"})

    async def cluster_secret_store(event: kopf.RawEvent, **_: Any) -> None:
        controller.on_store(event.get("type"), {**event["object"], "kind": "ClusterSecretStore"})

    async def cluster_external_secret(event: kopf.RawEvent, **_: Any) -> None:
        controller.on_cluster_external_secret(event.get("type"), event["object"])

    # Run when their stores are ours (operator/pushes.py); a ClusterPushSecret makes PushSecrets.
    @kopf.on.event(GROUP, V1ALPHA1, "pushsecrets", registry=registry)
    async def push_secret(event: kopf.RawEvent, **_: Any) -> None:
        controller.on_push_secret(event.get("type"), {**event["object"], "kind": "PushSecret"})

    async def cluster_push_secret(event: kopf.RawEvent, **_: Any) -> None:
        raw = {**event["object"], "kind": "ClusterPushSecret"}
        controller.on_push_secret(event.get("type"), raw)

    async def namespace(event: kopf.RawEvent, **_: Any) -> None:
        controller.on_namespace(event.get("type"))

    cluster_handlers: dict[str, tuple[str, str, Any]] = {
        "clustersecretstores": (GROUP, STORAGE_VERSION, cluster_secret_store),
        "clusterexternalsecrets": (GROUP, STORAGE_VERSION, cluster_external_secret),
        "clusterpushsecrets": (GROUP, V1ALPHA1, cluster_push_secret),
        "namespaces": ("", "v1", namespace),
    }
    for plural, (group, version, handler) in cluster_handlers.items():
        if plural in cluster_kinds:
            kopf.on.event(group, version, plural, registry=registry)(handler)

    @kopf.on.probe(id="alive", registry=registry)
    def alive(**_: Any) -> bool:
        return health.alive()

    return registry


def in_cluster_server(environ: Mapping[str, str]) -> str:
    """The apiserver a pod reaches, from the variables the kubelet sets, as client-go's
    InClusterConfig reads them. kopf assumes https://kubernetes.default.svc, which needs cluster
    DNS: a hostNetwork pod, or a container run outside a cluster, cannot resolve it."""
    host = environ["KUBERNETES_SERVICE_HOST"]
    port = environ.get("KUBERNETES_SERVICE_PORT") or "443"
    return f"https://[{host}]:{port}" if ":" in host else f"https://{host}:{port}"
