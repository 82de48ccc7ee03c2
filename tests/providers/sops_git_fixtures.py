"""Helpers for the SOPS-in-Git provider tests: age keys and files encrypted by the real sops
binary, a working clone that pushes to the loopback Git server, Secrets in the real apiserver."""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import getpass
import os
import socket
import subprocess
import time
from collections import Counter
from pathlib import Path
from typing import Any

from kubernetes import client

from secretsync.api.objects import SecretStore, parse_store
from secretsync.gitsource.registry import Repositories
from secretsync.kube.credentials import ClusterCredentials
from secretsync.providers.base import StoreContext
from secretsync.providers.sops_git import SopsGitProvider
from tests.testbed.git import GitServer
from tests.testbed.procs import free_port


@dataclasses.dataclass(frozen=True)
class AgeKey:
    identity: str
    recipient: str
    path: Path


def age_key(keygen: Path, folder: Path, name: str, *, pq: bool = False) -> AgeKey:
    path = folder / f"{name}.txt"
    argv = [str(keygen), *(["-pq"] if pq else []), "-o", str(path)]
    subprocess.run(argv, check=True, capture_output=True)
    text = path.read_text()
    recipient = next(line.split()[-1] for line in text.splitlines() if "public key" in line)
    return AgeKey(text, recipient, path)


def encrypt(sops: Path, key: AgeKey, name: str, plain: bytes, folder: Path) -> bytes:
    """The real sops binary encrypts; the file name decides the format, as it does for sops."""
    source = folder / name
    source.parent.mkdir(parents=True, exist_ok=True)
    source.write_bytes(plain)
    env = os.environ | {"SOPS_AGE_RECIPIENTS": key.recipient}
    result = subprocess.run(
        [str(sops), "encrypt", str(source)], check=True, capture_output=True, env=env
    )
    source.unlink()
    return result.stdout


def sops_decrypt(sops: Path, key: AgeKey, path: Path) -> bytes:
    env = os.environ | {"SOPS_AGE_KEY_FILE": str(key.path)}
    return subprocess.run(
        [str(sops), "decrypt", str(path)], check=True, capture_output=True, env=env
    ).stdout


def basic_header(server: GitServer) -> str:
    token = base64.b64encode(f"{server.user}:{server.password}".encode()).decode()
    return f"Authorization: Basic {token}"


class WorkTree:
    """A working clone that commits files and pushes them (with credentials for /private/)."""

    def __init__(self, folder: Path, url: str, header: str | None = None) -> None:
        self.folder, self.url, self.header = folder, url, header
        self.git("init", "--quiet", "--initial-branch=main", str(folder), cwd=folder.parent)

    def git(self, *args: str, cwd: Path | None = None) -> str:
        env = os.environ | {
            "GIT_AUTHOR_NAME": "t",
            "GIT_AUTHOR_EMAIL": "t@example.com",
            "GIT_COMMITTER_NAME": "t",
            "GIT_COMMITTER_EMAIL": "t@example.com",
        }
        extra = ["-c", f"http.extraHeader={self.header}"] if self.header else []
        return subprocess.run(
            ["git", *extra, *args],
            cwd=cwd or self.folder,
            env=env,
            check=True,
            capture_output=True,
            text=True,
        ).stdout

    def write(self, name: str, data: bytes) -> None:
        path = self.folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(data)

    def symlink(self, name: str, target: str) -> None:
        path = self.folder / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.symlink_to(target)

    def commit(self, message: str, *refs: str) -> str:
        self.git("add", "--all")
        self.git("commit", "--quiet", "-m", message)
        self.git("push", "--quiet", "--force", self.url, "main", *refs)
        return self.git("rev-parse", "HEAD").strip()


def fetches(server: GitServer, url: str) -> int:
    """How many fetches the server saw for this repository (one ref advertisement each)."""
    path = url.removeprefix(server.url)
    log = (server.root / "requests.log").read_text()
    return log.count(f"GET {path}/info/refs?service=git-upload-pack ")


def put_secret(api: client.ApiClient, namespace: str, name: str, data: dict[str, bytes]) -> None:
    encoded = {k: base64.b64encode(v).decode() for k, v in data.items()}
    body = client.V1Secret(metadata=client.V1ObjectMeta(name=name), data=encoded)
    client.CoreV1Api(api).create_namespaced_secret(namespace, body)


def store(namespace: str, url: str, ref: dict[str, str], **git: Any) -> SecretStore:
    spec = {"url": url, "ref": ref, "path": "clusters/prod", "interval": "1m"} | git
    return parse_store(
        {
            "apiVersion": "external-secrets.io/v1",
            "kind": "SecretStore",
            "metadata": {"name": "sops", "namespace": namespace},
            "spec": {
                "provider": {
                    "sops": {"git": spec, "decryption": {"secretRef": {"name": "sops-age"}}}
                }
            },
        }
    )


class Calls:
    """Telemetry that counts provider calls by operation."""

    def __init__(self) -> None:
        self.counts: Counter[tuple[str, bool]] = Counter()

    def provider_call(self, provider: str, operation: str, ok: bool) -> None:
        self.counts[(operation, ok)] += 1


def provider(
    api: client.ApiClient,
    namespace: str,
    store_: SecretStore,
    repositories: Repositories,
    calls: Calls | None = None,
) -> SopsGitProvider:
    ctx = StoreContext(store_, namespace, ClusterCredentials(api), calls or Calls())
    return SopsGitProvider(ctx, repositories)


SSHD = Path("/usr/sbin/sshd")
SSHD_HINT = "the ssh test needs OpenSSH's server: apt-get install -y openssh-server"


@dataclasses.dataclass(frozen=True)
class SshServer:
    port: int
    user: str
    identity: bytes
    known_hosts: bytes


def start_sshd(folder: Path) -> tuple[subprocess.Popen[bytes], SshServer]:
    """An sshd on loopback that accepts one generated key for the current user."""
    if not SSHD.exists():
        raise RuntimeError(SSHD_HINT)
    if os.geteuid() == 0:
        Path("/run/sshd").mkdir(mode=0o755, exist_ok=True)  # privilege separation needs it
    for name in ("host", "client"):
        subprocess.run(
            ["ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-f", str(folder / name)], check=True
        )
    (folder / "authorized_keys").write_bytes((folder / "client.pub").read_bytes())
    port = free_port()
    config = folder / "sshd_config"
    config.write_text(
        f"Port {port}\nListenAddress 127.0.0.1\nHostKey {folder / 'host'}\n"
        f"PidFile {folder / 'sshd.pid'}\nAuthorizedKeysFile {folder / 'authorized_keys'}\n"
        "StrictModes no\nUsePAM no\nPasswordAuthentication no\n"
        "KbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\n"
    )
    with (folder / "sshd.log").open("wb") as log:  # the child keeps its own descriptor
        proc = subprocess.Popen([str(SSHD), "-D", "-e", "-f", str(config)], stderr=log)
    wait_for_port(port)
    host_key = " ".join((folder / "host.pub").read_text().split()[:2])
    server = SshServer(
        port,
        getpass.getuser(),
        (folder / "client").read_bytes(),
        f"[127.0.0.1]:{port} {host_key}\n".encode(),
    )
    return proc, server


def wait_for_port(port: int, timeout: float = 10.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), 0.5):
            return
        time.sleep(0.05)
    raise RuntimeError(f"sshd did not listen on port {port}")
