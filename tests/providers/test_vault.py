"""The Vault / OpenBao provider against the test bed's real OpenBao and apiserver (eso.md §2).

Every test seeds its own uniquely named paths, roles and mounts, so tests can run in parallel.
Credentials the store refers to live in real Secrets of a fresh namespace.
"""

from __future__ import annotations

import base64
import collections
import json
import subprocess
import tempfile
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import hvac
import pytest
from kubernetes import client

from secretsync.api.sources import Find, FindName, MetadataPolicy, RemoteRef
from secretsync.api.vault import KVVersion
from secretsync.errors import AccessDenied, ConfigError, NotFound, Unavailable
from secretsync.providers import vault_paths
from tests.providers.vault_auth_fixtures import put_secret, uid
from tests.testbed import bao, binaries, procs
from tests.testbed.pki import CA

SECRET_VALUES = ("s3cret-Zq7&<v>", "hunter2-Pw-9f1", "tok-Av81-secret")


class Calls:
    """Telemetry that counts provider calls by operation."""

    def __init__(self) -> None:
        self.ok: collections.Counter[str] = collections.Counter()
        self.failed: collections.Counter[str] = collections.Counter()

    def provider_call(self, provider: str, operation: str, ok: bool) -> None:
        assert provider == "HashiCorp/Vault"
        (self.ok if ok else self.failed)[operation] += 1


def _root(server: bao.Bao) -> hvac.Client:
    verify = str(server.cacert) if server.cacert else True
    return hvac.Client(url=server.addr, token=server.token, verify=verify)


@pytest.fixture
def root_auth(bao_dev: bao.Bao, kube_api: client.ApiClient, namespace: str) -> dict[str, Any]:
    """tokenSecretRef auth with the dev server's root token."""
    put_secret(kube_api, namespace, "root-token", {"token": bao_dev.token})
    return {"tokenSecretRef": {"name": "root-token", "key": "token"}}


def _seed_raw(server: bao.Bao, path: str, data_json: str) -> None:
    """Write KV v2 data from JSON text, so numbers reach the server exactly as written."""
    req = urllib.request.Request(  # noqa: S310 - loopback test bed
        f"{server.addr}/v1/secret/data/{path}",
        data=('{"data": ' + data_json + "}").encode(),
        method="POST",
        headers={"X-Vault-Token": server.token},
    )
    urllib.request.urlopen(req, timeout=10).close()  # noqa: S310


def _ref(key: str, **fields: Any) -> RemoteRef:
    return RemoteRef(key=key, **fields)


# --- paths (pure) ---------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("mount", "version", "key", "expected"),
    [  # ESO's own examples from buildPath's doc comment
        ("secret/path", KVVersion.V2, "foo", "secret/path/data/foo"),
        ("secret/path", KVVersion.V1, "foo", "secret/path/foo"),
        ("secret/path", KVVersion.V2, "secret/path/foo", "secret/path/data/foo"),
        ("secret/path", KVVersion.V2, "secret/path/data/foo", "secret/path/data/foo"),
        ("secret/path", KVVersion.V1, "secret/path/foo", "secret/path/foo"),
        (None, KVVersion.V2, "secret/path/foo", "secret/data/path/foo"),
        (None, KVVersion.V2, "secret/path/data/foo", "secret/path/data/foo"),
        (None, KVVersion.V1, "secret/path/foo", "secret/path/foo"),
    ],
)
def test_data_paths_follow_eso(
    mount: str | None, version: KVVersion, key: str, expected: str
) -> None:
    assert vault_paths.data_path(mount, version, key) == expected


# --- reading --------------------------------------------------------------------------------

# OpenBao's KV engine stores numbers as float64 and writes them the Go way (1.50 -> 1.5,
# 1e3 -> 1000, 12345678901234567890 -> 12345678901234567000); the provider must pass that text
# on untouched, where Python's float repr would give 1000.0 and 1.2345678901234567e+19.
DOC = (
    '{"amp": "a<b>&c", "n": 1.50, "e": 1e3, "big": 12345678901234567890, "neg": -0.5, "yes": true, '
    '"nothing": null, "nested": {"b": {"c": "deep", "z": 2}}, "nested.b": "literal", '
    '"list": [1, "two", {"k": 3}]}'
)
DOC_MARSHALLED = (
    '{"amp":"a\\u003cb\\u003e\\u0026c","big":12345678901234567000,"e":1000,'
    '"list":[1,"two",{"k":3}],"n":1.5,"neg":-0.5,"nested":{"b":{"c":"deep","z":2}},"nested.b":"literal",'
    '"nothing":null,"yes":true}'
)


