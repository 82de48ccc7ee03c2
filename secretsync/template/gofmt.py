"""Go's fmt.Sprintf: verbs, flags, width and precision, and its in-band error strings.

Go never raises from Sprintf; a wrong operand prints as `%!d(string=hi)`, a missing one as
`%!d(MISSING)`, extras as `%!(EXTRA int=1)`. Templates rely on that, so we do too.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, replace
from typing import Any

from secretsync.template.quoting import go_quote, go_quote_rune
from secretsync.template.values import (
    Stringer,
    format_float,
    format_value,
    sort_key,
    to_bytes,
    type_name,
)

_MAX_WIDTH = 1_000_000
# A '.' only starts a precision when something follows it; "%5." makes '.' the verb, as in Go.
_SPEC = re.compile(r"%([-+# 0]*)(\*|\d+)?(?:\.(?=.)(\*|\d*))?(.?)", re.DOTALL)


@dataclass
class _Flags:
    minus: bool = False
    plus: bool = False
    sharp: bool = False
    space: bool = False
    zero: bool = False
    width: int | None = None
    prec: int | None = None


def sprintf(fmt: str, args: list[Any]) -> str:
    out: list[str] = []
    argi = 0
    pos = 0
    while True:
        idx = fmt.find("%", pos)
        if idx < 0:
            out.append(fmt[pos:])
            break
        out.append(fmt[pos:idx])
        match = _SPEC.match(fmt, idx)
        if match is None:  # cannot happen: every part of the pattern is optional
            break
        pos = match.end()
        text, argi = _one_verb(match, args, argi)
        out.append(text)
    if argi < len(args):
        extra = ", ".join(
            "<nil>" if a is None else f"{type_name(a)}={format_value(a, False)}"
            for a in args[argi:]
        )
        out.append(f"%!(EXTRA {extra})")
    return "".join(out)


def _one_verb(match: re.Match[str], args: list[Any], argi: int) -> tuple[str, int]:
    """The text for one %-directive, and the index of the next unused argument."""
    flag_text, width, prec, verb = match.groups()
    flags = _Flags(*(c in flag_text for c in "-+# 0"))
    prefix = ""
    if width == "*":
        flags.width, argi = _star_arg(args, argi)
        prefix += "%!(BADWIDTH)" if flags.width is None else ""
    else:
        flags.width = int(width) if width else None
    if prec == "*":
        flags.prec, argi = _star_arg(args, argi)
        if flags.prec is None or flags.prec < 0:
            flags.prec = None
            prefix += "%!(BADPREC)"
    else:
        flags.prec = int(prec) if prec else (0 if prec == "" else None)
    # Go's fmt gives up on widths and precisions beyond a million, and so do we.
    if any(v is not None and abs(v) > _MAX_WIDTH for v in (flags.width, flags.prec)):
        return "%!(NOVERB)", argi
    if flags.width is not None and flags.width < 0:
        flags.minus, flags.width = True, -flags.width
    if verb == "%":
        return prefix + "%", argi
    if not verb:
        return prefix + "%!(NOVERB)", argi
    if argi >= len(args):
        return prefix + f"%!{verb}(MISSING)", argi
    return prefix + format_arg(args[argi], verb, flags), argi + 1


def _star_arg(args: list[Any], argi: int) -> tuple[int | None, int]:
    """A '*' width or precision: the next argument if it is an int, else None (bad)."""
    if argi >= len(args):
        return None, argi
    value = args[argi]
    if isinstance(value, int) and not isinstance(value, bool) and abs(value) <= _MAX_WIDTH:
        return value, argi + 1
    return None, argi + 1


def format_arg(  # noqa: PLR0911 - one per Go kind
    arg: Any, verb: str, flags: _Flags, directive: bool = True
) -> str:
    """One operand under one verb. `directive` is false for the elements of a list or map and
    for badVerb's echo, where Go skips the %#v / %+v rewriting of the flags."""
    if verb == "T":
        return _format_string(type_name(arg), "s", flags)
    if directive and verb == "v":
        if flags.sharp:
            return _pad(go_syntax(arg), flags)
        flags = replace(flags, plus=False)  # %+v only names struct fields; numbers get no sign
    if isinstance(arg, (list, tuple)):
        return "[" + " ".join(format_arg(item, verb, flags, False) for item in arg) + "]"
    if isinstance(arg, dict):
        items = sorted(arg.items(), key=lambda kv: sort_key(kv[0]))
        pairs = (
            f"{format_arg(k, verb, flags, False)}:{format_arg(v, verb, flags, False)}"
            for k, v in items
        )
        return "map[" + " ".join(pairs) + "]"
    if isinstance(arg, bool):
        return _pad(str(arg).lower(), flags) if verb in "vt" else _bad(verb, arg, flags)
    if isinstance(arg, int):
        return _format_int(arg, verb, flags)
    if isinstance(arg, float):
        return _format_float_verb(arg, verb, flags)
    if isinstance(arg, (str, bytes)):
        return _format_string(arg, verb, flags)
    if arg is None:
        return _pad("<nil>", flags) if verb == "v" else f"%!{verb}(<nil>)"
    if isinstance(arg, Stringer) and verb in "vsq":
        return _format_string(arg.go_string(), verb, flags)
    if verb == "v":
        return _pad(format_value(arg, False), flags)
    return _bad(verb, arg, flags)


