"""A label-selected list-then-watch of Secrets, so the operator sees only the Secrets it manages
(kopf cannot select server-side, and would stream every Secret in the cluster)."""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Callable
from typing import Any

from kubernetes import client, watch
from kubernetes.client.exceptions import ApiException

from secretsync.errors import SecretSyncError
from secretsync.kube.client import mapped

log = logging.getLogger(__name__)
PAGE = 500
Handler = Callable[[str, dict[str, Any]], None]
"""(event type: ADDED, MODIFIED or DELETED; the Secret as a raw dict)."""


def _list(core: client.CoreV1Api, namespace: str | None, selector: str, handler: Handler) -> str:
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {
            "label_selector": selector,
            "limit": PAGE,
            "_continue": token,
            "_preload_content": False,
        }
        with mapped("listing managed secrets"):
            response: Any = (
                core.list_namespaced_secret(namespace, **kwargs)
                if namespace
                else core.list_secret_for_all_namespaces(**kwargs)
            )
        page = json.loads(response.data)
        for item in page.get("items") or []:
            handler("ADDED", item)
        token = page["metadata"].get("continue")
        if not token:
            return str(page["metadata"]["resourceVersion"])


def run(
    api: client.ApiClient,
    namespace: str | None,
    selector: str,
    handler: Handler,
    stop: threading.Event,
) -> None:
    """List (paginated), then watch from that version; relist when the version expires."""
    core = client.CoreV1Api(api)
    while not stop.is_set():
        try:
            version = _list(core, namespace, selector, handler)
            streamer: Any = watch.Watch()  # type: ignore[no-untyped-call]
            function = (
                core.list_namespaced_secret if namespace else core.list_secret_for_all_namespaces
            )
            args = (namespace,) if namespace else ()
            for event in streamer.stream(
                function,
                *args,
                label_selector=selector,
                resource_version=version,
                timeout_seconds=300,
                allow_watch_bookmarks=True,
            ):
                if stop.is_set():
                    streamer.stop()
                    break
                kind = event["type"]
                if kind in ("ADDED", "MODIFIED", "DELETED"):
                    handler(kind, event["raw_object"])
        except (ApiException, SecretSyncError) as exc:
            log.warning("watch of managed secrets restarts", extra={"reason": type(exc).__name__})
            stop.wait(1.0)