def test_kv2_without_property_is_go_json_marshal_byte_for_byte(
    bao_dev: bao.Bao, make: Any, root_auth: dict[str, Any]
) -> None:
    key = f"read/{uid()}"
    _seed_raw(bao_dev, key, DOC)
    provider = make(bao_dev.addr, root_auth)
    assert provider.get(_ref(key)) == DOC_MARSHALLED.encode()
    # The leading mount (and mount/data) in a key is stripped, as ESO does.
    assert provider.get(_ref(f"secret/{key}")) == DOC_MARSHALLED.encode()
    assert provider.get(_ref(f"secret/data/{key}")) == DOC_MARSHALLED.encode()
    # A store without a path takes the mount from the key.
    no_mount = make(bao_dev.addr, root_auth, path=None)
    assert no_mount.get(_ref(f"secret/{key}")) == DOC_MARSHALLED.encode()


@pytest.mark.parametrize(
    ("prop", "expected"),
    [
        ("nested.b", b"literal"),  # a literal top-level key wins over the gjson path
        ("nested.b.c", b"deep"),
        ("nested", b'{"b":{"c":"deep","z":2}}'),
        ("n", b"1.5"),
        ("e", b"1000"),
        ("big", b"12345678901234567000"),
        ("amp", b"a<b>&c"),
        ("yes", b"true"),
        ("nothing", b""),
        ("list.1", b"two"),
        ("list.#", b"3"),
        ("list.2.k", b"3"),
    ],
)
def test_property_literal_key_first_then_gjson(
    bao_dev: bao.Bao, make: Any, root_auth: dict[str, Any], prop: str, expected: bytes
) -> None:
    key = f"prop/{uid()}"
    _seed_raw(bao_dev, key, DOC)
    assert make(bao_dev.addr, root_auth).get(_ref(key, property=prop)) == expected


def test_extract_converts_numbers_through_float64(
    bao_dev: bao.Bao, make: Any, root_auth: dict[str, Any]
) -> None:
    key = f"extract/{uid()}"
    _seed_raw(bao_dev, key, DOC)
    got = make(bao_dev.addr, root_auth).get_map(_ref(key))
    assert got == {
        "amp": b"a<b>&c",
        "n": b"1.5",
        "big": b"12345678901234567000",
        "e": b"1000",
        "neg": b"-0.5",
        "yes": b"true",
        "nothing": b"",
        "nested": b'{"b":{"c":"deep","z":2}}',
        "nested.b": b"literal",
        "list": b'[1,"two",{"k":3}]',
    }
    # With a property, the selected object is what gets extracted.
    assert make(bao_dev.addr, root_auth).get_map(_ref(key, property="nested")) == {
        "b": b'{"c":"deep","z":2}'
    }


def test_kv1_reads(bao_dev: bao.Bao, make: Any, root_auth: dict[str, Any]) -> None:
    key = f"v1/{uid()}"
    _root(bao_dev).secrets.kv.v1.create_or_update_secret(
        key, secret={"user": "app", "port": 5432}, mount_point="kv1"
    )
    provider = make(bao_dev.addr, root_auth, path="kv1", version="v1")
    assert provider.get(_ref(key)) == b'{"port":5432,"user":"app"}'
    assert provider.get(_ref(f"kv1/{key}", property="port")) == b"5432"
    assert provider.version(_ref(key)) is None
    with pytest.raises(ConfigError, match="kv version v1"):
        provider.get(_ref(key, metadata_policy=MetadataPolicy.FETCH))


def test_versions_pinning_probe_and_deleted_versions(
    bao_dev: bao.Bao, make: Any, root_auth: dict[str, Any]
) -> None:
    key = f"ver/{uid()}"
    kv = _root(bao_dev).secrets.kv.v2
    kv.create_or_update_secret(key, secret={"v": "one"})
    calls = Calls()
    provider = make(bao_dev.addr, root_auth, calls)
    assert provider.version(_ref(key)) == "1"
    kv.create_or_update_secret(key, secret={"v": "two"})
    assert provider.version(_ref(key)) == "2"
    assert calls.ok["ReadMetadata"] == 2
    assert calls.ok["ReadSecretData"] == 0  # the probe never reads a value
    assert provider.get(_ref(key, property="v", version="1")) == b"one"
    assert provider.get(_ref(key, property="v")) == b"two"
    kv.delete_latest_version_of_secret(key)
    with pytest.raises(NotFound):
        provider.get(_ref(key))
    assert provider.get(_ref(key, property="v", version="1")) == b"one"


