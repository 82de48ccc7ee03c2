"""The one place that imports the kubernetes client: building API clients, mapping its
exceptions onto secretsync's error hierarchy, and the raw JSON requests of the hot paths.

The generated client costs CPU on every call (argument validation by pydantic, serialising the
parameters and the body, building models), about 8% of the operator's CPU when it made the four
requests of every sync. `request`, `request_json` and `watch_events` send the same requests
through the same ApiClient (its kubeconfig credentials, refreshed token, TLS, pool and proxy)
with none of that, and map failures through the same `failure` as `mapped`."""

from __future__ import annotations

import contextlib
import json
import math
import threading
import time
import typing
from collections.abc import Generator, Iterable, Iterator, Mapping
from typing import Any
from urllib.parse import quote, urlencode

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from urllib3 import Timeout
from urllib3.exceptions import HTTPError

from secretsync.errors import (
    AccessDenied,
    ConfigError,
    Conflict,
    NotFound,
    SecretSyncError,
    Throttled,
    Unavailable,
)

ApiClient = client.ApiClient


class Expired(Unavailable):
    """410 Gone: the resourceVersion a watch started from is older than the apiserver keeps.
    List again and watch from the list's version. An Unavailable, so a caller that does not
    tell it apart retries as before."""


def api_client(
    kubeconfig: str | None = None, context: str | None = None, *, pool_size: int | None = None
) -> client.ApiClient:
    api = _api_client(kubeconfig, context, pool_size)
    _throttle_credential_refresh(api.configuration)
    return api


def _api_client(
    kubeconfig: str | None, context: str | None, pool_size: int | None
) -> client.ApiClient:
    """From a kubeconfig file, else the default kubeconfig, else the in-cluster config.

    `pool_size`: connections kept open to the apiserver for reuse (the client's default is 5
    per CPU). Threads that share the client beyond it each open a connection of their own,
    with a TLS handshake, and close it after one request."""
    # The kubernetes package's config loaders carry no annotations.
    load = config.new_client_from_config
    if kubeconfig:
        try:
            return typing.cast(
                client.ApiClient,
                load(  # type: ignore[no-untyped-call]
                    config_file=kubeconfig,
                    context=context,
                    client_configuration=_pooled(type.__call__(client.Configuration), pool_size),
                ),
            )
        except (config.ConfigException, OSError) as exc:
            raise ConfigError(f"cannot use {kubeconfig}: {exc}", field="--kubeconfig") from exc
    try:
        return typing.cast(
            client.ApiClient,
            load(  # type: ignore[no-untyped-call]
                context=context,
                client_configuration=_pooled(type.__call__(client.Configuration), pool_size),
            ),
        )
    except config.ConfigException:
        configuration = _pooled(client.Configuration(), pool_size)
        try:
            config.load_incluster_config(client_configuration=configuration)  # type: ignore[no-untyped-call]
        except config.ConfigException as exc:
            raise ConfigError(
                "no kubeconfig ($KUBECONFIG or ~/.kube/config) and not running in a pod; "
                "pass the cluster's kubeconfig file",
                field="--kubeconfig",
            ) from exc
        return client.ApiClient(configuration)


CREDENTIAL_REFRESH_SECONDS = 1.0
"""How often the kubeconfig's credential hook runs at most. The kubernetes client runs it before
every request; it rebuilds the configuration each time (the host setter scans the environment
for proxies), about 5% of the operator's CPU. It renews a token 5 minutes before its expiry
(kube_config's skew) or, in a pod, once a minute: a second later changes nothing."""


def _throttle_credential_refresh(configuration: client.Configuration) -> None:
    hook = configuration.refresh_api_key_hook
    if hook is None:
        return
    lock = threading.Lock()
    last = -math.inf

    def refresh(target: client.Configuration) -> None:
        nonlocal last
        with lock:
            now = time.monotonic()
            if now - last < CREDENTIAL_REFRESH_SECONDS:
                return
            last = now
            hook(target)
            # The loader's hook sets itself again on every run.
            target.refresh_api_key_hook = refresh

    configuration.refresh_api_key_hook = refresh


