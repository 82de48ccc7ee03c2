"""The fleet the fault tests break things under: a private test bed, the operator as its own
process (restarted when it exits, as a pod's kubelet would), and ExternalSecrets spread over an
OpenBao (TLS, file-backed, so it can be restarted and sealed), moto and a SOPS-in-Git store.

What is checked after each fault lives here too: every Secret still the same object with its
last good data, every ExternalSecret Ready, and the Secret writes seen meanwhile.
"""

from __future__ import annotations

import base64
import collections
import dataclasses
import json
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path
from typing import Any

import hvac
from kubernetes import client, watch

from secretsync.resolve.secret import MANAGED_LABEL
from tests.faults import health
from tests.operator import harness
from tests.operator.harness import Cluster, eventually
from tests.operator.manifests import sops_store
from tests.providers import aws_fixtures
from tests.providers.sops_git_fixtures import AgeKey, WorkTree, encrypt
from tests.rollout import cluster as c
from tests.testbed import bao, cluster, procs, stack

NAMESPACE = "fleet"
REFRESH = "10s"
ROLLED = {"vault": "v-000", "aws": "a-000", "sops": "s-000"}
"""One ExternalSecret per store restarts a Deployment when its data changes."""


def app_name(store: str) -> str:
    return f"app-{store}"


@dataclasses.dataclass
class Sizes:
    vault: int
    aws: int
    sops: int

    @property
    def total(self) -> int:
        return self.vault + self.aws + self.sops


class Pod:
    """The operator process, started again whenever it exits (a lost Lease ends it on purpose),
    as a Deployment's kubelet would; `exits` counts those ends."""

    def __init__(self, kubeconfig: Path, logs: Path, env: dict[str, str], identity: str) -> None:
        self.kubeconfig, self.logs, self.env, self.identity = kubeconfig, logs, env, identity
        self.exits: list[float] = []
        self._stop = threading.Event()
        self.operator = self._start()
        self._thread = threading.Thread(target=self._keep, daemon=True)
        self._thread.start()

    def _start(self) -> harness.Operator:
        """Started without waiting for /healthz (harness.start would give up on a process it
        leaves running, while the apiserver is away): the kubelet does not wait either."""
        port = procs.free_port()
        argv = [
            *(sys.executable, "-m", "secretsync", "operator", "--kubeconfig", str(self.kubeconfig)),
            *("--metrics-address", f"127.0.0.1:{port}", "--namespace", NAMESPACE),
            *("--leader-elect", "--identity", self.identity),
        ]
        with self.logs.open("ab") as log:
            process = subprocess.Popen(
                argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                env={**os.environ, **self.env},
                cwd=harness.ROOT,
            )
        return harness.Operator(process, self.logs, f"http://127.0.0.1:{port}")

    def _keep(self) -> None:
        while not self._stop.wait(0.2):
            if self.operator.process.poll() is not None:
                self.exits.append(time.monotonic())
                time.sleep(1)  # a kubelet's first back-off
                if not self._stop.is_set():
                    self.operator = self._start()

    def log_size(self) -> int:
        return self.logs.stat().st_size if self.logs.exists() else 0

    def logs_since(self, offset: int) -> str:
        with self.logs.open("rb") as log:
            log.seek(offset)
            return log.read().decode(errors="replace")

    def close(self) -> None:
        self._stop.set()
        self._thread.join()
        self.operator.stop()


@dataclasses.dataclass(frozen=True)
class Seen:
    uid: str
    resource_version: str
    data: dict[str, bytes]