def test_missing_key_is_not_found_and_missing_property_is_not(
    bao_dev: bao.Bao, make: Any, root_auth: dict[str, Any]
) -> None:
    key = f"miss/{uid()}"
    _root(bao_dev).secrets.kv.v2.create_or_update_secret(key, secret={"password": SECRET_VALUES[0]})
    provider = make(bao_dev.addr, root_auth)
    with pytest.raises(NotFound):
        provider.get(_ref(f"{key}-absent"))
    with pytest.raises(ConfigError) as missing:
        provider.get(_ref(key, property="user.name"))
    assert not isinstance(missing.value, NotFound)
    assert str(missing.value) == 'cannot find secret data for key: "user.name"'
    with pytest.raises(ConfigError) as not_json:
        provider.get_map(_ref(key, property="password"))
    for exc in (missing.value, not_json.value):
        assert SECRET_VALUES[0] not in f"{exc} {exc.__cause__}"


def test_metadata_policy_fetch(bao_dev: bao.Bao, make: Any, root_auth: dict[str, Any]) -> None:
    key = f"meta/{uid()}"
    kv = _root(bao_dev).secrets.kv.v2
    kv.create_or_update_secret(key, secret={"v": "x"})
    kv.update_metadata(key, custom_metadata={"owner": "team-a", "current_version": "mine"})
    provider = make(bao_dev.addr, root_auth)
    fetch = MetadataPolicy.FETCH
    assert provider.get(_ref(key, metadata_policy=fetch, property="owner")) == b"team-a"
    whole = json.loads(provider.get(_ref(key, metadata_policy=fetch)))
    assert whole["owner"] == "team-a"
    assert whole["current_version"] == "mine"  # custom_metadata wins on a clash
    assert set(whole) == {"owner", "current_version", "created_time", "delete_version_after"}
    before = provider.version(_ref(key, metadata_policy=fetch))
    kv.update_metadata(key, custom_metadata={"owner": "team-b"})
    assert provider.version(_ref(key, metadata_policy=fetch)) != before


def test_find_by_name_path_and_tags(bao_dev: bao.Bao, make: Any, root_auth: dict[str, Any]) -> None:
    base = f"find-{uid()}"
    kv = _root(bao_dev).secrets.kv.v2
    for name, tags in (("app/db", {"team": "a"}), ("app/deep/api", {"team": "a"}), ("other", {})):
        kv.create_or_update_secret(f"{base}/{name}", secret={"name": name})
        kv.update_metadata(f"{base}/{name}", custom_metadata=tags or None)
    kv.create_or_update_secret(f"{base}/app/gone", secret={"name": "gone"})
    kv.delete_latest_version_of_secret(f"{base}/app/gone")
    provider = make(bao_dev.addr, root_auth)
    by_name = provider.find(Find(path=base, name=FindName(regexp="app/")))
    assert by_name == {
        f"{base}/app/db": b'{"name":"app/db"}',
        f"{base}/app/deep/api": b'{"name":"app/deep/api"}',
    }  # full relative paths, recursive, deleted versions skipped
    by_tags = provider.find(Find(path=base, tags={"team": "a"}))
    assert set(by_tags) == {f"{base}/app/db", f"{base}/app/deep/api"}
    assert provider.find(Find(path=f"{base}/app", name=FindName(regexp="^" + base + "/app/d"))) == {
        f"{base}/app/db": b'{"name":"app/db"}',
        f"{base}/app/deep/api": b'{"name":"app/deep/api"}',
    }
    with pytest.raises(NotFound):
        provider.find(Find(path=f"{base}-none", name=FindName(regexp=".")))