def _pooled(configuration: client.Configuration, size: int | None) -> client.Configuration:
    """`configuration` as new_client_from_config starts it (type.__call__ skips the metaclass
    that copies a process-wide default), with our pool size."""
    if size is not None:
        configuration.connection_pool_maxsize = size
    return configuration


def release(response: typing.Any) -> None:
    """Hand the connection of a response we do not read back to the pool. A request made with
    _preload_content=False holds its connection until its body is read: left unread, the
    connection is never reused and the next request opens (and TLS-handshakes) another."""
    response.drain_conn()
    response.release_conn()


def apiserver_message(body: bytes | str | None, fallback: str) -> str:
    """The `message` of the Status object an apiserver answers a failure with, else `fallback`
    (the HTTP reason). The message names the object and the rule it broke (a 422 quotes the
    offending name, label or key, never a Secret's values, which the apiserver does not
    validate); nothing else of the body is kept."""
    with contextlib.suppress(ValueError, TypeError):
        return status_message(json.loads(body or "{}"), fallback)
    return fallback


def status_message(status: object, fallback: str) -> str:
    """`apiserver_message` of a Status already parsed (a watch's ERROR event carries one)."""
    message = status.get("message") if isinstance(status, dict) else None
    return message if isinstance(message, str) and message else fallback


_BY_STATUS: dict[int, type[SecretSyncError]] = {
    404: NotFound,
    401: AccessDenied,
    403: AccessDenied,
    409: Conflict,
    410: Expired,
    400: ConfigError,
    422: ConfigError,
    429: Throttled,
}


def failure(what: str, status: int, message: str) -> SecretSyncError:
    """The error for an apiserver answer `status` (any other is Unavailable), for the generated
    client (`mapped`) and the raw requests alike, so the two cannot diverge. `what` says what
    was attempted."""
    return _BY_STATUS.get(status, Unavailable)(f"{what}: {message}")


def _no_answer(what: str, exc: HTTPError) -> Unavailable:
    return Unavailable(f"{what}: the API server did not answer ({type(exc).__name__})")


@contextlib.contextmanager
def mapped(what: str) -> Iterator[None]:
    """Translate kubernetes client failures into our hierarchy, naming `what` was attempted."""
    try:
        yield
    except ApiException as exc:
        reason = str(exc.reason)
        raise failure(what, int(exc.status or 0), apiserver_message(exc.body, reason)) from exc
    except HTTPError as exc:
        raise _no_answer(what, exc) from exc


JSON = "application/json"
MERGE_PATCH = "application/merge-patch+json"
"""RFC 7386: what the generated client sends for a dict body to a custom object's status."""
AUTH_SETTINGS = ["BearerToken"]
"""The auth settings every generated API method names: the kubeconfig's (or the pod's) token."""
Query = Mapping[str, str | int | bool]


def resource_path(*segments: str) -> str:
    """`/api/v1/namespaces/ns/secrets/name` from its segments, each percent-encoded whole, as
    the generated client encodes path parameters."""
    return "".join("/" + quote(segment, safe="") for segment in segments)


def query_string(query: Query | Iterable[tuple[str, str | int | bool]]) -> str:
    """Booleans as the apiserver reads them (`true`), everything else as text."""
    pairs = query.items() if isinstance(query, Mapping) else query
    return urlencode(
        [
            (key, ("true" if value else "false") if isinstance(value, bool) else str(value))
            for key, value in pairs
        ]
    )


def _send(
    api: client.ApiClient,
    method: str,
    path: str,
    *,
    query: Query | None = None,
    body: Any = None,
    content_type: str = JSON,
    timeout: Timeout | None = None,
) -> Any:
    """Open the request, as the generated client does it, and return urllib3's response with
    its body unread."""
    headers: dict[str, str] = {**api.default_headers, "Accept": JSON}
    if api.cookie:
        headers["Cookie"] = api.cookie
    payload = None
    if body is not None:
        headers["Content-Type"] = content_type
        payload = json.dumps(body, separators=(",", ":")).encode()
    auth_query: list[tuple[str, str]] = []
    # The client's own way to the credentials: asking for the key runs the (throttled)
    # refresh hook, so a renewed token is the one sent.
    api.update_params_for_auth(headers, auth_query, AUTH_SETTINGS, path, method, body)
    url = api.configuration.host + path
    pairs = [*(query or {}).items(), *auth_query]
    if pairs:
        url += "?" + query_string(pairs)
    return api.rest_client.pool_manager.urlopen(
        method, url, body=payload, headers=headers, preload_content=False, timeout=timeout
    )


