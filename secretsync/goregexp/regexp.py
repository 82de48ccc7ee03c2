"""Go's regexp.Regexp for user-supplied patterns: RE2 matching with Go's loops around it.

The loops are Go's (regexp.go): FindAll skips an empty match right after the previous match,
ReplaceAll does not replace an empty match that touches the previous one, Split follows from
FindAll, and Expand reads `$name` greedily (`$1x` is the group named `1x`). They run over UTF-8
bytes, stepping one rune past an empty match as Go does, so offsets are Go's byte offsets.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache

from secretsync.goregexp import engine, syntax

CACHE_SIZE = 64
"""Compiled patterns kept (least recently used goes first). Templates and stores repeat the
same few patterns on every refresh; each entry is bounded by engine.MAX_MEM."""

Spans = list[tuple[int, int]]
_Piece = bytes | tuple[int, ...]
_META = frozenset("\\.+*?()|[]{}^$")


class ResultTooLarge(ValueError):
    """A replacement would grow past the caller's limit (Go would try to allocate it)."""


def _utf8(text: str) -> bytes:
    return text.encode("utf-8", "surrogatepass")


def _text(data: bytes) -> str:
    return data.decode("utf-8", "surrogatepass")


def _at_rune_start(data: bytes, pos: int) -> bool:
    return pos >= len(data) or data[pos] & 0xC0 != 0x80  # not a UTF-8 continuation byte


def _rune_width(data: bytes, pos: int) -> int:
    """Bytes in the rune at pos (utf8.DecodeRune: 1 for an invalid byte, 0 at the end)."""
    if pos >= len(data):
        return 0
    lead = data[pos]
    width = 1 if lead < 0xC0 else 2 if lead < 0xE0 else 3 if lead < 0xF0 else 4
    if width > 1:
        try:
            data[pos : pos + width].decode("utf-8")
        except UnicodeDecodeError:
            return 1
    return width


class Regexp:
    """A compiled pattern with Go's methods (the String variants, which are all we need)."""

    __slots__ = ("_program", "expr", "subexp_names")

    def __init__(self, expr: str) -> None:
        names = syntax.check(expr)
        try:
            self._program = engine.Program(expr)
        except engine.EngineError as exc:
            raise syntax.from_engine(str(exc), expr) from None
        if len(names) != self._program.groups + 1:
            raise syntax.GoSyntaxError("regexp/syntax: internal error", expr)
        self.expr = expr
        self.subexp_names: tuple[str, ...] = names

    def match_string(self, text: str) -> bool:
        return self._search(_utf8(text), 0) is not None

    def find_string(self, text: str) -> str:
        data = _utf8(text)
        spans = self._search(data, 0)
        return "" if spans is None else _text(data[spans[0][0] : spans[0][1]])

    def find_string_submatch(self, text: str) -> list[str] | None:
        """The first match and its groups ("" for a group that did not take part), or None."""
        data = _utf8(text)
        spans = self._search(data, 0)
        if spans is None:
            return None
        return [_text(data[start:end]) if start >= 0 else "" for start, end in spans]

    def find_all_string(self, text: str, n: int) -> list[str]:
        data = _utf8(text)
        return [_text(data[s[0][0] : s[0][1]]) for s in self._all_matches(data, n)]

    def find_all_string_submatch(self, text: str, n: int) -> list[list[str]]:
        """Each match with its groups; a group that did not take part is "" (as in Go)."""
        data = _utf8(text)
        return [
            [_text(data[start:end]) if start >= 0 else "" for start, end in spans]
            for spans in self._all_matches(data, n)
        ]

    def find_all_string_submatch_index(self, text: str, n: int) -> list[list[int]]:
        """Go's byte offsets, -1 for a group that did not take part."""
        data = _utf8(text)
        return [[i for span in spans for i in span] for spans in self._all_matches(data, n)]

    def replace_all_string(self, src: str, repl: str, *, max_bytes: int | None = None) -> str:
        pieces = _parse_template(repl, self.subexp_names)
        return self._replace_all(src, lambda data, spans: _expand(pieces, data, spans), max_bytes)

    def replace_all_literal_string(
        self, src: str, repl: str, *, max_bytes: int | None = None
    ) -> str:
        literal = _utf8(repl)
        return self._replace_all(src, lambda data, spans: literal, max_bytes)

    def split(self, text: str, n: int) -> list[str] | None:
        """Go's Split: None for n == 0, at most n parts for n > 0, all for n < 0."""
        if n == 0:
            return None
        if self.expr and not text:
            return [""]
        data = _utf8(text)
        parts: list[bytes] = []
        begin = end = 0
        for spans in self._all_matches(data, n):
            if n > 0 and len(parts) == n - 1:
                break
            end = spans[0][0]
            if spans[0][1] != 0:
                parts.append(data[begin:end])
            begin = spans[0][1]
        if end != len(data):
            parts.append(data[begin:])
        return [_text(part) for part in parts]

    def _search(self, data: bytes, pos: int) -> Spans | None:
        """RE2 steps bytes, so an empty match can fall inside a multi-byte rune (`\\B` between
        the two bytes of "é"); Go only looks between runes, so such a match is passed over."""
        while True:
            spans = self._program.search(data, pos, len(data))
            start = spans[0][0]
            if start < 0:
                return None
            if _at_rune_start(data, start):
                return spans
            pos = start + 1
            while not _at_rune_start(data, pos):
                pos += 1

    def _all_matches(self, data: bytes, n: int) -> list[Spans]:
        """Go's allMatches: an empty match right after the previous match is not reported."""
        limit = len(data) + 1 if n < 0 else n
        found: list[Spans] = []
        pos, prev_end = 0, -1
        while len(found) < limit and pos <= len(data):
            spans = self._search(data, pos)
            if spans is None:
                break
            start, end = spans[0]
            accept = True
            if end == pos:  # an empty match: step one rune so the loop moves on
                accept = start != prev_end
                width = _rune_width(data, pos)
                pos = pos + width if width else len(data) + 1
            else:
                pos = end
            prev_end = end
            if accept:
                found.append(spans)
        return found

    def _replace_all(
        self, src: str, repl: Callable[[bytes, Spans], bytes], max_bytes: int | None
    ) -> str:
        """Go's replaceAll: no replacement for an empty match touching the previous match."""
        data = _utf8(src)
        out: list[bytes] = []
        size = last_end = search_pos = 0
        while search_pos <= len(data):
            spans = self._search(data, search_pos)
            if spans is None:
                break
            start, end = spans[0]
            out.append(data[last_end:start])
            size += start - last_end
            if end > last_end or start == 0:
                out.append(repl(data, spans))
                size += len(out[-1])
            if max_bytes is not None and size > max_bytes:
                raise ResultTooLarge(f"result would exceed {max_bytes} bytes")
            last_end = end
            width = _rune_width(data, search_pos)
            if search_pos + width > end:
                search_pos += width
            elif search_pos + 1 > end:
                search_pos += 1  # only at the end of the input, where the width is 0
            else:
                search_pos = end
        out.append(data[last_end:])
        return _text(b"".join(out))


