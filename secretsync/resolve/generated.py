"""Running the generator an ExternalSecret's `sourceRef.generatorRef` names: read the object
(a ClusterGenerator cluster-wide, any other kind in the ExternalSecret's namespace), parse it,
run its kind's module. The generator is read on every run, so an edit takes effect at the next
refresh, as in ESO."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol, runtime_checkable

from secretsync.api.generators import CLUSTER_GENERATOR, SPEC_KEYS, parse_generator
from secretsync.api.sources import GeneratorRef
from secretsync.errors import ConfigError, NotFound, Unsupported
from secretsync.generators.base import GeneratorContext, generator_for
from secretsync.providers.base import Credentials, Telemetry
from secretsync.resolve.plan import Generate


@runtime_checkable
class GeneratorSource(Protocol):
    def raw_generator(
        self, api_version: str, kind: str, namespace: str | None, name: str
    ) -> Mapping[str, Any] | None:
        """The generator as stored; None when it does not exist."""
        ...


def runner(
    source: GeneratorSource, namespace: str, credentials: Credentials, telemetry: Telemetry
) -> Generate:
    def generate(ref: GeneratorRef) -> Mapping[str, bytes]:
        kind = ref.kind.value
        cluster = kind == CLUSTER_GENERATOR
        raw = source.raw_generator(ref.api_version, kind, None if cluster else namespace, ref.name)
        if raw is None:
            where = "" if cluster else f" in namespace {namespace}"
            raise NotFound(f"{kind} {ref.name}{where} does not exist")
        try:
            generator = parse_generator({**raw, "kind": kind})
        except Unsupported as exc:
            raise exc.within(f"{kind} {ref.name}") from exc
        except ConfigError as exc:
            raise ConfigError(f"{kind} {ref.name}: {exc}") from exc
        path = f"spec.generator.{SPEC_KEYS[generator.kind]}" if cluster else "spec"
        ctx = GeneratorContext(ref.name, namespace, credentials, path, telemetry)
        try:
            return generator_for(generator.kind)(generator.spec, ctx)
        except ConfigError as exc:
            raise ConfigError(f"{kind} {ref.name}: {exc}") from exc

    return generate