def request(
    api: client.ApiClient,
    method: str,
    path: str,
    *,
    what: str,
    query: Query | None = None,
    body: Any = None,
    content_type: str = JSON,
) -> bytes:
    """Send one request and return the answer's body; any answer but 2xx raises `failure`'s
    error, naming `what` was attempted. The body is always read to its end, so the connection
    goes back to the pool for the next request instead of being closed."""
    try:
        response = _send(api, method, path, query=query, body=body, content_type=content_type)
        try:
            data = bytes(response.read())
        finally:
            response.release_conn()
    except HTTPError as exc:
        raise _no_answer(what, exc) from exc
    if not 200 <= response.status <= 299:
        raise failure(what, response.status, apiserver_message(data, str(response.reason)))
    return data


def request_json(
    api: client.ApiClient,
    method: str,
    path: str,
    *,
    what: str,
    query: Query | None = None,
    body: Any = None,
    content_type: str = JSON,
) -> dict[str, Any]:
    """`request`, the answer parsed: the object exactly as the apiserver sent it."""
    answer = json.loads(
        request(api, method, path, what=what, query=query, body=body, content_type=content_type)
    )
    if not isinstance(answer, dict):
        raise Unavailable(f"{what}: the API server answered with no object")
    return answer


def watch_events(
    api: client.ApiClient,
    path: str,
    query: Query | None = None,
    *,
    what: str,
    timeout: tuple[float, float] | None = None,
) -> Generator[dict[str, Any]]:
    """Watch the collection at `path` (`query` as for a list, e.g. labelSelector,
    resourceVersion, timeoutSeconds, allowWatchBookmarks) and yield each event as the apiserver
    sends it: `{"type": "ADDED" | "MODIFIED" | "DELETED" | "BOOKMARK", "object": {...}}`.

    Ends when the apiserver ends the watch (timeoutSeconds). An ERROR event, or a failed
    answer to the request, raises `failure`'s error: `Expired` for 410 Gone, on which the
    caller lists again and watches from the list's version. A connection lost mid-stream, or
    `timeout` = (connect, read) seconds passed connecting or with no byte read, raises
    Unavailable. A watch read to its end gives its connection back to the pool; one left
    early (the generator closed) closes it."""
    limits = None if timeout is None else Timeout(connect=timeout[0], read=timeout[1])
    try:
        response = _send(api, "GET", path, query={**(query or {}), "watch": True}, timeout=limits)
    except HTTPError as exc:
        raise _no_answer(what, exc) from exc
    finished = False
    try:
        if not 200 <= response.status <= 299:
            data = bytes(response.read())
            finished = True
            raise failure(what, response.status, apiserver_message(data, str(response.reason)))
        for line in lines(response.stream(None)):
            event = json.loads(line)
            if event.get("type") == "ERROR":
                status = event.get("object") or {}
                reason = status_message(status, "the watch failed")
                raise failure(what, int(status.get("code") or 0), reason)
            yield event
        finished = True
    except HTTPError as exc:
        raise _no_answer(what, exc) from exc
    finally:
        if not finished:
            # Unread events would be taken for the next request's answer.
            response.close()
        response.release_conn()


def lines(chunks: Iterable[bytes]) -> Iterator[bytes]:
    """Newline-delimited records from chunks cut anywhere: a record split across chunks is
    joined, several in one chunk are separated, blank lines are skipped."""
    pending: list[bytes] = []  # the record being received, in pieces (joined once, not per chunk)
    for chunk in chunks:
        *ends, rest = chunk.split(b"\n")
        for end in ends:
            line = b"".join([*pending, end])
            pending = []
            if line.strip():
                yield line
        if rest:
            pending.append(rest)
    line = b"".join(pending)
    if line.strip():
        yield line
