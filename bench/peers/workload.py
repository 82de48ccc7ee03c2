"""The work every operator is given: a private test bed, N distinct Vault KV v2 keys, N objects
that each read one (ExternalSecrets, or VaultStaticSecrets for VSO) created by 16 client
threads, Deployments that read a rotated value, and the floor's bare writes."""

from __future__ import annotations

import collections
import concurrent.futures
import contextlib
import dataclasses
import json
import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import hvac
from kubernetes import client, config

from bench.peers import measure
from tests.operator import harness
from tests.testbed import bao, stack

NAMESPACE = "bench"
THREADS = 16
ROLE = "bench"
ROTATION_REFRESH = "5s"
"""Every operator polls the rotated value this often (ESO and secretsync refreshInterval, VSO
refreshAfter)."""


@dataclasses.dataclass(frozen=True)
class Bed:
    """One private apiserver + etcd + OpenBao, with the AppRole every operator logs in with."""

    testbed: stack.Testbed
    folder: Path
    api: client.ApiClient
    vault: bao.Bao
    audit: Path
    role_id: str
    secret_id: str

    @property
    def custom(self) -> client.CustomObjectsApi:
        return client.CustomObjectsApi(self.api)

    def writes(self) -> collections.Counter[measure.Write]:
        return measure.apiserver_writes(self.testbed.KUBECTL_BIN, self.testbed.KUBECONFIG)


@dataclasses.dataclass(frozen=True)
class Kind:
    """A custom resource an operator syncs: where it lives, how to make the i-th one, and when
    the operator has finished with it."""

    group: str
    version: str
    plural: str
    make: Callable[[int, str, str], dict[str, Any]]
    """(index, Vault KV path under the `secret` mount, refresh interval) -> the object."""
    ready: Callable[[dict[str, Any]], bool]


def lean_api(kubeconfig: Path) -> client.ApiClient:
    """An admin client whose pool holds a connection per benchmark thread."""
    configuration = client.Configuration()
    configuration.connection_pool_maxsize = THREADS * 2
    made: client.ApiClient = config.new_client_from_config(  # type: ignore[no-untyped-call]
        config_file=str(kubeconfig), client_configuration=configuration
    )
    return made


@contextlib.contextmanager
def bed(label: str, install: Callable[[stack.Testbed, Path], None]) -> Iterator[Bed]:
    """A fresh bed, torn down on exit; `install` puts the operator's CRDs on it."""
    with tempfile.TemporaryDirectory(prefix=f"secretsync-peers-{label}-") as tmp:
        folder = Path(tmp)
        state = folder / "stack"
        testbed = stack.up(state, log=lambda _: None)
        try:
            install(testbed, folder)
            api = lean_api(Path(testbed.KUBECONFIG))
            client.CoreV1Api(api).create_namespace(
                client.V1Namespace(metadata=client.V1ObjectMeta(name=NAMESPACE))
            )
            audit = folder / "openbao-audit.log"
            vault = measure.start_audited_bao(state, audit)
            role_id, secret_id = _approle(vault)
            yield Bed(testbed, folder, api, vault, audit, role_id, secret_id)
        finally:
            stack.down(state)


def install_ours(testbed: stack.Testbed, _folder: Path) -> None:
    """Our CRDs (ESO's kinds, which ESO v0.16.2 also serves from) and secretsync's RBAC."""
    harness.install(testbed)


def _approle(b: bao.Bao) -> tuple[str, str]:
    policy = 'path "secret/data/bench/*" { capabilities = ["read"] }'
    bao.request(b, "PUT", f"sys/policies/acl/{ROLE}", {"policy": policy})
    role = f"auth/approle/role/{ROLE}"
    bao.request(b, "POST", role, {"token_policies": [ROLE], "token_ttl": "1h"})
    role_id = bao.request(b, "GET", f"{role}/role-id")["data"]["role_id"]
    secret_id = bao.request(b, "POST", f"{role}/secret-id")["data"]["secret_id"]
    return str(role_id), str(secret_id)


def key(i: int) -> str:
    return f"bench/key-{i}"


def seed(b: Bed, count: int) -> None:
    vault = hvac.Client(url=b.vault.addr, token=b.vault.token)
    with concurrent.futures.ThreadPoolExecutor(THREADS) as pool:
        list(
            pool.map(
                lambda i: vault.secrets.kv.v2.create_or_update_secret(
                    key(i), secret={"password": f"value-{i}"}
                ),
                range(count),
            )
        )


