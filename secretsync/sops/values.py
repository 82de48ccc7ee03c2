"""How sops turns leaf values into bytes (for encryption and the MAC) and back.

These follow Go's strconv and time packages, because the bytes are what the MAC covers and what
another implementation must parse: ints are `Itoa`, floats `FormatFloat(v, 'f', -1, 64)`, bools
`True`/`False` (inherited from the Python sops), times RFC3339Nano.
"""

from __future__ import annotations

import math
import re
from datetime import UTC, datetime, timedelta
from decimal import Decimal

from secretsync.errors import DecryptionError
from secretsync.sops.tree import Comment, GoTime, Value

INT64_MIN = -(2**63)
INT64_MAX = 2**63 - 1

_GO_INT = re.compile(r"[+-]?[0-9]+")
_GO_FLOAT = re.compile(
    r"[+-]?(?:(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?|inf|infinity|nan)", re.IGNORECASE
)
_GO_BOOL = {
    "1": True, "t": True, "T": True, "TRUE": True, "true": True, "True": True,
    "0": False, "f": False, "F": False, "FALSE": False, "false": False, "False": False,
}  # fmt: skip


def format_float(value: float) -> str:
    """Go's `strconv.FormatFloat(v, 'f', -1, 64)`: shortest round trip, never an exponent."""
    if math.isnan(value):
        return "NaN"
    if math.isinf(value):
        return "+Inf" if value > 0 else "-Inf"
    return format(Decimal(repr(value)).normalize(), "f")


def to_bytes(value: Value) -> bytes:  # noqa: PLR0911 - one return per Go type, as sops.ToBytes switches
    """`sops.ToBytes`: the bytes hashed into the MAC and encrypted for a leaf."""
    if isinstance(value, str):
        return value.encode("utf-8", "surrogateescape")
    if isinstance(value, bool):
        return b"True" if value else b"False"
    if isinstance(value, int):
        return str(value).encode()
    if isinstance(value, float):
        return format_float(value).encode()
    if isinstance(value, GoTime):
        return value.text.encode()
    if isinstance(value, bytes):
        return value
    if isinstance(value, Comment):
        return value.value.encode("utf-8", "surrogateescape")
    raise DecryptionError(f"cannot serialise a value of type {type(value).__name__}")


def type_tag(value: Value) -> str:
    """The `type:` of an `ENC[...]` string; bytes are encrypted as `str`, as sops does."""
    if isinstance(value, str | bytes):
        return "str"
    if isinstance(value, bool):
        return "bool"
    if isinstance(value, int):
        return "int"
    if isinstance(value, float):
        return "float"
    if isinstance(value, GoTime):
        return "time"
    if isinstance(value, Comment):
        return "comment"
    raise DecryptionError(f"cannot encrypt a value of type {type(value).__name__}")


def from_bytes(tag: str, raw: bytes) -> Value:  # noqa: PLR0911 - one return per Go type tag
    """Parse decrypted bytes back into a value, as `aes.Cipher.Decrypt` does."""
    text = raw.decode("utf-8", "surrogateescape")
    if tag == "str":
        return text
    if tag == "comment":
        return Comment(text)
    if tag == "bytes":
        return raw
    if tag == "int" and _GO_INT.fullmatch(text) and INT64_MIN <= int(text) <= INT64_MAX:
        return int(text)
    if tag == "float" and _GO_FLOAT.fullmatch(text):
        return float(text)
    if tag == "bool" and text in _GO_BOOL:
        return _GO_BOOL[text]
    if tag == "time":
        parsed = parse_rfc3339(text)
        if parsed is not None:
            return parsed
    raise DecryptionError(f"decrypted value does not parse as type {tag}")


_RFC3339 = re.compile(
    r"(\d{4})-(\d\d)-(\d\d)[Tt](\d\d):(\d\d):(\d\d)(?:\.(\d{1,9}))?([Zz]|[+-]\d\d:\d\d)"
)


def parse_rfc3339(text: str) -> GoTime | None:
    """Parse RFC3339(Nano) text into the normalised form Go's `MarshalText` prints."""
    match = _RFC3339.fullmatch(text)
    if match is None:
        return None
    year, month, day, hour, minute, second, frac, zone = match.groups()
    try:
        datetime(int(year), int(month), int(day), int(hour), int(minute), int(second))
    except ValueError:
        return None
    return GoTime(format_go_time(text[:19].replace("t", "T"), frac or "", zone))


def format_go_time(base: str, frac: str, zone: str) -> str:
    """RFC3339Nano: trailing zeros of the fraction dropped, a zero offset written `Z`."""
    frac = frac.rstrip("0")
    if zone in {"z", "Z", "+00:00"}:
        zone = "Z"
    return f"{base}{'.' + frac if frac else ''}{zone}"


def go_time_from_datetime(moment: datetime) -> GoTime:
    offset = moment.utcoffset() or timedelta(0)
    if moment.tzinfo is None or offset == timedelta(0):
        zone = "Z"
    else:
        sign = "-" if offset < timedelta(0) else "+"
        minutes = abs(int(offset.total_seconds())) // 60
        zone = f"{sign}{minutes // 60:02d}:{minutes % 60:02d}"
    frac = f"{moment.microsecond:06d}" if moment.microsecond else ""
    return GoTime(format_go_time(moment.strftime("%Y-%m-%dT%H:%M:%S"), frac, zone))


def utc_now_seconds() -> str:
    """`lastmodified` as sops writes it: UTC, whole seconds, RFC3339."""
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def normalise_rfc3339_seconds(text: str) -> str | None:
    """The MAC's AAD: `lastmodified` parsed and re-printed with `time.RFC3339` (no fraction)."""
    match = _RFC3339.fullmatch(text)
    if match is None:
        return None
    zone = match.group(8)
    return text[:19].replace("t", "T") + ("Z" if zone in {"z", "Z", "+00:00"} else zone)
