"""target.template through the running operator: exact bytes for a .dockerconfigjson, a PKCS#12
keystore built from PEM, and templateFrom a ConfigMap and a literal."""

from __future__ import annotations

import base64
import datetime
import json
from collections.abc import Callable

import hvac
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import NameOID
from kubernetes import client

from tests.operator.harness import Cluster, Operator, eventually
from tests.operator.manifests import vault_store
from tests.testbed import stack


def _pem_pair() -> tuple[str, str]:
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "app.example")])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=1))
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    return cert.public_bytes(serialization.Encoding.PEM).decode(), key_pem.decode()


def _setup(kube: Cluster, testbed: stack.Testbed, secret: dict[str, str]) -> str:
    key = f"tpl/{kube.namespace}"
    hvac.Client(
        url=testbed.VAULT_ADDR, token=testbed.VAULT_TOKEN
    ).secrets.kv.v2.create_or_update_secret(key, secret=secret)
    vault_store(kube, testbed)
    return key


def test_a_dockerconfigjson_renders_exact_bytes(
    kube: Cluster, testbed: stack.Testbed, start_operator: Callable[..., Operator]
) -> None:
    key = _setup(kube, testbed, {"registry": "ghcr.io", "user": "bot", "password": "tok<en>"})
    template = (
        '{"auths":{"{{ .registry }}":{"auth":"{{ printf "%s:%s" .user .password | b64enc }}"}}}'
    )
    kube.apply(
        "externalsecrets",
        {
            "kind": "ExternalSecret",
            "metadata": {"name": "pull"},
            "spec": {
                "secretStoreRef": {"name": "vault"},
                "target": {
                    "template": {
                        "type": "kubernetes.io/dockerconfigjson",
                        "metadata": {"labels": {"kind": "registry"}},
                        "data": {".dockerconfigjson": template},
                    }
                },
                "dataFrom": [{"extract": {"key": key}}],
            },
        },
    )
    start_operator()
    data = eventually(lambda: kube.data("pull"), what="the Secret")
    auth = base64.b64encode(b"bot:tok<en>").decode()
    assert data == {".dockerconfigjson": ('{"auths":{"ghcr.io":{"auth":"' + auth + '"}}}').encode()}
    secret = kube.secret("pull")
    assert secret is not None
    assert secret.type == "kubernetes.io/dockerconfigjson"
    assert secret.metadata.labels["kind"] == "registry"


def test_a_pkcs12_keystore_is_built_from_pem(
    kube: Cluster, testbed: stack.Testbed, start_operator: Callable[..., Operator]
) -> None:
    cert, key_pem = _pem_pair()
    key = _setup(kube, testbed, {"tls.crt": cert, "tls.key": key_pem})
    kube.apply(
        "externalsecrets",
        {
            "kind": "ExternalSecret",
            "metadata": {"name": "ks"},
            "spec": {
                "secretStoreRef": {"name": "vault"},
                "target": {
                    "template": {
                        "data": {
                            "keystore.p12": '{{ fullPemToPkcs12Pass (index . "tls.crt") '
                            '(index . "tls.key") "changeit" | b64dec }}',
                            "tls.crt": '{{ index . "tls.crt" }}',
                        }
                    }
                },
                "dataFrom": [{"extract": {"key": key}}],
            },
        },
    )
    start_operator()
    data = eventually(lambda: kube.data("ks"), what="the keystore")
    private, certificate, _ = pkcs12.load_key_and_certificates(data["keystore.p12"], b"changeit")
    assert certificate is not None and private is not None
    assert certificate.public_bytes(serialization.Encoding.PEM).decode() == cert
    assert data["tls.crt"] == cert.encode()
    assert set(data) == {"keystore.p12", "tls.crt"}, "mergePolicy Replace keeps rendered keys only"


def test_template_from_a_config_map_and_a_literal(
    kube: Cluster,
    kube_api: client.ApiClient,
    testbed: stack.Testbed,
    start_operator: Callable[..., Operator],
) -> None:
    key = _setup(kube, testbed, {"host": "db.internal", "password": "pw-9931"})
    client.CoreV1Api(kube_api).create_namespaced_config_map(
        kube.namespace,
        client.V1ConfigMap(
            metadata=client.V1ObjectMeta(name="tpl"),
            data={
                "app.properties": "url=jdbc:postgresql://{{ .host }}/app\n",
                "pairs": "user: app\nhost: '{{ .host }}'\n",
            },
        ),
    )
    kube.apply(
        "externalsecrets",
        {
            "kind": "ExternalSecret",
            "metadata": {"name": "cfg"},
            "spec": {
                "secretStoreRef": {"name": "vault"},
                "target": {
                    "template": {
                        "mergePolicy": "Merge",
                        "templateFrom": [
                            {
                                "configMap": {
                                    "name": "tpl",
                                    "items": [
                                        {"key": "app.properties"},
                                        {"key": "pairs", "templateAs": "KeysAndValues"},
                                    ],
                                }
                            },
                            {"literal": "owner: '{{ .host | upper }}'", "target": "Annotations"},
                        ],
                    }
                },
                "dataFrom": [{"extract": {"key": key}}],
            },
        },
    )
    start_operator()
    data = eventually(lambda: kube.data("cfg"), what="the Secret")
    assert data == {
        "app.properties": b"url=jdbc:postgresql://db.internal/app\n",
        "user": b"app",
        "host": b"db.internal",
        "password": b"pw-9931",
    }
    secret = kube.secret("cfg")
    assert secret is not None
    assert secret.metadata.annotations["owner"] == "DB.INTERNAL"
    assert json.dumps(secret.metadata.annotations).count("pw-9931") == 0
