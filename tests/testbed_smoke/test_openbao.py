"""OpenBao is real: KV v1/v2 storage, TLS, and auth methods that verify what they are given."""

from __future__ import annotations

import base64
import json
import uuid

import hvac
import hvac.exceptions
import pytest
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from kubernetes import client

from tests.testbed import bao, cluster, stack


def _hvac(server: bao.Bao) -> hvac.Client:
    return hvac.Client(
        url=server.addr, token=server.token, verify=str(server.cacert) if server.cacert else True
    )


@pytest.mark.parametrize("instance", ["bao_dev", "bao_tls"])
def test_kv_v2_write_then_read(instance: str, request: pytest.FixtureRequest) -> None:
    vault = _hvac(request.getfixturevalue(instance))
    path = f"smoke/{uuid.uuid4().hex}"
    vault.secrets.kv.v2.create_or_update_secret(path, secret={"password": "s3cret-v1"})
    vault.secrets.kv.v2.create_or_update_secret(path, secret={"password": "s3cret-v2"})
    latest = vault.secrets.kv.v2.read_secret_version(path, raise_on_deleted_version=True)
    assert latest["data"]["data"] == {"password": "s3cret-v2"}
    assert latest["data"]["metadata"]["version"] == 2


def test_kv_v1_write_then_read(bao_dev: bao.Bao) -> None:
    vault = _hvac(bao_dev)
    path = f"smoke/{uuid.uuid4().hex}"
    vault.secrets.kv.v1.create_or_update_secret(path, secret={"token": "abc123"}, mount_point="kv1")
    assert vault.secrets.kv.v1.read_secret(path, mount_point="kv1")["data"] == {"token": "abc123"}


def test_tls_instance_rejects_clients_that_do_not_trust_its_ca(bao_tls: bao.Bao) -> None:
    with pytest.raises(Exception, match="CERTIFICATE_VERIFY_FAILED"):
        hvac.Client(url=bao_tls.addr, token=bao_tls.token, verify=True).sys.read_health_status()


def _service_account(kube_api: client.ApiClient, namespace: str, name: str) -> None:
    client.CoreV1Api(kube_api).create_namespaced_service_account(
        namespace, client.V1ServiceAccount(metadata=client.V1ObjectMeta(name=name))
    )


def _forge(real_token: str) -> str:
    """The same header and claims as a real token, signed by a key the apiserver never saw."""
    header, claims, _ = real_token.split(".")
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    signature = key.sign(f"{header}.{claims}".encode(), padding.PKCS1v15(), hashes.SHA256())
    return f"{header}.{claims}.{base64.urlsafe_b64encode(signature).rstrip(b'=').decode()}"


def test_kubernetes_auth_accepts_a_real_token_and_rejects_a_forged_one(
    bao_dev: bao.Bao, testbed: stack.Testbed, kube_api: client.ApiClient, namespace: str
) -> None:
    vault = _hvac(bao_dev)
    role = f"smoke-{namespace}"
    vault.auth.kubernetes.create_role(
        role,
        bound_service_account_names=["app"],
        bound_service_account_namespaces=[namespace],
        policies=["default"],
        ttl="5m",
        audience="openbao",
    )
    _service_account(kube_api, namespace, "app")
    token = cluster.service_account_token(
        cluster.Path(testbed.KUBECONFIG), namespace, "app", audiences=["openbao"], seconds=600
    )
    login = hvac.Client(url=bao_dev.addr).auth.kubernetes.login(role, token)
    assert login["auth"]["metadata"]["service_account_namespace"] == namespace

    with pytest.raises(hvac.exceptions.Forbidden):
        hvac.Client(url=bao_dev.addr).auth.kubernetes.login(role, _forge(token))


def test_jwt_auth_validates_service_account_tokens(
    bao_dev: bao.Bao, testbed: stack.Testbed, kube_api: client.ApiClient, namespace: str
) -> None:
    vault = _hvac(bao_dev)
    role = f"jwt-{namespace}"
    vault.write(
        f"auth/jwt/role/{role}",
        role_type="jwt",
        user_claim="sub",
        bound_audiences=["openbao"],
        policies=["default"],
        ttl="5m",
    )
    _service_account(kube_api, namespace, "app")
    token = cluster.service_account_token(
        cluster.Path(testbed.KUBECONFIG), namespace, "app", audiences=["openbao"], seconds=600
    )
    login = hvac.Client(url=bao_dev.addr).auth.jwt.jwt_login(role, token)
    assert login["auth"]["client_token"]
    with pytest.raises(hvac.exceptions.InvalidRequest):
        hvac.Client(url=bao_dev.addr).auth.jwt.jwt_login(role, _forge(token))


def test_approle_login(bao_dev: bao.Bao) -> None:
    vault = _hvac(bao_dev)
    role = f"smoke-{uuid.uuid4().hex[:8]}"
    vault.auth.approle.create_or_update_approle(role, token_policies=["default"], token_ttl="5m")
    role_id = vault.auth.approle.read_role_id(role)["data"]["role_id"]
    secret_id = vault.auth.approle.generate_secret_id(role)["data"]["secret_id"]
    login = hvac.Client(url=bao_dev.addr).auth.approle.login(role_id, secret_id)
    assert json.dumps(login["auth"]["policies"]) == '["default"]'
    with pytest.raises(hvac.exceptions.InvalidRequest):
        hvac.Client(url=bao_dev.addr).auth.approle.login(role_id, "not-the-secret-id")
