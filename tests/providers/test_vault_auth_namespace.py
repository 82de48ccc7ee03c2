"""Vault `auth.namespace` (eso.md §2.1): log in to one namespace, read in another.

A platform team keeps the login mount in its namespace `platform`; a tenant's secrets live in
the child namespace `platform/team`. A token from the parent namespace reads the child's KV
through a parent policy, as in Vault Enterprise and OpenBao. OpenBao's audit log (on a private
server) shows which namespace each request was made in.
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import hvac
import pytest
from kubernetes import client

from secretsync.api.sources import RemoteRef
from secretsync.errors import AccessDenied
from tests.providers.vault_auth_fixtures import (
    Calls,
    MakeProvider,
    PrivateBao,
    private_bao,
    put_secret,
    root,
    uid,
)


@pytest.fixture(scope="module")
def server() -> Iterator[PrivateBao]:
    yield from private_bao(())


def _in(server: PrivateBao, namespace: str) -> hvac.Client:
    return hvac.Client(url=server.addr, token=server.token, namespace=namespace)


@pytest.fixture
def tenancy(server: PrivateBao, kube_api: client.ApiClient, namespace: str) -> dict[str, str]:
    """platform-X with a userpass mount and a policy for its child team's KV; the child
    platform-X/team with KV v2 at secret/."""
    parent = f"platform{uid()}"
    root(server).sys.create_namespace(parent)
    _in(server, parent).sys.create_namespace("team")
    child = f"{parent}/team"
    _in(server, child).sys.enable_secrets_engine("kv", path="secret", options={"version": "2"})
    _in(server, child).secrets.kv.v2.create_or_update_secret("db", secret={"v": "team-value"})
    platform = _in(server, parent)
    platform.sys.create_or_update_policy(
        "team-reader", 'path "team/secret/data/*" { capabilities = ["read"] }'
    )
    platform.sys.enable_auth_method("userpass", path="userpass")
    platform.write("auth/userpass/users/sync", password="ns-pw-5521", token_policies="team-reader")
    put_secret(kube_api, namespace, "pw", {"password": "ns-pw-5521"})
    return {"parent": parent, "child": child}


def _auth(auth_namespace: str | None) -> dict[str, Any]:
    method = {"username": "sync", "secretRef": {"name": "pw", "key": "password"}}
    auth: dict[str, Any] = {"userPass": method}
    if auth_namespace is not None:
        auth["namespace"] = auth_namespace
    return auth


def test_login_in_the_auth_namespace_and_read_in_the_stores(
    server: PrivateBao, tenancy: dict[str, str], make: MakeProvider
) -> None:
    calls = Calls()
    provider = make(server.addr, _auth(tenancy["parent"]), calls, namespace=tenancy["child"])
    assert provider.get(RemoteRef(key="db", property="v")) == b"team-value"
    [login] = server.audited("auth/userpass/login/sync", "update")
    assert login["namespace"]["path"] == f"{tenancy['parent']}/"
    [read] = server.audited("secret/data/db", "read")
    assert read["namespace"]["path"] == f"{tenancy['child']}/"
    provider.close()
    assert calls.ok["RevokeSelf"] == 1  # revoked where it was issued


def test_without_auth_namespace_the_login_goes_to_the_stores_namespace(
    server: PrivateBao, tenancy: dict[str, str], make: MakeProvider
) -> None:
    """ESO's default: auth.namespace falls back to the provider's namespace, where this
    userpass mount does not exist."""
    with pytest.raises(AccessDenied, match="logging in with userPass"):
        make(server.addr, _auth(None), namespace=tenancy["child"]).get(RemoteRef(key="db"))
