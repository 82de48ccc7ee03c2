"""A label-selected list-then-watch of Secrets, so the operator sees only the Secrets it manages
(kopf cannot select server-side, and would stream every Secret in the cluster); and of
ConfigMaps, the targets of spec.target.manifest, when generic targets are allowed."""

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


def _functions(core: client.CoreV1Api, resource: str) -> tuple[Any, Any]:
    """(namespaced list, list across namespaces) for "secrets" or "configmaps"."""
    if resource == "configmaps":
        return core.list_namespaced_config_map, core.list_config_map_for_all_namespaces
    return core.list_namespaced_secret, core.list_secret_for_all_namespaces


def _list(
    core: client.CoreV1Api,
    namespace: str | None,
    selector: str,
    handler: Handler,
    resource: str = "secrets",
) -> str:
    namespaced, everywhere = _functions(core, resource)
    token: str | None = None
    while True:
        kwargs: dict[str, Any] = {
            "label_selector": selector,
            "limit": PAGE,
            "_continue": token,
            "_preload_content": False,
        }
        with mapped(f"listing managed {resource}"):
            response: Any = namespaced(namespace, **kwargs) if namespace else everywhere(**kwargs)
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
    *,
    resource: str = "secrets",
) -> None:
    """List (paginated), then watch from that version; relist when the version expires."""
    core = client.CoreV1Api(api)
    namespaced, everywhere = _functions(core, resource)
    while not stop.is_set():
        try:
            version = _list(core, namespace, selector, handler, resource)
            streamer: Any = watch.Watch()  # type: ignore[no-untyped-call]
            function = namespaced if namespace else everywhere
            args = (namespace,) if namespace else ()
            # Mapped too: an apiserver that stops mid-stream ends it with a urllib3 error, which
            # would otherwise end this thread, and drift would go unseen until a restart.
            with mapped(f"watching managed {resource}"):
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
            reason = type(exc).__name__
            log.warning(f"watch of managed {resource} restarts", extra={"reason": reason})
            stop.wait(1.0)
