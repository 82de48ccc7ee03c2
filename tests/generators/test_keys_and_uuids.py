"""UUID and SSHKey generators: the keys ESO gives, key types and sizes, and the spec checks."""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from secretsync.api.generators import SSHKeySpec, UUIDSpec, parse_generator
from secretsync.api.parsing import parse
from secretsync.errors import ConfigError, Unsupported
from secretsync.generators import sshkey, uuidgen
from secretsync.generators.base import GeneratorContext
from tests.generators.test_password import CTX


def test_a_uuid_is_a_random_version_4_uuid() -> None:
    first = uuidgen.generate(UUIDSpec(), CTX)
    second = uuidgen.generate(UUIDSpec(), CTX)
    assert list(first) == ["uuid"]
    parsed = uuid.UUID(first["uuid"].decode())
    assert parsed.version == 4 and str(parsed) == first["uuid"].decode()
    assert first != second


def _keys(**raw: Any) -> tuple[Any, bytes]:
    found = sshkey.generate(parse(SSHKeySpec, raw, "spec"), CTX)
    assert sorted(found) == ["privateKey", "publicKey"]
    assert found["privateKey"].startswith(b"-----BEGIN OPENSSH PRIVATE KEY-----")
    private = serialization.load_ssh_private_key(found["privateKey"], None)
    return private, found["publicKey"]


def _public_line(private: Any) -> bytes:
    return bytes(
        private.public_key().public_bytes(
            serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
        )
    )


def test_rsa_is_the_default_with_2048_bits() -> None:
    private, public = _keys()
    assert isinstance(private, rsa.RSAPrivateKey) and private.key_size == 2048
    assert public == _public_line(private) + b"\n"
    assert public.startswith(b"ssh-rsa ")


def test_rsa_key_size_and_comment() -> None:
    private, public = _keys(keyType="rsa", keySize=3072, comment="deploy@ci")
    assert private.key_size == 3072
    assert public == _public_line(private) + b" deploy@ci\n"


def test_ed25519_ignores_the_key_size() -> None:
    private, public = _keys(keyType="ed25519", keySize=4096)
    assert isinstance(private, ed25519.Ed25519PrivateKey)
    assert public.startswith(b"ssh-ed25519 ")


def test_ecdsa_curves_follow_the_key_size() -> None:
    private, _ = _keys(keyType="ecdsa", keySize=384)
    assert isinstance(private, ec.EllipticCurvePrivateKey) and private.curve.key_size == 384
    private, _ = _keys(keyType="ecdsa")
    assert private.curve.key_size == 256


def test_two_runs_give_two_key_pairs() -> None:
    assert _keys(keyType="ed25519")[1] != _keys(keyType="ed25519")[1]


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"keyType": "dsa"}, "spec.keyType"),
        ({"keyType": "rsa", "keySize": 1024}, "spec.keySize"),
        ({"keyType": "ecdsa", "keySize": 300}, "spec.keySize"),
    ],
)
def test_an_invalid_key_spec_names_the_field(raw: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError) as caught:
        parse(SSHKeySpec, raw, "spec")
    assert caught.value.field == field


def _cluster(kind: str, generator: dict[str, Any]) -> dict[str, Any]:
    return {
        "kind": "ClusterGenerator",
        "metadata": {"name": "g"},
        "spec": {"kind": kind, "generator": generator},
    }


def test_a_cluster_generator_runs_the_kind_it_wraps() -> None:
    found = parse_generator(_cluster("SSHKey", {"sshKeySpec": {"keyType": "ed25519"}}))
    assert found.kind.value == "SSHKey" and found.spec.key_type.value == "ed25519"
    found = parse_generator(_cluster("UUID", {"uuidSpec": {}}))
    assert isinstance(found.spec, UUIDSpec)


def test_a_cluster_generator_whose_spec_is_not_its_kind_is_refused() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_generator(_cluster("Password", {"uuidSpec": {}}))
    assert caught.value.field == "spec.generator"
    assert "passwordSpec" in str(caught.value)


def test_a_kind_secretsync_does_not_run_is_unsupported() -> None:
    with pytest.raises(Unsupported) as caught:
        parse_generator(_cluster("Webhook", {"webhookSpec": {"url": "x"}}))
    assert caught.value.field == "spec.kind"
    with pytest.raises(Unsupported):
        parse_generator({"kind": "Webhook", "metadata": {"name": "w"}, "spec": {}})


def test_a_cluster_generator_field_error_is_named_by_its_path() -> None:
    with pytest.raises(ConfigError) as caught:
        parse_generator(_cluster("Password", {"passwordSpec": {"length": "x"}}))
    assert caught.value.field == "spec.generator.passwordSpec.length"


def test_a_context_carries_the_spec_path() -> None:
    assert GeneratorContext("n", "ns", CTX.credentials).spec_path == "spec"