def test_namespaces_send_x_vault_namespace(
    bao_dev: bao.Bao, make: Any, root_auth: dict[str, Any]
) -> None:
    tenant = f"ns{uid()}"
    bao.request(bao_dev, "POST", f"sys/namespaces/{tenant}", {})
    req = urllib.request.Request(  # noqa: S310
        f"{bao_dev.addr}/v1/sys/mounts/secret",
        data=json.dumps({"type": "kv", "options": {"version": "2"}}).encode(),
        method="POST",
        headers={"X-Vault-Token": bao_dev.token, "X-Vault-Namespace": tenant},
    )
    urllib.request.urlopen(req, timeout=10).close()  # noqa: S310
    tenant_client = _root(bao_dev)
    tenant_client.adapter.namespace = tenant
    tenant_client.secrets.kv.v2.create_or_update_secret("in-ns", secret={"where": tenant})
    provider = make(bao_dev.addr, root_auth, namespace=tenant)
    assert provider.get(_ref("in-ns", property="where")) == tenant.encode()
    with pytest.raises(NotFound):
        make(bao_dev.addr, root_auth).get(_ref("in-ns"))


# --- auth and the token lifecycle -----------------------------------------------------------


def _clean(exc: BaseException) -> None:
    """No seeded secret value (or token) appears in an error or what it was chained from."""
    text = f"{exc} {exc.__cause__}"
    for value in SECRET_VALUES:
        assert value not in text


def _reader_policy(root: hvac.Client) -> str:
    name = f"read-{uid()}"
    root.sys.create_or_update_policy(name, 'path "secret/*" { capabilities = ["read", "list"] }')
    return name


def _approle(root: hvac.Client, policy: str, **role: Any) -> tuple[str, str, str]:
    """A fresh AppRole mount (so revoking by prefix touches no other test): mount, ids."""
    mount = f"approle-{uid()}"
    root.sys.enable_auth_method("approle", path=mount)
    root.auth.approle.create_or_update_approle(
        "app", token_policies=[policy], mount_point=mount, **role
    )
    role_id = root.auth.approle.read_role_id("app", mount_point=mount)["data"]["role_id"]
    secret_id = root.auth.approle.generate_secret_id("app", mount_point=mount)["data"]["secret_id"]
    return mount, role_id, secret_id


@pytest.fixture
def approle(
    bao_dev: bao.Bao, kube_api: client.ApiClient, namespace: str
) -> tuple[str, dict[str, Any]]:
    """A seeded key and appRole auth (roleId inline, secretId from a Secret) that can read it."""
    root = _root(bao_dev)
    key = f"auth/{uid()}"
    root.secrets.kv.v2.create_or_update_secret(key, secret={"password": SECRET_VALUES[0]})
    mount, role_id, secret_id = _approle(root, _reader_policy(root), token_ttl="10m")
    put_secret(kube_api, namespace, "approle", {"secret-id": secret_id, "role-id": role_id})
    ref = {"name": "approle", "key": "secret-id"}
    return key, {"appRole": {"path": mount, "roleId": role_id, "secretRef": ref}}


def test_approle_logs_in_once_for_many_reads_and_revokes_on_close(
    bao_dev: bao.Bao, make: Any, approle: tuple[str, dict[str, Any]]
) -> None:
    key, auth = approle
    calls = Calls()
    provider = make(bao_dev.addr, auth, calls)
    for _ in range(20):
        assert provider.get(_ref(key, property="password")) == SECRET_VALUES[0].encode()
    assert provider.version(_ref(key)) == "1"
    assert calls.ok["Login"] == 1
    assert calls.ok["ReadSecretData"] == 20
    provider.close()
    assert calls.ok["RevokeSelf"] == 1
    # roleRef instead of an inline roleId.
    by_ref = dict(auth["appRole"], roleRef={"name": "approle", "key": "role-id"})
    del by_ref["roleId"]
    assert make(bao_dev.addr, {"appRole": by_ref}).get(_ref(key, property="password"))


def test_relogin_once_after_the_token_is_revoked_server_side(
    bao_dev: bao.Bao, make: Any, approle: tuple[str, dict[str, Any]]
) -> None:
    key, auth = approle
    calls = Calls()
    provider = make(bao_dev.addr, auth, calls)
    assert provider.get(_ref(key, property="password"))
    mount = auth["appRole"]["path"]
    bao.request(bao_dev, "PUT", f"sys/leases/revoke-prefix/auth/{mount}/login", {})
    assert provider.get(_ref(key, property="password")) == SECRET_VALUES[0].encode()
    assert calls.ok["Login"] == 2
    assert calls.failed["ReadSecretData"] == 1
    assert calls.failed["LookupSelf"] == 1


