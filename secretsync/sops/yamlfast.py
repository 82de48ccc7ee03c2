"""A fast line parser for the block YAML that sops writes (and most Kubernetes files are).

It understands block mappings and sequences (indentless ones too), single-line plain and quoted
scalars, literal blocks, `[]`/`{}` and comments, and produces the same events as ruamel would.
Anything else (anchors, tags, flow collections, folded or multi-line scalars, several
documents...) makes it give up, and the caller parses the text with ruamel instead.
"""

from __future__ import annotations

import sys

from secretsync.sops.tree import Branch
from secretsync.sops.yamlcompose import EOF_LINE, Composer, Ev, scan_comments

_NOT_PLAIN_START = set("-?:,[]{}#&*!|>'\"%@`")
_ESCAPES = {
    "0": "\0", "a": "\a", "b": "\b", "t": "\t", "\t": "\t", "n": "\n", "v": "\v", "f": "\f",
    "r": "\r", "e": "\x1b", " ": " ", '"': '"', "/": "/", "\\": "\\", "N": "\x85",
    "_": "\xa0", "L": "\u2028", "P": "\u2029",
}  # fmt: skip
_HEX = {"x": 2, "u": 4, "U": 8}


class _Bail(Exception):
    """The text is outside the fast subset; parse it with ruamel instead."""


def parse(text: str) -> tuple[list[Ev], list[tuple[int, int]]] | None:
    if "\r" in text or "\t" in text or text.startswith("\ufeff"):
        return None
    try:
        return _Parser(text).run()
    except _Bail:
        return None


