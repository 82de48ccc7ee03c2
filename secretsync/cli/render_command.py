"""`secretsync render`: resolve ExternalSecret manifests against the live providers, without
an operator, and print the Secrets the operator would write."""

from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from secretsync.api.crds import GROUP
from secretsync.api.generators import CLUSTER_GENERATOR, GENERATORS_GROUP
from secretsync.api.objects import (
    CLUSTER_SECRET_STORE,
    EXTERNAL_SECRET,
    SECRET_STORE,
    ExternalSecret,
    SecretStore,
    is_ours,
    parse_external_secret,
    parse_store,
)
from secretsync.api.sources import StoreKind
from secretsync.api.unserved import V1ALPHA1
from secretsync.errors import ConfigError, NotFound, SecretSyncError, Unsupported
from secretsync.providers.base import Credentials
from secretsync.providers.offline import ManifestCredentials
from secretsync.reconcile import unserved
from secretsync.resolve import manifest as generic_target
from secretsync.resolve.generated import GeneratorSource
from secretsync.resolve.resolver import Resolver, StoreLookup
from secretsync.resolve.secret import manifest
from secretsync.sops.yamlplain import dump_documents, load_documents


class ManifestLookup:
    """Stores and namespaces from the manifests; falls back to a cluster when given one."""

    def __init__(
        self,
        documents: list[Mapping[str, Any]],
        default_namespace: str,
        fallback: StoreLookup | None,
    ) -> None:
        self._stores: dict[tuple[str, str | None, str], SecretStore | ConfigError] = {}
        self._generators: dict[tuple[str, str | None, str], Mapping[str, Any]] = {}
        self._labels: dict[str, Mapping[str, str]] = {}
        self._fallback = fallback
        for doc in documents:
            if is_ours(doc, SECRET_STORE) or is_ours(doc, CLUSTER_SECRET_STORE):
                kind, meta = str(doc.get("kind")), doc.get("metadata") or {}
                namespace = (
                    None
                    if kind == CLUSTER_SECRET_STORE
                    else (meta.get("namespace") or default_namespace)
                )
                # A store we cannot use fails the ExternalSecrets that use it, not the run.
                try:
                    parsed: SecretStore | ConfigError = parse_store(doc)
                except ConfigError as exc:
                    parsed = _in_store(exc, kind, str(meta.get("name")))
                self._stores[(kind, namespace, str(meta.get("name")))] = parsed
            elif str(doc.get("apiVersion", "")).startswith(f"{GENERATORS_GROUP}/"):
                kind, meta = str(doc.get("kind")), doc.get("metadata") or {}
                where = (
                    None
                    if kind == CLUSTER_GENERATOR
                    else (meta.get("namespace") or default_namespace)
                )
                self._generators[(kind, where, str(meta.get("name")))] = doc
            elif doc.get("kind") == "Namespace":
                meta = doc.get("metadata") or {}
                self._labels[str(meta.get("name"))] = dict(meta.get("labels") or {})

    def store(self, kind: StoreKind, namespace: str, name: str) -> SecretStore:
        scope = None if kind is StoreKind.CLUSTER_SECRET_STORE else namespace
        found = self._stores.get((kind.value, scope, name))
        if isinstance(found, ConfigError):
            raise found
        if found is not None:
            return found
        if self._fallback is not None:
            return self._fallback.store(kind, namespace, name)
        where = "" if scope is None else f" in namespace {scope}"
        raise NotFound(f"{kind.value} {name}{where} is not among the manifests given")

    def raw_generator(
        self, api_version: str, kind: str, namespace: str | None, name: str
    ) -> Mapping[str, Any] | None:
        """Generators from the manifests, else from the cluster when given one (render runs
        them: a Password renders a new password on every run, as a sync would)."""
        found = self._generators.get((kind, namespace, name))
        if found is not None:
            return found
        if isinstance(self._fallback, GeneratorSource):
            return self._fallback.raw_generator(api_version, kind, namespace, name)
        return None

    def namespace_labels(self, namespace: str) -> Mapping[str, str]:
        if namespace in self._labels or self._fallback is None:
            return self._labels.get(namespace, {})
        return self._fallback.namespace_labels(namespace)