class Writes:
    """Counts writes to the managed Secrets as a watch sees them (resourceVersion changes),
    with deletions and emptied Secrets noted. It relists after the apiserver comes back, which
    folds writes made while it was away into one: the uid and data checks cover those."""

    def __init__(self, api: client.ApiClient) -> None:
        self.core = client.CoreV1Api(api)
        self.versions: dict[str, str] = {}
        self.writes: collections.Counter[str] = collections.Counter()
        self.deleted: set[str] = set()
        self.emptied: set[str] = set()
        self._lock = threading.Lock()
        self._stop = threading.Event()
        self._listed = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        assert self._listed.wait(30), "the Secret watch did not start"

    def reset(self) -> None:
        with self._lock:
            self.writes.clear()
            self.deleted.clear()
            self.emptied.clear()

    def _see(self, kind: str, secret: Any) -> None:
        name, version = secret.metadata.name, secret.metadata.resource_version
        with self._lock:
            if kind == "DELETED":
                self.deleted.add(name)
                self.versions.pop(name, None)
                return
            if name in self.versions and self.versions[name] != version:
                self.writes[name] += 1
            if not secret.data:
                self.emptied.add(name)
            self.versions[name] = version

    def _run(self) -> None:
        selector = f"{MANAGED_LABEL}=true"
        while not self._stop.is_set():
            try:
                listing: Any = self.core.list_namespaced_secret(NAMESPACE, label_selector=selector)
                for item in listing.items:
                    self._see("LISTED", item)
                self._listed.set()
                version = listing.metadata.resource_version
                streamer: Any = watch.Watch()  # type: ignore[no-untyped-call]
                stream = streamer.stream(
                    self.core.list_namespaced_secret,
                    NAMESPACE,
                    label_selector=selector,
                    resource_version=version,
                    timeout_seconds=30,
                    _request_timeout=40,
                )
                for event in stream:
                    self._see(event["type"], event["object"])
                    if self._stop.is_set():
                        return
            except Exception:  # the apiserver or etcd is down: relist when it is back
                time.sleep(0.5)

    def close(self) -> None:
        self._stop.set()


