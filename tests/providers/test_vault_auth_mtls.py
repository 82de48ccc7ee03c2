"""Vault store `tls` (eso.md §2.1, ESO's VaultClientTLS): a client certificate on every request.

A private OpenBao listens a second time with `tls_require_and_verify_client_cert`: the TLS
handshake itself refuses a client without a certificate from the trusted CA, before any login.
"""

from __future__ import annotations

import base64
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from secretsync.api.sources import RemoteRef
from secretsync.errors import ConfigError
from tests.providers.vault_auth_fixtures import (
    MakeProvider,
    PrivateBao,
    private_bao,
    put_secret,
    root,
    uid,
)
from tests.testbed import procs
from tests.testbed.pki import CA


@pytest.fixture(scope="module")
def mtls() -> Iterator[tuple[PrivateBao, str, CA]]:
    """The private server, its mutual-TLS address, and the CA of both server and clients."""
    folder = Path(tempfile.mkdtemp(prefix="secretsync-bao-mtls-"))
    ca = CA(folder / "pki", name="mtls-ca")
    serving = ca.issue("server", "openbao", server=True, hosts=("127.0.0.1",))
    port = procs.free_port()
    listener = (
        f'listener "tcp" {{\n  address = "127.0.0.1:{port}"\n'
        f'  tls_cert_file = "{serving.cert}"\n  tls_key_file = "{serving.key}"\n'
        f'  tls_client_ca_file = "{ca.cert_path}"\n'
        "  tls_require_and_verify_client_cert = true\n}\n"
    )
    for server in private_bao((), listener, folder):
        yield server, f"https://127.0.0.1:{port}", ca


def _tls_dirs() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("secretsync-vault-cert-*")}


def test_a_client_certificate_from_a_secret_opens_the_mutual_tls_listener(
    mtls: tuple[PrivateBao, str, CA],
    make: MakeProvider,
    kube_api: client.ApiClient,
    namespace: str,
    tmp_path: Path,
) -> None:
    server, address, ca = mtls
    key = f"mtls{uid()}/a"
    root(server).secrets.kv.v2.create_or_update_secret(key, secret={"v": "over-mtls"})
    trusted = ca.issue(f"app-{uid()}", "app")
    stranger = CA(tmp_path / "other", name="other").issue("app", "app")
    put_secret(
        kube_api,
        namespace,
        "client-tls",
        {
            "tls.crt": trusted.cert.read_text(),
            "tls.key": trusted.key.read_text(),
            "other.crt": stranger.cert.read_text(),
            "other.key": stranger.key.read_text(),
        },
    )
    put_secret(kube_api, namespace, "root", {"token": server.token})
    auth = {"tokenSecretRef": {"name": "root", "key": "token"}}
    bundle = base64.b64encode(ca.cert_path.read_bytes()).decode()
    before = _tls_dirs()
    # Keys default to tls.crt and tls.key, as in ESO.
    tls: dict[str, Any] = {
        "certSecretRef": {"name": "client-tls"},
        "keySecretRef": {"name": "client-tls"},
    }
    provider = make(address, auth, caBundle=bundle, tls=tls)
    assert provider.get(RemoteRef(key=key, property="v")) == b"over-mtls"
    assert _tls_dirs() <= before, "no client key left on disk"
    with pytest.raises(ConfigError, match="refused the TLS client certificate, or wants one"):
        make(address, auth, caBundle=bundle).get(RemoteRef(key=key))
    other = {
        "certSecretRef": {"name": "client-tls", "key": "other.crt"},
        "keySecretRef": {"name": "client-tls", "key": "other.key"},
    }
    with pytest.raises(ConfigError, match="refused the TLS client certificate"):
        make(address, auth, caBundle=bundle, tls=other).get(RemoteRef(key=key))


def test_a_key_that_does_not_match_the_certificate_is_a_config_error(
    mtls: tuple[PrivateBao, str, CA], make: MakeProvider, kube_api: client.ApiClient, namespace: str
) -> None:
    _, address, ca = mtls
    one, two = ca.issue(f"one-{uid()}", "one"), ca.issue(f"two-{uid()}", "two")
    put_secret(
        kube_api,
        namespace,
        "mixed",
        {"tls.crt": one.cert.read_text(), "tls.key": two.key.read_text()},
    )
    put_secret(kube_api, namespace, "root", {"token": "unused"})
    tls = {"certSecretRef": {"name": "mixed"}, "keySecretRef": {"name": "mixed"}}
    with pytest.raises(ConfigError, match="client certificate and key cannot be used") as refused:
        make(address, {"tokenSecretRef": {"name": "root", "key": "token"}}, tls=tls)
    assert refused.value.field == "spec.provider.vault.tls"
    assert "PRIVATE KEY" not in str(refused.value)


def test_only_one_half_of_the_pair_is_refused_when_parsed(make: MakeProvider) -> None:
    with pytest.raises(ConfigError, match="set both certSecretRef and keySecretRef") as refused:
        make(
            "https://127.0.0.1:1",
            {"tokenSecretRef": {"name": "t"}},
            tls={"certSecretRef": {"name": "c"}},
        )
    assert refused.value.field == "spec.provider.vault.tls"
