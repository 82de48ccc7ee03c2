"""Bring the whole test bed up or down, and describe it in a shell-sourceable env file."""

from __future__ import annotations

import concurrent.futures
import shlex
import shutil
import time
from collections.abc import Callable
from dataclasses import dataclass, fields
from pathlib import Path
from typing import TypeVar

from kubernetes import client

from tests.testbed import argo, bao, binaries, cluster, failif, git, kube, moto, procs
from tests.testbed.pki import CA

T = TypeVar("T")
SYSTEM_NAMESPACE = "testbed-system"


@dataclass(frozen=True)
class Testbed:
    """Every address, credential and binary path of a running test bed."""

    KUBECONFIG: str
    KUBE_SERVER: str
    KUBE_CA: str
    KUBE_ISSUER: str
    VAULT_ADDR: str
    VAULT_TOKEN: str
    VAULT_TLS_ADDR: str
    VAULT_TLS_TOKEN: str
    VAULT_CACERT: str
    AWS_ENDPOINT_URL: str
    AWS_ACCESS_KEY_ID: str
    AWS_SECRET_ACCESS_KEY: str
    AWS_DEFAULT_REGION: str
    GIT_HTTP_URL: str
    GIT_ROOT: str
    GIT_USERNAME: str
    GIT_PASSWORD: str
    GIT_TOKEN: str
    SOPS_BIN: str
    SOPS_OLD_BIN: str
    AGE_BIN: str
    AGE_KEYGEN_BIN: str
    KUBECTL_BIN: str
    BAO_BIN: str
    TESTBED_STATE_DIR: str

    def git_server(self) -> git.GitServer:
        return git.GitServer(
            url=self.GIT_HTTP_URL,
            root=Path(self.GIT_ROOT),
            user=self.GIT_USERNAME,
            password=self.GIT_PASSWORD,
            token=self.GIT_TOKEN,
        )

    def kube(self) -> kube.Kube:
        state = Path(self.TESTBED_STATE_DIR)
        return kube.Kube(
            server=self.KUBE_SERVER,
            kubeconfig=Path(self.KUBECONFIG),
            ca=Path(self.KUBE_CA),
            sa_public_key=state / "pki" / "service-account.pub",
            issuer=self.KUBE_ISSUER,
        )


def env_path(state_dir: Path) -> Path:
    return state_dir / "env"


def write_env(state_dir: Path, testbed: Testbed) -> Path:
    lines = ["# secretsync test bed; `source` this file to use it by hand."]
    lines += [f"export {f.name}={shlex.quote(getattr(testbed, f.name))}" for f in fields(testbed)]
    lines.append(f'export PATH={shlex.quote(str(Path(testbed.KUBECTL_BIN).parent))}:"$PATH"')
    path = env_path(state_dir)
    path.write_text("\n".join(lines) + "\n")
    return path


def read_env(state_dir: Path) -> Testbed:
    values: dict[str, str] = {}
    for line in env_path(state_dir).read_text().splitlines():
        if line.startswith("export ") and not line.startswith("export PATH="):
            name, _, value = line.removeprefix("export ").partition("=")
            values[name] = shlex.split(value)[0] if value else ""
    return Testbed(**{f.name: values[f.name] for f in fields(Testbed)})


def _timed(label: str, step: Callable[[], T], log: Callable[[str], None]) -> T:
    log(f"  starting {label}...")
    started = time.monotonic()
    result = step()
    log(f"  {label} ready in {time.monotonic() - started:.1f}s")
    return result


def up(state_dir: Path, log: Callable[[str], None] = print) -> Testbed:
    """Start every component in the background; stop what started if any part fails."""
    if state_dir.exists():
        procs.stop_all(state_dir)
        shutil.rmtree(state_dir)
    state_dir.mkdir(parents=True)
    try:
        return _up(state_dir, log)
    except BaseException:
        procs.stop_all(state_dir)
        raise


