"""PushSecret writes to the test bed's real OpenBao, KV v2 and v1 (providers/vault_push.py):
the managed-by marker written with the value, a foreign key refused and left alone, property
merges, check-and-set, deletion of only what is ours."""

from __future__ import annotations

from typing import Any

import hvac
import pytest
from kubernetes import client

from secretsync.errors import NotFound, SecretSyncError
from secretsync.providers.base import ForeignValue, PushRef, Writer
from tests.providers.vault_auth_fixtures import MakeProvider, put_secret, uid
from tests.testbed import bao

PASSWORD = b"pushed-Secret-7f3Q"


def _root(server: bao.Bao) -> hvac.Client:
    return hvac.Client(url=server.addr, token=server.token)


def _writer(make: MakeProvider, server: bao.Bao, **fields: Any) -> Writer:
    auth = {"tokenSecretRef": {"name": "root-token", "key": "token"}}
    provider = make(server.addr, auth, **fields)
    assert isinstance(provider, Writer)
    return provider


@pytest.fixture
def root_auth(bao_dev: bao.Bao, kube_api: client.ApiClient, namespace: str) -> dict[str, Any]:
    put_secret(kube_api, namespace, "root-token", {"token": bao_dev.token})
    return {"tokenSecretRef": {"name": "root-token", "key": "token"}}


@pytest.fixture
def writer(make: MakeProvider, bao_dev: bao.Bao, root_auth: dict[str, Any]) -> Writer:
    return _writer(make, bao_dev)


def test_kv2_push_writes_the_value_with_esos_marker_and_skips_an_unchanged_one(
    writer: Writer, bao_dev: bao.Bao
) -> None:
    key = f"push/{uid()}"
    ref = PushRef(key, "password")

    assert writer.remote(ref).found is False
    assert writer.set(ref, PASSWORD) is True
    assert writer.set(ref, PASSWORD) is False

    kv = _root(bao_dev).secrets.kv.v2
    assert kv.read_secret_version(key, mount_point="secret", raise_on_deleted_version=True)["data"][
        "data"
    ] == {"password": PASSWORD.decode()}
    meta = kv.read_secret_metadata(key, mount_point="secret")["data"]
    assert meta["custom_metadata"] == {"managed-by": "external-secrets"}
    assert meta["current_version"] == 1
    state = writer.remote(ref)
    assert (state.found, state.managed, state.has_value) == (True, True, True)


def test_a_key_without_the_marker_is_refused_and_never_deleted(
    writer: Writer, bao_dev: bao.Bao
) -> None:
    key = f"foreign/{uid()}"
    kv = _root(bao_dev).secrets.kv.v2
    kv.create_or_update_secret(key, {"password": "theirs"}, mount_point="secret")

    state = writer.remote(PushRef(key, "password"))
    assert (state.found, state.managed) == (True, False)
    with pytest.raises(ForeignValue) as refused:
        writer.set(PushRef(key, "password"), PASSWORD)
    assert key in str(refused.value)
    assert PASSWORD.decode() not in str(refused.value)
    assert writer.delete(PushRef(key)) is False
    assert kv.read_secret_version(key, mount_point="secret", raise_on_deleted_version=True)["data"][
        "data"
    ] == {"password": "theirs"}


def test_properties_merge_and_deleting_one_keeps_the_others(
    writer: Writer, bao_dev: bao.Bao
) -> None:
    key = f"merge/{uid()}"
    writer.set(PushRef(key, "user"), b"app")
    writer.set(PushRef(key, "password"), PASSWORD)
    kv = _root(bao_dev).secrets.kv.v2

    assert writer.delete(PushRef(key, "user")) is True
    assert kv.read_secret_version(key, mount_point="secret", raise_on_deleted_version=True)["data"][
        "data"
    ] == {"password": PASSWORD.decode()}
    assert writer.delete(PushRef(key, "password")) is True
    assert writer.remote(PushRef(key)).found is False


def test_a_whole_secret_push_needs_a_json_object_and_never_echoes_the_value(
    writer: Writer,
) -> None:
    with pytest.raises(SecretSyncError) as refused:
        writer.set(PushRef(f"whole/{uid()}"), PASSWORD)
    assert PASSWORD.decode() not in str(refused.value)
    assert "remoteRef.property" in str(refused.value)


def test_check_and_set_writes_carry_the_current_version(
    make: MakeProvider, bao_dev: bao.Bao, root_auth: dict[str, Any]
) -> None:
    writer = _writer(make, bao_dev, checkAndSet={"required": True})
    key = f"cas/{uid()}"
    writer.set(PushRef(key, "password"), b"first-value-1")
    writer.set(PushRef(key, "password"), b"second-value-2")
    meta = _root(bao_dev).secrets.kv.v2.read_secret_metadata(key, mount_point="secret")
    assert meta["data"]["current_version"] == 2


def test_kv1_keeps_the_marker_inside_the_data_as_eso_does(
    make: MakeProvider, bao_dev: bao.Bao, root_auth: dict[str, Any]
) -> None:
    writer = _writer(make, bao_dev, path="kv1", version="v1")
    key = f"v1/{uid()}"
    ref = PushRef(key, "password")

    assert writer.set(ref, PASSWORD) is True
    assert writer.set(ref, PASSWORD) is False
    stored = _root(bao_dev).secrets.kv.v1.read_secret(key, mount_point="kv1")["data"]
    assert stored == {
        "password": PASSWORD.decode(),
        "custom_metadata": {"managed-by": "external-secrets"},
    }
    assert writer.delete(ref) is True
    assert writer.remote(ref).found is False


def test_a_login_that_fails_is_an_error_not_an_absent_key(
    make: MakeProvider, bao_dev: bao.Bao, root_auth: dict[str, Any]
) -> None:
    """Its credential Secret gone, the store must not answer "nothing there": a deletion would
    then be counted as done and the value left behind without a word."""
    key = f"orphan/{uid()}"
    writer = _writer(make, bao_dev)
    writer.set(PushRef(key, "password"), PASSWORD)
    lost = make(bao_dev.addr, {"tokenSecretRef": {"name": "no-such-token", "key": "token"}})
    assert isinstance(lost, Writer)

    with pytest.raises(NotFound) as failed:
        lost.delete(PushRef(key, "password"))
    assert "no-such-token" in str(failed.value)
    with pytest.raises(NotFound):
        lost.remote(PushRef(key, "password"))
    assert writer.remote(PushRef(key, "password")).has_value
