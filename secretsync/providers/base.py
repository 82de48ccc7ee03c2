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


@dataclasses.dataclass(frozen=True)
class PushRef:
    """Where a PushSecret entry goes (ESO's PushSecretRemoteRef), with its provider metadata."""

    remote_key: str
    property: str | None = None
    metadata: object = dataclasses.field(default=None, compare=False, hash=False)

    def describe(self) -> str:
        return f"{self.remote_key}/{self.property}" if self.property else self.remote_key


@dataclasses.dataclass(frozen=True)
class RemoteState:
    """What a store holds at a PushRef, never the value itself."""

    found: bool
    """The remote secret (or parameter) exists."""

    managed: bool
    """It carries ESO's managed-by marker (custom metadata, tags): pushed by an operator of
    this API, so it may be overwritten or deleted."""

    has_value: bool
    """The value at the ref exists: the secret, or its property when one is named."""


class ForeignValue(SecretSyncError):
    """The remote secret exists without the managed-by marker: never overwritten."""


@runtime_checkable
class Writer(Provider, Protocol):
    """A store that PushSecrets may write to (Vault/OpenBao KV, AWS Secrets Manager, SSM
    Parameter Store). The read-only ones (SOPS in Git, files) do not implement it."""

    def remote(self, ref: PushRef) -> RemoteState: ...

    def set(self, ref: PushRef, value: bytes) -> bool:
        """Write the value (merged into the secret as `ref.property` when named) with the
        marker; False when it held this value already. Raises ForeignValue for a remote
        secret without the marker."""
        ...

    def delete(self, ref: PushRef) -> bool:
        """Remove the value (only the property, when named, while others remain); False when
        it is absent or not ours (left alone, as ESO leaves it)."""
        ...
