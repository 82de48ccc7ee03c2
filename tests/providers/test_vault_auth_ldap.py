"""Vault `auth.ldap` (eso.md §2.1) against OpenBao's LDAP auth method and a real slapd.

The directory (tests/testbed/ldap.py) holds users with known passwords and a group; OpenBao binds
as a read-only account to find the user, binds as the user to check the password, and maps the
user's LDAP groups to policies. The password reaches the store only through a Kubernetes Secret.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client

from secretsync.api.sources import RemoteRef
from secretsync.errors import AccessDenied, Unavailable
from tests.providers.vault_auth_fixtures import (
    Calls,
    MakeProvider,
    private_bao,
    put_secret,
    reader_policy,
    root,
    uid,
)
from tests.testbed import bao, baoplugins, ldap

PASSWORDS = {"alice": "Al1ce-ldap-pw &<x>", "bob": "b0b-ldap-pw-Zq9", "carol": "car0l pw "}
GROUPS = {"readers": ("alice", "carol"), "others": ("bob",)}


@pytest.fixture(scope="module")
def directory() -> Iterator[ldap.Ldap]:
    folder = Path(tempfile.mkdtemp(prefix="secretsync-slapd-"))
    try:
        yield ldap.start(folder, PASSWORDS, GROUPS)
    finally:
        ldap.stop(folder)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="module")
def server() -> Iterator[bao.Bao]:
    yield from private_bao((baoplugins.LDAP_PLUGIN,))


def _ldap_mount(server: bao.Bao, directory: ldap.Ldap, mount: str, policy: str) -> None:
    """OpenBao's ldap method as an administrator sets it up: search bind, groups by member."""
    admin = root(server)
    admin.sys.enable_auth_method("ldap", path=mount)
    admin.write(
        f"auth/{mount}/config",
        url=directory.url,
        binddn=directory.bind_dn,
        bindpass=directory.bind_password,
        userdn=ldap.USERS_DN,
        userattr="uid",
        groupdn=ldap.GROUPS_DN,
        groupattr="cn",
        groupfilter="(&(objectClass=groupOfNames)(member={{.UserDN}}))",
    )
    admin.write(f"auth/{mount}/groups/readers", policies=policy)


@pytest.fixture
def setup(
    server: bao.Bao, directory: ldap.Ldap, kube_api: client.ApiClient, namespace: str
) -> dict[str, str]:
    """A fresh mount and secret per test; the LDAP passwords in a Secret."""
    prefix = f"ldap{uid()}"
    key = f"{prefix}/db"
    root(server).secrets.kv.v2.create_or_update_secret(key, secret={"password": "db-s3cret"})
    mount = f"ldap-{uid()}"
    _ldap_mount(server, directory, mount, reader_policy(server, prefix))
    put_secret(kube_api, namespace, "ldap-passwords", {**PASSWORDS, "wrong": "not-the-password"})
    return {"mount": mount, "key": key}


def _auth(mount: str | None, username: str, key: str) -> dict[str, Any]:
    method: dict[str, Any] = {"username": username}
    method["secretRef"] = {"name": "ldap-passwords", "key": key}
    if mount is not None:
        method["path"] = mount
    return {"ldap": method}


def _assert_clean(error: BaseException) -> None:
    text = str(error)
    for value in (*PASSWORDS.values(), "not-the-password", "db-s3cret"):
        assert value not in text


def test_an_ldap_user_in_the_readers_group_reads_and_logs_in_once(
    server: bao.Bao, setup: dict[str, str], make: MakeProvider
) -> None:
    calls = Calls()
    provider = make(server.addr, _auth(setup["mount"], "alice", "alice"), calls)
    for _ in range(3):
        assert provider.get(RemoteRef(key=setup["key"], property="password")) == b"db-s3cret"
    assert calls.ok["Login"] == 1
    token = provider._token  # type: ignore[attr-defined]
    info = root(server).lookup_token(token.value)["data"]
    assert info["meta"]["username"] == "alice"
    assert info["path"] == f"auth/{setup['mount']}/login/alice"
    assert f"read-{setup['key'].split('/')[0]}" in info["policies"]  # from the LDAP group
    provider.close()
    assert calls.ok["RevokeSelf"] == 1


def test_a_wrong_password_is_access_denied_and_never_echoed(
    server: bao.Bao, setup: dict[str, str], make: MakeProvider
) -> None:
    with pytest.raises(AccessDenied, match="logging in with ldap") as denied:
        make(server.addr, _auth(setup["mount"], "alice", "wrong")).get(RemoteRef(key=setup["key"]))
    _assert_clean(denied.value)


def test_a_user_outside_the_group_logs_in_but_may_not_read(
    server: bao.Bao, setup: dict[str, str], make: MakeProvider
) -> None:
    """The policy comes from the directory's group, not from the login: bob is a valid user in
    another group, so his token has only the default policy."""
    calls = Calls()
    provider = make(server.addr, _auth(setup["mount"], "bob", "bob"), calls)
    with pytest.raises(AccessDenied) as denied:
        provider.get(RemoteRef(key=setup["key"]))
    assert calls.ok["Login"] == 1
    _assert_clean(denied.value)


def test_the_default_mount_is_ldap_and_the_user_name_is_trimmed(
    server: bao.Bao, directory: ldap.Ldap, setup: dict[str, str], make: MakeProvider
) -> None:
    """ESO's default path is "ldap"; it trims the user name but not the password (carol's ends
    in a space)."""
    admin = root(server)
    if "ldap/" not in admin.sys.list_auth_methods()["data"]:
        policy = f"read-{setup['key'].split('/')[0]}"
        _ldap_mount(server, directory, "ldap", policy)
    else:
        admin.write("auth/ldap/groups/readers", policies=f"read-{setup['key'].split('/')[0]}")
    provider = make(server.addr, _auth(None, "  carol ", "carol"))
    assert provider.get(RemoteRef(key=setup["key"], property="password")) == b"db-s3cret"


def test_a_directory_that_is_down_is_an_outage_to_retry(
    server: bao.Bao, setup: dict[str, str], make: MakeProvider
) -> None:
    """OpenBao cannot reach the LDAP server: it answers 400 all the same, but that is an outage
    (retried with backoff), not a wrong password; the message names the mount and OpenBao's
    reason, never a password."""
    root(server).write(f"auth/{setup['mount']}/config", url="ldap://127.0.0.1:1")
    with pytest.raises(Unavailable, match="error connecting to host") as denied:
        make(server.addr, _auth(setup["mount"], "alice", "alice")).get(RemoteRef(key=setup["key"]))
    assert setup["mount"] in str(denied.value)
    _assert_clean(denied.value)
