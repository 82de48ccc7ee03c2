"""Shamir secret sharing over GF(2^8), byte-compatible with sops' shamir package.

A part is the 32 y-bytes followed by its x-coordinate (1..N in key-group order). The field uses
the AES polynomial x^8+x^4+x^3+x+1.
"""

from __future__ import annotations

import secrets

from secretsync.errors import ConfigError, DecryptionError


def _mult(a: int, b: int) -> int:
    out = 0
    while b:
        if b & 1:
            out ^= a
        a <<= 1
        if a & 0x100:
            a ^= 0x11B
        b >>= 1
    return out


def _inverse(a: int) -> int:
    # a^254 is the inverse in GF(2^8).
    result = 1
    for _ in range(254):
        result = _mult(result, a)
    return result


def split(secret: bytes, parts: int, threshold: int) -> list[bytes]:
    if not 2 <= threshold <= parts <= 255:
        raise ConfigError(
            "needs 2 <= shamir_threshold <= number of key groups <= 255", field="shamir_threshold"
        )
    out = [bytearray(len(secret) + 1) for _ in range(parts)]
    for i, part in enumerate(out):
        part[-1] = i + 1
    for idx, intercept in enumerate(secret):
        coefficients = [intercept, *(secrets.randbelow(256) for _ in range(threshold - 1))]
        for i, part in enumerate(out):
            x, y = i + 1, 0
            for coefficient in reversed(coefficients):
                y = _mult(y, x) ^ coefficient
            part[idx] = y
    return [bytes(p) for p in out]


def combine(parts: list[bytes]) -> bytes:
    if len(parts) < 2 or len({len(p) for p in parts}) != 1 or len(parts[0]) < 2:
        raise DecryptionError("Shamir parts are missing or malformed")
    xs = [p[-1] for p in parts]
    if len(set(xs)) != len(xs) or 0 in xs:
        raise DecryptionError("Shamir parts are duplicated or malformed")
    basis = []
    for i, xi in enumerate(xs):
        value = 1
        for j, xj in enumerate(xs):
            if i != j:
                value = _mult(value, _mult(xj, _inverse(xi ^ xj)))
        basis.append(value)
    secret = bytearray(len(parts[0]) - 1)
    for idx in range(len(secret)):
        acc = 0
        for part, b in zip(parts, basis, strict=True):
            acc ^= _mult(part[idx], b)
        secret[idx] = acc
    return bytes(secret)
