"""Bech32 (BIP 173), for the raw keys inside age recipients and identities; age allows strings
longer than BIP 173's 90 characters (a post-quantum recipient is about 1,950)."""

from __future__ import annotations

from secretsync.errors import ConfigError

_CHARSET = "qpzry9x8gf2tvdw0s3jn54khce6mua7l"
_GENERATOR = (0x3B6A57B2, 0x26508E6D, 0x1EA119FA, 0x3D4233DD, 0x2A1462B3)


def _polymod(values: list[int]) -> int:
    chk = 1
    for value in values:
        top = chk >> 25
        chk = (chk & 0x1FFFFFF) << 5 ^ value
        for i, gen in enumerate(_GENERATOR):
            if (top >> i) & 1:
                chk ^= gen
    return chk


def _hrp_expand(hrp: str) -> list[int]:
    return [ord(c) >> 5 for c in hrp] + [0] + [ord(c) & 31 for c in hrp]


def decode(text: str) -> tuple[str, bytes]:
    """Return (human-readable part, data bytes); age allows strings longer than BIP 173's 90."""
    lower = text.lower()
    if text not in (lower, text.upper()) or "1" not in lower:
        raise ConfigError("is not a valid bech32 string", field="recipient")
    hrp, _, data_part = lower.rpartition("1")
    if not hrp or len(data_part) < 6 or any(c not in _CHARSET for c in data_part):
        raise ConfigError("is not a valid bech32 string", field="recipient")
    data = [_CHARSET.index(c) for c in data_part]
    if _polymod(_hrp_expand(hrp) + data) != 1:
        raise ConfigError("has a bad bech32 checksum", field="recipient")
    return hrp, _convert_bits(data[:-6])


def encode(hrp: str, data: bytes) -> str:
    """Lower case, as age writes recipients; identities are upper-cased by the caller."""
    hrp = hrp.lower()
    values = _to_five_bits(data)
    polymod = _polymod([*_hrp_expand(hrp), *values, 0, 0, 0, 0, 0, 0]) ^ 1
    checksum = [(polymod >> 5 * (5 - i)) & 31 for i in range(6)]
    return hrp + "1" + "".join(_CHARSET[v] for v in values + checksum)


def _to_five_bits(data: bytes) -> list[int]:
    acc = bits = 0
    out: list[int] = []
    for byte in data:
        acc = (acc << 8) | byte
        bits += 8
        while bits >= 5:
            bits -= 5
            out.append((acc >> bits) & 31)
    if bits:
        out.append((acc << (5 - bits)) & 31)
    return out


def _convert_bits(data: list[int]) -> bytes:
    acc = bits = 0
    out = bytearray()
    for value in data:
        acc = (acc << 5) | value
        bits += 5
        while bits >= 8:
            bits -= 8
            out.append((acc >> bits) & 0xFF)
    if bits >= 5 or (acc << (8 - bits)) & 0xFF:
        raise ConfigError("has invalid bech32 padding", field="recipient")
    return bytes(out)
