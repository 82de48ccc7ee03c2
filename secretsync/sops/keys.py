"""age identities and recipients: wrapping and unwrapping the data key.

The only importer of pyrage. X25519 and post-quantum (`age1pq1`, secretsync.sops.agepq)
recipients are wrapped with our own file writer, which produces exactly what Go age (and so
sops) writes: one stanza, no grease stanza, 64-column armor. pyrage decrypts for X25519 and SSH
identities and wraps for SSH recipients; pyrage knows no post-quantum stanza, so files for
those identities are opened by our own reader.
"""

from __future__ import annotations

import base64
import hmac
import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import pyrage
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from secretsync.errors import ConfigError, DecryptionError
from secretsync.sops.masterkeys import KeyService

# Decrypting for an X25519 identity needs pyrage alone; our age writer (X25519, HKDF, bech32)
# and the post-quantum kind are imported where they are used, so `secretsync decrypt` does not
# load them at start-up (the CLI's start-up is measured against the sops binary).
if TYPE_CHECKING:
    from secretsync.sops import agepq

ARMOR_BEGIN = "-----BEGIN AGE ENCRYPTED FILE-----"
ARMOR_END = "-----END AGE ENCRYPTED FILE-----"
SSH_PREFIXES = ("ssh-ed25519 ", "ssh-rsa ")
MAX_ENC_SIZE = 64 * 1024


@dataclass(frozen=True)
class Identities:
    """What this process can open data keys with: age identities (`keys`, `pq`), and services
    holding master keys (`services`: AWS KMS, Vault transit); `skipped` lists kinds we could
    not load."""

    keys: tuple[Any, ...] = ()
    skipped: tuple[str, ...] = ()
    pq: tuple[agepq.Identity, ...] = ()
    services: tuple[KeyService, ...] = ()

    def __add__(self, other: Identities) -> Identities:
        return Identities(
            self.keys + other.keys,
            self.skipped + other.skipped,
            self.pq + other.pq,
            self.services + other.services,
        )


def parse_identities(text: str, source: str = "identities") -> Identities:
    """A keys.txt: one identity per line (several per line since sops 3.13), `#` comments."""
    keys: list[Any] = []
    skipped: list[str] = []
    pq: list[agepq.Identity] = []
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
            elif word.startswith("AGE-SECRET-KEY-PQ-1"):
                from secretsync.sops import agepq  # noqa: PLC0415 - lazy, see the imports

                pq.append(agepq.parse_identity(word, f"{source}:{number}"))
            elif word.startswith("AGE-PLUGIN-"):
                skipped.append(word.split("1", 1)[0].rstrip("-"))
            else:
                raise ConfigError("is not an age identity", field=f"{source}:{number}")
    return Identities(tuple(keys), tuple(skipped), tuple(pq))


def ssh_identity(pem: bytes, source: str = "ssh key") -> Identities:
    """An unencrypted OpenSSH ed25519 or RSA private key."""
    try:
        return Identities((pyrage.ssh.Identity.from_buffer(pem),))
    except pyrage.IdentityError as exc:
        raise ConfigError("is not an unencrypted ssh-ed25519 or ssh-rsa key", field=source) from exc


def generate(*, post_quantum: bool = False) -> tuple[str, str]:
    """A new identity and its recipient: X25519 (AGE-SECRET-KEY-1..., age1...), or the hybrid
    post-quantum kind (AGE-SECRET-KEY-PQ-1..., age1pq1...)."""
    if post_quantum:
        from secretsync.sops import agepq  # noqa: PLC0415 - lazy, see the imports

        made = agepq.generate()
        return str(made), made.recipient()
    identity = pyrage.x25519.Identity.generate()
    return str(identity), str(identity.to_public())


def check_recipient(recipient: str) -> str:
    """Validate a recipient string as sops does (`parseRecipient`) and return it trimmed."""
    recipient = recipient.strip()
    if recipient.startswith(SSH_PREFIXES):
        _ssh_recipient(recipient)
    elif recipient.startswith("age1pq1"):
        from secretsync.sops import agepq  # noqa: PLC0415 - lazy, see the imports

        agepq.parse_recipient(recipient)
    elif recipient.startswith("age1"):
        _x25519_public(recipient)
    else:
        raise ConfigError("is neither an age1... nor an ssh- recipient", field="recipient")
    return recipient


def wrap(payload: bytes, recipient: str) -> str:
    """Encrypt the data key (or a Shamir part) to one recipient; returns armored age."""
    if recipient.startswith(SSH_PREFIXES):
        return bytes(pyrage.encrypt(payload, [_ssh_recipient(recipient)], armored=True)).decode()
    if recipient.startswith("age1pq1"):
        from secretsync.sops import agepq  # noqa: PLC0415 - lazy, see the imports

        public = agepq.parse_recipient(recipient.strip())

        def pq_stanza(file_key: bytes) -> tuple[str, bytes]:
            enc, body = agepq.wrap(file_key, public)
            return f"{agepq.STANZA} {_b64raw(enc)}", body

        return _armor(_age_file(payload, pq_stanza))
    public = _x25519_public(check_recipient(recipient))
    return _armor(_age_file(payload, lambda file_key: _x25519_stanza(file_key, public)))


def unwrap(enc: str, identities: Identities) -> bytes:
    if len(enc) > MAX_ENC_SIZE:
        raise DecryptionError("an age-encrypted data key is too large")
    if identities.pq:
        opened = _open_pq(enc, identities.pq)
        if opened is not None:
            return opened
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
    from secretsync.sops import bech32  # noqa: PLC0415 - lazy, see the imports

    hrp, key = bech32.decode(recipient)
    if hrp != "age" or len(key) != 32:
        raise ConfigError("is not an X25519 age recipient", field="recipient")
    return key


