"""OpenBao: a dev-mode server for most tests and a sealed-then-unsealed TLS server, both real.

Both are configured over the HTTP API the way an operator of Vault would: kv v1 and v2 mounts,
AppRole, JWT (validating the test bed's ServiceAccount tokens), and Kubernetes auth whose
TokenReview calls go to the test bed's apiserver.
"""

from __future__ import annotations

import json
import secrets
import ssl
import urllib.request
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tests.testbed import binaries, procs
from tests.testbed.kube import Kube
from tests.testbed.pki import CA


@dataclass(frozen=True)
class Bao:
    addr: str
    token: str
    cacert: Path | None = None


def request(
    bao: Bao,
    method: str,
    path: str,
    body: dict[str, Any] | None = None,
    *,
    token: bool = True,
    timeout: float = 10,
) -> dict[str, Any]:
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(f"{bao.addr}/v1/{path}", data=data, method=method)  # noqa: S310
    if token:
        req.add_header("X-Vault-Token", bao.token)
    context = ssl.create_default_context(cafile=str(bao.cacert)) if bao.cacert else None
    with urllib.request.urlopen(req, timeout=timeout, context=context) as response:  # noqa: S310
        raw = response.read()
    return dict(json.loads(raw)) if raw else {}


def dev_argv(port: int, token: str) -> list[str]:
    """An in-memory OpenBao dev server on a loopback port, with this root token."""
    return [
        str(binaries.bao_path()),
        "server",
        "-dev",
        f"-dev-root-token-id={token}",
        f"-dev-listen-address=127.0.0.1:{port}",
        "-dev-no-store-token",
    ]


def start_dev(state_dir: Path, kube: Kube, reviewer_jwt: str) -> Bao:
    port = procs.free_port()
    token = "root-" + secrets.token_hex(8)
    proc = procs.start(state_dir, "openbao", dev_argv(port, token))
    bao = Bao(addr=f"http://127.0.0.1:{port}", token=token)
    procs.wait_for(state_dir, "openbao", lambda: _healthy(bao), timeout=30, proc=proc)
    configure(bao, kube, reviewer_jwt)
    return bao


def start_tls(state_dir: Path, kube: Kube, reviewer_jwt: str, ca: CA) -> Bao:
    port = procs.free_port()
    serving = ca.issue("openbao", "openbao", server=True, hosts=("127.0.0.1", "localhost"))
    data_dir = state_dir / "openbao-tls"
    data_dir.mkdir(parents=True, exist_ok=True)
    config = data_dir / "config.hcl"
    config.write_text(
        f'storage "raft" {{\n  path = "{data_dir}"\n  node_id = "testbed"\n}}\n'
        f'listener "tcp" {{\n  address = "127.0.0.1:{port}"\n'
        f'  tls_cert_file = "{serving.cert}"\n  tls_key_file = "{serving.key}"\n}}\n'
        f'api_addr = "https://127.0.0.1:{port}"\n'
        f'cluster_addr = "https://127.0.0.1:{procs.free_port()}"\n'
    )
    proc = procs.start(
        state_dir, "openbao-tls", [str(binaries.bao_path()), "server", f"-config={config}"]
    )
    sealed = Bao(addr=f"https://127.0.0.1:{port}", token="", cacert=ca.cert_path)
    procs.wait_for(
        state_dir,
        "openbao-tls",
        lambda: "initialized" in request(sealed, "GET", "sys/init", token=False),
        timeout=30,
        proc=proc,
    )
    # Initialising raft storage and the keys took over 10 s on a loaded 2-core machine.
    init = request(
        sealed,
        "PUT",
        "sys/init",
        {"secret_shares": 1, "secret_threshold": 1},
        token=False,
        timeout=60,
    )
    # Kept (0600) so that a fault test can unseal it after a restart or a seal.
    unseal_key = data_dir / "unseal.key"
    unseal_key.touch(mode=0o600)
    unseal_key.write_text(init["keys"][0])
    request(sealed, "PUT", "sys/unseal", {"key": init["keys"][0]}, token=False)
    bao = Bao(addr=sealed.addr, token=str(init["root_token"]), cacert=ca.cert_path)
    procs.wait_for(state_dir, "openbao-tls", lambda: _healthy(bao), timeout=30, proc=proc)
    request(bao, "POST", "sys/mounts/secret", {"type": "kv", "options": {"version": "2"}})
    configure(bao, kube, reviewer_jwt)
    return bao


def configure(bao: Bao, kube: Kube, reviewer_jwt: str) -> None:
    request(bao, "POST", "sys/mounts/kv1", {"type": "kv", "options": {"version": "1"}})
    for method in ("approle", "jwt", "kubernetes", "userpass"):
        request(bao, "POST", f"sys/auth/{method}", {"type": method})
    request(
        bao,
        "POST",
        "auth/jwt/config",
        {
            "jwt_validation_pubkeys": [kube.sa_public_key.read_text()],
            "bound_issuer": kube.issuer,
        },
    )
    request(
        bao,
        "POST",
        "auth/kubernetes/config",
        {
            "kubernetes_host": kube.server,
            "kubernetes_ca_cert": kube.ca.read_text(),
            "token_reviewer_jwt": reviewer_jwt,
            "disable_local_ca_jwt": True,
        },
    )


def _healthy(bao: Bao) -> bool:
    health = request(bao, "GET", "sys/health", token=False)
    return health.get("initialized") is True and health.get("sealed") is False
