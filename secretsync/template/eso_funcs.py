"""ESO's own template functions (runtime/template/v2: pkcs12.go, pem.go, pem_chain.go, jwk.go,
decrypt.go, yaml.go), with ESO's error texts. Cryptography lives in crypto_funcs.py."""

from __future__ import annotations

import base64
import json
from typing import Any

from secretsync.template import pem
from secretsync.template.callables import FuncError, GoFunc, make
from secretsync.template.crypto_funcs import (
    CertInfo,
    CryptoError,
    jwk_private_der,
    jwk_public_der,
    parse_certificate,
    pkcs12_decode,
    pkcs12_encode,
    pkcs12_truststore,
    private_key_to_pkcs8,
    rsa_oaep_decrypt,
)
from secretsync.template.goyaml import YAMLError, marshal_yaml, unmarshal_yaml
from secretsync.template.values import from_bytes, to_bytes


def _pem(data: bytes, kind: str) -> str:
    return from_bytes(pem.encode(kind, data))


def pkcs12_key(password: str, archive: str) -> str:
    try:
        key_der, _, _ = pkcs12_decode(to_bytes(archive), password)
    except CryptoError as exc:
        raise FuncError(f"unable to decode pkcs12 with password: {exc}") from None
    return _pem(key_der, "PRIVATE KEY")


def pkcs12_cert(password: str, archive: str) -> str:
    try:
        _, cert_der, ca_ders = pkcs12_decode(to_bytes(archive), password)
    except CryptoError as exc:
        raise FuncError(f"unable to decode pkcs12 certificate with password: {exc}") from None
    raw = "".join(_pem(der, "CERTIFICATE") for der in [cert_der, *ca_ders])
    try:
        return "".join(_pem(c.der, "CERTIFICATE") for c in order_chain(to_bytes(raw)))
    except FuncError:
        return raw  # ESO returns the unordered PEM when the chain cannot be ordered


def order_chain(data: bytes) -> list[CertInfo]:
    """ESO's fetchX509CertChains: leaf -> intermediates -> root by key identifiers.

    This orders certificates; it does not verify signatures or trust.
    """
    certs = [_parse(block.data) for block in pem.decode_all(data)]
    parents: dict[int, int] = {}
    is_parent = [False] * len(certs)
    for i, cert in enumerate(certs):
        for j, other in enumerate(certs):
            # Go's bytes.Equal treats a missing identifier and an empty one alike.
            if i != j and (cert.authority_key_id or b"") == (other.subject_key_id or b""):
                is_parent[j] = True
                parents[i] = j
                break
    leaves = [i for i in range(len(certs)) if not is_parent[i]]
    if len(leaves) > 1:
        raise FuncError("found multiple leaf or disjunct certificates")
    if not leaves:
        raise FuncError("no leaf certificate found")
    chain: list[CertInfo] = []
    node: int | None = leaves[0]
    while node is not None:
        if len(chain) >= len(certs):
            raise FuncError("constructing chain resulted in cycle")
        chain.append(certs[node])
        node = parents.get(node)
    return chain


def _parse(der: bytes) -> CertInfo:
    try:
        return parse_certificate(der)
    except CryptoError as exc:
        raise FuncError(str(exc)) from None


def _is_root(cert: CertInfo) -> bool:
    return cert.authority_key_id is None or cert.authority_key_id == cert.subject_key_id


def filter_cert_chain(cert_type: str, text: str) -> str:
    chain = order_chain(to_bytes(text))
    if cert_type == "leaf":
        leaf = chain[0]
        if leaf.authority_key_id is not None and leaf.authority_key_id != leaf.subject_key_id:
            return _pem(leaf.der, "CERTIFICATE")
    elif cert_type == "intermediate":
        out = []
        for cert in chain[1:]:
            if _is_root(cert):
                break
            out.append(_pem(cert.der, "CERTIFICATE"))
        return "".join(out)
    elif cert_type == "root" and _is_root(chain[-1]):
        return _pem(chain[-1].der, "CERTIFICATE")
    return ""


def _trim_junk(text: str) -> str:
    index = text.find("-----BEGIN")
    return text if index < 0 else text[index:]


def filter_pem(pem_type: str, text: str) -> str:
    data = to_bytes(_trim_junk(text))
    out: list[bytes] = []
    while True:
        block, data = pem.decode(data)
        if block is None:
            break
        if block.type.casefold() == pem_type.casefold():
            out.append(pem.encode(block.type, block.data, block.headers))
    if not out and data:
        raise FuncError("error filtering pem: found junk")
    return from_bytes(b"".join(out))


def cert_sans(text: str) -> list[str]:
    block, _ = pem.decode(to_bytes(_trim_junk(text)))
    if block is None:
        raise FuncError("failed to decode PEM block")
    try:
        return list(parse_certificate(block.data).sans)
    except CryptoError as exc:
        raise FuncError(f"failed to parse certificate: {exc}") from None