def test_a_policy_denial_is_access_denied_without_a_new_login(
    bao_dev: bao.Bao, make: Any, approle: tuple[str, dict[str, Any]]
) -> None:
    _, auth = approle
    calls = Calls()
    provider = make(bao_dev.addr, auth, calls, path="kv1", version="v1")  # policy covers secret/*
    for _ in range(3):
        with pytest.raises(AccessDenied) as denied:
            provider.get(_ref("anything"))
        _clean(denied.value)
    assert calls.ok["Login"] == 1
    assert calls.ok["LookupSelf"] == 3


def test_static_tokens_expired_or_invalid_are_access_denied_and_never_revoked(
    bao_dev: bao.Bao, make: Any, kube_api: client.ApiClient, namespace: str
) -> None:
    root = _root(bao_dev)
    key = f"static/{uid()}"
    root.secrets.kv.v2.create_or_update_secret(key, secret={"v": "x"})
    policy = _reader_policy(root)
    short = root.auth.token.create(policies=[policy], ttl="1s")["auth"]["client_token"]
    lasting = root.auth.token.create(policies=[policy], ttl="10m")["auth"]["client_token"]
    put_secret(
        kube_api,
        namespace,
        "tokens",
        {"short": short, "invalid": SECRET_VALUES[2], "lasting": lasting + "\n"},
    )
    time.sleep(2)
    for name in ("short", "invalid"):
        calls = Calls()
        auth = {"tokenSecretRef": {"name": "tokens", "key": name}}
        with pytest.raises(AccessDenied) as denied:
            make(bao_dev.addr, auth, calls).get(_ref(key))
        _clean(denied.value)
        assert calls.ok["Login"] == 0
    calls = Calls()
    provider = make(bao_dev.addr, {"tokenSecretRef": {"name": "tokens", "key": "lasting"}}, calls)
    assert provider.get(_ref(key, property="v")) == b"x"
    provider.close()
    assert calls.ok["RevokeSelf"] == 0
    assert root.auth.token.lookup(lasting)["data"]["ttl"] > 0


def test_userpass_login_and_a_wrong_password(
    bao_dev: bao.Bao, make: Any, kube_api: client.ApiClient, namespace: str
) -> None:
    root = _root(bao_dev)
    key = f"up/{uid()}"
    root.secrets.kv.v2.create_or_update_secret(key, secret={"v": "up"})
    mount = f"userpass-{uid()}"
    root.sys.enable_auth_method("userpass", path=mount)
    root.write(
        f"auth/{mount}/users/alice", password=SECRET_VALUES[1], token_policies=_reader_policy(root)
    )
    put_secret(kube_api, namespace, "pw", {"good": SECRET_VALUES[1], "bad": SECRET_VALUES[0]})
    auth = {
        "userPass": {"path": mount, "username": "alice", "secretRef": {"name": "pw", "key": "good"}}
    }
    assert make(bao_dev.addr, auth).get(_ref(key, property="v")) == b"up"
    auth["userPass"]["secretRef"]["key"] = "bad"
    with pytest.raises(AccessDenied) as denied:
        make(bao_dev.addr, auth).get(_ref(key))
    _clean(denied.value)


def _service_account(kube_api: client.ApiClient, namespace: str, name: str) -> None:
    client.CoreV1Api(kube_api).create_namespaced_service_account(
        namespace, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name=name))
    )


def test_kubernetes_auth_with_a_token_request_and_audience(
    bao_dev: bao.Bao, make: Any, kube_api: client.ApiClient, namespace: str
) -> None:
    root = _root(bao_dev)
    key = f"k8s/{uid()}"
    root.secrets.kv.v2.create_or_update_secret(key, secret={"v": "k8s"})
    role, audience = f"role-{uid()}", f"bao-{uid()}"
    root.auth.kubernetes.create_role(
        role,
        bound_service_account_names=["app"],
        bound_service_account_namespaces=[namespace],
        policies=[_reader_policy(root)],
        ttl="10m",
        audience=audience,
    )
    _service_account(kube_api, namespace, "app")
    calls = Calls()
    sa = {"name": "app", "audiences": [audience]}
    auth = {"kubernetes": {"role": role, "serviceAccountRef": sa}}
    provider = make(bao_dev.addr, auth, calls)
    assert provider.get(_ref(key, property="v")) == b"k8s"
    assert provider.get(_ref(key, property="v")) == b"k8s"
    assert calls.ok["Login"] == 1
    wrong = {"kubernetes": {"role": role, "serviceAccountRef": {"name": "app", "audiences": ["x"]}}}
    with pytest.raises(AccessDenied):
        make(bao_dev.addr, wrong).get(_ref(key))


