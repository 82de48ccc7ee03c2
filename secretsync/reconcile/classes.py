"""Controller classes (`spec.controller` on a store): which operator a store, and so every
ExternalSecret that reads from it, belongs to. Pure decisions, with ESO's semantics.

ESO (pkg/controllers/secretstore/common.go ShouldProcessStore, and shouldSkipUnmanagedStore in
the ExternalSecret controller):
- an operator runs with one class, "default" unless `--controller-class` says otherwise;
- a store whose `spec.controller` is empty is processed by EVERY operator, whatever its class;
  a store with a class is processed only by the operator of that class;
- an ExternalSecret is skipped, untouched, when ANY store it names (`secretStoreRef`, and each
  `data[].sourceRef.storeRef` / `dataFrom[].sourceRef.storeRef`) has another class; a store
  that does not exist does not decide (the sync then fails on it, as ESO's does);
- the same holds for the generators its `dataFrom[].sourceRef.generatorRef` name (their own
  `spec.controller`; a ClusterGenerator's is that of the generator spec it wraps); a generator
  that cannot be read, for whatever reason, does not decide.

ESO's ClusterExternalSecret controller does not look at classes at all; ours skips a
ClusterExternalSecret whose template names a ClusterSecretStore of another class, so two
operators never both write its children (a SecretStore is per namespace: each child
ExternalSecret is then judged on its own).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from typing import Any, TypeVar

from secretsync.api.objects import CLUSTER_SECRET_STORE

DEFAULT_CLASS = "default"

StoreKey = tuple[str, str | None, str]
"""(kind, namespace or None for a ClusterSecretStore, name), as the operator's caches key them."""

GENERATOR_GROUP = "generators.external-secrets.io"
CLUSTER_GENERATOR = "ClusterGenerator"
GeneratorKey = tuple[str, str, str | None, str]
"""(apiVersion, kind, namespace or None for a ClusterGenerator, name)."""

CLASSED_GENERATORS = frozenset(
    {"Fake", "VaultDynamicSecret", "BeyondtrustWorkloadCredentialsDynamicSecret", CLUSTER_GENERATOR}
)
"""The generator kinds whose spec has ESO's `controller` field (ESO 2.9); the others are
everyone's, so they are never read."""

Ref = TypeVar("Ref", StoreKey, GeneratorKey)


def store_class(raw_store: Mapping[str, Any]) -> str:
    """The class a store asks for, read from the raw object: a store we cannot parse (an
    unsupported provider, say) still belongs to someone, and must not be touched if not us."""
    value = (raw_store.get("spec") or {}).get("controller")
    return value if isinstance(value, str) else ""


def processes(klass: str, ours: str) -> bool:
    """ESO's ShouldProcessStore: an empty class is everyone's."""
    return klass in ("", ours)


def store_refs(raw_es: Mapping[str, Any]) -> list[StoreKey]:
    """Every store an ExternalSecret names, in ESO's order, deduplicated."""
    spec = raw_es.get("spec") or {}
    namespace = (raw_es.get("metadata") or {}).get("namespace")
    return _refs(spec, namespace if isinstance(namespace, str) else None)


def _refs(spec: Mapping[str, Any], namespace: str | None) -> list[StoreKey]:
    refs = [spec.get("secretStoreRef")]
    for entry in [*(spec.get("data") or []), *(spec.get("dataFrom") or [])]:
        refs.append(((entry or {}).get("sourceRef") or {}).get("storeRef"))
    found: list[StoreKey] = []
    for ref in refs:
        if not isinstance(ref, Mapping) or not ref.get("name"):
            continue
        kind = str(ref.get("kind") or "SecretStore")
        key = (kind, None if kind == CLUSTER_SECRET_STORE else namespace, str(ref["name"]))
        if key not in found:
            found.append(key)
    return found


def generator_refs(raw_es: Mapping[str, Any]) -> list[GeneratorKey]:
    """The generators an ExternalSecret's dataFrom names that can carry a class: of a kind
    with the field, in the generators' group (ESO cannot read any other; those do not decide)."""
    namespace = (raw_es.get("metadata") or {}).get("namespace")
    found: list[GeneratorKey] = []
    for entry in (raw_es.get("spec") or {}).get("dataFrom") or []:
        ref = ((entry or {}).get("sourceRef") or {}).get("generatorRef")
        if not isinstance(ref, Mapping) or not ref.get("name"):
            continue
        if str(ref.get("kind")) not in CLASSED_GENERATORS:
            continue
        api_version = str(ref.get("apiVersion") or f"{GENERATOR_GROUP}/v1alpha1")
        if api_version.partition("/")[0] != GENERATOR_GROUP:
            continue
        kind = str(ref["kind"])
        scope = None if kind == CLUSTER_GENERATOR else namespace
        key = (api_version, kind, scope if isinstance(scope, str) else None, str(ref["name"]))
        if key not in found:
            found.append(key)
    return found


def generator_class(raw_generator: Mapping[str, Any]) -> str:
    """A generator's class; a ClusterGenerator's is that of the one generator spec it wraps."""
    spec = raw_generator.get("spec") or {}
    if raw_generator.get("kind") == CLUSTER_GENERATOR:
        wrapped = [v for v in (spec.get("generator") or {}).values() if isinstance(v, Mapping)]
        spec = wrapped[0] if wrapped else {}
    value = spec.get("controller")
    return value if isinstance(value, str) else ""


def reconciles(refs: Iterable[Ref], class_of: Callable[[Ref], str | None], ours: str) -> bool:
    """Whether the operator of class `ours` reconciles an object naming these stores (or
    generators). `class_of` gives one's class, or None when it does not decide (it does not
    exist, or cannot be read)."""
    for ref in refs:
        klass = class_of(ref)
        if klass is not None and not processes(klass, ours):
            return False
    return True


def cluster_store_refs(raw_ces: Mapping[str, Any]) -> list[StoreKey]:
    """The ClusterSecretStores a ClusterExternalSecret's template names (see the docstring)."""
    spec = (raw_ces.get("spec") or {}).get("externalSecretSpec") or {}
    return [ref for ref in _refs(spec, None) if ref[0] == CLUSTER_SECRET_STORE]


def moved_in(old: Mapping[str, Any] | None, new: Mapping[str, Any], ours: str) -> bool:
    """A store that was someone else's and is now ours: its ExternalSecrets are due now."""
    return (
        old is not None
        and not processes(store_class(old), ours)
        and processes(store_class(new), ours)
    )


def foreign_store_message(kind: str, name: str, klass: str, ours: str) -> str:
    """ESO says "can not reference unmanaged store"; this also says what to change."""
    return (
        f"{kind} {name} has controller class {klass!r} (spec.controller) and this secretsync "
        f"runs class {ours!r} (--controller-class); set spec.controller to {ours!r} or empty "
        "to let secretsync use it"
    )
