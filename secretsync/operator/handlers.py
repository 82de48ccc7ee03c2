"""The kopf registrations. Event handlers only: kopf writes no diff-base annotations, adds no
finalizers and keeps no per-object tasks for them (reference/rotation-and-scale.md §D3-D4).
Secrets are not watched through kopf at all (see secretsync.kube.watch)."""

from __future__ import annotations

import logging
import os
from typing import Any

import kopf

from secretsync.api.crds import GROUP, STORAGE_VERSION
from secretsync.api.unserved import V1ALPHA1
from secretsync.operator.controller import Controller
from secretsync.operator.telemetry import Health

log = logging.getLogger(__name__)


def build_registry(
    controller: Controller, health: Health, kubeconfig: str | None, workers: int
) -> kopf.OperatorRegistry:
    registry = kopf.OperatorRegistry()

    @kopf.on.startup(registry=registry)
    def configure(settings: kopf.OperatorSettings, **_: Any) -> None:
        # Our own Events carry the real cause; kopf's would be one more POST per object.
        settings.posting.enabled = False
        settings.execution.max_workers = workers
        settings.watching.server_timeout = 300
        settings.watching.client_timeout = 330
        settings.networking.request_timeout = 60

    @kopf.on.login(registry=registry)
    def login(**kwargs: Any) -> kopf.ConnectionInfo | None:
        if (
            kubeconfig
            or os.environ.get("KUBECONFIG")
            or not os.environ.get("KUBERNETES_SERVICE_HOST")
        ):
            return kopf.login_with_kubeconfig(**kwargs)
        return kopf.login_with_service_account(**kwargs)

    @kopf.on.event(GROUP, STORAGE_VERSION, "externalsecrets", registry=registry)
    async def external_secret(event: kopf.RawEvent, **_: Any) -> None:
        controller.on_external_secret(event.get("type"), event["object"])

    @kopf.on.event(GROUP, STORAGE_VERSION, "secretstores", registry=registry)
    async def secret_store(event: kopf.RawEvent, **_: Any) -> None:
        controller.on_store(event.get("type"), {**event["object"], "kind": "SecretStore"})

    @kopf.on.event(GROUP, STORAGE_VERSION, "clustersecretstores", registry=registry)
    async def cluster_secret_store(event: kopf.RawEvent, **_: Any) -> None:
        controller.on_store(event.get("type"), {**event["object"], "kind": "ClusterSecretStore"})

    @kopf.on.event(GROUP, STORAGE_VERSION, "clusterexternalsecrets", registry=registry)
    async def cluster_external_secret(event: kopf.RawEvent, **_: Any) -> None:
        controller.on_cluster_external_secret(event.get("type"), event["object"])

    # Not run yet (issue 13): watched only to say so on the ones that are ours.
    @kopf.on.event(GROUP, V1ALPHA1, "pushsecrets", registry=registry)
    async def push_secret(event: kopf.RawEvent, **_: Any) -> None:
        controller.on_push_secret(event.get("type"), {**event["object"], "kind": "PushSecret"})

    @kopf.on.event(GROUP, V1ALPHA1, "clusterpushsecrets", registry=registry)
    async def cluster_push_secret(event: kopf.RawEvent, **_: Any) -> None:
        raw = {**event["object"], "kind": "ClusterPushSecret"}
        controller.on_push_secret(event.get("type"), raw)

    @kopf.on.event("", "v1", "namespaces", registry=registry)
    async def namespace(event: kopf.RawEvent, **_: Any) -> None:
        controller.on_namespace(event.get("type"))

    @kopf.on.probe(id="alive", registry=registry)
    def alive(**_: Any) -> bool:
        return health.alive()

    return registry