def test_jwt_auth_with_a_minted_service_account_token(
    bao_dev: bao.Bao, make: Any, kube_api: client.ApiClient, namespace: str
) -> None:
    root = _root(bao_dev)
    key = f"jwt/{uid()}"
    root.secrets.kv.v2.create_or_update_secret(key, secret={"v": "jwt"})
    role, audience = f"role-{uid()}", f"bao-{uid()}"
    root.write(
        f"auth/jwt/role/{role}",
        role_type="jwt",
        user_claim="sub",
        bound_subject=f"system:serviceaccount:{namespace}:app",
        bound_audiences=[audience],
        token_policies=[_reader_policy(root)],
        token_ttl="10m",
    )
    _service_account(kube_api, namespace, "app")
    minted = {"serviceAccountRef": {"name": "app", "audiences": [audience]}}
    auth = {"jwt": {"role": role, "kubernetesServiceAccountToken": minted}}
    assert make(bao_dev.addr, auth).get(_ref(key, property="v")) == b"jwt"
    # Without an audience ESO asks for "vault", which this role does not accept.
    default = {
        "jwt": {
            "role": role,
            "kubernetesServiceAccountToken": {"serviceAccountRef": {"name": "app"}},
        }
    }
    with pytest.raises(AccessDenied):
        make(bao_dev.addr, default).get(_ref(key))


def test_token_renewed_when_under_a_minute_is_left(
    bao_dev: bao.Bao, make: Any, kube_api: client.ApiClient, namespace: str
) -> None:
    root = _root(bao_dev)
    key = f"renew/{uid()}"
    root.secrets.kv.v2.create_or_update_secret(key, secret={"v": "r"})
    mount, role_id, secret_id = _approle(root, _reader_policy(root), token_ttl="62s")
    put_secret(kube_api, namespace, "ar", {"id": secret_id})
    auth = {"appRole": {"path": mount, "roleId": role_id, "secretRef": {"name": "ar", "key": "id"}}}
    calls = Calls()
    provider = make(bao_dev.addr, auth, calls)
    assert provider.get(_ref(key, property="v")) == b"r"
    time.sleep(3)
    assert provider.get(_ref(key, property="v")) == b"r"
    assert (calls.ok["Login"], calls.ok["RenewSelf"]) == (1, 1)


# --- TLS and transport failures ---------------------------------------------------------------


def test_tls_with_ca_bundle_or_ca_provider_and_a_wrong_ca(
    bao_tls: bao.Bao, make: Any, kube_api: client.ApiClient, namespace: str, tmp_path: Path
) -> None:
    assert bao_tls.cacert is not None
    key = f"tls/{uid()}"
    _root(bao_tls).secrets.kv.v2.create_or_update_secret(key, secret={"v": "tls"})
    put_secret(kube_api, namespace, "tls-token", {"token": bao_tls.token})
    auth = {"tokenSecretRef": {"name": "tls-token", "key": "token"}}
    pem = bao_tls.cacert.read_bytes()
    bundle = base64.b64encode(pem).decode()
    assert make(bao_tls.addr, auth, caBundle=bundle).get(_ref(key, property="v")) == b"tls"
    client.CoreV1Api(kube_api).create_namespaced_config_map(
        namespace,
        client.V1ConfigMap(metadata=client.V1ObjectMeta(name="ca"), data={"ca.crt": pem.decode()}),
    )
    provider = make(bao_tls.addr, auth, caProvider={"type": "ConfigMap", "name": "ca"})
    assert provider.get(_ref(key, property="v")) == b"tls"
    other = base64.b64encode(CA(tmp_path / "other", name="other").cert_path.read_bytes()).decode()
    with pytest.raises(ConfigError, match="TLS verification"):
        make(bao_tls.addr, auth, caBundle=other).get(_ref(key))
    with pytest.raises(ConfigError, match="TLS verification"):
        make(bao_tls.addr, auth).get(_ref(key))  # system roots do not know the test bed's CA


