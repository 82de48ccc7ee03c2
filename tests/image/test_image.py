"""The image `make image` builds, run as a kubelet would run it: read-only root filesystem, uid
65532, every capability dropped, the host's network to the test bed, and the operator's
ServiceAccount token, CA and namespace at the in-cluster path. From inside the container it
leads, syncs from OpenBao and from an ssh:// SOPS-in-Git store, answers its probes and metrics,
and stops cleanly on SIGTERM. The image itself carries no package manager, pip or compiler."""

from __future__ import annotations

import json
import shutil
import subprocess
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlsplit

import pytest
from kubernetes import client

from tests.operator import harness
from tests.operator.harness import Cluster, eventually
from tests.operator.manifests import unique, vault, vault_store
from tests.providers.sops_git_fixtures import (
    SshServer,
    WorkTree,
    age_key,
    encrypt,
    put_secret,
    start_sshd,
)
from tests.testbed import cluster, podman, stack
from tests.testbed.git import GitServer
from tests.testbed.procs import free_port

pytestmark = pytest.mark.testbed  # podman is a test bed component, like the apiserver

SERVICE_ACCOUNT_MOUNT = "/var/run/secrets/kubernetes.io/serviceaccount"
OPERATOR_NAMESPACE = "secretsync-system"
LEASE = "secretsync-operator"  # deploy/rbac grants this one Lease only, in OPERATOR_NAMESPACE
GRACE_SECONDS = 30  # the Deployment's terminationGracePeriodSeconds default


@pytest.fixture
def service_account(testbed: stack.Testbed, tmp_path: Path) -> Path:
    """What the kubelet mounts for the `secretsync` ServiceAccount of deploy/rbac."""
    harness.install(testbed)
    folder = tmp_path / "serviceaccount"
    folder.mkdir(mode=0o755)
    folder.chmod(0o755)  # tmp_path is private to root; uid 65532 reads through the mount
    token = cluster.service_account_token(
        Path(testbed.KUBECONFIG), OPERATOR_NAMESPACE, "secretsync"
    )
    (folder / "token").write_text(token)
    shutil.copyfile(testbed.KUBE_CA, folder / "ca.crt")
    (folder / "namespace").write_text(OPERATOR_NAMESPACE)
    for path in folder.iterdir():
        path.chmod(0o644)
    return folder


@pytest.fixture
def sshd(tmp_path: Path) -> Iterator[SshServer]:
    folder = tmp_path / "sshd"
    folder.mkdir()
    proc, server = start_sshd(folder)
    yield server
    proc.terminate()
    proc.wait(timeout=10)


def _lease_holder(api: client.ApiClient) -> str | None:
    lease = client.CoordinationV1Api(api).read_namespaced_lease(LEASE, OPERATOR_NAMESPACE)
    return lease.spec.holder_identity if lease.spec else None


def _get(url: str) -> tuple[int, str]:
    with urllib.request.urlopen(url, timeout=5) as response:  # noqa: S310
        return response.status, response.read().decode()


def _ready_metric(metrics: str, namespace: str, name: str) -> bool:
    wanted = (f'name="{name}"', f'namespace="{namespace}"', 'condition="Ready"', 'status="True"')
    return any(
        line.startswith("externalsecret_status_condition{")
        and all(label in line for label in wanted)
        and float(line.rsplit(" ", 1)[1]) == 1
        for line in metrics.splitlines()
    )


def _external_secret(kube: Cluster, name: str, store: str, key: str) -> None:
    kube.apply(
        "externalsecrets",
        {
            "kind": "ExternalSecret",
            "metadata": {"name": name},
            "spec": {
                "refreshInterval": "1h",
                "secretStoreRef": {"name": store},
                "dataFrom": [{"extract": {"key": key}}],
            },
        },
    )


def _ssh_sops_store(
    kube: Cluster,
    kube_api: client.ApiClient,
    git_server: GitServer,
    sshd: SshServer,
    sops_bin: Path,
    age_keygen_bin: Path,
    folder: Path,
    password: str,
) -> None:
    """A SOPS file committed over HTTP, then read by the operator over ssh:// from the same
    bare repository, with the identity and known_hosts of the store's Secret."""
    key = age_key(age_keygen_bin, folder, "age")
    name = unique("image-sops")
    tree = WorkTree(folder / "work", git_server.create_repo(name))
    plain = f"user: admin\npassword: {password}\n".encode()
    tree.write("clusters/prod/db.yaml", encrypt(sops_bin, key, "db.yaml", plain, folder))
    tree.commit("db")
    bare = git_server.root / "public" / f"{name}.git"
    kube.put_secret("sops-age", {"identity.agekey": key.identity})
    put_secret(
        kube_api,
        kube.namespace,
        "git-ssh",
        {"identity": sshd.identity, "known_hosts": sshd.known_hosts},
    )
    url = f"ssh://{sshd.user}@127.0.0.1:{sshd.port}{bare}"
    git = {"url": url, "ref": {"branch": "main"}, "path": "clusters/prod"}
    kube.apply(
        "secretstores",
        {
            "kind": "SecretStore",
            "metadata": {"name": "sops"},
            "spec": {
                "provider": {
                    "sops": {
                        "git": git | {"secretRef": {"name": "git-ssh"}},
                        "decryption": {"secretRef": {"name": "sops-age"}},
                    }
                }
            },
        },
    )