def put_value(b: Bed, path: str, value: str) -> None:
    vault = hvac.Client(url=b.vault.addr, token=b.vault.token)
    vault.secrets.kv.v2.create_or_update_secret(path, secret={"password": value})


def create_secret(b: Bed, name: str, data: dict[str, str]) -> None:
    client.CoreV1Api(b.api).create_namespaced_secret(
        NAMESPACE, client.V1Secret(metadata=client.V1ObjectMeta(name=name), string_data=data)
    )


def create_object(b: Bed, kind: Kind, body: dict[str, Any]) -> None:
    response = b.custom.create_namespaced_custom_object(
        kind.group, kind.version, NAMESPACE, kind.plural, body, _preload_content=False
    )
    drain(response)


def drain(response: Any) -> None:
    """Read a response made with _preload_content=False, so its connection returns to the
    pool; the body is not parsed, which keeps the client's CPU off the figures."""
    _ = response.data


def create_all(b: Bed, kind: Kind, count: int, refresh: str) -> collections.Counter[measure.Write]:
    """N objects by 16 threads; returns the writes this made, to tell them from the
    operator's."""
    with concurrent.futures.ThreadPoolExecutor(THREADS) as pool:
        list(
            pool.map(lambda i: create_object(b, kind, kind.make(i, key(i), refresh)), range(count))
        )
    return collections.Counter({(kind.plural, "", "POST"): count})


def items(b: Bed, kind: Kind) -> list[dict[str, Any]]:
    """Every object of the kind, from the apiserver's watch cache (resourceVersion 0), so that
    polling costs the apiserver as little as it can."""
    response: Any = b.custom.list_namespaced_custom_object(
        kind.group,
        kind.version,
        NAMESPACE,
        kind.plural,
        resource_version="0",
        _preload_content=False,
    )
    found: list[dict[str, Any]] = json.loads(response.data)["items"]
    return found


def wait_ready(b: Bed, kind: Kind, count: int, timeout: float) -> float:
    """Poll until `count` objects are ready; the monotonic time it was seen."""
    deadline = time.monotonic() + timeout
    every = 0.5 if count <= 2000 else 2.0
    ready = 0
    while time.monotonic() < deadline:
        ready = sum(kind.ready(item) for item in items(b, kind))
        if ready >= count:
            return time.monotonic()
        time.sleep(every)
    raise TimeoutError(f"{ready} of {count} {kind.plural} ready after {timeout:.0f} s")


def condition_ready(item: dict[str, Any]) -> bool:
    conditions = (item.get("status") or {}).get("conditions") or []
    return any(c.get("type") == "Ready" and c.get("status") == "True" for c in conditions)


@dataclasses.dataclass(frozen=True)
class Operator:
    """A running operator: the pid the kernel accounts it under, and how to stop it."""

    pid: int
    stop: Callable[[], None]


def external_secret(i: int, path: str, refresh: str) -> dict[str, Any]:
    return {
        "apiVersion": "external-secrets.io/v1",
        "kind": "ExternalSecret",
        "metadata": {"name": f"es-{i}"},
        "spec": {
            "refreshInterval": refresh,
            "secretStoreRef": {"name": "store"},
            "target": {"name": f"es-{i}"},
            "data": [{"secretKey": "password", "remoteRef": {"key": path, "property": "password"}}],
        },
    }


EXTERNAL_SECRET = Kind(
    "external-secrets.io", "v1", "externalsecrets", external_secret, condition_ready
)


def prepare_store(b: Bed) -> collections.Counter[measure.Write]:
    """The AppRole's secret-id and one SecretStore, as both ESO and secretsync read them."""
    create_secret(b, "creds", {"secret-id": b.secret_id})
    b.custom.create_namespaced_custom_object(
        "external-secrets.io",
        "v1",
        NAMESPACE,
        "secretstores",
        {
            "apiVersion": "external-secrets.io/v1",
            "kind": "SecretStore",
            "metadata": {"name": "store"},
            "spec": {
                "provider": {
                    "vault": {
                        "server": b.vault.addr,
                        "path": "secret",
                        "version": "v2",
                        "auth": {
                            "appRole": {
                                "path": "approle",
                                "roleId": b.role_id,
                                "secretRef": {"name": "creds", "key": "secret-id"},
                            }
                        },
                    }
                }
            },
        },
    )
    return collections.Counter({("secrets", "", "POST"): 1, ("secretstores", "", "POST"): 1})
