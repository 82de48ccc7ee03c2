"""age's post-quantum hybrid recipients (`age1pq1…`, age 1.3 and sops 3.12+): the data key is
sealed with HPKE (RFC 9180, base mode) over the MLKEM768-X25519 KEM, HKDF-SHA256 and
ChaCha20-Poly1305, with info `age-encryption.org/mlkem768x25519`, in one `mlkem768x25519` stanza.

MLKEM768-X25519 is X-Wing (KEM id 0x647a): a 32-byte seed expands with SHAKE256 into an
ML-KEM-768 seed and an X25519 key, and the shared secret is SHA3-256 over both shares, the
X25519 ciphertext and public key, and the label `\\./` `/^\\`. ML-KEM-768 and X25519 come from
`cryptography` (OpenSSL); only the combiner and HPKE's key schedule are written here, and
they are checked against the real age and sops in tests/sops.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.mlkem import MLKEM768PrivateKey, MLKEM768PublicKey
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import ChaCha20Poly1305

from secretsync.errors import ConfigError
from secretsync.sops import bech32

STANZA = "mlkem768x25519"
RECIPIENT_HRP = "age1pq"
IDENTITY_HRP = "AGE-SECRET-KEY-PQ-"
INFO = b"age-encryption.org/mlkem768x25519"
_XWING_LABEL = b"\\.//^\\"
_SUITE = b"HPKE" + (0x647A).to_bytes(2, "big") + (1).to_bytes(2, "big") + (3).to_bytes(2, "big")
_MLKEM_PUBLIC, _MLKEM_CIPHERTEXT, _X25519 = 1184, 1088, 32
PUBLIC_SIZE = _MLKEM_PUBLIC + _X25519
ENC_SIZE = _MLKEM_CIPHERTEXT + _X25519


@dataclasses.dataclass(frozen=True)
class Identity:
    seed: bytes = dataclasses.field(repr=False)

    def _keys(self) -> tuple[MLKEM768PrivateKey, X25519PrivateKey]:
        expanded = hashlib.shake_256(self.seed).digest(96)
        return (
            MLKEM768PrivateKey.from_seed_bytes(expanded[:64]),
            X25519PrivateKey.from_private_bytes(expanded[64:]),
        )

    def public(self) -> bytes:
        pq, classic = self._keys()
        return pq.public_key().public_bytes_raw() + classic.public_key().public_bytes_raw()

    def recipient(self) -> str:
        return bech32.encode(RECIPIENT_HRP, self.public())

    def __str__(self) -> str:
        return bech32.encode(IDENTITY_HRP, self.seed).upper()

    def unwrap(self, enc: bytes, body: bytes) -> bytes | None:
        """The file key, or None when the stanza is not for this identity (ML-KEM rejects
        implicitly, so a stranger's stanza only shows as a failed AEAD open)."""
        if len(enc) != ENC_SIZE:
            return None
        pq, classic = self._keys()
        share_pq = pq.decapsulate(enc[:_MLKEM_CIPHERTEXT])
        ct_x = enc[_MLKEM_CIPHERTEXT:]
        try:
            share_x = classic.exchange(X25519PublicKey.from_public_bytes(ct_x))
        except ValueError:
            return None  # a low-order X25519 share (all zeros) opens for no identity
        public_x = classic.public_key().public_bytes_raw()
        key, nonce = _schedule(_combine(share_pq, share_x, ct_x, public_x))
        try:
            return ChaCha20Poly1305(key).decrypt(nonce, body, None)
        except InvalidTag:
            return None


def generate() -> Identity:
    return Identity(os.urandom(32))


def parse_identity(text: str, source: str) -> Identity:
    hrp, seed = bech32.decode(text)
    if hrp != IDENTITY_HRP.lower() or len(seed) != 32:
        raise ConfigError("is not a valid post-quantum age identity", field=source)
    return Identity(seed)


def parse_recipient(recipient: str) -> bytes:
    invalid = ConfigError("is not a valid post-quantum age1pq1 recipient", field="recipient")
    hrp, public = bech32.decode(recipient)
    if hrp != RECIPIENT_HRP or len(public) != PUBLIC_SIZE:
        raise invalid
    try:
        MLKEM768PublicKey.from_public_bytes(public[:_MLKEM_PUBLIC])
        X25519PublicKey.from_public_bytes(public[_MLKEM_PUBLIC:])
    except ValueError:
        raise invalid from None
    return public


def wrap(file_key: bytes, public: bytes) -> tuple[bytes, bytes]:
    """HPKE single-shot seal of the file key: (enc, body) for the stanza."""
    share_pq, ct_pq = MLKEM768PublicKey.from_public_bytes(public[:_MLKEM_PUBLIC]).encapsulate()
    public_x = public[_MLKEM_PUBLIC:]
    ephemeral = X25519PrivateKey.generate()
    ct_x = ephemeral.public_key().public_bytes_raw()
    share_x = ephemeral.exchange(X25519PublicKey.from_public_bytes(public_x))
    key, nonce = _schedule(_combine(share_pq, share_x, ct_x, public_x))
    return ct_pq + ct_x, ChaCha20Poly1305(key).encrypt(nonce, file_key, None)


def _combine(share_pq: bytes, share_x: bytes, ct_x: bytes, public_x: bytes) -> bytes:
    return hashlib.sha3_256(share_pq + share_x + ct_x + public_x + _XWING_LABEL).digest()


def _extract(salt: bytes, label: bytes, ikm: bytes) -> bytes:
    return hmac.digest(salt or bytes(32), b"HPKE-v1" + _SUITE + label + ikm, "sha256")


def _expand(prk: bytes, label: bytes, info: bytes, length: int) -> bytes:
    # One HKDF-Expand block suffices: every length here is at most 32 bytes.
    labeled = length.to_bytes(2, "big") + b"HPKE-v1" + _SUITE + label + info
    return hmac.digest(prk, labeled + b"\x01", "sha256")[:length]


def _schedule(shared: bytes) -> tuple[bytes, bytes]:
    """RFC 9180 KeySchedule, base mode (no PSK): the AEAD key and the first (only) nonce."""
    context = b"\x00" + _extract(b"", b"psk_id_hash", b"") + _extract(b"", b"info_hash", INFO)
    secret = _extract(shared, b"secret", b"")
    return _expand(secret, b"key", context, 32), _expand(secret, b"base_nonce", context, 12)
