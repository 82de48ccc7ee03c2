"""The resolution step: which provider reads an ExternalSecret needs (pure), doing them (a thin
shell), and merging their results in ESO's order (pure): dataFrom entries in list order, then
every data[] entry overrides its key.

A `sourceRef.generatorRef` entry runs its generator instead of reading a store. A dataFrom entry
takes the generator's keys (after its rewrites), as ESO's. A data[] entry takes the output key
named by `remoteRef.key` (ESO declares that field and never implemented it); data[] entries naming
one generator share one run per sync, so an SSH key's privateKey and publicKey match."""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping, Sequence
from typing import Literal

from secretsync import limits
from secretsync.api.externalsecret import ExternalSecretSpec
from secretsync.api.sources import DataFrom, Find, GeneratorRef, RemoteRef, StoreRef
from secretsync.api.target import DeletionPolicy
from secretsync.errors import ConfigError, NotFound, SecretSyncError, Unsupported
from secretsync.providers.base import BatchProvider, Provider
from secretsync.resolve import keys, values

Transform = Callable[[str, str, str], str]
"""Renders a rewrite.transform template: (template, key, where) -> new key."""

Generate = Callable[[GeneratorRef], Mapping[str, bytes]]
"""Runs the generator a ref names, once per call: key -> value."""

Outcome = bytes | Mapping[str, bytes] | NotFound


@dataclasses.dataclass(frozen=True)
class Read:
    section: Literal["data", "dataFrom"]
    index: int
    store: StoreRef | None
    """None for a generator."""

    op: Literal["get", "get_map", "find", "generate"]
    ref: RemoteRef | Find | GeneratorRef

    @property
    def where(self) -> str:
        """The spec path of the entry, for messages: `spec.data[0]`, `spec.dataFrom[1]`."""
        return f"spec.{self.section}[{self.index}]"

    @property
    def describe(self) -> str:
        if isinstance(self.ref, RemoteRef):
            return f"{self.where} (key {self.ref.key!r})"
        if isinstance(self.ref, GeneratorRef):
            return f"{self.where} ({self.ref.kind.value} {self.ref.name})"
        return self.where


@dataclasses.dataclass(frozen=True)
class Resolved:
    data: dict[str, bytes]
    missing: tuple[str, ...] = ()
    """Entries skipped because their remote key is gone (deletionPolicy Delete or Merge), each
    as the provider's not-found message: the entry, key and store named."""

    @property
    def everything_missing(self) -> bool:
        return not self.data and bool(self.missing)


def _store(spec: ExternalSecretSpec, entry_ref: StoreRef | None) -> StoreRef:
    store = entry_ref or spec.secret_store_ref
    assert store is not None, "validated: every entry has a store"
    return store


def reads(spec: ExternalSecretSpec) -> list[Read]:
    planned: list[Read] = []
    for i, source in enumerate(spec.data_from):
        if source.generator_ref is not None:
            planned.append(Read("dataFrom", i, None, "generate", source.generator_ref))
            continue
        store = _store(spec, source.source_ref.store_ref if source.source_ref else None)
        if source.extract is not None:
            planned.append(Read("dataFrom", i, store, "get_map", source.extract))
        else:
            assert source.find is not None, "validated: extract or find"
            planned.append(Read("dataFrom", i, store, "find", source.find))
    for i, entry in enumerate(spec.data):
        if entry.source_ref is not None and entry.source_ref.generator_ref is not None:
            planned.append(Read("data", i, None, "generate", entry.source_ref.generator_ref))
            continue
        store = _store(spec, entry.source_ref.store_ref if entry.source_ref else None)
        planned.append(Read("data", i, store, "get", entry.remote_ref))
    return planned


def perform(read: Read, provider: Provider) -> Outcome:
    """One provider call; NotFound is returned (it is an outcome), everything else raises
    with the entry and key named in front of the provider's own message."""
    try:
        if read.op == "get":
            assert isinstance(read.ref, RemoteRef)
            return provider.get(read.ref)
        if read.op == "get_map":
            assert isinstance(read.ref, RemoteRef)
            return provider.get_map(read.ref)
        assert isinstance(read.ref, Find)
        found = provider.find(read.ref)
        limits.check_find(len(found))
        return found
    except NotFound as exc:
        return NotFound(f"{read.describe}: {exc}")
    except SecretSyncError as exc:
        raise type(exc)(f"{read.describe}: {exc}") from exc


def combine(
    spec: ExternalSecretSpec,
    planned: Sequence[Read],
    outcomes: Sequence[Outcome],
    transform: Transform,
) -> Resolved:
    data: dict[str, bytes] = {}
    missing: list[str] = []
    tolerate_missing = spec.target.deletion_policy is not DeletionPolicy.RETAIN
    for read, outcome in zip(planned, outcomes, strict=True):
        if isinstance(outcome, NotFound):
            if not tolerate_missing:
                raise outcome
            missing.append(str(outcome) or read.where)
        elif isinstance(outcome, bytes):
            data[spec.data[read.index].secret_key] = _one_value(read, outcome)
        elif read.op == "generate":
            data.update(_generated_values(spec, read, outcome, transform))
        else:
            data.update(_many_values(spec, read, outcome, transform))
    return Resolved(data=data, missing=tuple(missing))


