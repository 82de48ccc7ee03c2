"""List-then-watch loops as raw JSON, each on a thread of its own:
- the Secrets (and ConfigMaps, the targets of spec.target.manifest) the operator manages,
  label-selected server-side, where kopf would stream every Secret in the cluster;
- ExternalSecrets, the kind with thousands of objects and events: kopf's per-event machinery
  (causes, handler invocation, its asyncio queues) was a quarter of the operator's CPU for a
  handler that only puts the object in the cache and queues it.

Lists and watches go through kube.client's raw requests: the generated client's Watch
json-dumps every event's object and parses it back into a model (V1Secret) that nothing reads.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

from kubernetes import client

from secretsync.errors import AccessDenied, NotFound, SecretSyncError
from secretsync.kube.client import Expired, request_json, resource_path, watch_events

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


@dataclasses.dataclass(frozen=True)
class Resource:
    """A kind to list and watch: the API client, and the collection's path segments before
    and after the namespace (`/api/v1` + `/namespaces/<ns>` + `/secrets`)."""

    api: client.ApiClient
    what: str
    """For logs and errors: "managed secrets", "externalsecrets"."""
    prefix: tuple[str, ...]
    plural: str

    def path(self, namespace: str | None) -> str:
        where = ("namespaces", namespace) if namespace else ()
        return resource_path(*self.prefix, *where, self.plural)


def secrets(api: client.ApiClient) -> Resource:
    return Resource(api, "managed secrets", ("api", "v1"), "secrets")


def config_maps(api: client.ApiClient) -> Resource:
    return Resource(api, "managed configmaps", ("api", "v1"), "configmaps")


def custom(api: client.ApiClient, group: str, version: str, plural: str) -> Resource:
    return Resource(api, plural, ("apis", group, version), plural)


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
        query: dict[str, str | int] = {"limit": PAGE}
        if selector:
            query["labelSelector"] = selector
        if token:
            query["continue"] = token
        page = request_json(
            resource.api,
            "GET",
            resource.path(namespace),
            what=f"listing {resource.what}",
            query=query,
        )
        for item in page.get("items") or []:
            listed.add(key_of(item))
            _deliver(handler, "ADDED", item, resource)
        token = page["metadata"].get("continue")
        if not token:
            return str(page["metadata"]["resourceVersion"]), listed


def events(
    resource: Resource, namespace: str | None, selector: str, version: str
) -> Iterator[dict[str, Any]]:
    """One watch from `version` until the apiserver ends it: its events, BOOKMARKs included.
    Expired (410) means list again; a stream that breaks (an apiserver stopping, a connection
    silent for longer than any watch lasts) is Unavailable."""
    query: dict[str, str | int | bool] = {
        "resourceVersion": version,
        "timeoutSeconds": WATCH_SECONDS,
        "allowWatchBookmarks": True,
    }
    if selector:
        query["labelSelector"] = selector
    return watch_events(
        resource.api,
        resource.path(namespace),
        query,
        what=f"watching {resource.what}",
        timeout=(CONNECT_SECONDS, WATCH_SECONDS + SILENCE_SECONDS),
    )


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