class Fleet:
    def __init__(
        self,
        testbed: stack.Testbed,
        sizes: Sizes,
        folder: Path,
        sops_bin: Path,
        key: AgeKey,
    ) -> None:
        self.testbed, self.sizes, self.folder = testbed, sizes, folder
        self.sops_bin, self.key = sops_bin, key
        self.state_dir = Path(testbed.TESTBED_STATE_DIR)
        self.api = cluster.api(Path(testbed.KUBECONFIG))
        self.kube = Cluster(self.api, NAMESPACE)
        self.vault = hvac.Client(
            url=testbed.VAULT_TLS_ADDR, token=testbed.VAULT_TLS_TOKEN, verify=testbed.VAULT_CACERT
        )
        self.aws = aws_fixtures.seed_client(testbed, "secretsmanager")
        self.probes = health.probes(testbed)
        self.expected: dict[str, dict[str, bytes]] = {}
        self.sops_values: dict[str, str] = {}
        self.tree: WorkTree | None = None
        self.pod: Pod | None = None
        self.writes: Writes | None = None

    # --- setting up -------------------------------------------------------------------------

    def names(self, store: str) -> list[str]:
        count = {"vault": self.sizes.vault, "aws": self.sizes.aws, "sops": self.sizes.sops}[store]
        return [f"{store[0]}-{i:03d}" for i in range(count)]

    def all_names(self) -> list[str]:
        return [*self.names("vault"), *self.names("aws"), *self.names("sops")]

    def set_vault(self, name: str, password: str) -> None:
        self.vault.secrets.kv.v2.create_or_update_secret(
            f"fleet/{name}", secret={"password": password}
        )
        self.expected[name] = {"password": password.encode()}

    def set_aws(self, name: str, password: str) -> None:
        body = json.dumps({"password": password})
        try:
            self.aws.put_secret_value(SecretId=f"fleet/{name}", SecretString=body)
        except self.aws.exceptions.ResourceNotFoundException:
            self.aws.create_secret(Name=f"fleet/{name}", SecretString=body)
        self.expected[name] = {"password": password.encode()}

    def sops_document(self, values: dict[str, str]) -> bytes:
        plain = "".join(f"{name}: {value}\n" for name, value in sorted(values.items()))
        return encrypt(self.sops_bin, self.key, "fleet.yaml", plain.encode(), self.folder / "enc")

    def push_sops(self, values: dict[str, str], message: str) -> None:
        assert self.tree is not None
        self.tree.write("fleet.yaml", self.sops_document(values))
        self.tree.commit(message)
        self.sops_values = dict(values)
        self.expected.update({n: {"password": v.encode()} for n, v in values.items()})

    def rewrite_sops(self, values: dict[str, str]) -> None:
        """Force-push a new root commit over main: the history the operator saw is gone."""
        assert self.tree is not None
        self.tree.git("checkout", "--quiet", "--orphan", f"rewrite-{time.monotonic_ns()}")
        self.tree.write("fleet.yaml", self.sops_document(values))
        self.tree.git("add", "--all")
        self.tree.git("commit", "--quiet", "-m", "history rewritten")
        self.tree.git("push", "--quiet", "--force", self.tree.url, "HEAD:main")
        self.sops_values = dict(values)
        self.expected.update({n: {"password": v.encode()} for n, v in values.items()})

    def install(self) -> None:
        harness.install(self.testbed)
        self.kube.core.create_namespace(
            client.V1Namespace(metadata=client.V1ObjectMeta(name=NAMESPACE))
        )
        self.kube.put_secret("vault-token", {"token": self.testbed.VAULT_TLS_TOKEN})
        self.kube.put_secret(
            aws_fixtures.KEYS_SECRET,
            {
                "access-key": self.testbed.AWS_ACCESS_KEY_ID,
                "secret-access-key": self.testbed.AWS_SECRET_ACCESS_KEY,
            },
        )
        self.kube.put_secret("age", {"key.agekey": self.key.identity})
        ca = base64.b64encode(Path(self.testbed.VAULT_CACERT).read_bytes()).decode()
        self.kube.apply(
            "secretstores",
            {
                "kind": "SecretStore",
                "metadata": {"name": "vault"},
                "spec": {
                    "provider": {
                        "vault": {
                            "server": self.testbed.VAULT_TLS_ADDR,
                            "path": "secret",
                            "version": "v2",
                            "caBundle": ca,
                            "auth": {"tokenSecretRef": {"name": "vault-token", "key": "token"}},
                        }
                    }
                },
            },
        )
        self.kube.apply(
            "secretstores",
            {
                "kind": "SecretStore",
                "metadata": {"name": "aws"},
                "spec": {
                    "provider": {
                        "aws": {
                            "service": "SecretsManager",
                            "region": self.testbed.AWS_DEFAULT_REGION,
                            "auth": aws_fixtures.static_auth(),
                        }
                    }
                },
            },
        )
        url = self.testbed.git_server().create_repo("fleet")
        self.tree = WorkTree(self.folder / "repo", url)
        sops_store(self.kube, url, interval="5s", name="sops")
        for name in self.names("vault"):
            self.set_vault(name, f"{name}-one")
        for name in self.names("aws"):
            self.set_aws(name, f"{name}-one")
        self.push_sops({name: f"{name}-one" for name in self.names("sops")}, "one")
        for store in ("vault", "aws", "sops"):
            for name in self.names(store):
                self.kube.apply("externalsecrets", self._es(store, name))

    def _es(self, store: str, name: str) -> dict[str, Any]:
        key = "fleet.yaml" if store == "sops" else f"fleet/{name}"
        prop = name if store == "sops" else "password"
        spec: dict[str, Any] = {
            "refreshInterval": REFRESH,
            "secretStoreRef": {"name": store, "kind": "SecretStore"},
            "target": {"name": name},
            "data": [{"secretKey": "password", "remoteRef": {"key": key, "property": prop}}],
        }
        if ROLLED[store] == name:
            spec["rollout"] = {"targets": [{"kind": "Deployment", "name": app_name(store)}]}
        return {"kind": "ExternalSecret", "metadata": {"name": name}, "spec": spec}

    def run_operator(self) -> None:
        kubeconfig = harness.operator_kubeconfig(self.testbed, self.folder)
        self.pod = Pod(
            kubeconfig,
            self.folder / "operator.log",
            {"AWS_ENDPOINT_URL": self.testbed.AWS_ENDPOINT_URL},
            identity="fleet-operator",
        )

    def deploy_apps(self) -> None:
        apps = client.AppsV1Api(self.api)
        for store, es in ROLLED.items():
            name = app_name(store)
            apps.create_namespaced_deployment(
                NAMESPACE, c.deployment(name, c.pod_template(name, secret=es))
            )

    def close(self) -> None:
        if self.writes is not None:
            self.writes.close()
        if self.pod is not None:
            self.pod.close()

    # --- observing --------------------------------------------------------------------------

    def secrets(self) -> dict[str, Seen]:
        listing: Any = self.kube.core.list_namespaced_secret(
            NAMESPACE, label_selector=f"{MANAGED_LABEL}=true"
        )
        return {
            s.metadata.name: Seen(
                s.metadata.uid,
                s.metadata.resource_version,
                {k: base64.b64decode(v) for k, v in (s.data or {}).items()},
            )
            for s in listing.items
        }

    def ready(self) -> dict[str, tuple[str, str]]:
        """Ready (status, reason) of every ExternalSecret."""
        listing: Any = self.kube.custom.list_namespaced_custom_object(
            harness.GROUP, harness.VERSION, NAMESPACE, "externalsecrets"
        )
        found: dict[str, tuple[str, str]] = {}
        for item in listing["items"]:
            conditions = (item.get("status") or {}).get("conditions") or []
            ready: dict[str, Any] = next((x for x in conditions if x.get("type") == "Ready"), {})
            found[item["metadata"]["name"]] = (ready.get("status", ""), ready.get("reason", ""))
        return found

    def not_ready(self, names: Iterable[str] | None = None) -> list[str]:
        wanted = set(names) if names is not None else None
        return sorted(
            name
            for name, (status, _) in self.ready().items()
            if status != "True" and (wanted is None or name in wanted)
        )

    def generations(self) -> dict[str, int]:
        return {
            store: c.generation(self.api, NAMESPACE, "Deployment", app_name(store))
            for store in ROLLED
        }

    def wait_all_ready(self, timeout: float) -> float:
        """Seconds until every ExternalSecret is Ready=True with its expected data."""
        started = time.monotonic()

        def converged() -> bool:
            if self.not_ready():
                return False
            seen = self.secrets()
            return all(seen.get(n) and seen[n].data == self.expected[n] for n in self.expected)

        eventually(converged, timeout=timeout, what="every ExternalSecret Ready with its data")
        return time.monotonic() - started

    def apiserver_answers(self) -> bool:
        # Bounded, so that `eventually` keeps its own deadline while etcd is away.
        client.CoreV1Api(self.api).list_namespaced_secret(NAMESPACE, limit=1, _request_timeout=10)
        return True

    # --- faults -----------------------------------------------------------------------------

    def stop(self, component: str) -> None:
        # Its ports stay reserved for the restart: on a busy machine another program could
        # otherwise bind one during the outage, and the component could not come back.
        procs.stop(self.state_dir, component, keep_ports=True)

    def restart(self, component: str) -> None:
        """Start it again and return once it answers (its own readiness probe); one that does
        not come back fails here, with its log and whoever holds its ports."""
        procs.restart(self.state_dir, component, ready=self.probes.get(component), timeout=120)

    def pause(self, component: str, *, resume: bool = False) -> None:
        procs.pause(self.state_dir, component, resume=resume)

    def bao_sealed(self) -> bao.Bao:
        return bao.Bao(
            addr=self.testbed.VAULT_TLS_ADDR, token="", cacert=Path(self.testbed.VAULT_CACERT)
        )

    def unseal(self) -> None:
        sealed = self.bao_sealed()
        eventually(
            lambda: "initialized" in bao.request(sealed, "GET", "sys/init", token=False),
            what="OpenBao to answer",
        )
        key = (self.state_dir / "openbao-tls" / "unseal.key").read_text().strip()
        bao.request(sealed, "PUT", "sys/unseal", {"key": key}, token=False, timeout=60)
        admin = bao.Bao(sealed.addr, self.testbed.VAULT_TLS_TOKEN, sealed.cacert)
        eventually(
            lambda: bao.request(admin, "GET", "sys/health", token=False).get("sealed") is False,
            what="OpenBao unsealed",
        )

    def seal(self) -> None:
        admin = bao.Bao(
            self.testbed.VAULT_TLS_ADDR,
            self.testbed.VAULT_TLS_TOKEN,
            Path(self.testbed.VAULT_CACERT),
        )
        bao.request(admin, "PUT", "sys/seal", timeout=60)


