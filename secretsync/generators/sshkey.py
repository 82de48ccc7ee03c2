"""The SSHKey generator: a new key pair on each run, as ESO's: `privateKey` in OpenSSH's
PEM format and `publicKey` as an authorized_keys line (with the comment, if any). rsa (the
default, 2048 bits unless keySize says), ecdsa (P-256 unless 384 or 521) and ed25519.

The `cryptography` library's home for key generation: keys come from the OS's CSPRNG."""

from __future__ import annotations

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from secretsync.api.generators import SSHKeySpec, SSHKeyType
from secretsync.generators.base import GeneratorContext

DEFAULT_RSA_BITS = 2048
_CURVES: dict[int, ec.EllipticCurve] = {
    256: ec.SECP256R1(),
    384: ec.SECP384R1(),
    521: ec.SECP521R1(),
}

PrivateKey = rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey | ed25519.Ed25519PrivateKey


def key_bits(spec: SSHKeySpec) -> int | None:
    """The size to generate (validated by the spec); None for ed25519, whose size is fixed."""
    if spec.key_type is SSHKeyType.ED25519:
        return None
    if spec.key_type is SSHKeyType.ECDSA:
        return spec.key_size or 256
    return spec.key_size or DEFAULT_RSA_BITS


def new_key(spec: SSHKeySpec) -> PrivateKey:
    bits = key_bits(spec)
    if spec.key_type is SSHKeyType.ED25519:
        return ed25519.Ed25519PrivateKey.generate()
    assert bits is not None
    if spec.key_type is SSHKeyType.ECDSA:
        return ec.generate_private_key(_CURVES[bits])
    return rsa.generate_private_key(public_exponent=65537, key_size=bits)


def authorized_key(key: PrivateKey, comment: str) -> bytes:
    line = key.public_key().public_bytes(
        serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH
    )
    return line + (b" " + comment.encode() if comment else b"") + b"\n"


def generate(spec: SSHKeySpec, ctx: GeneratorContext) -> dict[str, bytes]:
    key = new_key(spec)
    private = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.OpenSSH,
        serialization.NoEncryption(),
    )
    return {"privateKey": private, "publicKey": authorized_key(key, spec.comment)}
