"""Value handling shared by data[] and dataFrom[]: decodingStrategy and nullBytePolicy."""

from __future__ import annotations

import base64
import binascii
import re

from secretsync.api.sources import DecodingStrategy, NullBytePolicy
from secretsync.errors import ConfigError

_STD = re.compile(rb"^[A-Za-z0-9+/]*={0,2}$")
_URL = re.compile(rb"^[A-Za-z0-9_-]*={0,2}$")


def _strict(value: bytes, alphabet: re.Pattern[bytes], altchars: bytes | None) -> bytes | None:
    # Go's StdEncoding/URLEncoding: padded, no whitespace, no foreign characters.
    if len(value) % 4 or not alphabet.match(value):
        return None
    try:
        return base64.b64decode(value, altchars=altchars, validate=altchars is None)
    except binascii.Error:
        return None


def decode(value: bytes, strategy: DecodingStrategy, where: str) -> bytes:
    if strategy is DecodingStrategy.NONE:
        return value
    std = _strict(value, _STD, None)
    url = _strict(value, _URL, b"-_")
    if strategy is DecodingStrategy.BASE64:
        if std is None:
            raise ConfigError("value is not valid base64 (decodingStrategy: Base64)", field=where)
        return std
    if strategy is DecodingStrategy.BASE64URL:
        if url is None:
            raise ConfigError(
                "value is not valid base64url (decodingStrategy: Base64URL)", field=where
            )
        return url
    # Auto: standard, then URL-safe, else the value as it is.
    return std if std is not None else url if url is not None else value


def check_null_bytes(value: bytes, policy: NullBytePolicy, where: str) -> bytes:
    if policy is NullBytePolicy.FAIL and b"\x00" in value:
        raise ConfigError("value contains NUL bytes (nullBytePolicy: Fail)", field=where)
    return value