def _up(state_dir: Path, log: Callable[[str], None]) -> Testbed:
    with concurrent.futures.ThreadPoolExecutor(max_workers=4) as pool:
        moto_f = pool.submit(_timed, "moto (AWS)", lambda: moto.start(state_dir), log)
        git_f = pool.submit(_timed, "git HTTP server", lambda: git.start(state_dir), log)
        ca = CA(state_dir / "pki")
        k = _timed("kubernetes control plane", lambda: kube.start(state_dir, ca), log)
        _timed("KWOK node", lambda: _prepare_cluster(k, state_dir), log)
        reviewer = _reviewer_token(k)
        kubectl = binaries.require(binaries.KUBECTL)
        argo_f = pool.submit(
            _timed, "argo rollouts", lambda: argo.start(state_dir, kubectl, k.kubeconfig), log
        )
        dev_f = pool.submit(
            _timed, "openbao (dev)", lambda: bao.start_dev(state_dir, k, reviewer), log
        )
        tls_f = pool.submit(
            _timed, "openbao (TLS)", lambda: bao.start_tls(state_dir, k, reviewer, ca), log
        )
        dev, tls, aws, gitsrv = dev_f.result(), tls_f.result(), moto_f.result(), git_f.result()
        argo_f.result()
    testbed = Testbed(
        KUBECONFIG=str(k.kubeconfig),
        KUBE_SERVER=k.server,
        KUBE_CA=str(k.ca),
        KUBE_ISSUER=k.issuer,
        VAULT_ADDR=dev.addr,
        VAULT_TOKEN=dev.token,
        VAULT_TLS_ADDR=tls.addr,
        VAULT_TLS_TOKEN=tls.token,
        VAULT_CACERT=str(ca.cert_path),
        AWS_ENDPOINT_URL=aws.endpoint_url,
        AWS_ACCESS_KEY_ID=moto.ACCESS_KEY_ID,
        AWS_SECRET_ACCESS_KEY=moto.SECRET_ACCESS_KEY,
        AWS_DEFAULT_REGION=moto.REGION,
        GIT_HTTP_URL=gitsrv.url,
        GIT_ROOT=str(gitsrv.root),
        GIT_USERNAME=gitsrv.user,
        GIT_PASSWORD=gitsrv.password,
        GIT_TOKEN=gitsrv.token,
        SOPS_BIN=str(binaries.require(binaries.SOPS)),
        SOPS_OLD_BIN=str(binaries.require(binaries.SOPS_OLD)),
        AGE_BIN=str(binaries.require(binaries.AGE)),
        AGE_KEYGEN_BIN=str(binaries.require(binaries.AGE_KEYGEN)),
        KUBECTL_BIN=str(kubectl),
        BAO_BIN=str(binaries.bao_path()),
        TESTBED_STATE_DIR=str(state_dir),
    )
    write_env(state_dir, testbed)
    return testbed


def _prepare_cluster(k: kube.Kube, state_dir: Path) -> None:
    failif.start(state_dir, k.kubeconfig)
    cluster.add_kwok_node(k, state_dir)
    cluster.wait_for_default_service_account(k, state_dir)


def _reviewer_token(k: kube.Kube) -> str:
    """A ServiceAccount allowed to call TokenReview, for OpenBao's Kubernetes auth."""
    api = cluster.api(k.kubeconfig)
    core, rbac = client.CoreV1Api(api), client.RbacAuthorizationV1Api(api)
    core.create_namespace(client.V1Namespace(metadata=client.V1ObjectMeta(name=SYSTEM_NAMESPACE)))
    core.create_namespaced_service_account(
        SYSTEM_NAMESPACE,
        client.V1ServiceAccount(metadata=client.V1ObjectMeta(name="openbao-reviewer")),
    )
    rbac.create_cluster_role_binding(
        client.V1ClusterRoleBinding(
            metadata=client.V1ObjectMeta(name="testbed-openbao-reviewer"),
            role_ref=client.V1RoleRef(
                api_group="rbac.authorization.k8s.io",
                kind="ClusterRole",
                name="system:auth-delegator",
            ),
            subjects=[
                client.RbacV1Subject(
                    kind="ServiceAccount", name="openbao-reviewer", namespace=SYSTEM_NAMESPACE
                )
            ],
        )
    )
    return cluster.service_account_token(
        k.kubeconfig, SYSTEM_NAMESPACE, "openbao-reviewer", seconds=7 * 24 * 3600
    )


def is_running(state_dir: Path) -> bool:
    """True when an env file exists and its apiserver, OpenBao and moto still answer."""
    if not env_path(state_dir).exists():
        return False
    try:
        testbed = read_env(state_dir)
        client.VersionApi(cluster.api(Path(testbed.KUBECONFIG))).get_code()
        bao.request(bao.Bao(testbed.VAULT_ADDR, testbed.VAULT_TOKEN), "GET", "sys/health")
    except Exception:
        return False
    return True


def down(state_dir: Path) -> list[str]:
    stopped = procs.stop_all(state_dir)
    env_path(state_dir).unlink(missing_ok=True)
    return stopped
