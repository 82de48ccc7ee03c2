"""The one place that imports the kubernetes client: building API clients and mapping its
exceptions onto secretsync's error hierarchy."""

from __future__ import annotations

import contextlib
import json
import math
import threading
import time
import typing
from collections.abc import Iterator

from kubernetes import client, config
from kubernetes.client.exceptions import ApiException
from urllib3.exceptions import HTTPError

from secretsync.errors import (
    AccessDenied,
    ConfigError,
    NotFound,
    SecretSyncError,
    Throttled,
    Unavailable,
)

ApiClient = client.ApiClient


class Conflict(SecretSyncError):
    """The object changed (or already exists) since we read it; re-read and retry at once."""


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


def _reason(exc: ApiException) -> str:
    # The apiserver's message names the object and the rule; it never carries Secret data.
    with contextlib.suppress(ValueError, TypeError):
        return str(json.loads(exc.body or "{}").get("message") or exc.reason)
    return str(exc.reason)


@contextlib.contextmanager
def mapped(what: str) -> Iterator[None]:
    """Translate kubernetes client failures into our hierarchy, naming `what` was attempted."""
    try:
        yield
    except ApiException as exc:
        message = f"{what}: {_reason(exc)}"
        if exc.status == 404:
            raise NotFound(message) from exc
        if exc.status in (401, 403):
            raise AccessDenied(message) from exc
        if exc.status == 409:
            raise Conflict(message) from exc
        if exc.status in (400, 422):
            raise ConfigError(message) from exc
        if exc.status == 429:
            raise Throttled(message) from exc
        raise Unavailable(message) from exc
    except HTTPError as exc:
        raise Unavailable(f"{what}: the API server did not answer ({type(exc).__name__})") from exc