def _in_store(exc: ConfigError, kind: str, name: str) -> ConfigError:
    if isinstance(exc, Unsupported):
        return exc.within(f"{kind} {name}")
    return ConfigError(f"{kind} {name}: {exc}")


def _read(paths: list[str]) -> list[Mapping[str, Any]]:
    documents: list[Mapping[str, Any]] = []
    for path in paths or ["-"]:
        text = sys.stdin.read() if path == "-" else Path(path).read_text()
        for doc in load_documents(text, "stdin" if path == "-" else path):
            items = doc.get("items") if doc.get("kind") == "List" else [doc]
            documents.extend(item for item in items or [] if isinstance(item, Mapping))
    return documents


def _sources(
    args: argparse.Namespace, documents: list[Mapping[str, Any]]
) -> tuple[Credentials, StoreLookup | None]:
    if not args.kubeconfig:
        return ManifestCredentials(documents, args.namespace), None
    from secretsync.kube.client import api_client  # noqa: PLC0415 - only with a cluster
    from secretsync.kube.credentials import ClusterCredentials  # noqa: PLC0415
    from secretsync.kube.lookup import ClusterLookup  # noqa: PLC0415

    api = api_client(args.kubeconfig)
    return ClusterCredentials(api), ClusterLookup(api)


def render(args: argparse.Namespace) -> int:
    documents = _read(args.filename)
    credentials, cluster = _sources(args, documents)
    lookup = ManifestLookup(documents, args.namespace, cluster)
    resolver = Resolver(credentials)
    secrets, failed, spec_errors = [], 0, 0
    try:
        for doc in documents:
            name = (doc.get("metadata") or {}).get("name")
            if _unserved_kind(doc):
                spec_errors += 1
                kind = str(doc.get("kind"))
                print(
                    f"secretsync render: {kind} {name}: {unserved.unsupported(kind)}",
                    file=sys.stderr,
                )
            if not is_ours(doc, EXTERNAL_SECRET):
                continue
            try:
                es = parse_external_secret(doc)
                if es.metadata.namespace is None:
                    es = _in_namespace(es, args.namespace)
                if es.spec.target.generic is not None:
                    # target.manifest: the ConfigMap or custom resource the operator would write.
                    content, _ = resolver.resolve_manifest(es, lookup)
                    secrets.append(generic_target.build(es, content, None))
                else:
                    want, _ = resolver.resolve(es, lookup)
                    secrets.append(manifest(es, want))
            except SecretSyncError as exc:
                failed += 1
                spec_errors += isinstance(exc, ConfigError)
                print(f"secretsync render: ExternalSecret {name}: {exc}", file=sys.stderr)
    finally:
        resolver.close()
    _print(secrets, args.output)
    # 2, as for any other error in what the user wrote: the manifests must change.
    return 2 if spec_errors else (1 if failed else 0)


def _unserved_kind(doc: Mapping[str, Any]) -> bool:
    """A PushSecret or ClusterPushSecret: ESO objects render would have to act on, and cannot.
    (Generators are only read through a generatorRef, which the ExternalSecret reports.)"""
    return doc.get("apiVersion") == f"{GROUP}/{V1ALPHA1}" and doc.get("kind") in unserved.PLURALS


def _in_namespace(es: ExternalSecret, namespace: str) -> ExternalSecret:
    return dataclasses.replace(es, metadata=dataclasses.replace(es.metadata, namespace=namespace))


def _print(secrets: list[dict[str, Any]], output: str) -> None:
    if output == "json":
        print(json.dumps({"apiVersion": "v1", "kind": "List", "items": secrets}, indent=2))
    elif secrets:
        print(dump_documents(secrets), end="")