def _bad(verb: str, arg: Any, flags: _Flags) -> str:
    """Go's badVerb: the operand printed with %v under the directive's own flags."""
    return f"%!{verb}({type_name(arg)}={format_arg(arg, 'v', flags, directive=False)})"


def _pad(text: str, flags: _Flags, zero_ok: bool = True) -> str:
    width = flags.width
    if width is None or len(text) >= width:
        return text
    if flags.minus:
        return text.ljust(width)
    if flags.zero and zero_ok:
        return text.rjust(width, "0")
    return text.rjust(width)


def _pad_number(sign: str, body: str, flags: _Flags) -> str:
    """Zero padding goes between the sign and the digits."""
    width = flags.width
    if width is not None and flags.zero and not flags.minus and len(sign + body) < width:
        return sign + body.rjust(width - len(sign), "0")
    return _pad(sign + body, flags, zero_ok=False)


_INT_BASES = {"d": 10, "v": 10, "b": 2, "o": 8, "O": 8, "x": 16, "X": 16}


def _format_int(value: int, verb: str, flags: _Flags) -> str:  # noqa: PLR0911
    if verb == "c":
        return _pad(chr(value) if 0 <= value <= 0x10FFFF else "\ufffd", flags)
    if verb == "q":
        return _pad(go_quote_rune(value), flags)
    if verb == "U":
        printable = 0 <= value <= 0x10FFFF and chr(value).isprintable()
        shown = f" '{chr(value)}'" if flags.sharp and printable else ""
        return _pad(f"U+{value:04X}{shown}", flags)
    if verb in "eEfFgG":
        return _bad(verb, value, flags)
    base = _INT_BASES.get(verb)
    if base is None:
        return _bad(verb, value, flags)
    digits = {2: "b", 8: "o", 10: "d", 16: "x"}[base]
    body = format(abs(value), digits)
    if verb == "X":
        body = body.upper()
    if flags.prec is not None:
        body = body.rjust(flags.prec, "0") if flags.prec or value else ""
    prefix = ""
    if flags.sharp and base != 10:
        prefix = {2: "0b", 8: "0", 16: "0x" if verb == "x" else "0X"}[base]
    if verb == "O":
        prefix = "0o"
    sign = "-" if value < 0 else "+" if flags.plus else " " if flags.space else ""
    if flags.prec is not None:
        return _pad(sign + prefix + body, flags, zero_ok=False)
    return _pad_number(sign + prefix, body, flags)


def _format_float_verb(value: float, verb: str, flags: _Flags) -> str:
    if verb not in "vbeEfFgGxX":
        return _bad(verb, value, flags)
    go_verb = {"v": "g", "F": "f"}.get(verb, verb)
    if go_verb in "xXb":
        return _bad(verb, value, flags)
    prec = flags.prec if flags.prec is not None else (6 if go_verb in "eEf" else -1)
    text = format_float(value, go_verb, prec)
    sign = ""
    if text.startswith("-"):
        sign, text = "-", text[1:]
    elif flags.plus:
        sign = "+"
    elif flags.space:
        sign = " "
    if text in {"NaN", "Inf", "+Inf"}:
        text = text.lstrip("+")
        sign = "+" if text == "Inf" and (flags.plus or sign == "") and text != "NaN" else sign
        return _pad(sign + text, flags, zero_ok=False)
    return _pad_number(sign, text, flags)


def _format_string(value: str | bytes, verb: str, flags: _Flags) -> str:
    data = value if isinstance(value, bytes) else to_bytes(value)
    text = value.decode("utf-8", "surrogateescape") if isinstance(value, bytes) else value
    if verb in "sv":
        if flags.prec is not None:
            text = text[: flags.prec]
        return _pad(text, flags)
    if verb == "q":
        if flags.prec is not None:
            text = text[: flags.prec]
        backquote = flags.sharp and "`" not in text and text.isprintable()
        return _pad(f"`{text}`" if backquote else go_quote(text, ascii_only=flags.plus), flags)
    if verb in "xX":
        return _pad(_hex_bytes(data, verb, flags), flags)
    return _bad(verb, value, flags)


def _hex_bytes(data: bytes, verb: str, flags: _Flags) -> str:
    if flags.prec is not None:
        data = data[: flags.prec]
    digits = [f"{b:02x}" if verb == "x" else f"{b:02X}" for b in data]
    prefix = ("0x" if verb == "x" else "0X") if flags.sharp else ""
    if flags.space:
        return " ".join(prefix + d for d in digits)
    return prefix + "".join(digits) if digits else ""


def go_syntax(arg: Any) -> str:
    """%#v for the JSON-shaped values templates hold."""
    if isinstance(arg, str):
        return go_quote(arg)
    if arg is None:
        return "<nil>"
    if isinstance(arg, (list, tuple)):
        return "[]interface {}{" + ", ".join(_sharp_item(v) for v in arg) + "}"
    if isinstance(arg, dict):
        items = sorted(arg.items(), key=lambda kv: sort_key(kv[0]))
        body = ", ".join(f"{go_quote(str(k))}:{_sharp_item(v)}" for k, v in items)
        return "map[string]interface {}{" + body + "}"
    return format_value(arg, False)


def _sharp_item(value: Any) -> str:
    return "interface {}(nil)" if value is None else go_syntax(value)
