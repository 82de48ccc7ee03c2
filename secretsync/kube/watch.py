"""List-then-watch loops as raw JSON, each on a thread of its own:
- the Secrets (and ConfigMaps, the targets of spec.target.manifest) the operator manages,
  label-selected server-side, where kopf would stream every Secret in the cluster;
- ExternalSecrets, the kind with thousands of objects and events: kopf's per-event machinery
  (causes, handler invocation, its asyncio queues) was a quarter of the operator's CPU for a
  handler that only puts the object in the cache and queues it.

The generated client's Watch is not used: it json-dumps every event's object and parses it back
into a model (V1Secret) that nothing reads.
"""

from __future__ import annotations

import dataclasses
import functools
import json
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

from kubernetes import client
from kubernetes.client.exceptions import ApiException
from kubernetes.watch.watch import iter_resp_lines

from secretsync.errors import AccessDenied, NotFound, SecretSyncError, Unavailable
from secretsync.kube.client import mapped

log = logging.getLogger(__name__)
PAGE = 500
WATCH_SECONDS = 300
"""The apiserver ends each watch after this (with jitter); it is resumed from the last version
seen, without a new list."""
CONNECT_SECONDS = 10
SILENCE_SECONDS = 60
"""Beyond WATCH_SECONDS, how long a watch may stay silent before its connection is taken for
dead (a half-open TCP connection after a network partition never ends on its own)."""
RETRY_SECONDS = 1.0
MAX_RETRY_SECONDS = 30.0
Handler = Callable[[str, dict[str, Any]], None]
"""(event type: ADDED, MODIFIED or DELETED; the object as a raw dict)."""
ObjectKey = tuple[str, str]


class Expired(SecretSyncError):
    """The version to watch from is older than the apiserver keeps (410 Gone): list again."""


@dataclasses.dataclass(frozen=True)
class Resource:
    """A kind to list and watch: its generated list functions, in a namespace and across all."""

    what: str
    """For logs and errors: "managed secrets", "externalsecrets"."""
    namespaced: Callable[..., Any]
    everywhere: Callable[..., Any]


def secrets(api: client.ApiClient) -> Resource:
    core = client.CoreV1Api(api)
    return Resource(
        "managed secrets", core.list_namespaced_secret, core.list_secret_for_all_namespaces
    )


def config_maps(api: client.ApiClient) -> Resource:
    core = client.CoreV1Api(api)
    return Resource(
        "managed configmaps",
        core.list_namespaced_config_map,
        core.list_config_map_for_all_namespaces,
    )


def custom(api: client.ApiClient, group: str, version: str, plural: str) -> Resource:
    custom_api = client.CustomObjectsApi(api)

    def namespaced(namespace: str, **kwargs: Any) -> Any:
        return custom_api.list_namespaced_custom_object(group, version, namespace, plural, **kwargs)

    def everywhere(**kwargs: Any) -> Any:
        return custom_api.list_cluster_custom_object(group, version, plural, **kwargs)

    return Resource(plural, namespaced, everywhere)


def _call(resource: Resource, namespace: str | None, **kwargs: Any) -> Any:
    kwargs["_preload_content"] = False
    if namespace:
        return resource.namespaced(namespace, **kwargs)
    return resource.everywhere(**kwargs)


def key_of(raw: dict[str, Any]) -> ObjectKey:
    meta = raw.get("metadata") or {}
    return (str(meta.get("namespace") or ""), str(meta.get("name") or ""))


def vanished(before: set[ObjectKey], listed: set[ObjectKey]) -> list[dict[str, Any]]:
    """Objects known before a relist and absent from it: deleted while no watch was open, so
    no DELETED event will come for them. Each as the minimal object its DELETED stands for."""
    return [
        {"metadata": {"namespace": namespace, "name": name}}
        for namespace, name in sorted(before - listed)
    ]


def _list(
    resource: Resource, namespace: str | None, selector: str, handler: Handler
) -> tuple[str, set[ObjectKey]]:
    """Every object, as ADDED, page by page: (the list's resourceVersion, the keys listed)."""
    token: str | None = None
    listed: set[ObjectKey] = set()
    while True:
        with mapped(f"listing {resource.what}"):
            response = _call(
                resource, namespace, label_selector=selector, limit=PAGE, _continue=token
            )
            page = json.loads(response.data)
        for item in page.get("items") or []:
            listed.add(key_of(item))
            _deliver(handler, "ADDED", item, resource)
        token = page["metadata"].get("continue")
        if not token:
            return str(page["metadata"]["resourceVersion"]), listed


