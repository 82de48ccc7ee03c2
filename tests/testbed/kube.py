"""A real Kubernetes control plane on loopback: etcd, kube-apiserver, controller-manager,
scheduler, and KWOK for nodes and pods."""

from __future__ import annotations

import json
import ssl
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tests.testbed import binaries, procs
from tests.testbed.pki import CA, Pair, rsa_signing_key

ISSUER = "https://kubernetes.default.svc.cluster.local"
NODE_NAME = "kwok-node-0"
STAGES = Path(__file__).resolve().parent / "kwok-stages.yaml"


@dataclass(frozen=True)
class Kube:
    server: str
    kubeconfig: Path
    """Admin (system:masters) kubeconfig."""

    ca: Path
    sa_public_key: Path
    issuer: str = ISSUER


def write_kubeconfig(
    path: Path,
    server: str,
    ca: Path,
    *,
    client: Pair | None = None,
    token: str | None = None,
    namespace: str = "default",
) -> Path:
    user: dict[str, str] = {}
    if client is not None:
        user = {"client-certificate": str(client.cert), "client-key": str(client.key)}
    if token is not None:
        user = {"token": token}
    config = {
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [
            {"name": "testbed", "cluster": {"server": server, "certificate-authority": str(ca)}}
        ],
        "users": [{"name": "user", "user": user}],
        "contexts": [
            {
                "name": "testbed",
                "context": {"cluster": "testbed", "user": "user", "namespace": namespace},
            }
        ],
        "current-context": "testbed",
    }
    path.touch(mode=0o600)
    # JSON is valid YAML, and every Kubernetes client reads it.
    path.write_text(json.dumps(config, indent=2))
    return path


def start(state_dir: Path, ca: CA) -> Kube:
    sa = rsa_signing_key(ca.dir, "service-account")
    etcd_url = _start_etcd(state_dir)
    server = _start_apiserver(state_dir, ca, sa, etcd_url)
    admin = write_kubeconfig(
        state_dir / "admin.kubeconfig",
        server,
        ca.cert_path,
        client=ca.issue("admin", "testbed-admin", organization="system:masters"),
    )
    kcm = write_kubeconfig(
        state_dir / "kcm.kubeconfig",
        server,
        ca.cert_path,
        client=ca.issue("kcm", "system:kube-controller-manager"),
    )
    sched = write_kubeconfig(
        state_dir / "scheduler.kubeconfig",
        server,
        ca.cert_path,
        client=ca.issue("scheduler", "system:kube-scheduler"),
    )
    _start_controller_manager(state_dir, kcm, ca, sa)
    _start_scheduler(state_dir, sched)
    _start_kwok(state_dir, admin)
    return Kube(server=server, kubeconfig=admin, ca=ca.cert_path, sa_public_key=sa.cert)


def _start_etcd(state_dir: Path) -> str:
    client, peer = procs.free_port(), procs.free_port()
    url = f"http://127.0.0.1:{client}"
    proc = procs.start(
        state_dir,
        "etcd",
        [
            str(binaries.require(binaries.ETCD)),
            f"--data-dir={state_dir / 'etcd'}",
            f"--listen-client-urls={url}",
            f"--advertise-client-urls={url}",
            f"--listen-peer-urls=http://127.0.0.1:{peer}",
            f"--initial-advertise-peer-urls=http://127.0.0.1:{peer}",
            f"--initial-cluster=default=http://127.0.0.1:{peer}",
            "--unsafe-no-fsync",  # a test bed trades durability for speed
            "--log-level=warn",
        ],
    )
    procs.wait_for(
        state_dir, "etcd", lambda: b"true" in _get(f"{url}/health"), timeout=30, proc=proc
    )
    return url