def _b64raw(raw: bytes) -> str:
    return base64.b64encode(raw).decode().rstrip("=")


def _hkdf(ikm: bytes, salt: bytes | None, info: bytes) -> bytes:
    from cryptography.hazmat.primitives.hashes import SHA256  # noqa: PLC0415 - lazy
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF  # noqa: PLC0415 - lazy

    return HKDF(SHA256(), 32, salt=salt, info=info).derive(ikm)


def _x25519_stanza(file_key: bytes, public: bytes) -> tuple[str, bytes]:
    from cryptography.hazmat.primitives.asymmetric.x25519 import (  # noqa: PLC0415 - lazy
        X25519PrivateKey,
        X25519PublicKey,
    )

    ephemeral = X25519PrivateKey.generate()
    share = ephemeral.public_key().public_bytes_raw()
    shared = ephemeral.exchange(X25519PublicKey.from_public_bytes(public))
    wrap_key = _hkdf(shared, share + public, b"age-encryption.org/v1/X25519")
    return f"X25519 {_b64raw(share)}", ChaCha20Poly1305(wrap_key).encrypt(bytes(12), file_key, None)


def _age_file(payload: bytes, stanza: Callable[[bytes], tuple[str, bytes]]) -> bytes:
    """An age v1 file with one stanza, as filippo.io/age writes it. Every stanza body here is a
    wrapped 16-byte file key (32 bytes), so it fits one base64 line."""
    file_key = os.urandom(16)
    head, body = stanza(file_key)
    header = f"age-encryption.org/v1\n-> {head}\n{_b64raw(body)}\n---"
    mac = hmac.digest(_hkdf(file_key, None, b"header"), header.encode(), "sha256")
    nonce = os.urandom(16)
    # STREAM with a single, final chunk: 11-byte counter 0, then the last-chunk flag.
    sealed = ChaCha20Poly1305(_hkdf(file_key, nonce, b"payload")).encrypt(
        bytes(11) + b"\x01", payload, None
    )
    return f"{header} {_b64raw(mac)}\n".encode() + nonce + sealed


def _open_pq(enc: str, identities: tuple[agepq.Identity, ...]) -> bytes | None:
    """Our reader for files with an mlkem768x25519 stanza: None when no identity opens it."""
    from secretsync.sops import agepq  # noqa: PLC0415 - lazy, see the imports

    if f"-> {agepq.STANZA} " not in _dearmor_text(enc):
        return None
    raw = _dearmor(enc)
    end = raw.find(b"\n---")
    if end < 0:
        raise DecryptionError("an age-encrypted data key has no header end")
    header = raw[: end + 4].decode("ascii", "replace")
    mac_line, _, rest = raw[end + 1 :].partition(b"\n")
    for args, body in _stanzas(header):
        if args[0] != agepq.STANZA or len(args) != 2:
            continue
        for identity in identities:
            file_key = identity.unwrap(_b64decode(args[1]), body)
            if file_key is not None:
                return _payload(file_key, header, mac_line, rest)
    return None


def _stanzas(header: str) -> list[tuple[list[str], bytes]]:
    lines = header.split("\n")
    found: list[tuple[list[str], bytes]] = []
    index = 1
    while index < len(lines) and lines[index].startswith("-> "):
        args = lines[index][3:].split(" ")
        body, index = "", index + 1
        while index < len(lines):
            body, index = body + lines[index], index + 1
            if len(lines[index - 1]) < 64:  # a short line ends the body
                break
        found.append((args, _b64decode(body)))
    return found


def _payload(file_key: bytes, header: str, mac_line: bytes, rest: bytes) -> bytes:
    mac = hmac.digest(_hkdf(file_key, None, b"header"), header.encode(), "sha256")
    if not hmac.compare_digest(mac_line.removeprefix(b"--- "), _b64raw(mac).encode()):
        raise DecryptionError("an age-encrypted data key failed its header MAC")
    from cryptography.exceptions import InvalidTag  # noqa: PLC0415 - lazy

    nonce, sealed = rest[:16], rest[16:]
    try:
        return ChaCha20Poly1305(_hkdf(file_key, nonce, b"payload")).decrypt(
            bytes(11) + b"\x01", sealed, None
        )
    except InvalidTag as exc:
        raise DecryptionError("an age-encrypted data key failed authentication") from exc


def _b64decode(text: str) -> bytes:
    try:
        return base64.b64decode(text + "=" * (-len(text) % 4), validate=True)
    except ValueError as exc:
        raise DecryptionError("an age-encrypted data key has invalid base64") from exc


def _dearmor_text(enc: str) -> str:
    try:
        return _dearmor(enc).decode("ascii", "replace")
    except DecryptionError:
        return ""


def _dearmor(enc: str) -> bytes:
    text = enc.strip()
    if not text.startswith(ARMOR_BEGIN):
        try:
            # dotenv and INI keep bytes that are not UTF-8 as surrogates: give them back as bytes.
            return text.encode("utf-8", "surrogateescape")
        except UnicodeEncodeError:
            raise DecryptionError("an age-encrypted data key is not text") from None
    body = text.removeprefix(ARMOR_BEGIN).removesuffix(ARMOR_END)
    return _b64decode("".join(body.split()))


def _armor(raw: bytes) -> str:
    text = base64.b64encode(raw).decode()
    lines = [text[i : i + 64] for i in range(0, len(text), 64)]
    return "\n".join([ARMOR_BEGIN, *lines, ARMOR_END]) + "\n"
