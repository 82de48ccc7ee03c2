"""sprig's crypto functions (crypto.go, as vendored by ESO: htpasswd takes a hash algorithm).

bcrypt (and htpasswd with any algorithm but "sha") fails with a clear error: neither the
standard library nor `cryptography` implements bcrypt, and a pure-Python one at sprig's cost
of 10 takes seconds per hash.

Key and certificate work goes through crypto_funcs.py, the engine's one `cryptography` user.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import ipaddress
import secrets
import struct
from dataclasses import dataclass
from typing import Any

from secretsync.template import pem
from secretsync.template.callables import FuncError, GoFunc, make
from secretsync.template.crypto_funcs import (
    CertRequest,
    CryptoError,
    aes_cbc,
    check_private_key,
    generate_private_key,
    issue_certificate,
    parse_certificate,
)
from secretsync.template.values import from_bytes, to_bytes

_MASTER_PASSWORD_SEED = b"com.lyndir.masterpassword"
_PASSWORD_TEMPLATES = {
    "maximum": ["anoxxxxxxxxxxxxxxxxx", "axxxxxxxxxxxxxxxxxno"],
    "long": [
        "CvcvnoCvcvCvcv",
        "CvcvCvcvnoCvcv",
        "CvcvCvcvCvcvno",
        "CvccnoCvcvCvcv",
        "CvccCvcvnoCvcv",
        "CvccCvcvCvcvno",
        "CvcvnoCvccCvcv",
        "CvcvCvccnoCvcv",
        "CvcvCvccCvcvno",
        "CvcvnoCvcvCvcc",
        "CvcvCvcvnoCvcc",
        "CvcvCvcvCvccno",
        "CvccnoCvccCvcv",
        "CvccCvccnoCvcv",
        "CvccCvccCvcvno",
        "CvcvnoCvccCvcc",
        "CvcvCvccnoCvcc",
        "CvcvCvccCvccno",
        "CvccnoCvcvCvcc",
        "CvccCvcvnoCvcc",
        "CvccCvcvCvccno",
    ],
    "medium": ["CvcnoCvc", "CvcCvcno"],
    "short": ["Cvcn"],
    "basic": ["aaanaaan", "aannaaan", "aaannaaa"],
    "pin": ["nnnn"],
}
_TEMPLATE_CHARACTERS = {
    "V": "AEIOU",
    "C": "BCDFGHJKLMNPQRSTVWXYZ",
    "v": "aeiou",
    "c": "bcdfghjklmnpqrstvwxyz",
    "A": "AEIOUBCDFGHJKLMNPQRSTVWXYZ",
    "a": "AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz",
    "n": "0123456789",
    "o": "@&%?,=[]_:-+*$#!'^~;()/.",
    "x": "AEIOUaeiouBCDFGHJKLMNPQRSTVWXYZbcdfghjklmnpqrstvwxyz0123456789!@#$%^&*()",
}


@dataclass(frozen=True)
class Certificate:
    """sprig's certificate struct: templates read .Cert and .Key."""

    cert: str
    key: str
    go_type = "sprig.certificate"

    def go_method(self, name: str, args: list[Any]) -> Any:
        if args:
            raise FuncError(f"{name} is not a method but has arguments")
        if name == "Cert":
            return self.cert
        if name == "Key":
            return self.key
        raise FuncError(f"can't evaluate field {name} in type sprig.certificate")

    def go_string(self) -> str:
        return "{" + self.cert + " " + self.key + "}"


def derive_password(counter: int, kind: str, password: str, user: str, site: str) -> str:
    """Master Password's algorithm, as sprig implements it."""
    templates = _PASSWORD_TEMPLATES.get(kind)
    if templates is None:
        return f"cannot find password template {kind}"
    user_bytes, site_bytes = to_bytes(user), to_bytes(site)
    salt = _MASTER_PASSWORD_SEED + struct.pack(">I", len(user_bytes)) + user_bytes
    key = hashlib.scrypt(to_bytes(password), salt=salt, n=32768, r=8, p=2, maxmem=2**27, dklen=64)
    message = (
        _MASTER_PASSWORD_SEED
        + struct.pack(">I", len(site_bytes))
        + site_bytes
        + struct.pack(">I", counter & 0xFFFFFFFF)
    )
    seed = hmac.new(key, message, hashlib.sha256).digest()
    template = templates[seed[0] % len(templates)]
    chars = [_TEMPLATE_CHARACTERS[c] for c in template]
    return "".join(alphabet[seed[i + 1] % len(alphabet)] for i, alphabet in enumerate(chars))


def gen_private_key(kind: str) -> str:
    block = generate_private_key(kind)
    if block is None:
        return "Unknown type " + kind
    return from_bytes(pem.encode(*block))


def _key_der(key_pem: str) -> bytes:
    block, _ = pem.decode(to_bytes(key_pem))
    if block is None:
        raise FuncError("parsing private key: no PEM data in input")
    try:
        check_private_key(block.data)
    except CryptoError as exc:
        raise FuncError(f"parsing private key: {exc}") from None
    return block.data