@lru_cache(maxsize=CACHE_SIZE)
def _parse_template(template: str, names: tuple[str, ...]) -> tuple[_Piece, ...]:
    """Parse a replacement once: literal bytes, or the group numbers a `$ref` may mean."""
    pieces: list[_Piece] = []
    rest = template
    while rest:
        before, dollar, after = rest.partition("$")
        if not dollar:
            break
        pieces.append(_utf8(before))
        rest = after
        if rest.startswith("$"):  # $$ is a dollar
            pieces.append(b"$")
            rest = rest[1:]
            continue
        ref = _extract(rest)
        if ref is None:  # malformed: the $ is text
            pieces.append(b"$")
            continue
        name, number, rest = ref
        if number >= 0:
            pieces.append((number,) if number < len(names) else ())
        else:
            pieces.append(tuple(i for i, n in enumerate(names) if n == name))
    pieces.append(_utf8(rest))
    return tuple(pieces)


def _expand(pieces: tuple[_Piece, ...], data: bytes, spans: Spans) -> bytes:
    """Go's Expand: a reference is the first of its groups that took part, else nothing."""
    out = []
    for piece in pieces:
        if isinstance(piece, bytes):
            out.append(piece)
            continue
        for index in piece:
            start, end = spans[index]
            if start >= 0:
                out.append(data[start:end])
                break
    return b"".join(out)


def _extract(text: str) -> tuple[str, int, str] | None:
    """Go's extract: `name`, `{name}`; a name is letters, digits and _, read greedily."""
    brace = text.startswith("{")
    body = text[1:] if brace else text
    i = 0
    while i < len(body) and (body[i].isalpha() or body[i].isdecimal() or body[i] == "_"):
        i += 1
    if i == 0:
        return None
    name = body[:i]
    if brace:
        if not body.startswith("}", i):
            return None
        i += 1
    return name, _group_number(name), body[i:]


def _group_number(name: str) -> int:
    """A decimal group number, or -1 when the name is not one (a leading 0 makes it a name)."""
    number = 0
    for char in name:
        if not "0" <= char <= "9" or number >= 100_000_000:
            return -1
        number = number * 10 + ord(char) - ord("0")
    return -1 if name[0] == "0" and len(name) > 1 else number


@lru_cache(maxsize=CACHE_SIZE)
def cached(expr: str) -> Regexp:
    return Regexp(expr)


def quote_meta(text: str) -> str:
    """Go's QuoteMeta: a backslash before every metacharacter."""
    return "".join("\\" + char if char in _META else char for char in text)