def _start_apiserver(state_dir: Path, ca: CA, sa: Pair, etcd_url: str) -> str:
    port = procs.free_port()
    serving = ca.issue(
        "apiserver",
        "kube-apiserver",
        server=True,
        hosts=(
            "127.0.0.1",
            "localhost",
            "kubernetes",
            "kubernetes.default",
            "kubernetes.default.svc",
            "kubernetes.default.svc.cluster.local",
            "10.96.0.1",
        ),
    )
    probe = ca.issue("probe", "testbed-probe", organization="system:masters")
    proc = procs.start(
        state_dir,
        "kube-apiserver",
        [
            str(binaries.require(binaries.KUBE_APISERVER)),
            f"--etcd-servers={etcd_url}",
            "--bind-address=127.0.0.1",
            "--advertise-address=127.0.0.1",
            f"--secure-port={port}",
            f"--tls-cert-file={serving.cert}",
            f"--tls-private-key-file={serving.key}",
            f"--client-ca-file={ca.cert_path}",
            f"--service-account-issuer={ISSUER}",
            f"--service-account-key-file={sa.cert}",
            f"--service-account-signing-key-file={sa.key}",
            "--authorization-mode=RBAC",
            "--service-cluster-ip-range=10.96.0.0/16",
            "--allow-privileged=true",
            f"--cert-dir={state_dir / 'pki' / 'apiserver-generated'}",
            # Benchmarks create thousands of objects; the defaults (400/200) would queue them.
            "--max-requests-inflight=2000",
            "--max-mutating-requests-inflight=1000",
            "--profiling=false",
        ],
    )
    server = f"https://127.0.0.1:{port}"
    context = ssl.create_default_context(cafile=str(ca.cert_path))
    context.load_cert_chain(str(probe.cert), str(probe.key))
    procs.wait_for(
        state_dir,
        "kube-apiserver",
        lambda: _get(f"{server}/readyz", context) == b"ok",
        timeout=90,
        proc=proc,
    )
    return server


def _start_controller_manager(state_dir: Path, kubeconfig: Path, ca: CA, sa: Pair) -> None:
    procs.start(
        state_dir,
        "kube-controller-manager",
        [
            str(binaries.require(binaries.KUBE_CONTROLLER_MANAGER)),
            f"--kubeconfig={kubeconfig}",
            f"--authentication-kubeconfig={kubeconfig}",
            f"--authorization-kubeconfig={kubeconfig}",
            "--bind-address=127.0.0.1",
            f"--secure-port={procs.free_port()}",
            "--leader-elect=false",
            "--use-service-account-credentials=true",
            f"--service-account-private-key-file={sa.key}",
            f"--root-ca-file={ca.cert_path}",
            # Rollout tests want replicas replaced promptly, and benchmarks create many objects.
            "--kube-api-qps=200",
            "--kube-api-burst=400",
        ],
    )


def _start_scheduler(state_dir: Path, kubeconfig: Path) -> None:
    procs.start(
        state_dir,
        "kube-scheduler",
        [
            str(binaries.require(binaries.KUBE_SCHEDULER)),
            f"--kubeconfig={kubeconfig}",
            f"--authentication-kubeconfig={kubeconfig}",
            f"--authorization-kubeconfig={kubeconfig}",
            "--bind-address=127.0.0.1",
            f"--secure-port={procs.free_port()}",
            "--leader-elect=false",
        ],
    )


def _start_kwok(state_dir: Path, admin: Path) -> None:
    port = procs.free_port()
    proc = procs.start(
        state_dir,
        "kwok",
        [
            str(binaries.require(binaries.KWOK)),
            f"--kubeconfig={admin}",
            f"--config={STAGES}",
            "--manage-all-nodes=false",
            "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
            "--node-lease-duration-seconds=40",
            "--cidr=10.244.0.1/16",
            "--node-ip=10.0.0.1",
            f"--server-address=127.0.0.1:{port}",
        ],
    )
    procs.wait_for(
        state_dir,
        "kwok",
        lambda: _get(f"http://127.0.0.1:{port}/healthz") == b"ok",
        timeout=30,
        proc=proc,
    )


def _get(url: str, context: ssl.SSLContext | None = None) -> bytes:
    with urllib.request.urlopen(url, timeout=2, context=context) as response:  # noqa: S310
        return bytes(response.read())
