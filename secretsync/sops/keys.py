"""age identities and recipients: wrapping and unwrapping the data key.

The only importer of pyrage. X25519 recipients are wrapped with our own stanza writer, which
produces exactly what Go age (and so sops) writes: one `X25519` stanza, no grease stanza, 64-column
armor. pyrage decrypts (X25519 and SSH identities) and wraps for SSH recipients.
"""

from __future__ import annotations

import base64
import hmac
import os
from dataclasses import dataclass
from typing import Any

import pyrage
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from secretsync.errors import ConfigError, DecryptionError
from secretsync.sops import bech32

ARMOR_BEGIN = "-----BEGIN AGE ENCRYPTED FILE-----"
ARMOR_END = "-----END AGE ENCRYPTED FILE-----"
SSH_PREFIXES = ("ssh-ed25519 ", "ssh-rsa ")
MAX_ENC_SIZE = 64 * 1024


@dataclass(frozen=True)
class Identities:
    """Keys that can open age stanzas; `skipped` lists kinds we could not load, for messages."""

    keys: tuple[Any, ...] = ()
    skipped: tuple[str, ...] = ()

    def __add__(self, other: Identities) -> Identities:
        return Identities(self.keys + other.keys, self.skipped + other.skipped)


def parse_identities(text: str, source: str = "identities") -> Identities:
    """A keys.txt: one identity per line (several per line since sops 3.13), `#` comments."""
    keys: list[Any] = []
    skipped: list[str] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        for word in line.split():
            if word.startswith("AGE-SECRET-KEY-1"):
                try:
                    keys.append(pyrage.x25519.Identity.from_str(word))
                except pyrage.IdentityError as exc:
                    raise ConfigError(
                        "is not a valid age identity", field=f"{source}:{number}"
                    ) from exc
            elif word.startswith(("AGE-SECRET-KEY-PQ-1", "AGE-PLUGIN-")):
                skipped.append(word.split("1", 1)[0].rstrip("-"))
            else:
                raise ConfigError("is not an age identity", field=f"{source}:{number}")
    return Identities(tuple(keys), tuple(skipped))


def ssh_identity(pem: bytes, source: str = "ssh key") -> Identities:
    """An unencrypted OpenSSH ed25519 or RSA private key."""
    try:
        return Identities((pyrage.ssh.Identity.from_buffer(pem),))
    except pyrage.IdentityError as exc:
        raise ConfigError("is not an unencrypted ssh-ed25519 or ssh-rsa key", field=source) from exc


def generate() -> tuple[str, str]:
    """A new X25519 identity: (AGE-SECRET-KEY-1..., age1...)."""
    identity = pyrage.x25519.Identity.generate()
    return str(identity), str(identity.to_public())


def check_recipient(recipient: str) -> str:
    """Validate a recipient string as sops does (`parseRecipient`) and return it trimmed."""
    recipient = recipient.strip()
    if recipient.startswith(SSH_PREFIXES):
        _ssh_recipient(recipient)
    elif recipient.startswith("age1pq1"):
        raise ConfigError(
            "post-quantum age1pq1 recipients are not supported yet", field="recipient"
        )
    elif recipient.startswith("age1"):
        _x25519_public(recipient)
    else:
        raise ConfigError("is neither an age1... nor an ssh- recipient", field="recipient")
    return recipient


def wrap(payload: bytes, recipient: str) -> str:
    """Encrypt the data key (or a Shamir part) to one recipient; returns armored age."""
    if recipient.startswith(SSH_PREFIXES):
        return bytes(pyrage.encrypt(payload, [_ssh_recipient(recipient)], armored=True)).decode()
    return _armor(_x25519_file(payload, _x25519_public(check_recipient(recipient))))


def unwrap(enc: str, identities: Identities) -> bytes:
    if len(enc) > MAX_ENC_SIZE:
        raise DecryptionError("an age-encrypted data key is too large")
    try:
        return bytes(pyrage.decrypt(enc.encode(), list(identities.keys)))
    except (pyrage.DecryptError, ValueError, TypeError) as exc:
        raise DecryptionError("no identity matches this age recipient") from exc


def _ssh_recipient(recipient: str) -> Any:
    try:
        return pyrage.ssh.Recipient.from_str(recipient)
    except pyrage.RecipientError as exc:
        raise ConfigError("is not a valid ssh recipient", field="recipient") from exc


def _x25519_public(recipient: str) -> bytes:
    hrp, key = bech32.decode(recipient)
    if hrp != "age" or len(key) != 32:
        raise ConfigError("is not an X25519 age recipient", field="recipient")
    return key


def _b64raw(raw: bytes) -> str:
    return base64.b64encode(raw).decode().rstrip("=")


def _hkdf(ikm: bytes, salt: bytes | None, info: bytes) -> bytes:
    return HKDF(SHA256(), 32, salt=salt, info=info).derive(ikm)


def _x25519_file(payload: bytes, public: bytes) -> bytes:
    """An age v1 file with one X25519 stanza, as filippo.io/age writes it."""
    file_key = os.urandom(16)
    ephemeral = X25519PrivateKey.generate()
    share = ephemeral.public_key().public_bytes_raw()
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(public))
    wrap_key = _hkdf(shared, share + public, b"age-encryption.org/v1/X25519")
    body = ChaCha20Poly1305(wrap_key).encrypt(bytes(12), file_key, None)
    header = f"age-encryption.org/v1\n-> X25519 {_b64raw(share)}\n{_b64raw(body)}\n---"
    mac = hmac.digest(_hkdf(file_key, None, b"header"), header.encode(), "sha256")
    nonce = os.urandom(16)
    # STREAM with a single, final chunk: 11-byte counter 0, then the last-chunk flag.
    sealed = ChaCha20Poly1305(_hkdf(file_key, nonce, b"payload")).encrypt(
        bytes(11) + b"\x01", payload, None
    )
    return f"{header} {_b64raw(mac)}\n".encode() + nonce + sealed


def _armor(raw: bytes) -> str:
    text = base64.b64encode(raw).decode()
    lines = [text[i : i + 64] for i in range(0, len(text), 64)]
    return "\n".join([ARMOR_BEGIN, *lines, ARMOR_END]) + "\n"
