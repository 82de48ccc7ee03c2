"""Fixtures for the Vault auth methods that need a component of their own: a private OpenBao with
the ldap / aws auth plugins (tests/testbed/baoplugins.py) and slapd (tests/testbed/ldap.py).
Each starts once per test module, on free loopback ports, and is stopped at the end."""

from __future__ import annotations

import collections
import dataclasses
import json
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import hvac
import pytest
from kubernetes import client

from secretsync.api.objects import parse_store
from secretsync.kube.credentials import ClusterCredentials
from secretsync.providers import vault
from secretsync.providers.base import Provider, StoreContext
from tests.testbed import bao, baoplugins, binaries

READER_POLICY = 'path "secret/data/{prefix}/*" {{ capabilities = ["read"] }}'


class Calls:
    """Telemetry that counts provider calls by (provider, operation)."""

    def __init__(self) -> None:
        self.ok: collections.Counter[str] = collections.Counter()
        self.failed: collections.Counter[str] = collections.Counter()
        self.providers: set[str] = set()

    def provider_call(self, provider: str, operation: str, ok: bool) -> None:
        self.providers.add(provider)
        (self.ok if ok else self.failed)[operation] += 1


def uid() -> str:
    return uuid.uuid4().hex[:10]


def root(server: bao.Bao) -> hvac.Client:
    return hvac.Client(url=server.addr, token=server.token)


def reader_policy(server: bao.Bao, prefix: str) -> str:
    """A policy that may read secret/<prefix>/* (KV v2) and nothing else."""
    name = f"read-{prefix}"
    root(server).sys.create_or_update_policy(name, READER_POLICY.format(prefix=prefix))
    return name


@dataclasses.dataclass(frozen=True)
class PrivateBao(bao.Bao):
    folder: Path = Path()

    def audited(self, path: str, operation: str) -> list[dict[str, Any]]:
        """The audit log's request entries for this API path (no /v1/ prefix) and operation
        (read, update, list, ...)."""
        entries = []
        for line in baoplugins.audit_log(self.folder).read_text().splitlines():
            entry = json.loads(line)
            request = entry.get("request", {})
            if entry.get("type") == "request" and (
                request.get("path"),
                request.get("operation"),
            ) == (path, operation):
                entries.append(request)
        return entries


def private_bao(
    plugins: tuple[binaries.GoBinary, ...], extra_config: str = "", folder: Path | None = None
) -> Iterator[PrivateBao]:
    folder = folder or Path(tempfile.mkdtemp(prefix="secretsync-bao-plugins-"))
    try:
        server = baoplugins.start(folder, plugins, extra_config)
        yield PrivateBao(server.addr, server.token, folder=folder)
    finally:
        baoplugins.stop(folder)
        shutil.rmtree(folder, ignore_errors=True)  # plugin copies, audit log, logs


def put_secret(kube_api: client.ApiClient, namespace: str, name: str, data: dict[str, str]) -> None:
    body = client.V1Secret(metadata=client.V1ObjectMeta(name=name), string_data=data)
    client.CoreV1Api(kube_api).create_namespaced_secret(namespace, body)


MakeProvider = Callable[..., Provider]


@pytest.fixture
def make(kube_api: client.ApiClient, namespace: str) -> Iterator[MakeProvider]:
    """Vault providers for SecretStores in the test namespace; each is closed at the end.
    tests/providers/conftest.py makes it every provider test's fixture."""
    made: list[Provider] = []

    def build(server: str, auth: dict[str, Any], calls: Any = None, **fields: Any) -> Provider:
        spec = {"server": server, "path": "secret", "version": "v2", "auth": auth, **fields}
        store = parse_store(
            {
                "apiVersion": "external-secrets.io/v1",
                "kind": "SecretStore",
                "metadata": {"name": "vault", "namespace": namespace},
                # A field given as None is left out, as if the store did not set it.
                "spec": {"provider": {"vault": {k: v for k, v in spec.items() if v is not None}}},
            }
        )
        ctx = StoreContext(store, namespace, ClusterCredentials(kube_api), calls or Calls())
        provider = vault.factory(ctx)
        made.append(provider)
        return provider

    yield build
    for provider in made:
        provider.close()
