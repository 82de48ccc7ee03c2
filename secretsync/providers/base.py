"""The one small interface every store provider implements, and what a provider is given.

A provider is built once per (store, referent namespace, store resourceVersion) by its factory
and reused across reconciles, so logins and credentials are cached for their whole lifetime
(never one login per reconcile: ESO #376). The operator and `secretsync render` hand it a
`Credentials` implementation: from the cluster, or from the manifests given on the command line.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Iterable, Mapping
from typing import Protocol, runtime_checkable

from secretsync.api.common import SecretKeySelector
from secretsync.api.objects import SecretStore
from secretsync.api.sources import Find, RemoteRef
from secretsync.errors import ConfigError, NotFound, SecretSyncError


class Credentials(Protocol):
    """Reads the Kubernetes objects a store refers to. Implementations raise NotFound,
    AccessDenied or Unavailable from secretsync.errors."""

    def secret_data(self, namespace: str, name: str) -> Mapping[str, bytes]: ...

    def config_map_data(self, namespace: str, name: str) -> Mapping[str, str]: ...

    def service_account_token(
        self, namespace: str, name: str, audiences: tuple[str, ...], seconds: int
    ) -> str: ...

    def service_account_annotations(self, namespace: str, name: str) -> Mapping[str, str]: ...


class Telemetry(Protocol):
    """Counts provider API calls (for metrics and for the tests that count them)."""

    def provider_call(self, provider: str, operation: str, ok: bool) -> None: ...


class NoTelemetry:
    def provider_call(self, provider: str, operation: str, ok: bool) -> None:
        return None


@dataclasses.dataclass(frozen=True)
class StoreContext:
    store: SecretStore
    namespace: str
    """The ExternalSecret's namespace: where a SecretStore's references resolve, and where a
    ClusterSecretStore's references without a namespace resolve (referent auth)."""

    credentials: Credentials
    telemetry: Telemetry = dataclasses.field(default_factory=NoTelemetry)

    def ref_namespace(self, explicit: str | None) -> str:
        """A SecretStore may only use its own namespace; a ClusterSecretStore may name one."""
        if explicit and self.store.kind == "ClusterSecretStore":
            return explicit
        return self.namespace

    def secret_value(self, selector: SecretKeySelector, default_key: str | None = None) -> bytes:
        namespace = self.ref_namespace(selector.namespace)
        key = selector.key or default_key
        if key is None:
            raise ConfigError(f"secret {namespace}/{selector.name}: set a key")
        data = self.credentials.secret_data(namespace, selector.name)
        if key not in data:
            raise NotFound(f"secret {namespace}/{selector.name} has no key {key!r}")
        return data[key]


class Provider(Protocol):
    def get(self, ref: RemoteRef) -> bytes:
        """One value; `ref.property` selects a field of a JSON value."""
        ...

    def get_map(self, ref: RemoteRef) -> dict[str, bytes]:
        """Every top-level key of a JSON value (dataFrom.extract), before key conversion."""
        ...

    def find(self, query: Find) -> dict[str, bytes]:
        """Remote name -> whole value, for every secret matching the query (dataFrom.find)."""
        ...

    def version(self, ref: RemoteRef) -> str | None:
        """A cheap probe of the current version, or None when the source cannot tell."""
        ...

    def validate(self) -> None:
        """Prove the store works: reach the source and authenticate, reading no secret.
        Raises the error a sync would meet."""
        ...

    def close(self) -> None: ...


@runtime_checkable
class BatchProvider(Provider, Protocol):
    """A provider that reads many keys in few calls (AWS BatchGetSecretValue, GetParameters)."""

    def get_many(self, refs: Iterable[RemoteRef]) -> dict[RemoteRef, bytes | SecretSyncError]:
        """Values by ref; one key's failure is returned in the dict, not raised."""
        ...


ProviderFactory = Callable[[StoreContext], Provider]
