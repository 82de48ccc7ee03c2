"""Every use of the `cryptography` package by the template engine, in one module.

The functions here take and return DER or raw bytes so that the template-facing modules
(eso_funcs.py, sprig_crypto.py) stay free of the library. Failures raise CryptoError with a
message that describes the input's shape, never its content.
"""

from __future__ import annotations

import base64
import datetime
import ipaddress
import secrets
from dataclasses import dataclass
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import dsa, ec, ed25519, padding, rsa
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes
from cryptography.hazmat.primitives.serialization import pkcs12
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

_DER = serialization.Encoding.DER
_PKCS8 = serialization.PrivateFormat.PKCS8
_NO_ENCRYPTION = serialization.NoEncryption()
_HASHES: dict[str, type[hashes.HashAlgorithm]] = {
    "SHA1": hashes.SHA1,
    "SHA256": hashes.SHA256,
    "SHA512": hashes.SHA512,
}


class CryptoError(ValueError):
    """Input the Go implementation would also reject."""


@dataclass(frozen=True)
class CertInfo:
    der: bytes
    subject_key_id: bytes | None
    authority_key_id: bytes | None
    sans: tuple[str, ...]


def parse_certificate(der: bytes) -> CertInfo:
    try:
        cert = x509.load_der_x509_certificate(der)
    except ValueError as exc:
        raise CryptoError("x509: malformed certificate") from exc
    return CertInfo(der, _subject_key_id(cert), _authority_key_id(cert), _sans(cert))


def _subject_key_id(cert: x509.Certificate) -> bytes | None:
    try:
        return cert.extensions.get_extension_for_class(x509.SubjectKeyIdentifier).value.digest
    except (x509.ExtensionNotFound, ValueError):
        return None


def _authority_key_id(cert: x509.Certificate) -> bytes | None:
    try:
        ext = cert.extensions.get_extension_for_class(x509.AuthorityKeyIdentifier)
    except (x509.ExtensionNotFound, ValueError):
        return None
    return ext.value.key_identifier


def _sans(cert: x509.Certificate) -> tuple[str, ...]:
    """Go's order: DNS names, IP addresses, e-mail addresses, URIs."""
    try:
        names = cert.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    except (x509.ExtensionNotFound, ValueError):
        return ()
    kinds = (x509.DNSName, x509.IPAddress, x509.RFC822Name, x509.UniformResourceIdentifier)
    return tuple(str(v) for kind in kinds for v in names.get_values_for_type(kind))


def _load_private_key(der: bytes) -> Any:
    """Go's parsePrivateKey: PKCS#1, then PKCS#8, then SEC 1 EC."""
    try:
        return serialization.load_der_private_key(der, password=None)
    except (ValueError, TypeError) as exc:
        raise CryptoError("unable to parse private key type") from exc


def private_key_to_pkcs8(der: bytes) -> bytes:
    key = _load_private_key(der)
    return bytes(key.private_bytes(_DER, _PKCS8, _NO_ENCRYPTION))


def pkcs12_decode(data: bytes, password: str) -> tuple[bytes, bytes, list[bytes]]:
    """(PKCS#8 key, leaf certificate, CA certificates) from a PKCS#12 archive."""
    try:
        key, cert, extra = pkcs12.load_key_and_certificates(data, password.encode() or None)
    except (ValueError, TypeError) as exc:
        raise CryptoError("pkcs12: decryption password incorrect or malformed data") from exc
    if key is None or cert is None:
        raise CryptoError("pkcs12: expected a private key and a certificate")
    key_der = key.private_bytes(_DER, _PKCS8, _NO_ENCRYPTION)
    return key_der, cert.public_bytes(_DER), [c.public_bytes(_DER) for c in extra]


def _modern_encryption(password: str) -> serialization.KeySerializationEncryption:
    # go-pkcs12's Modern profile: PBES2 with AES-256-CBC, PBKDF2-SHA-256, 2048 rounds.
    # cryptography cannot encrypt under an empty password (Go can); the archive is then
    # written unencrypted, which every reader opens with an empty password too.
    if not password:
        return _NO_ENCRYPTION
    return (
        serialization.PrivateFormat.PKCS12.encryption_builder()
        .kdf_rounds(2048)
        .key_cert_algorithm(pkcs12.PBES.PBESv2SHA256AndAES256CBC)
        .hmac_hash(hashes.SHA256())
        .build(password.encode())
    )


def pkcs12_encode(key_der: bytes, cert_der: bytes, ca_ders: list[bytes], password: str) -> bytes:
    key = _load_private_key(key_der)
    try:
        cert = x509.load_der_x509_certificate(cert_der)
        cas = [x509.load_der_x509_certificate(d) for d in ca_ders]
        return pkcs12.serialize_key_and_certificates(
            None, key, cert, cas or None, _modern_encryption(password)
        )
    except (ValueError, TypeError) as exc:
        raise CryptoError("pkcs12: cannot encode the key and certificates") from exc