def _strings(values: Any, what: str) -> tuple[str, ...]:
    if values is None:
        return ()
    if not all(isinstance(v, str) for v in values):
        raise FuncError(f"error processing {what}: not a string")
    return tuple(values)


def _issue(
    cn: str, ips: Any, dns: Any, days: int, *, is_ca: bool, key_pem: str | None, ca: Any
) -> Certificate:
    for ip in _strings(ips, "ip"):
        try:
            ipaddress.ip_address(ip)
        except ValueError:
            raise FuncError(f"error parsing ip: {ip}") from None
    request = CertRequest(cn, _strings(ips, "ip"), _strings(dns, "alternate dns name"), days, is_ca)
    signer = None
    if ca is not None:
        if not isinstance(ca, Certificate):
            raise FuncError("wrong type for value; expected sprig.certificate")
        block, _ = pem.decode(to_bytes(ca.cert))
        if block is None:
            raise FuncError("unable to decode certificate")
        signer = (block.data, _key_der(ca.key))
    try:
        cert_der, key_block = issue_certificate(
            request, _key_der(key_pem) if key_pem else None, signer
        )
    except CryptoError as exc:
        raise FuncError(str(exc)) from None
    return Certificate(
        from_bytes(pem.encode("CERTIFICATE", cert_der)), from_bytes(pem.encode(*key_block))
    )


def build_custom_cert(b64cert: str, b64key: str) -> Certificate:
    try:
        cert, key = (
            base64.b64decode(b64cert, validate=True),
            base64.b64decode(b64key, validate=True),
        )
    except ValueError:
        raise FuncError("unable to decode base64 certificate or private key") from None
    block, _ = pem.decode(cert)
    if block is None:
        raise FuncError("unable to decode certificate")
    try:
        parse_certificate(block.data)
    except CryptoError as exc:
        raise FuncError(f"error parsing certificate: {exc}") from None
    _key_der(from_bytes(key))
    return Certificate(from_bytes(cert), from_bytes(key))


def encrypt_aes(password: str, plaintext: str) -> str:
    if not plaintext:
        return ""
    key = to_bytes(password)[:32].ljust(32, b"\0")
    data = to_bytes(plaintext)
    pad = 16 - len(data) % 16
    iv = secrets.token_bytes(16)
    return base64.b64encode(iv + aes_cbc(key, iv, data + bytes([pad]) * pad, True)).decode()


def decrypt_aes(password: str, encoded: str) -> str:
    if not encoded:
        return ""
    key = to_bytes(password)[:32].ljust(32, b"\0")
    try:
        blob = base64.b64decode(encoded, validate=True)
    except ValueError:
        raise FuncError("illegal base64 data") from None
    if len(blob) < 32 or len(blob) % 16:
        raise FuncError("crypto/cipher: input not full blocks")
    plain = aes_cbc(key, blob[:16], blob[16:], False)
    # sprig trusts the last byte as the pad length without checking it.
    return from_bytes(plain[: max(len(plain) - plain[-1], 0)])


def _bcrypt_unsupported(*_: str) -> str:
    raise FuncError("bcrypt hashing is not supported by secretsync's template engine")


def htpasswd(username: str, password: str, algorithm: str) -> str:
    if ":" in username:
        return f"invalid username: {username}"
    if algorithm == "sha":
        # The {SHA} htpasswd format is SHA-1 by definition.
        sha1 = hashlib.sha1(to_bytes(password), usedforsecurity=False).digest()
        digest = base64.b64encode(sha1).decode()
        return f"{username}:{{SHA}}{digest}"
    return _bcrypt_unsupported()


FUNCS: dict[str, GoFunc] = {
    "bcrypt": make(_bcrypt_unsupported, "s"),
    "htpasswd": make(htpasswd, "sss"),
    "genPrivateKey": make(gen_private_key, "s"),
    "derivePassword": make(derive_password, "issss"),
    "buildCustomCert": make(build_custom_cert, "ss"),
    "genCA": make(lambda cn, d: _issue(cn, None, None, d, is_ca=True, key_pem=None, ca=None), "si"),
    "genCAWithKey": make(
        lambda cn, d, k: _issue(cn, None, None, d, is_ca=True, key_pem=k, ca=None), "sis"
    ),
    "genSelfSignedCert": make(
        lambda cn, ips, dns, d: _issue(cn, ips, dns, d, is_ca=False, key_pem=None, ca=None), "slli"
    ),
    "genSelfSignedCertWithKey": make(
        lambda cn, ips, dns, d, k: _issue(cn, ips, dns, d, is_ca=False, key_pem=k, ca=None),
        "sllis",
    ),
    "genSignedCert": make(
        lambda cn, ips, dns, d, ca: _issue(cn, ips, dns, d, is_ca=False, key_pem=None, ca=ca),
        "sllia",
    ),
    "genSignedCertWithKey": make(
        lambda cn, ips, dns, d, ca, k: _issue(cn, ips, dns, d, is_ca=False, key_pem=k, ca=ca),
        "sllias",
    ),
    "encryptAES": make(encrypt_aes, "ss"),
    "decryptAES": make(decrypt_aes, "ss"),
}