def _one_value(read: Read, value: bytes) -> bytes:
    ref = read.ref
    if isinstance(ref, GeneratorRef):
        return value
    assert isinstance(ref, RemoteRef)
    decoded = values.decode(value, ref.decoding_strategy, f"{read.where}.remoteRef")
    return values.check_null_bytes(decoded, ref.null_byte_policy, f"{read.where}.remoteRef")


def _generated_values(
    spec: ExternalSecretSpec, read: Read, found: Mapping[str, bytes], transform: Transform
) -> dict[str, bytes]:
    """ESO's handleGenerateSecrets: rewrites, then key validation; no conversion or decoding."""
    source: DataFrom = spec.data_from[read.index]
    renamed = (
        keys.rewrite_keys(found, source.rewrite, read.where, transform)
        if source.rewrite
        else dict(found)
    )
    return keys.validate_keys(renamed, read.where)


def generated_key(read: Read, key: str, found: Mapping[str, bytes]) -> bytes:
    """The output key a data[] entry names; the message lists the keys (never values)."""
    if key not in found:
        assert isinstance(read.ref, GeneratorRef)
        raise ConfigError(
            f"{read.ref.kind.value} {read.ref.name} gives {', '.join(sorted(found))}, not {key!r}",
            field=f"{read.where}.remoteRef.key",
        )
    return found[key]


def _many_values(
    spec: ExternalSecretSpec, read: Read, found: Mapping[str, bytes], transform: Transform
) -> dict[str, bytes]:
    source: DataFrom = spec.data_from[read.index]
    ref = read.ref
    assert isinstance(ref, RemoteRef | Find)
    if source.rewrite:
        renamed = keys.rewrite_keys(found, source.rewrite, read.where, transform)
    else:
        renamed = {keys.convert_key(k, ref.conversion_strategy): v for k, v in found.items()}
    valid = keys.validate_keys(renamed, read.where)
    return {
        key: values.check_null_bytes(
            values.decode(value, ref.decoding_strategy, read.where),
            ref.null_byte_policy,
            read.where,
        )
        for key, value in valid.items()
    }


def _batched(
    planned: Sequence[Read], provider_for: Callable[[StoreRef], Provider]
) -> dict[tuple[StoreRef, RemoteRef | Find], bytes | SecretSyncError]:
    """Plain gets against a provider that batches are read in as few calls as it can."""
    by_store: dict[StoreRef, list[RemoteRef]] = {}
    for read in planned:
        if read.op == "get" and isinstance(read.ref, RemoteRef) and read.store is not None:
            by_store.setdefault(read.store, []).append(read.ref)
    found: dict[tuple[StoreRef, RemoteRef | Find], bytes | SecretSyncError] = {}
    for store, refs in by_store.items():
        provider = provider_for(store)
        if len(refs) > 1 and isinstance(provider, BatchProvider):
            found.update({(store, ref): v for ref, v in provider.get_many(refs).items()})
    return found


def _outcome(read: Read, prefetched: bytes | SecretSyncError) -> Outcome:
    if isinstance(prefetched, bytes):
        return prefetched
    if isinstance(prefetched, NotFound):
        return NotFound(f"{read.describe}: {prefetched}")
    raise type(prefetched)(f"{read.describe}: {prefetched}") from prefetched


def _generator_runs(generate: Generate | None) -> Callable[[Read, str | None], Outcome]:
    """Runs generators for one sync: a dataFrom entry runs its own; data[] entries naming the
    same generator share one run (memo), then each takes its key."""
    shared: dict[GeneratorRef, Mapping[str, bytes]] = {}

    def run(read: Read, key: str | None) -> Outcome:
        if generate is None:
            raise ConfigError("generators need a cluster to read them from", field=read.where)
        assert isinstance(read.ref, GeneratorRef)
        try:
            if key is None:
                return generate(read.ref)
            if read.ref not in shared:
                shared[read.ref] = generate(read.ref)
        except Unsupported as exc:
            raise exc.within(read.describe) from exc
        except SecretSyncError as exc:
            raise type(exc)(f"{read.describe}: {exc}") from exc
        return generated_key(read, key, shared[read.ref])

    return run


def resolve(
    spec: ExternalSecretSpec,
    provider_for: Callable[[StoreRef], Provider],
    transform: Transform,
    generate: Generate | None = None,
) -> Resolved:
    planned = reads(spec)
    prefetched = _batched(planned, provider_for)
    run = _generator_runs(generate)
    outcomes: list[Outcome] = []
    for read in planned:
        if read.op == "generate":
            key = spec.data[read.index].remote_ref.key if read.section == "data" else None
            outcomes.append(run(read, key))
            continue
        assert read.store is not None and not isinstance(read.ref, GeneratorRef)
        if read.op == "get" and (read.store, read.ref) in prefetched:
            outcomes.append(_outcome(read, prefetched[(read.store, read.ref)]))
        else:
            outcomes.append(perform(read, provider_for(read.store)))
    return combine(spec, planned, outcomes, transform)