def _first_block(text: str) -> pem.Block:
    block, _ = pem.decode(to_bytes(text))
    if block is None:
        # Go dereferences the nil block and panics; text/template reports the panic.
        raise FuncError("runtime error: invalid memory address or nil pointer dereference")
    return block


def _to_pkcs12(cert: str, key: str, password: str, full: bool) -> str:
    first, rest = pem.decode(to_bytes(cert))
    if first is None:
        raise FuncError("runtime error: invalid memory address or nil pointer dereference")
    leaf = _parse(first.data)
    cas = [_parse(b.data).der for b in pem.decode_all(rest)] if full else []
    try:
        key_der = private_key_to_pkcs8(_first_block(key).data)
        archive = pkcs12_encode(key_der, leaf.der, cas, password)
    except CryptoError as exc:
        raise FuncError(str(exc)) from None
    return base64.b64encode(archive).decode()


def _truststore(cert: str, password: str) -> str:
    cas = [_parse(b.data).der for b in pem.decode_all(to_bytes(cert))]
    try:
        return base64.b64encode(pkcs12_truststore(cas, password)).decode()
    except CryptoError as exc:
        raise FuncError(str(exc)) from None


def _jwk(text: str, private: bool) -> str:
    try:
        jwk = json.loads(text)
        if not isinstance(jwk, dict):
            raise CryptoError("failed to parse JWK: not an object")
        if private:
            return _pem(jwk_private_der(jwk), "PRIVATE KEY")
        return _pem(jwk_public_der(jwk), "PUBLIC KEY")
    except (CryptoError, ValueError) as exc:
        message = str(exc) if isinstance(exc, CryptoError) else "failed to parse JWK: invalid JSON"
        raise FuncError(message) from None


def rsa_decrypt(scheme: str, hash_name: str, data: str, private_key: str) -> str:
    if scheme == "None":
        return data
    if scheme != "RSA-OAEP":
        raise FuncError(f"decryption scheme {scheme} is not supported")
    block, _ = pem.decode(to_bytes(private_key))
    if block is None:
        raise FuncError("failed to decode PEM block")
    try:
        return from_bytes(rsa_oaep_decrypt(block.data, hash_name, to_bytes(data)))
    except CryptoError as exc:
        raise FuncError(str(exc)) from None


def to_yaml(value: Any) -> str:
    try:
        return marshal_yaml(value).removesuffix("\n")
    except (YAMLError, RecursionError):
        return ""


def from_yaml(text: str) -> dict[str, Any]:
    try:
        parsed = unmarshal_yaml(text)
    except YAMLError as exc:
        return {"Error": f"error converting YAML to JSON: {exc}"}
    if parsed is None:
        return {}
    if not isinstance(parsed, dict):
        kind = (
            "array"
            if isinstance(parsed, list)
            else "bool"
            if isinstance(parsed, bool)
            else ("string" if isinstance(parsed, str) else "number")
        )
        return {
            "Error": "error unmarshaling JSON: while decoding JSON: json: cannot unmarshal "
            f"{kind} into Go value of type map[string]interface {{}}"
        }
    return parsed


FUNCS: dict[str, GoFunc] = {
    "pkcs12key": make(lambda archive: pkcs12_key("", archive), "s"),
    "pkcs12keyPass": make(pkcs12_key, "ss"),
    "pkcs12cert": make(lambda archive: pkcs12_cert("", archive), "s"),
    "pkcs12certPass": make(pkcs12_cert, "ss"),
    "pemToPkcs12": make(lambda c, k: _to_pkcs12(c, k, "", False), "ss"),
    "pemToPkcs12Pass": make(lambda c, k, p: _to_pkcs12(c, k, p, False), "sss"),
    "fullPemToPkcs12": make(lambda c, k: _to_pkcs12(c, k, "", True), "ss"),
    "fullPemToPkcs12Pass": make(lambda c, k, p: _to_pkcs12(c, k, p, True), "sss"),
    "pemTruststoreToPKCS12": make(lambda c: _truststore(c, ""), "s"),
    "pemTruststoreToPKCS12Pass": make(_truststore, "ss"),
    "filterPEM": make(filter_pem, "ss"),
    "filterCertChain": make(filter_cert_chain, "ss"),
    "certSANs": make(cert_sans, "s"),
    "jwkPublicKeyPem": make(lambda t: _jwk(t, False), "s"),
    "jwkPrivateKeyPem": make(lambda t: _jwk(t, True), "s"),
    "rsaDecrypt": make(rsa_decrypt, "ssss"),
    "toYaml": make(to_yaml, "a"),
    "fromYaml": make(from_yaml, "s"),
}
