"""AES-256-GCM value encryption in sops' `ENC[AES256_GCM,...]` format (aes/cipher.go).

The IV is 32 random bytes (sops calls `NewGCMWithNonceSize(32)`); decryption accepts 8 to 128
bytes, which is what the cryptography package's AES-GCM takes (Go takes any length). The AAD is
the value's key path joined by ':' with a trailing ':'.
"""

from __future__ import annotations

import base64
import binascii
import os
import re
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from secretsync.errors import DecryptionError
from secretsync.sops.tree import Value
from secretsync.sops.values import from_bytes, to_bytes, type_tag

DATA_KEY_SIZE = 32
IV_SIZE = 32
TAG_SIZE = 16
MIN_IV_SIZE, MAX_IV_SIZE = 8, 128

_ENC = re.compile(r"^ENC\[AES256_GCM,data:(.+),iv:(.+),tag:(.+),type:(.+)\]")


@dataclass(frozen=True, slots=True)
class Sealed:
    data: bytes
    iv: bytes
    tag: bytes
    type: str


def parse(text: str) -> Sealed:
    """Split an `ENC[...]` string; the message never echoes the text, which may be plaintext."""
    match = _ENC.match(text)
    if match is None:
        raise DecryptionError("value does not match sops' ENC[AES256_GCM,...] format")
    fields = [match.group(i) for i in (1, 2, 3)]
    try:
        data, iv, tag = (base64.b64decode(f, validate=True) for f in fields)
    except (binascii.Error, ValueError) as exc:
        raise DecryptionError("value has invalid base64 in its ENC[...] fields") from exc
    # Go and Python both ignore the unused bits of the last base64 character; sops never writes
    # them set, so a non-canonical field means the file was edited: refuse it.
    if any(_b64(raw) != f for raw, f in zip((data, iv, tag), fields, strict=True)):
        raise DecryptionError("value has non-canonical base64 in its ENC[...] fields")
    if not iv or len(tag) != TAG_SIZE:
        raise DecryptionError("value has an invalid IV or tag length")
    if not MIN_IV_SIZE <= len(iv) <= MAX_IV_SIZE:
        # Go's GCM takes any IV length; the cryptography package only these. sops writes 32.
        raise DecryptionError(
            f"value has an IV of {len(iv)} bytes; secretsync reads {MIN_IV_SIZE} to "
            f"{MAX_IV_SIZE} (sops writes {IV_SIZE})"
        )
    return Sealed(data, iv, tag, match.group(4))


def is_encrypted(text: str) -> bool:
    return text.startswith("ENC[AES256_GCM,") and _ENC.match(text) is not None


class ValueCipher:
    """Encrypts and decrypts leaves with one data key.

    Like sops' IV stash, it remembers the IV of every value it decrypted, keyed by (aad,
    plaintext), and reuses it when that same value is encrypted again, so an edit leaves
    unchanged values byte-identical in the file.
    """

    def __init__(self, data_key: bytes, *, stash: bool = False) -> None:
        if len(data_key) != DATA_KEY_SIZE:
            raise DecryptionError("the data key must be 32 bytes")
        self._aead = AESGCM(data_key)
        self._stash: dict[tuple[str, str, bytes], bytes] | None = {} if stash else None

    def encrypt(self, value: Value, aad: str) -> str:
        tag_name = type_tag(value)
        plain = to_bytes(value)
        iv = None
        if self._stash is not None:
            iv = self._stash.get((aad, tag_name, plain))
        if iv is None:
            iv = os.urandom(IV_SIZE)
        out = self._aead.encrypt(iv, plain, aad.encode("utf-8", "surrogateescape"))
        return (
            f"ENC[AES256_GCM,data:{_b64(out[:-TAG_SIZE])},iv:{_b64(iv)},"
            f"tag:{_b64(out[-TAG_SIZE:])},type:{tag_name}]"
        )

    def decrypt(self, text: str, aad: str) -> Value:
        sealed = parse(text)
        try:
            plain = self._aead.decrypt(
                sealed.iv, sealed.data + sealed.tag, aad.encode("utf-8", "surrogateescape")
            )
        except InvalidTag as exc:
            raise DecryptionError("a value failed authentication (wrong key or tampered)") from exc
        value = from_bytes(sealed.type, plain)
        if self._stash is not None:
            self._stash[(aad, sealed.type if sealed.type != "bytes" else "str", plain)] = sealed.iv
        return value


def _b64(raw: bytes) -> str:
    return base64.b64encode(raw).decode("ascii")


def random_data_key() -> bytes:
    return os.urandom(DATA_KEY_SIZE)
