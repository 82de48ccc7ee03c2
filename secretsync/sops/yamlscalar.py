"""go-yaml v3 scalar rules: how plain scalars resolve (resolve.go) and how strings get quoted.

sops decodes YAML with go-yaml v3, so `yes` stays a string, `0777` is octal 511, `1.10` is the
float 1.1 and `2024-01-01` a timestamp. The emitter side (encode.go `stringv` and the emitter's
`analyze_scalar`) decides plain, single-quoted, double-quoted or literal style.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal

from secretsync.errors import ConfigError
from secretsync.sops.tree import GoTime, Scalar
from secretsync.sops.values import INT64_MAX, INT64_MIN, format_go_time

_MAP: dict[str, Scalar] = {
    **dict.fromkeys(("true", "True", "TRUE"), True),
    **dict.fromkeys(("false", "False", "FALSE"), False),
    **dict.fromkeys(("", "~", "null", "Null", "NULL"), None),
    **dict.fromkeys((".nan", ".NaN", ".NAN"), float("nan")),
    **dict.fromkeys((".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF"), float("inf")),
    **dict.fromkeys(("-.inf", "-.Inf", "-.INF"), float("-inf")),
}
_INT = re.compile(r"([+-]?)(0[xX][0-9a-fA-F]+|0[oO][0-7]+|0[bB][01]+|0[0-7]*|[1-9][0-9]*)")
_YAML_FLOAT = re.compile(r"[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?")
_GO_FLOAT = re.compile(
    r"[-+]?(\.[0-9]+|[0-9]+\.?[0-9]*)([eE][-+]?[0-9]+)?|[-+]?(inf|infinity|nan)", re.IGNORECASE
)
_BASE60 = re.compile(r"[-+]?[0-9][0-9_]*(?::[0-5]?[0-9])+(?:\.[0-9_]*)?")
_OLD_BOOL = frozenset(
    [
        "y",
        "Y",
        "yes",
        "Yes",
        "YES",
        "on",
        "On",
        "ON",
        "n",
        "N",
        "no",
        "No",
        "NO",
        "off",
        "Off",
        "OFF",
    ]
)
_TIMESTAMP = re.compile(
    r"(\d{4})-(\d{1,2})-(\d{1,2})"
    r"(?:(?:[Tt](\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d+))?(Z|[+-]\d{2}:\d{2}))"
    r"|(?: (\d{1,2}):(\d{1,2}):(\d{1,2})(?:\.(\d+))?))?"
)


def _go_int(text: str) -> int | None:
    match = _INT.fullmatch(text)
    if match is None:
        return None
    sign, body = match.groups()
    prefix = body[:2].lower()
    if prefix in {"0x", "0o", "0b"}:
        value = int(body[2:], {"0x": 16, "0o": 8, "0b": 2}[prefix])
    elif len(body) > 1 and body[0] == "0":
        value = int(body[1:], 8)
    else:
        value = int(body)
    return -value if sign == "-" else value


def _timestamp(text: str) -> GoTime | None:
    match = _TIMESTAMP.fullmatch(text)
    if match is None:
        return None
    g = match.groups()
    year, month, day = int(g[0]), int(g[1]), int(g[2])
    hour, minute, second, frac, zone = g[3:8] if g[3] else (*g[8:11], g[11], "Z")
    hour, minute, second = (int(x) if x else 0 for x in (hour, minute, second))
    if not (1 <= month <= 12 and 1 <= day <= 31 and hour < 24 and minute < 60 and second < 60):
        return None
    base = f"{year:04d}-{month:02d}-{day:02d}T{hour:02d}:{minute:02d}:{second:02d}"
    return GoTime(format_go_time(base, (frac or "")[:9], zone or "Z"))


def resolve_plain(text: str) -> Scalar:  # noqa: PLR0911 - mirrors resolve.go step by step
    """The value go-yaml v3 decodes an untagged plain scalar to."""
    if text in _MAP:
        return _MAP[text]
    hint = text[:1]
    if hint == ".":
        return float(text) if _GO_FLOAT.fullmatch(text) else text
    if not hint or not ((hint.isdigit() and hint.isascii()) or hint in "+-"):
        return text
    stamp = _timestamp(text)
    if stamp is not None:
        return stamp
    plain = text.replace("_", "")
    number = _go_int(plain)
    if number is not None:
        if INT64_MIN <= number <= INT64_MAX:
            return number
        if 0 <= number < 2**64:
            raise ConfigError("integers beyond 64 bits are not supported by sops", field="value")
    if _YAML_FLOAT.fullmatch(plain):
        return float(plain)
    return text


def needs_quotes(text: str) -> bool:
    """`stringv`: a string is plain only if it would read back as the same string."""
    return (
        not isinstance(resolve_plain_safe(text), str)
        or bool(_BASE60.fullmatch(text))
        or text in _OLD_BOOL
    )


def resolve_plain_safe(text: str) -> Scalar:
    try:
        return resolve_plain(text)
    except ConfigError:
        return 0


def go_float_g(value: float) -> str:  # noqa: PLR0911 - mirrors strconv's 'g' cases
    """go-yaml's float text: `FormatFloat(v, 'g', -1, 64)`, with .inf/.nan spellings."""
    if value != value:  # noqa: PLR0124 - NaN check without importing math
        return ".nan"
    if value in (float("inf"), float("-inf")):
        return ".inf" if value > 0 else "-.inf"
    sign, digits, exponent = Decimal(repr(value)).normalize().as_tuple()
    assert isinstance(exponent, int)
    text = "".join(map(str, digits)) or "0"
    point = len(text) + exponent  # position of the decimal point
    neg = "-" if sign else ""
    exp = point - 1
    if text == "0":
        return neg + "0"
    # Go's shortest 'g' switches to an exponent below 1e-4 and from 1e6 on.
    if exp < -4 or exp >= 6:
        return _format_e(neg, text, exp)
    if point <= 0:
        return f"{neg}0.{'0' * -point}{text}"
    if point >= len(text):
        return neg + text + "0" * (point - len(text))
    return f"{neg}{text[:point]}.{text[point:]}"