# It takes the real Lease, so it runs on the one worker that runs every such test, one at a time.
@pytest.mark.xdist_group("lease")
def test_the_image_runs_the_operator_as_a_pod_would(
    image: str,
    testbed: stack.Testbed,
    kube_api: client.ApiClient,
    namespace: str,
    service_account: Path,
    sshd: SshServer,
    git_server: GitServer,
    sops_bin: Path,
    age_keygen_bin: Path,
    tmp_path: Path,
) -> None:
    kube = Cluster(kube_api, namespace)
    from_bao, from_git = unique("bao-value"), unique("git-value")
    bao_key = f"image/{namespace}"
    vault(testbed).secrets.kv.v2.create_or_update_secret(bao_key, secret={"token": from_bao})
    vault_store(kube, testbed)
    _external_secret(kube, "from-bao", "vault", bao_key)
    _ssh_sops_store(kube, kube_api, git_server, sshd, sops_bin, age_keygen_bin, tmp_path, from_git)
    _external_secret(kube, "from-git", "sops", "db.yaml")

    apiserver = urlsplit(testbed.KUBE_SERVER)  # 127.0.0.1 is in its serving certificate
    port, identity = free_port(), unique("image-pod")
    container = podman.run_detached(
        unique("secretsync-image"),
        [
            "--network=host",
            "--read-only",
            "--user=65532:65532",
            "--cap-drop=ALL",
            "--security-opt=no-new-privileges",
            "--tmpfs=/tmp:rw,size=256m,mode=1777",
            f"--volume={service_account}:{SERVICE_ACCOUNT_MOUNT}:ro",
            f"--env=KUBERNETES_SERVICE_HOST={apiserver.hostname}",
            f"--env=KUBERNETES_SERVICE_PORT={apiserver.port}",
            f"--env=SECRETSYNC_IDENTITY={identity}",
        ],
        image,
        # Leader election is on by itself: the namespace file says it runs in a pod.
        ["operator", "--namespace", namespace, "--metrics-address", f"127.0.0.1:{port}"],
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        try:
            eventually(
                lambda: _lease_holder(kube_api) == identity,
                timeout=60,
                what="the container to hold the Lease",
            )
            eventually(
                lambda: kube.data("from-bao") == {"token": from_bao.encode()},
                what="the Secret from OpenBao",
            )
            eventually(
                lambda: kube.data("from-git") == {"user": b"admin", "password": from_git.encode()},
                timeout=60,
                what="the Secret from the ssh:// SOPS store",
            )
            assert _get(f"{base}/healthz")[0] == 200
            assert _get(f"{base}/readyz")[0] == 200
            eventually(
                lambda: all(
                    _ready_metric(_get(f"{base}/metrics")[1], namespace, name)
                    for name in ("from-bao", "from-git")
                ),
                what="both ExternalSecrets Ready in /metrics",
            )
        except AssertionError as failed:
            log = container.logs()[-4000:]
            raise AssertionError(f"{failed}\n--- container log ---\n{log}") from None

        assert container.stop(GRACE_SECONDS) == 0, container.logs()[-4000:]
        logs = container.logs()
        assert "Traceback" not in logs, logs[-4000:]
        assert _lease_holder(kube_api) is None, "the Lease was not released on SIGTERM"
        assert from_bao not in logs
        assert from_git not in logs
    finally:
        container.remove()


def test_the_archive_and_the_image_carry_only_what_the_operator_needs(image: str) -> None:
    archive = podman.archive()
    inspected = subprocess.run(
        ["skopeo", "inspect", "--config", f"oci-archive:{archive}"],
        capture_output=True,
        text=True,
        check=True,
        env=podman.environment(),
    )
    config = json.loads(inspected.stdout)["config"]
    assert config["Labels"]["org.opencontainers.image.version"] == podman.version()
    assert config["Labels"]["org.opencontainers.image.title"] == "secretsync"
    assert config["User"] == "65532:65532"
    assert config["Entrypoint"] == ["secretsync"]
    assert config["Cmd"] == ["operator"]

    probe = (
        "for tool in apt apt-get dpkg pip pip3 gcc cc perl; do "
        'command -v "$tool" && echo "found $tool"; done; '
        "python3 -m pip --version >/dev/null 2>&1 && echo 'found python3 -m pip'; "
        "find / -xdev \\( -name '*.whl' -o -path '*/.cache/pip' -o -type f -perm /6000 \\) "
        "-print 2>/dev/null; "
        "getent passwd 65532; git --version; ssh -V 2>&1"
    )
    result = podman.podman(
        # As root (without capabilities), so find sees into /root too.
        "run", "--rm", "--read-only", "--cap-drop=ALL", "--user=0:0",
        "--entrypoint=/bin/sh", image, "-c", probe,
    )  # fmt: skip
    lines = result.stdout.splitlines()
    assert not [line for line in lines if line.startswith(("found", "/"))], result.stdout
    home = next(line for line in lines if line.startswith("secretsync:"))
    assert home.split(":")[5] == "/tmp", "ssh needs the user's passwd entry and a writable home"
    assert any(line.startswith("git version") for line in lines)
    assert any(line.startswith("OpenSSH") for line in lines)
