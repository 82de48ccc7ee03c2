"""sprig's string functions (strings.go and the string entries of functions.go).

Go strings are bytes: trunc, substr and friends cut bytes, not characters, so they work on the
UTF-8 encoding and decode the result back (see values.to_bytes).
"""

from __future__ import annotations

import secrets
from typing import Any

from secretsync.template.callables import FuncError, GoFunc, check_size, make
from secretsync.template.conv import strslice, strval
from secretsync.template.gofmt import sprintf
from secretsync.template.quoting import go_quote
from secretsync.template.strcase import (
    GO_SPACE,
    camelcase,
    go_lower,
    go_upper,
    initials,
    kebabcase,
    snakecase,
    swapcase,
    title,
)
from secretsync.template.values import StringMap, format_value, from_bytes, to_bytes


def _byte_slice(text: str, start: int | None, end: int | None) -> str:
    data = to_bytes(text)
    lo = 0 if start is None else start
    hi = len(data) if end is None else end
    if not 0 <= lo <= hi <= len(data):
        raise FuncError(f"runtime error: slice bounds out of range [{lo}:{hi}]")
    return from_bytes(data[lo:hi])


def trunc(count: int, text: str) -> str:
    size = len(to_bytes(text))
    if count < 0 < size + count:
        return _byte_slice(text, size + count, None)
    if count >= 0 and size > count:
        return _byte_slice(text, None, count)
    return text


def substr(start: int, end: int, text: str) -> str:
    if start < 0:
        return _byte_slice(text, None, end)
    if end < 0 or end > len(to_bytes(text)):
        return _byte_slice(text, start, None)
    return _byte_slice(text, start, end)


def abbrev_full(text: str, offset: int, width: int) -> str:
    """goutils.AbbreviateFull, on bytes as in Go."""
    size = len(to_bytes(text))
    if not text or size <= width:
        return text
    offset = min(offset, size)
    if size - offset < width - 3:
        offset = size - (width - 3)
    if offset <= 4:
        return _byte_slice(text, 0, width - 3) + "..."
    if width < 7:
        return ""
    if offset + width - 3 < size:
        return "..." + abbrev_full(_byte_slice(text, offset, None), 0, width - 3)
    return "..." + _byte_slice(text, size - (width - 3), None)


def abbrevboth(left: int, right: int, text: str) -> str:
    if right < 4 or (left > 0 and right < 7):
        return text
    return abbrev_full(text, left, right)


def wrap_custom(text: str, width: int, newline: str, long_words: bool) -> str:
    """goutils.WrapCustom: break at the last space that keeps a line within `width` bytes."""
    if not text:
        return ""
    newline = newline or "\n"
    width = max(width, 1)
    data, sep = to_bytes(text), to_bytes(newline)
    out = bytearray()
    offset = 0
    while len(data) - offset > width:
        if data[offset] == 0x20:
            offset += 1
            continue
        space = data.rfind(b" ", offset, width + offset + 1)
        if space >= offset:
            out += data[offset:space] + sep
            offset = space + 1
        elif long_words:
            out += data[offset : offset + width] + sep
            offset += width
        else:
            space = data.find(b" ", width + offset)
            if space < 0:
                out += data[offset:]
                offset = len(data)
            else:
                out += data[offset:space] + sep
                offset = space + 1
    out += data[offset:]
    return from_bytes(bytes(out))


def shuffle(text: str) -> str:
    chars = list(text)
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)


def quote(*args: Any) -> str:
    return " ".join(go_quote(strval(a)) for a in args if a is not None)


def squote(*args: Any) -> str:
    return " ".join(f"'{format_value(a, False)}'" for a in args if a is not None)


def cat(*args: Any) -> str:
    present = [a for a in args if a is not None]
    return sprintf(" ".join(["%v"] * len(present)), present)


def indent(spaces: int, text: str) -> str:
    check_size(spaces * (text.count("\n") + 1) + len(text))
    pad = " " * spaces
    return pad + text.replace("\n", "\n" + pad)