@dataclasses.dataclass(frozen=True)
class Before:
    secrets: dict[str, Seen]
    generations: dict[str, int]
    log_offset: int


def before(fleet: Fleet) -> Before:
    """The converged fleet a fault starts from; writes are counted from here."""
    fleet.wait_all_ready(60)
    assert fleet.writes is not None and fleet.pod is not None
    fleet.writes.reset()
    return Before(fleet.secrets(), fleet.generations(), fleet.pod.log_size())


@dataclasses.dataclass
class Outcome:
    recovery_seconds: float
    writes: dict[str, int]


def check_nothing_lost(
    fleet: Fleet,
    start: Before,
    *,
    changed: Iterable[str] = (),
    rolled: Iterable[str] = (),
    ready_within: float = 30.0,
    log: Callable[[str], None] = print,
    label: str = "",
) -> Outcome:
    """After recovery: every Secret the same object (never deleted) with its expected data
    (never emptied), all Ready within `ready_within`, one write at most to each Secret whose
    source `changed` and none to the others, and each Deployment of `rolled` stores restarted
    exactly once, the others not at all."""
    changed, rolled = set(changed), set(rolled)
    before, generations = start.secrets, start.generations
    assert fleet.writes is not None
    counted = fleet.writes
    started = time.monotonic()
    fleet.wait_all_ready(ready_within)
    # A stale Ready could hide a sync still to come: each changed Secret is written, too.
    eventually(
        lambda: changed <= set(counted.writes),
        timeout=max(1.0, ready_within - (time.monotonic() - started)),
        what=f"writes to {sorted(changed - set(counted.writes))[:5]}...",
    )
    recovery = time.monotonic() - started
    after = fleet.secrets()
    assert not fleet.writes.deleted, f"Secrets deleted: {sorted(fleet.writes.deleted)}"
    assert not fleet.writes.emptied, f"Secrets emptied: {sorted(fleet.writes.emptied)}"
    for name, seen in before.items():
        assert name in after, f"Secret {name} missing"
        assert after[name].uid == seen.uid, f"Secret {name} was deleted and made again"
        assert after[name].data == fleet.expected[name], f"Secret {name} has other data"
        if name not in changed:
            assert after[name].resource_version == seen.resource_version, (
                f"Secret {name} was written though its source did not change"
            )
    writes = dict(fleet.writes.writes)
    assert set(writes) <= changed, f"writes to unchanged Secrets: {sorted(set(writes) - changed)}"
    storm = {n: w for n, w in writes.items() if w > 1}
    assert not storm, f"Secrets written more than once for one change: {storm}"
    for store, generation in generations.items():
        want = generation + (1 if store in rolled else 0)

        def settled(store: str = store, want: int = want) -> bool:
            return fleet.generations()[store] == want

        eventually(settled, timeout=30, what=f"{app_name(store)} at generation {want}")

    # A duplicate restart would come after the first: look again once the rollouts are over.
    def phase(store: str) -> Any:
        return ((fleet.kube.es(ROLLED[store]).get("status") or {}).get("rollout") or {}).get(
            "phase"
        )

    for store in rolled:
        eventually(
            lambda s=store: phase(s) == "Succeeded",  # type: ignore[misc]
            timeout=60,
            what=f"the {store} rollout to succeed",
        )
    assert fleet.generations() == {
        s: g + (1 if s in rolled else 0) for s, g in generations.items()
    }, "no duplicate rollout"
    assert fleet.pod is not None
    logs = fleet.pod.logs_since(start.log_offset)
    assert "Exception in thread" not in logs, "a thread of the operator died"
    assert '"sync crashed"' not in logs, "an outage is not a crash (an unexpected exception)"
    assert "can never take the leader Lease" not in logs, "a passing refusal ended the operator"
    exits = len(fleet.pod.exits)
    log(
        f"{label}: recovered in {recovery:.1f}s, {sum(writes.values())} Secret writes, "
        f"operator exits so far {exits}"
    )
    return Outcome(recovery, writes)
