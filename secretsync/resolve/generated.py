"""Running the generator an ExternalSecret's `sourceRef.generatorRef` names: read the object
(a ClusterGenerator cluster-wide, any other kind in the ExternalSecret's namespace), parse it,
run its kind's module. The generator is read on every run, so an edit takes effect at the next
refresh, as in ESO.

`LeaseOps` renews and revokes a lease a run reported, by the generator it names (read again,
so its current provider and login are used)."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, Protocol, runtime_checkable

from secretsync.api.generators import (
    CLUSTER_GENERATOR,
    GENERATORS_API_VERSION,
    SPEC_KEYS,
    Generator,
    VaultDynamicSecretSpec,
    parse_generator,
)
from secretsync.api.sources import GeneratorRef
from secretsync.errors import ConfigError, NotFound, Unsupported
from secretsync.generators import vault_dynamic
from secretsync.generators.base import GeneratorContext, generator_for
from secretsync.generators.leases import Lease
from secretsync.providers.base import Credentials, Telemetry
from secretsync.resolve.plan import Generate


@runtime_checkable
class GeneratorSource(Protocol):
    def raw_generator(
        self, api_version: str, kind: str, namespace: str | None, name: str
    ) -> Mapping[str, Any] | None:
        """The generator as stored; None when it does not exist."""
        ...


def _load(
    source: GeneratorSource, api_version: str, kind: str, namespace: str, name: str
) -> Generator:
    cluster = kind == CLUSTER_GENERATOR
    raw = source.raw_generator(api_version, kind, None if cluster else namespace, name)
    if raw is None:
        where = "" if cluster else f" in namespace {namespace}"
        raise NotFound(f"{kind} {name}{where} does not exist")
    try:
        return parse_generator({**raw, "kind": kind})
    except Unsupported as exc:
        raise exc.within(f"{kind} {name}") from exc
    except ConfigError as exc:
        raise ConfigError(f"{kind} {name}: {exc}") from exc


def runner(
    source: GeneratorSource,
    namespace: str,
    credentials: Credentials,
    telemetry: Telemetry,
    on_lease: Callable[[Lease], None] = lambda lease: None,
) -> Generate:
    """`on_lease` is told of each lease a run issued (VaultDynamicSecret)."""

    def generate(ref: GeneratorRef) -> Mapping[str, bytes]:
        kind = ref.kind.value
        generator = _load(source, ref.api_version, kind, namespace, ref.name)
        cluster = kind == CLUSTER_GENERATOR
        path = f"spec.generator.{SPEC_KEYS[generator.kind]}" if cluster else "spec"
        ctx = GeneratorContext(
            ref.name, namespace, credentials, path, telemetry, on_lease=on_lease, kind=kind
        )
        try:
            return generator_for(generator.kind)(generator.spec, ctx)
        except ConfigError as exc:
            raise ConfigError(f"{kind} {ref.name}: {exc}") from exc

    return generate


class LeaseOps:
    """Renew and revoke leases an ExternalSecret's runs issued, through the generator each
    names (`Lease.generator`: `Kind/name`), read again for its current provider and login."""

    def __init__(
        self,
        source: GeneratorSource,
        namespace: str,
        credentials: Credentials,
        telemetry: Telemetry,
    ) -> None:
        self._source, self._namespace = source, namespace
        self._credentials, self._telemetry = credentials, telemetry

    def _context(self, lease: Lease) -> tuple[VaultDynamicSecretSpec, GeneratorContext]:
        kind, _, name = lease.generator.partition("/")
        generator = _load(self._source, GENERATORS_API_VERSION, kind, self._namespace, name)
        if not isinstance(generator.spec, VaultDynamicSecretSpec):
            raise ConfigError(f"{kind} {name} is no longer a VaultDynamicSecret")
        ctx = GeneratorContext(
            name, self._namespace, self._credentials, telemetry=self._telemetry, kind=kind
        )
        return generator.spec, ctx

    def renew(self, lease: Lease) -> Lease:
        spec, ctx = self._context(lease)
        return vault_dynamic.renew(spec, ctx, lease)

    def revoke(self, lease: Lease) -> None:
        spec, ctx = self._context(lease)
        vault_dynamic.revoke(spec, ctx, lease)
