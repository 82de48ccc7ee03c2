"""sprig's string functions (strings.go and the string entries of functions.go).

Go strings are bytes: trunc, substr and friends cut bytes, not characters, so they work on the
UTF-8 encoding and decode the result back (see values.to_bytes).
"""

from __future__ import annotations

import re
import secrets
from typing import Any

from secretsync.template.callables import FuncError, GoFunc, make
from secretsync.template.conv import strslice, strval
from secretsync.template.gofmt import sprintf
from secretsync.template.quoting import go_quote
from secretsync.template.values import StringMap, format_value, from_bytes, to_bytes

# unicode.IsSpace; Python's str.isspace also counts \x1c-\x1f, which Go does not.
GO_SPACE = (
    "\t\n\v\f\r \x85\xa0\u1680\u2000\u2001\u2002\u2003\u2004\u2005\u2006\u2007\u2008"
    "\u2009\u200a\u2028\u2029\u202f\u205f\u3000"
)


def go_upper(text: str) -> str:
    # Go maps rune by rune; Python's full case mapping would turn "ß" into "SS".
    if text.isascii():
        return text.upper()
    return "".join(c.upper() if len(c.upper()) == 1 else c for c in text)


def go_lower(text: str) -> str:
    if text.isascii():
        return text.lower()
    return "".join(c.lower() if len(c.lower()) == 1 else c for c in text)


def title(text: str) -> str:
    """strings.Title: upper-case the first letter of each word."""
    out: list[str] = []
    prev_sep = True
    for ch in text:
        out.append(ch.title()[:1] if prev_sep and ch.title()[:1] else ch)
        prev_sep = _is_separator(ch)
    return "".join(out)


def _is_separator(ch: str) -> bool:
    if ch.isascii():
        return not (ch.isalnum() or ch == "_")
    return ch.isspace() or not (ch.isalpha() or ch.isdigit())


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


def initials(text: str) -> str:
    out: list[str] = []
    gap = True
    for ch in text:
        if ch in GO_SPACE:
            gap = True
        elif gap:
            out.append(ch)
            gap = False
    return "".join(out)


def swapcase(text: str) -> str:
    out: list[str] = []
    at_space = True
    for ch in text:
        if ch.isupper() or ch.istitle():
            out.append(ch.lower()[:1])
            at_space = False
        elif ch.islower():
            out.append((ch.title() if at_space else ch.upper())[:1])
            at_space = False
        else:
            out.append(ch)
            at_space = ch in GO_SPACE
    return "".join(out)


_WORDS = re.compile(r"[A-Z]+(?=[A-Z][a-z])|[A-Z]?[a-z]+|[A-Z]+|\d+[a-z]*|[^\W\d_]+", re.UNICODE)


def _to_words(text: str) -> list[str]:
    return _WORDS.findall(text)


def snakecase(text: str) -> str:
    return "_".join(w.lower() for w in _to_words(text))


def kebabcase(text: str) -> str:
    return "-".join(w.lower() for w in _to_words(text))


def camelcase(text: str) -> str:
    """xstrings.ToPascalCase for the common cases: words split on '_', '-', space and case."""
    parts = re.split(r"[_\-\s]+", text)
    return "".join(p[:1].upper() + p[1:] for p in parts if p)


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
    "repeat": make(lambda n, s: s * n if n >= 0 else _negative_repeat(), "is"),
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


def _negative_repeat() -> str:
    raise FuncError("strings: negative Repeat count")


def _go_replace(text: str, old: str, new: str) -> str:
    # Go's Replace with an empty `old` inserts `new` around every rune, as Python's does.
    return text.replace(old, new)