def pkcs12_truststore(ca_ders: list[bytes], password: str) -> bytes:
    try:
        cas = [x509.load_der_x509_certificate(d) for d in ca_ders]
        return pkcs12.serialize_key_and_certificates(
            None, None, None, cas or None, _modern_encryption(password)
        )
    except (ValueError, TypeError) as exc:
        raise CryptoError("pkcs12: cannot encode the trust store") from exc


def rsa_oaep_decrypt(key_der: bytes, hash_name: str, ciphertext: bytes) -> bytes:
    key = _load_private_key(key_der)
    if not isinstance(key, rsa.RSAPrivateKey):
        raise CryptoError("could not parse RSA private key")
    algorithm = _HASHES.get(hash_name, hashes.SHA256)()
    try:
        return key.decrypt(
            ciphertext, padding.OAEP(mgf=padding.MGF1(algorithm), algorithm=algorithm, label=None)
        )
    except ValueError as exc:
        raise CryptoError("error decrypting data with RSA: crypto/rsa: decryption error") from exc


def _b64url_int(value: Any, name: str) -> int:
    return int.from_bytes(_b64url(value, name), "big")


def _b64url(value: Any, name: str) -> bytes:
    if not isinstance(value, str):
        raise CryptoError(f"failed to parse JWK: missing {name}")
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except ValueError as exc:
        raise CryptoError(f"failed to parse JWK: invalid {name}") from exc


_CURVES: dict[str, ec.EllipticCurve] = {
    "P-256": ec.SECP256R1(),
    "P-384": ec.SECP384R1(),
    "P-521": ec.SECP521R1(),
}


def jwk_to_key(jwk: dict[str, Any], private: bool) -> Any:
    """The key a JWK describes; needs the private members when `private` is set."""
    kty = jwk.get("kty")
    if kty == "RSA":
        public = rsa.RSAPublicNumbers(
            _b64url_int(jwk.get("e"), "e"), _b64url_int(jwk.get("n"), "n")
        )
        if not private:
            return public.public_key()
        p, q, d = (_b64url_int(jwk.get(k), k) for k in ("p", "q", "d"))
        numbers = rsa.RSAPrivateNumbers(
            p, q, d, rsa.rsa_crt_dmp1(d, p), rsa.rsa_crt_dmq1(d, q), rsa.rsa_crt_iqmp(p, q), public
        )
        return numbers.private_key()
    if kty == "EC":
        curve = _CURVES.get(str(jwk.get("crv")))
        if curve is None:
            raise CryptoError("failed to parse JWK: unsupported curve")
        x, y = _b64url_int(jwk.get("x"), "x"), _b64url_int(jwk.get("y"), "y")
        ec_public = ec.EllipticCurvePublicNumbers(x, y, curve)
        if not private:
            return ec_public.public_key()
        return ec.EllipticCurvePrivateNumbers(
            _b64url_int(jwk.get("d"), "d"), ec_public
        ).private_key()
    if kty == "OKP" and jwk.get("crv") == "Ed25519":
        if private:
            return ed25519.Ed25519PrivateKey.from_private_bytes(_b64url(jwk.get("d"), "d"))
        return ed25519.Ed25519PublicKey.from_public_bytes(_b64url(jwk.get("x"), "x"))
    raise CryptoError("failed to parse JWK: unsupported key type")


def jwk_public_der(jwk: dict[str, Any]) -> bytes:
    key = jwk_to_key(jwk, private=False)
    return bytes(key.public_bytes(_DER, serialization.PublicFormat.SubjectPublicKeyInfo))


def jwk_private_der(jwk: dict[str, Any]) -> bytes:
    try:
        key = jwk_to_key(jwk, private=True)
    except ValueError as exc:
        raise CryptoError("failed to parse JWK: invalid private key") from exc
    return bytes(key.private_bytes(_DER, _PKCS8, _NO_ENCRYPTION))


def aes_cbc(key: bytes, iv: bytes, data: bytes, encrypt: bool) -> bytes:
    cipher = Cipher(algorithms.AES(key), modes.CBC(iv))
    op = cipher.encryptor() if encrypt else cipher.decryptor()
    return op.update(data) + op.finalize()


