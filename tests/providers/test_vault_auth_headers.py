"""Vault store `headers` (eso.md §2.1): sent with every request, the login included, as ESO's
client.AddHeader does. The witness is OpenBao's own audit log on a private server, which
records a request header in clear once it is listed under sys/config/auditing/request-headers
with hmac=false."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from kubernetes import client

from secretsync.api.sources import RemoteRef
from tests.providers.vault_auth_fixtures import (
    MakeProvider,
    PrivateBao,
    private_bao,
    put_secret,
    reader_policy,
    root,
    uid,
)

PROBE = "X-Secretsync-Probe"


@pytest.fixture(scope="module")
def server() -> Iterator[PrivateBao]:
    for private in private_bao(()):
        root(private).write(f"sys/config/auditing/request-headers/{PROBE}", hmac=False)
        yield private


def test_headers_go_with_the_login_and_every_read(
    server: PrivateBao, make: MakeProvider, kube_api: client.ApiClient, namespace: str
) -> None:
    prefix = f"hdr{uid()}"
    admin = root(server)
    admin.secrets.kv.v2.create_or_update_secret(f"{prefix}/a", secret={"v": "header-value"})
    mount = f"userpass-{uid()}"
    admin.sys.enable_auth_method("userpass", path=mount)
    admin.write(
        f"auth/{mount}/users/app",
        password="hdr-pw-81",
        token_policies=reader_policy(server, prefix),
    )
    put_secret(kube_api, namespace, "pw", {"password": "hdr-pw-81"})
    probe = f"probe-{uid()}"
    auth = {
        "userPass": {
            "path": mount,
            "username": "app",
            "secretRef": {"name": "pw", "key": "password"},
        }
    }
    # A header that names the token is overridden by the request's own token.
    provider = make(server.addr, auth, headers={PROBE: probe, "X-Vault-Token": "not-a-token"})
    assert provider.get(RemoteRef(key=f"{prefix}/a", property="v")) == b"header-value"
    [login] = server.audited(f"auth/{mount}/login/app", "update")
    [read] = server.audited(f"secret/data/{prefix}/a", "read")
    for request in (login, read):
        assert request["headers"][PROBE.lower()] == [probe]


def test_without_headers_nothing_extra_is_sent(
    server: PrivateBao, make: MakeProvider, kube_api: client.ApiClient, namespace: str
) -> None:
    key = f"hdr{uid()}/b"
    root(server).secrets.kv.v2.create_or_update_secret(key, secret={"v": "plain"})
    put_secret(kube_api, namespace, "root", {"token": server.token})
    provider = make(server.addr, {"tokenSecretRef": {"name": "root", "key": "token"}})
    assert provider.get(RemoteRef(key=key, property="v")) == b"plain"
    [read] = server.audited(f"secret/data/{key}", "read")
    assert PROBE.lower() not in read.get("headers", {})