def split(sep: str, text: str) -> StringMap:
    return StringMap({f"_{i}": part for i, part in enumerate(go_split(text, sep))})


def splitn(sep: str, count: int, text: str) -> StringMap:
    return StringMap({f"_{i}": part for i, part in enumerate(go_split(text, sep, count))})


def go_split(text: str, sep: str, count: int = -1) -> list[str]:
    """strings.Split / SplitN: an empty separator splits after each UTF-8 sequence."""
    if count == 0:
        return []
    if sep == "":
        chars = list(text)
        if 0 < count < len(chars):
            return [*chars[: count - 1], "".join(chars[count - 1 :])]
        return chars
    return text.split(sep, count - 1) if count > 0 else text.split(sep)


def _trim_prefix(prefix: str, text: str) -> str:
    return text[len(prefix) :] if text.startswith(prefix) else text


def _trim_suffix(suffix: str, text: str) -> str:
    return text[: len(text) - len(suffix)] if suffix and text.endswith(suffix) else text


def repeat(count: int, text: str) -> str:
    if count < 0:
        raise FuncError("strings: negative Repeat count")
    check_size(count * len(text))
    return text * count


FUNCS: dict[str, GoFunc] = {
    "hello": make(lambda: "Hello!", ""),
    "abbrev": make(lambda w, s: s if w < 4 else abbrev_full(s, 0, w), "is"),
    "abbrevboth": make(abbrevboth, "iis"),
    "trunc": make(trunc, "is"),
    "trim": make(lambda s: s.strip(GO_SPACE), "s"),
    "upper": make(go_upper, "s"),
    "lower": make(go_lower, "s"),
    "title": make(title, "s"),
    "untitle": make(lambda s: go_lower(s[:1]) + s[1:], "s"),
    "substr": make(substr, "iis"),
    "repeat": make(repeat, "is"),
    "trimall": make(lambda cut, s: s.strip(cut), "ss"),
    "trimAll": make(lambda cut, s: s.strip(cut), "ss"),
    "trimSuffix": make(_trim_suffix, "ss"),
    "trimPrefix": make(_trim_prefix, "ss"),
    "nospace": make(lambda s: "".join(c for c in s if c not in GO_SPACE), "s"),
    "initials": make(initials, "s"),
    "swapcase": make(swapcase, "s"),
    "shuffle": make(shuffle, "s"),
    "snakecase": make(snakecase, "s"),
    "camelcase": make(camelcase, "s"),
    "kebabcase": make(kebabcase, "s"),
    "wrap": make(lambda n, s: wrap_custom(s, n, "\n", False), "is"),
    "wrapWith": make(lambda n, sep, s: wrap_custom(s, n, sep, True), "iss"),
    "contains": make(lambda sub, s: sub in s, "ss"),
    "hasPrefix": make(lambda pre, s: s.startswith(pre), "ss"),
    "hasSuffix": make(lambda suf, s: s.endswith(suf), "ss"),
    "quote": make(quote, "a*"),
    "squote": make(squote, "a*"),
    "cat": make(cat, "a*"),
    "indent": make(indent, "is"),
    "nindent": make(lambda n, s: "\n" + indent(n, s), "is"),
    "replace": make(lambda old, new, s: _go_replace(s, old, new), "sss"),
    "plural": make(lambda one, many, n: one if n == 1 else many, "ssi"),
    "toString": make(strval, "a"),
    "join": make(lambda sep, v: sep.join(strslice(v)), "sa"),
    "split": make(split, "ss"),
    "splitList": make(lambda sep, s: go_split(s, sep), "ss"),
    "splitn": make(splitn, "sis"),
    "toStrings": make(strslice, "a"),
}


def _go_replace(text: str, old: str, new: str) -> str:
    # Go's Replace with an empty `old` inserts `new` around every rune, as Python's does.
    return text.replace(old, new)