def _format_e(neg: str, digits: str, exp: int) -> str:
    mantissa = digits[0] + ("." + digits[1:] if len(digits) > 1 else "")
    return f"{neg}{mantissa}e{'-' if exp < 0 else '+'}{abs(exp):02d}"


@dataclass(frozen=True, slots=True)
class Analysis:
    multiline: bool
    flow_plain: bool
    block_plain: bool
    single_quoted: bool
    block: bool


_BREAKS = "\r\n\x85\u2028\u2029"


def is_printable(ch: str) -> bool:
    code = ord(ch)
    return (
        code == 0x0A
        or 0x20 <= code <= 0x7E
        or 0xA0 <= code <= 0xD7FF
        or (0xE000 <= code <= 0xFFFD and code != 0xFEFF)
    )


_BLOCK_START = frozenset("#,[]{}&*!|>'\"%@`")


def _analyze_simple(value: str) -> Analysis:
    """analyze() for printable ASCII without spaces, the shape of every ENC[...] value."""
    first = value[0]
    flow_ind = block_ind = value.startswith(("---", "..."))
    if first in _BLOCK_START or (first in "?:-" and len(value) == 1):
        flow_ind = block_ind = True
    if first in "?:":
        flow_ind = True
    if any(c in value for c in ",?[]{}:"):
        flow_ind = True
    if value.endswith(":"):
        block_ind = True
    return Analysis(False, not flow_ind, not block_ind, True, True)


def analyze(value: str) -> Analysis:
    if value and value.isascii() and value.isprintable() and " " not in value:
        return _analyze_simple(value)
    return _analyze_full(value)


def _analyze_full(value: str) -> Analysis:  # noqa: PLR0912, PLR0915 - a port of analyze_scalar
    if not value:
        return Analysis(False, False, True, True, False)
    block_ind = flow_ind = value.startswith(("---", "..."))
    line_breaks = special = tabs = False
    leading_space = leading_break = trailing_space = trailing_break = False
    break_space = space_break = previous_space = previous_break = False
    preceded_ws = True
    n = len(value)
    for i, ch in enumerate(value):
        followed_ws = i + 1 >= n or value[i + 1] in " \t"
        if i == 0:
            if ch in "#,[]{}&*!|>'\"%@`":
                flow_ind = block_ind = True
            elif ch in "?:":
                flow_ind = True
                block_ind = block_ind or followed_ws
            elif ch == "-" and followed_ws:
                flow_ind = block_ind = True
        elif ch in ",?[]{}":
            flow_ind = True
        elif ch == ":":
            flow_ind = True
            block_ind = block_ind or followed_ws
        elif ch == "#" and preceded_ws:
            flow_ind = block_ind = True
        if ch == "\t":
            tabs = True
        elif not is_printable(ch):
            special = True
        if ch == " ":
            leading_space = leading_space or i == 0
            trailing_space = i == n - 1
            break_space = break_space or previous_break
            previous_space, previous_break = True, False
        elif ch in _BREAKS:
            line_breaks = True
            leading_break = leading_break or i == 0
            trailing_break = i == n - 1
            space_break = space_break or previous_space
            previous_space, previous_break = False, True
        else:
            previous_space = previous_break = False
        preceded_ws = ch in " \t" or ch in _BREAKS
    flow_plain = block_plain = single = block = True
    if leading_space or leading_break or trailing_space or trailing_break:
        flow_plain = block_plain = False
    if trailing_space:
        block = False
    if break_space:
        flow_plain = block_plain = single = False
    if space_break or tabs or special:
        flow_plain = block_plain = single = False
    if space_break or special:
        block = False
    if line_breaks:
        flow_plain = block_plain = False
    if flow_ind:
        flow_plain = False
    if block_ind:
        block_plain = False
    return Analysis(line_breaks, flow_plain, block_plain, single, block)