def _key_block(key: Any) -> tuple[str, bytes]:
    """sprig's pemBlockForKey: PKCS#1/SEC 1/DSA blocks where Go has them, PKCS#8 otherwise."""
    traditional = serialization.PrivateFormat.TraditionalOpenSSL
    for kind, label in ((rsa.RSAPrivateKey, "RSA"), (ec.EllipticCurvePrivateKey, "EC")):
        if isinstance(key, kind):
            return f"{label} PRIVATE KEY", key.private_bytes(_DER, traditional, _NO_ENCRYPTION)
    if isinstance(key, dsa.DSAPrivateKey):
        return "DSA PRIVATE KEY", key.private_bytes(_DER, traditional, _NO_ENCRYPTION)
    return "PRIVATE KEY", key.private_bytes(_DER, _PKCS8, _NO_ENCRYPTION)


def generate_private_key(kind: str) -> tuple[str, bytes] | None:
    """sprig's genPrivateKey: (PEM type, DER), or None for an unknown kind."""
    generators: dict[str, Any] = {
        "": lambda: rsa.generate_private_key(65537, 4096),
        "rsa": lambda: rsa.generate_private_key(65537, 4096),
        "ecdsa": lambda: ec.generate_private_key(ec.SECP256R1()),
        "dsa": lambda: dsa.generate_private_key(2048),
        "ed25519": ed25519.Ed25519PrivateKey.generate,
    }
    generator = generators.get(kind)
    return None if generator is None else _key_block(generator())


def check_private_key(der: bytes) -> None:
    _load_private_key(der)


@dataclass(frozen=True)
class CertRequest:
    common_name: str
    ips: tuple[str, ...]
    dns_names: tuple[str, ...]
    days_valid: int
    is_ca: bool


def issue_certificate(
    request: CertRequest, key_der: bytes | None, signer: tuple[bytes, bytes] | None
) -> tuple[bytes, tuple[str, bytes]]:
    """sprig's getBaseCertTemplate + getCertAndKey: (certificate DER, (key PEM type, key DER)).

    `signer` is (CA certificate DER, CA key DER); without it the certificate is self-signed.
    """
    key = _load_private_key(key_der) if key_der else rsa.generate_private_key(65537, 2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, request.common_name)])
    # Go sets AuthorityKeyId from the parent's SubjectKeyId, which only CA templates get.
    issuer_key_id = _key_id(key.public_key()) if request.is_ca else None
    issuer, signing_key = subject, key
    if signer is not None:
        try:
            signer_cert = x509.load_der_x509_certificate(signer[0])
        except ValueError as exc:
            raise CryptoError("error parsing certificate") from exc
        issuer, signing_key = signer_cert.subject, _load_private_key(signer[1])
        issuer_key_id = _subject_key_id(signer_cert) or _key_id(signer_cert.public_key())
    builder = _base_builder(request, subject, issuer, key.public_key())
    if issuer_key_id is not None:
        authority = x509.AuthorityKeyIdentifier(issuer_key_id, None, None)
        builder = builder.add_extension(authority, critical=False)
    try:
        cert = builder.sign(signing_key, hashes.SHA256())
    except (ValueError, TypeError) as exc:
        raise CryptoError("error creating certificate") from exc
    return cert.public_bytes(_DER), _key_block(key)


def _base_builder(
    request: CertRequest, subject: x509.Name, issuer: x509.Name, public_key: Any
) -> x509.CertificateBuilder:
    now = datetime.datetime.now(datetime.UTC)
    usages = [ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH]
    builder = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer)
        .public_key(public_key)
        .serial_number(secrets.randbits(128))
        .not_valid_before(now)
        .not_valid_after(now + datetime.timedelta(days=request.days_valid))
        .add_extension(_key_usage(request.is_ca), critical=True)
        .add_extension(x509.ExtendedKeyUsage(usages), critical=False)
        .add_extension(x509.BasicConstraints(ca=request.is_ca, path_length=None), critical=True)
    )
    if request.is_ca:
        # Go adds a SubjectKeyId to CA certificates, which ESO's chain helpers rely on.
        builder = builder.add_extension(_key_id_ext(public_key), critical=False)
    sans: list[x509.GeneralName] = [x509.DNSName(n) for n in request.dns_names]
    sans += [x509.IPAddress(ipaddress.ip_address(ip)) for ip in request.ips]
    if sans:
        builder = builder.add_extension(x509.SubjectAlternativeName(sans), critical=False)
    return builder


def _key_id_ext(public_key: Any) -> x509.SubjectKeyIdentifier:
    return x509.SubjectKeyIdentifier.from_public_key(public_key)


def _key_id(public_key: Any) -> bytes:
    return _key_id_ext(public_key).digest


def _key_usage(is_ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=True,
        content_commitment=False,
        key_encipherment=True,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=is_ca,
        crl_sign=False,
        encipher_only=False,
        decipher_only=False,
    )