class _Parser:
    def __init__(self, text: str) -> None:
        self.lines = text.split("\n")
        self.offsets = [0]
        for line in self.lines:
            self.offsets.append(self.offsets[-1] + len(line) + 1)
        self.i = 0
        self.events: list[Ev] = []
        self.spans: list[tuple[int, int]] = []
        self.virtual: tuple[int, int] | None = None  # a mapping that starts after "- "

    def run(self) -> tuple[list[Ev], list[tuple[int, int]]]:
        for line in self.lines:
            if line.startswith(("---", "...", "%")):
                raise _Bail
        first = self.next_content()
        if first is None or self.indent(first) != 0 or self._is_dash(self.lines[first], 0):
            raise _Bail
        self.events.append(Ev("doc_start", first))
        self.block_mapping(0)
        if self.next_content() is not None:
            raise _Bail
        self.events += [Ev("doc_end", end_line=EOF_LINE - 1), Ev("stream_end")]
        return self.events, self.spans

    def next_content(self) -> int | None:
        while self.i < len(self.lines):
            stripped = self.lines[self.i].lstrip(" ")
            if stripped and not stripped.startswith("#"):
                return self.i
            self.i += 1
        return None

    def indent(self, index: int) -> int:
        if self.virtual and self.virtual[0] == index:
            return self.virtual[1]
        line = self.lines[index]
        return len(line) - len(line.lstrip(" "))

    @staticmethod
    def _is_dash(line: str, col: int) -> bool:
        return line[col : col + 2] == "- " or line[col:] == "-"

    def block_mapping(self, col: int) -> None:
        start = self.i
        self.events.append(Ev("map_start", start, col, start))
        while (index := self.next_content()) is not None:
            indent = self.indent(index)
            if indent < col or (indent == col and self._is_dash(self.lines[index], col)):
                break
            if indent > col:
                raise _Bail
            self.virtual = None
            after = self.key(index, col)
            self.value(index, after, col, in_sequence=False)
        end = self.i if self.i < len(self.lines) else EOF_LINE
        self.events.append(Ev("map_end", end, 0, end))

    def block_sequence(self, col: int) -> None:
        start = self.i
        self.events.append(Ev("seq_start", start, col, start))
        while (index := self.next_content()) is not None:
            line = self.lines[index]
            indent = self.indent(index)
            if indent < col or (indent == col and not self._is_dash(line, col)):
                break
            if indent > col:
                raise _Bail
            rest = line[col + 1 :]
            item_col = col + 1 + len(rest) - len(rest.lstrip(" "))
            stripped = rest.strip(" ")
            if stripped and not stripped.startswith("#") and self.looks_like_key(line, item_col):
                self.virtual = (index, item_col)
                self.block_mapping(item_col)
            else:
                self.value(index, col + 1, col, in_sequence=True)
        end = self.i if self.i < len(self.lines) else EOF_LINE
        self.events.append(Ev("seq_end", end, 0, end))

    def looks_like_key(self, line: str, col: int) -> bool:
        if line[col] in "\"'":
            return False if line[col] == "'" and "':" not in line else self._quoted_key(line, col)
        if line[col] in _NOT_PLAIN_START:
            return self._is_dash(line, col) and self._raise()
        colon = line.find(":", col)
        while colon >= 0 and not (colon + 1 == len(line) or line[colon + 1] == " "):
            colon = line.find(":", colon + 1)
        hash_at = line.find(" #", col)
        return colon >= 0 and (hash_at < 0 or hash_at > colon)

    def _quoted_key(self, line: str, col: int) -> bool:
        _, end = self.quoted(line, col)
        return line[end:].lstrip(" ").startswith(":")

    @staticmethod
    def _raise() -> bool:
        raise _Bail

    def key(self, index: int, col: int) -> int:
        """Emit the key scalar; return the column just after its ':'."""
        line = self.lines[index]
        base = self.offsets[index]
        if line[col] in "\"'":
            value, end = self.quoted(line, col)
            style = line[col]
            colon = end + len(line[end:]) - len(line[end:].lstrip(" "))
        else:
            if line[col] in _NOT_PLAIN_START:
                raise _Bail
            colon = line.find(":", col)
            while colon >= 0 and not (colon + 1 == len(line) or line[colon + 1] == " "):
                colon = line.find(":", colon + 1)
            if colon < 0 or 0 <= line.find(" #", col) < colon:
                raise _Bail
            value, style, end = line[col:colon].rstrip(" "), None, colon
        if colon >= len(line) or line[colon] != ":" or len(value) > 1000:
            raise _Bail
        if colon + 1 < len(line) and line[colon + 1] != " ":
            raise _Bail
        self.events.append(Ev("scalar", index, col, index, value, None, style))
        self.spans.append((base + col, base + end))
        return colon + 1

    def value(self, index: int, after: int, parent: int, *, in_sequence: bool) -> None:
        line = self.lines[index]
        rest = line[after:]
        col = after + len(rest) - len(rest.lstrip(" "))
        text = line[col:]
        if not text or text.startswith("#"):
            self.empty_value(index, col, parent, in_sequence)
        elif text[0] in "\"'":
            value, end = self.quoted(line, col)
            self.expect_end(line, end)
            self.scalar(index, col, end, value, text[0])
        elif text[0] == "|":
            self.literal(index, col, parent)
        elif text[:2] in {"[]", "{}"}:
            self.expect_end(line, col + 2)
            kind = "seq" if text[0] == "[" else "map"
            self.events += [
                Ev(f"{kind}_start", index, col, index, flow=True),
                Ev(f"{kind}_end", index, col + 1, index),
            ]
            self.i = index + 1
        elif text[0] in _NOT_PLAIN_START and not (text[0] == "-" and text[1:2] not in {"", " "}):
            raise _Bail
        else:
            self.plain(index, col)

    def empty_value(self, index: int, col: int, parent: int, in_sequence: bool) -> None:
        self.i = index + 1
        nxt = self.next_content()
        if nxt is not None:
            indent = self.indent(nxt)
            is_dash = self._is_dash(self.lines[nxt], indent)
            if indent > parent:
                (self.block_sequence if is_dash else self.block_mapping)(indent)
                return
            if indent == parent and is_dash and not in_sequence:
                self.block_sequence(indent)
                return
        self.events.append(Ev("scalar", index, col, index, ""))
        self.i = index + 1

    def scalar(self, index: int, col: int, end: int, value: str, style: str | None) -> None:
        base = self.offsets[index]
        self.events.append(Ev("scalar", index, col, index, value, None, style))
        self.spans.append((base + col, base + end))
        self.i = index + 1

    def plain(self, index: int, col: int) -> None:
        line = self.lines[index]
        cut = line.find(" #", col)
        value = (line[col:] if cut < 0 else line[col:cut]).rstrip(" ")
        if ": " in value or value.endswith(":"):
            raise _Bail
        self.scalar(index, col, col + len(value), value, None)

    @staticmethod
    def expect_end(line: str, end: int) -> None:
        rest = line[end:].lstrip(" ")
        if rest and not (rest.startswith("#") and end < len(line) and line[end] == " "):
            raise _Bail

    def quoted(self, line: str, col: int) -> tuple[str, int]:
        if line[col] == "'":
            out, pos = [], col + 1
            while (close := line.find("'", pos)) >= 0:
                out.append(line[pos:close])
                if line[close + 1 : close + 2] != "'":
                    return "'".join(out), close + 1
                pos = close + 2
            raise _Bail
        return _double(line, col)

    def literal(self, index: int, col: int, parent: int) -> None:
        header = self.lines[index][col:].split(" #")[0].rstrip(" ")
        if header not in {"|", "|-", "|+"}:
            raise _Bail
        body_start = index + 1
        first = next(
            (j for j in range(body_start, len(self.lines)) if self.lines[j].strip(" ")), None
        )
        if first is None or first != body_start or self.indent(first) <= parent:
            raise _Bail
        block = self.indent(first)
        j = body_start
        while j < len(self.lines) and (not self.lines[j].strip(" ") or self.indent(j) >= block):
            j += 1
        if j == len(self.lines):
            if self.lines[-1] != "":
                raise _Bail  # a block at the very end without a final newline: let ruamel do it
            j -= 1  # the empty string after the file's final newline is not a line
        body = [line[block:] for line in self.lines[body_start:j]]
        last = max(k for k in range(body_start, j) if self.lines[k].strip(" "))
        content = body[: last - body_start + 1]
        if any(line.strip(" ") == "" and line for line in body):
            raise _Bail
        value = "\n".join(content)
        trailing = j - 1 - last
        if header == "|":
            value += "\n"
        elif header == "|+":
            value += "\n" * (trailing + 1)
        self.events.append(Ev("scalar", index, col, last, value, None, "|"))
        self.spans.append((self.offsets[body_start], self.offsets[j]))
        self.i = j


def _double(line: str, col: int) -> tuple[str, int]:
    out: list[str] = []
    pos = col + 1
    while pos < len(line):
        ch = line[pos]
        if ch == '"':
            return "".join(out), pos + 1
        if ch != "\\":
            out.append(ch)
            pos += 1
            continue
        code = line[pos + 1 : pos + 2]
        if code in _ESCAPES:
            out.append(_ESCAPES[code])
            pos += 2
        elif code in _HEX:
            digits = line[pos + 2 : pos + 2 + _HEX[code]]
            if len(digits) != _HEX[code] or any(c not in "0123456789abcdefABCDEF" for c in digits):
                raise _Bail
            if int(digits, 16) > sys.maxunicode:
                raise _Bail  # ruamel reports it (yamlfmt.load_events)
            out.append(chr(int(digits, 16)))
            pos += 2 + _HEX[code]
        else:
            raise _Bail
    raise _Bail


def load(data: bytes, source: str) -> tuple[Branch, ...] | None:
    """The documents of a file in the fast subset, or None (then parse it with ruamel)."""
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        return None
    parsed = parse(text)
    if parsed is None:
        return None
    events, spans = parsed
    return tuple(Composer(events, scan_comments(text, spans), source).documents())
