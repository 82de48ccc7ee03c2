"""One sync's worth of decisions for an ExternalSecret: find its stores, read through cached
providers, resolve and template the data. The operator keeps one Resolver for its lifetime;
`secretsync render` makes one per run."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Mapping
from typing import Protocol

from secretsync import limits
from secretsync.api.objects import CLUSTER_SECRET_STORE, ExternalSecret, SecretStore
from secretsync.api.sources import GeneratorRef, StoreKind, StoreRef
from secretsync.errors import AccessDenied, ConfigError, LimitExceeded, Unsupported
from secretsync.generators.leases import Lease
from secretsync.providers import registry
from secretsync.providers.base import (
    BatchProvider,
    Credentials,
    NoTelemetry,
    Provider,
    StoreContext,
    Telemetry,
)
from secretsync.resolve import generated, manifest, plan, secret, stores, templating
from secretsync.resolve.coalesce import Coalescing
from secretsync.resolve.ratelimit import Limiters

ProviderKey = tuple[str, str | None, str, str | None, str]


class StoreLookup(Protocol):
    def store(self, kind: StoreKind, namespace: str, name: str) -> SecretStore:
        """The store, or NotFound."""
        ...

    def namespace_labels(self, namespace: str) -> Mapping[str, str]: ...


class Resolver:
    def __init__(
        self,
        credentials: Credentials,
        telemetry: Telemetry | None = None,
        limiters: Limiters | None = None,
    ) -> None:
        """`limiters`: the stores' rate limits (none: the defaults, not exported)."""
        self._credentials = credentials
        self._limiters = limiters or Limiters()
        self._telemetry = telemetry or NoTelemetry()
        self._providers: dict[ProviderKey, Provider] = {}
        self._lock = threading.Lock()

    @staticmethod
    def _key(store: SecretStore, namespace: str) -> ProviderKey:
        # The generation moves with spec changes only; resourceVersion would also move with
        # every status write and throw away a perfectly good login.
        meta = store.metadata
        return (store.kind, meta.namespace, meta.name, str(meta.generation), namespace)

    def provider(self, store: SecretStore, namespace: str) -> Provider:
        """Cached per store generation and referent namespace, so logins outlive reconciles."""
        key = self._key(store, namespace)
        self._limiters.limiter(store)  # its annotations may have changed: not the generation
        with self._lock:
            stale = [
                k for k in self._providers if k[:3] == key[:3] and k[4] == namespace and k != key
            ]
            for old in stale:
                self._providers.pop(old).close()
            if key not in self._providers:
                context = StoreContext(
                    store=store,
                    namespace=namespace,
                    credentials=self._credentials,
                    telemetry=self._telemetry,
                )
                built = self._limiters.wrap(
                    store, registry.factory_for(store.spec.provider)(context)
                )
                # Concurrent syncs reading one key each share batch calls where the source
                # has them.
                self._providers[key] = (
                    Coalescing(built) if isinstance(built, BatchProvider) else built
                )
            return self._providers[key]

    def writer(self, store: SecretStore, namespace: str) -> Provider:
        """A fresh provider for a PushSecret's writes (the caller closes it): not the cached,
        rate-limited and coalescing reader, which carries no set/delete."""
        context = StoreContext(
            store=store,
            namespace=namespace,
            credentials=self._credentials,
            telemetry=self._telemetry,
        )
        return registry.factory_for(store.spec.provider)(context)

    def template_source(self, namespace: str) -> templating.TemplateSource:
        return self._template_source(namespace)

    def resolve(
        self,
        es: ExternalSecret,
        lookup: StoreLookup,
        on_lease: Callable[[Lease], None] = lambda lease: None,
    ) -> tuple[secret.Desired, plan.Resolved]:
        """`on_lease` is told of each lease a generator issued, also when resolving fails
        after it (so the caller can revoke what it will not keep)."""
        try:
            resolved = self.resolve_data(es, lookup, on_lease)
            template = es.spec.target.template
            rendered = None
            if template is not None:
                source = self._template_source(es.metadata.namespace or "default")
                rendered = templating.apply(template, resolved.data, source)
            want = secret.desired(es, resolved.data, rendered)
            limits.check_secret_size(want.data)
        except LimitExceeded as exc:
            # Named here, where the ExternalSecret is known: the message reaches logs and
            # Events as well as its own status.
            where = f"{es.metadata.namespace or 'default'}/{es.metadata.name}"
            raise LimitExceeded(f"ExternalSecret {where}: {exc}") from exc
        return want, resolved

    def resolve_manifest(
        self,
        es: ExternalSecret,
        lookup: StoreLookup,
        on_lease: Callable[[Lease], None] = lambda lease: None,
    ) -> tuple[manifest.Content, plan.Resolved]:
        """For a target.manifest: the data and the rendered placements; the object itself is
        built against the live one (creationPolicy Merge starts from it)."""
        resolved = self.resolve_data(es, lookup, on_lease)
        template = es.spec.target.template
        placed = None
        if template is not None:
            source = self._template_source(es.metadata.namespace or "default")
            placed = tuple(templating.placements(template, resolved.data, source))
        return manifest.Content(data=resolved.data, placements=placed), resolved

    def resolve_data(
        self,
        es: ExternalSecret,
        lookup: StoreLookup,
        on_lease: Callable[[Lease], None] = lambda lease: None,
    ) -> plan.Resolved:
        namespace = es.metadata.namespace or "default"

        used: list[SecretStore] = []

        def provider_for(ref: StoreRef) -> Provider:
            store = lookup.store(ref.kind, namespace, ref.name)
            # Only a ClusterSecretStore's conditions read the namespace's labels; namespaced
            # RBAC grants no read of Namespace objects, and a SecretStore never needs one.
            cluster = store.kind == CLUSTER_SECRET_STORE
            labels = lookup.namespace_labels(namespace) if cluster else {}
            stores.check_access(store, namespace, labels)
            used.append(store)
            return self.provider(store, namespace)

        generate = None
        if isinstance(lookup, generated.GeneratorSource):
            generate = generated.runner(
                lookup, namespace, self._credentials, self._telemetry, on_lease
            )
        try:
            resolved = plan.resolve(es.spec, provider_for, templating.transform_key, generate)
        except AccessDenied:
            # Credentials may have been rotated in their Secret since the provider was built:
            # the next attempt starts from a fresh login.
            self._drop(self._key(store, namespace) for store in used)
            raise
        return resolved

    def generate(
        self, namespace: str, lookup: StoreLookup, ref: GeneratorRef
    ) -> Mapping[str, bytes]:
        """One run of a generator (a PushSecret's source). One that issues a lease is refused:
        nothing would renew or revoke it."""
        if not isinstance(lookup, generated.GeneratorSource):
            raise ConfigError("generators can only be read from a cluster")
        issued: list[Lease] = []
        run = generated.runner(lookup, namespace, self._credentials, self._telemetry, issued.append)
        data = run(ref)
        if issued:
            ops = generated.LeaseOps(lookup, namespace, self._credentials, self._telemetry)
            for lease in issued:
                ops.revoke(lease)
            raise Unsupported(
                field="spec.selector.generatorRef",
                instead="push a generator that issues no lease (Password, UUID, SSHKey); a "
                "VaultDynamicSecret's lease would be left with nobody to renew or revoke it",
            )
        return data

    def lease_ops(self, namespace: str, lookup: StoreLookup) -> generated.LeaseOps:
        """Renewal and revocation of the leases issued for ExternalSecrets in `namespace`."""
        if not isinstance(lookup, generated.GeneratorSource):
            raise ConfigError("generators can only be read from a cluster")
        return generated.LeaseOps(lookup, namespace, self._credentials, self._telemetry)

    def _template_source(self, namespace: str) -> templating.TemplateSource:
        def read(kind: str, name: str) -> Mapping[str, str]:
            if kind == "ConfigMap":
                return self._credentials.config_map_data(namespace, name)
            data = self._credentials.secret_data(namespace, name)
            return {k: v.decode("utf-8", "replace") for k, v in data.items()}

        return read

    def _drop(self, keys: Iterable[ProviderKey]) -> None:
        with self._lock:
            for key in set(keys):
                provider = self._providers.pop(key, None)
                if provider is not None:
                    provider.close()

    def close(self) -> None:
        with self._lock:
            for provider in self._providers.values():
                provider.close()
            self._providers.clear()
