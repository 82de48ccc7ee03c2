"""find.name.regexp against the real OpenBao: Go's regexp on RE2, linear in the name's length.

Key names of 2,000 characters with a catastrophic pattern: a backtracking engine would need
longer than the universe's age for `^(a+)+$` on one of them; RE2 answers at once.
"""

from __future__ import annotations

import time
import uuid
from collections.abc import Iterator
from typing import Any

import hvac
import pytest
from kubernetes import client

from secretsync.api.objects import parse_store
from secretsync.api.sources import Find, FindName
from secretsync.errors import ConfigError
from secretsync.kube.credentials import ClusterCredentials
from secretsync.providers import vault
from secretsync.providers.base import Provider, StoreContext
from tests.testbed import bao

LONG = "a" * 2000


class _NoTelemetry:
    def provider_call(self, provider: str, operation: str, ok: bool) -> None:
        pass


@pytest.fixture
def provider(bao_dev: bao.Bao, kube_api: client.ApiClient, namespace: str) -> Iterator[Provider]:
    client.CoreV1Api(kube_api).create_namespaced_secret(
        namespace,
        client.V1Secret(
            metadata=client.V1ObjectMeta(name="root-token"), string_data={"token": bao_dev.token}
        ),
    )
    store = parse_store(
        {
            "apiVersion": "external-secrets.io/v1",
            "kind": "SecretStore",
            "metadata": {"name": "vault", "namespace": namespace},
            "spec": {
                "provider": {
                    "vault": {
                        "server": bao_dev.addr,
                        "path": "secret",
                        "version": "v2",
                        "auth": {"tokenSecretRef": {"name": "root-token", "key": "token"}},
                    }
                }
            },
        }
    )
    ctx = StoreContext(store, namespace, ClusterCredentials(kube_api), _NoTelemetry())
    made = vault.factory(ctx)
    yield made
    made.close()


def _seed(server: bao.Bao, base: str, names: list[str]) -> None:
    kv = hvac.Client(url=server.addr, token=server.token).secrets.kv.v2
    for name in names:
        kv.create_or_update_secret(f"{base}/{name}", secret={"n": len(name)})


def test_catastrophic_name_regexps_run_in_linear_time(bao_dev: bao.Bao, provider: Provider) -> None:
    base = f"regex-{uuid.uuid4().hex[:10]}"
    _seed(bao_dev, base, [LONG, LONG + "!", "x" * 2000, "short"])
    started = time.process_time()
    found: dict[str, Any] = {
        pattern: set(provider.find(Find(path=base, name=FindName(regexp=pattern))))
        for pattern in ("/(a+)+$", "/(a|aa)*!$", "(x+x+)+y|/x+$", "/(a|a?)+!\\z")
    }
    assert time.process_time() - started < 1.0
    assert found == {
        "/(a+)+$": {f"{base}/{LONG}"},
        "/(a|aa)*!$": {f"{base}/{LONG}!"},
        "(x+x+)+y|/x+$": {f"{base}/{'x' * 2000}"},
        "/(a|a?)+!\\z": {f"{base}/{LONG}!"},
    }


def test_a_pattern_go_rejects_names_the_field_with_gos_message(provider: Provider) -> None:
    with pytest.raises(ConfigError) as info:
        provider.find(Find(path="anything", name=FindName(regexp="(?<=a)b|\\1")))
    assert str(info.value) == (
        "dataFrom.find.name.regexp: error parsing regexp: invalid named capture: `(?<=a)b|\\1`"
    )