def _cert_dirs() -> set[str]:
    return {p.name for p in Path(tempfile.gettempdir()).glob("secretsync-vault-cert-*")}


def test_cert_auth_logs_in_with_a_client_certificate_and_refuses_an_untrusted_one(
    bao_tls: bao.Bao, make: Any, kube_api: client.ApiClient, namespace: str, tmp_path: Path
) -> None:
    """TLS certificate auth on the TLS server (its listener asks for client certificates): a
    certificate from the CA the role trusts logs in, one from another CA is refused, and the key
    file written for the login is gone afterwards."""
    assert bao_tls.cacert is not None
    root = _root(bao_tls)
    key = f"cert/{uid()}"
    root.secrets.kv.v2.create_or_update_secret(key, secret={"v": SECRET_VALUES[0]})
    mount = f"cert-{uid()}"
    root.sys.enable_auth_method("cert", path=mount)
    trusted, stranger = CA(tmp_path / "clients", name="clients"), CA(tmp_path / "x", name="x")
    root.write(
        f"auth/{mount}/certs/app",
        certificate=trusted.cert_path.read_text(),
        token_policies=_reader_policy(root),
    )
    good, bad = trusted.issue("app", "app"), stranger.issue("app", "app")
    put_secret(
        kube_api,
        namespace,
        "client",
        {
            "good.crt": good.cert.read_text(),
            "good.key": good.key.read_text(),
            "bad.crt": bad.cert.read_text(),
            "bad.key": bad.key.read_text(),
        },
    )
    bundle = base64.b64encode(bao_tls.cacert.read_bytes()).decode()

    def cert_auth(which: str) -> dict[str, Any]:
        return {
            "cert": {
                "path": mount,
                "vaultRole": "app",
                "clientCert": {"name": "client", "key": f"{which}.crt"},
                "secretRef": {"name": "client", "key": f"{which}.key"},
            }
        }

    before = _cert_dirs()
    calls = Calls()
    provider = make(bao_tls.addr, cert_auth("good"), calls, caBundle=bundle)
    assert provider.get(_ref(key, property="v")) == SECRET_VALUES[0].encode()
    assert provider.get(_ref(key, property="v")) == SECRET_VALUES[0].encode()
    assert calls.ok["Login"] == 1
    with pytest.raises(AccessDenied) as denied:
        make(bao_tls.addr, cert_auth("bad"), caBundle=bundle).get(_ref(key))
    assert "invalid certificate" in str(denied.value)
    _clean(denied.value)
    assert _cert_dirs() <= before, "no client key left on disk"


@pytest.fixture
def throwaway_bao(tmp_path: Path) -> Iterator[tuple[bao.Bao, subprocess.Popen[bytes]]]:
    """A dev server of our own, so the test can kill it."""
    port, token = procs.free_port(), f"root-{uid()}"
    argv = [str(binaries.bao_path()), "server", "-dev", f"-dev-root-token-id={token}"]
    argv += [f"-dev-listen-address=127.0.0.1:{port}", "-dev-no-store-token"]
    log = (tmp_path / "bao.log").open("wb")
    proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT)
    server = bao.Bao(addr=f"http://127.0.0.1:{port}", token=token)
    deadline = time.monotonic() + 30
    while True:
        try:
            bao.request(server, "GET", "sys/health", token=False)
            break
        except OSError:
            assert time.monotonic() < deadline, "the throwaway OpenBao did not start"
            time.sleep(0.2)
    yield server, proc
    proc.kill()
    proc.wait()
    log.close()


def test_server_going_down_mid_use_is_unavailable(
    throwaway_bao: tuple[bao.Bao, subprocess.Popen[bytes]],
    make: Any,
    kube_api: client.ApiClient,
    namespace: str,
) -> None:
    server, proc = throwaway_bao
    _root(server).secrets.kv.v2.create_or_update_secret("k", secret={"v": SECRET_VALUES[0]})
    put_secret(kube_api, namespace, "tb", {"token": server.token})
    provider = make(server.addr, {"tokenSecretRef": {"name": "tb", "key": "token"}})
    assert provider.get(_ref("k", property="v")) == SECRET_VALUES[0].encode()
    proc.kill()
    proc.wait()
    with pytest.raises(Unavailable) as down:
        provider.get(_ref("k"))
    _clean(down.value)