def events(
    resource: Resource, namespace: str | None, selector: str, version: str
) -> Iterator[dict[str, Any]]:
    """One watch from `version` until the apiserver ends it: its events as parsed JSON,
    BOOKMARKs included. A 410 (in the stream or as the answer) is Expired; a stream that
    breaks (an apiserver stopping, a connection silent for longer than any watch lasts) is
    Unavailable."""
    with mapped(f"watching {resource.what}"):
        try:
            response = _call(
                resource,
                namespace,
                label_selector=selector,
                resource_version=version,
                watch=True,
                timeout_seconds=WATCH_SECONDS,
                allow_watch_bookmarks=True,
                _request_timeout=(CONNECT_SECONDS, WATCH_SECONDS + SILENCE_SECONDS),
            )
        except ApiException as exc:
            if exc.status == 410:
                raise Expired(f"watching {resource.what}: version {version} expired") from exc
            raise
        try:
            lines: Iterator[str] = iter_resp_lines(response)  # type: ignore[no-untyped-call]
            for line in lines:
                if line and not line.isspace():
                    yield _checked(json.loads(line), resource, version)
        finally:
            response.close()
            response.release_conn()


def _checked(event: dict[str, Any], resource: Resource, version: str) -> dict[str, Any]:
    if event.get("type") != "ERROR":
        return event
    status = event.get("object") or {}
    if status.get("code") == 410:
        raise Expired(f"watching {resource.what}: version {version} expired")
    raise Unavailable(f"watching {resource.what}: {status.get('message') or status.get('reason')}")


@dataclasses.dataclass
class _Position:
    version: str
    known: set[ObjectKey]
    """Keys listed or seen since, so that a relist can tell which vanished meanwhile."""


class _Failures:
    """A failure streak is logged once, when it starts, and its end once: an apiserver down
    for an hour, or a CRD not yet installed, is one warning, not one a second. Retries back
    off to MAX_RETRY_SECONDS."""

    def __init__(self, what: str) -> None:
        self.what, self.streak = what, 0

    def failed(self, doing: str, exc: SecretSyncError, stop: threading.Event) -> None:
        self.streak += 1
        if self.streak == 1:
            hint = _HINTS.get(type(exc), "")
            # Ours are redacted, and an apiserver's answer to a list or watch carries no data.
            log.warning(
                f"{doing} {self.what} failed; retrying until it works{hint}",
                extra={"reason": type(exc).__name__, "error": str(exc)},
            )
        stop.wait(min(MAX_RETRY_SECONDS, RETRY_SECONDS * 2 ** (self.streak - 1)))

    def ok(self) -> None:
        if self.streak:
            log.info(f"watching {self.what} again after {self.streak} failed attempts")
        self.streak = 0


_HINTS: dict[type[SecretSyncError], str] = {
    NotFound: " (is the CRD installed? kubectl apply -k crds/)",
    AccessDenied: " (this operator's RBAC must let it list and watch them: deploy/rbac)",
}


def run(
    resource: Resource,
    namespace: str | None,
    selector: str,
    handler: Handler,
    stop: threading.Event,
) -> None:
    """List (paginated), then watch from that version. A watch that ends or breaks is resumed
    from the last version seen, without a new list; only an expired version lists again.
    Objects deleted while no watch was open are handed over as DELETED after the list that
    misses them."""
    known: set[ObjectKey] = set()
    failures = _Failures(resource.what)
    while not stop.is_set():
        try:
            version, listed = _list(resource, namespace, selector, handler)
        except SecretSyncError as exc:
            failures.failed("listing", exc, stop)
            continue
        failures.ok()
        for gone in vanished(known, listed):
            _deliver(handler, "DELETED", gone, resource)
        position = _Position(version, listed)
        known = position.known
        follow = functools.partial(_follow, resource, namespace, selector, handler)
        while not stop.is_set():
            try:
                follow(stop=stop, position=position)
                failures.ok()
            except Expired:
                log.info(f"watch of {resource.what} expired; listing again")
                break
            except SecretSyncError as exc:
                failures.failed("watching", exc, stop)


def _follow(
    resource: Resource,
    namespace: str | None,
    selector: str,
    handler: Handler,
    *,
    stop: threading.Event,
    position: _Position,
) -> None:
    for event in events(resource, namespace, selector, position.version):
        if stop.is_set():
            return
        kind, raw = event.get("type"), event.get("object") or {}
        found = (raw.get("metadata") or {}).get("resourceVersion")
        if found:
            position.version = str(found)
        if kind == "DELETED":
            position.known.discard(key_of(raw))
        elif kind in ("ADDED", "MODIFIED"):
            position.known.add(key_of(raw))
        else:
            continue  # BOOKMARK: only its version
        _deliver(handler, str(kind), raw, resource)


def _deliver(handler: Handler, kind: str, raw: dict[str, Any], resource: Resource) -> None:
    """A handler's bug is logged with its traceback and the watch goes on: one bad object
    must not stop every other from being seen."""
    try:
        handler(kind, raw)
    except Exception:
        log.exception(f"handling an event of {resource.what} failed", extra={"reason": kind})
