"""A small block-YAML reader for fromYaml (see goyaml.py for the scope and why it is ours)."""

from __future__ import annotations

import json
import re
from typing import Any

from secretsync import goregexp
from secretsync.template.goyaml import YAMLError, resolve_plain

# RE2 (goregexp), not re: the lazy key run and the whitespace before ':' overlap, which is
# quadratic on a backtracking engine, and a line here is secret data (100,000 spaces: 15 s).
_KEY = goregexp.compile(
    r"""^(?P<key>"(?:[^"\\]|\\.)*"|'(?:[^']|'')*'|[^\s#'"{\[][^#]*?)\s*:(?:\s+|$)"""
)
_BLOCK_HEADER = re.compile(r"^([|>])([+-]?)(\d?)\s*$")
_MAX_DEPTH = 200


def parse_yaml(text: str) -> Any:
    lines = [_strip_comment(line.rstrip("\r")) for line in text.split("\n")]
    lines = [line for line in lines if line.strip() not in {"---", "..."}]
    reader = _Reader(lines)
    start = reader.skip_blank(0)
    if start >= len(lines):
        return None
    value, end = reader.node(start, _indent(lines[start]), 0)
    if reader.skip_blank(end) < len(lines):
        raise YAMLError(f"yaml: line {reader.skip_blank(end) + 1}: did not find expected key")
    return value


def _indent(line: str) -> int:
    return len(line) - len(line.lstrip(" "))


def _strip_comment(line: str) -> str:
    quote = ""
    for i, ch in enumerate(line):
        if quote:
            if ch == quote:
                quote = ""
        elif ch in "'\"" and (i == 0 or line[i - 1] in " :-[{,"):
            quote = ch
        elif ch == "#" and (i == 0 or line[i - 1] in " \t"):
            return line[:i].rstrip()
    return line


class _Reader:
    def __init__(self, lines: list[str]) -> None:
        self.lines = lines

    def skip_blank(self, i: int) -> int:
        while i < len(self.lines) and not self.lines[i].strip():
            i += 1
        return i

    def node(self, i: int, indent: int, depth: int) -> tuple[Any, int]:
        if depth > _MAX_DEPTH:
            raise YAMLError("yaml: exceeded max depth")
        content = self.lines[i][indent:]
        if content == "-" or content.startswith("- "):
            return self.sequence(i, indent, depth)
        if _KEY.match_string(content):
            return self.mapping(i, indent, depth)
        return self.inline(content.strip(), i, indent)

    def sequence(self, i: int, indent: int, depth: int) -> tuple[list[Any], int]:
        items: list[Any] = []
        while i < len(self.lines):
            line = self.lines[i]
            content = line[indent:]
            if _indent(line) != indent or not (content == "-" or content.startswith("- ")):
                break
            rest = content[1:].lstrip(" ")
            if not rest:
                value, i = self.nested(i + 1, indent, depth, allow_same=False)
            else:
                inner = indent + len(content) - len(rest)
                self.lines[i] = " " * inner + rest
                value, i = self.node(i, inner, depth + 1)
            items.append(value)
            i = self.skip_blank(i)
        return items, i

    def mapping(self, i: int, indent: int, depth: int) -> tuple[dict[Any, Any], int]:
        out: dict[Any, Any] = {}
        while i < len(self.lines):
            line = self.lines[i]
            match = _KEY.find_string_submatch(line[indent:])
            if _indent(line) != indent or match is None:
                break
            whole, key_text = match[0], match[1]
            key = self.scalar(key_text.strip())
            rest = line[indent + len(whole) :].strip()
            if not rest:
                value, i = self.nested(i + 1, indent, depth, allow_same=True)
            else:
                value, i = self.inline(rest, i, indent)
            out[key if not isinstance(key, (list, dict)) else str(key)] = value
            i = self.skip_blank(i)
        return out, i

    def nested(self, i: int, indent: int, depth: int, allow_same: bool) -> tuple[Any, int]:
        j = self.skip_blank(i)
        if j >= len(self.lines):
            return None, j
        child = _indent(self.lines[j])
        is_seq = self.lines[j][child:].startswith("-")
        if child > indent or (allow_same and child == indent and is_seq):
            return self.node(j, child, depth + 1)
        return None, i

    def inline(self, text: str, i: int, indent: int) -> tuple[Any, int]:
        """A value written after `key:` or `- `; block scalars continue on the next lines."""
        header = _BLOCK_HEADER.match(text)
        if header:
            return self.block_scalar(i + 1, indent, header.group(1), header.group(2))
        try:
            return self.scalar(text), i + 1
        except YAMLError as exc:
            raise YAMLError(str(exc).replace("yaml: ", f"yaml: line {i + 1}: ", 1)) from None

    def block_scalar(self, i: int, indent: int, style: str, chomp: str) -> tuple[str, int]:
        body: list[str] = []
        content_indent = -1
        while i < len(self.lines):
            line = self.lines[i]
            if line.strip():
                if _indent(line) <= indent:
                    break
                if content_indent < 0:
                    content_indent = _indent(line)
                body.append(line[content_indent:])
            else:
                body.append("")
            i += 1
        while body and not body[-1] and chomp != "+":
            body.pop()
        text = "\n".join(body) if style == "|" else _fold(body)
        if chomp == "-" or not body:
            return text, i
        return text + "\n", i

    def scalar(self, text: str) -> Any:
        if text.startswith('"'):
            try:
                return json.loads(text)
            except ValueError as exc:
                raise YAMLError("yaml: found unknown escape character") from exc
        if text.startswith("'"):
            if not text.endswith("'") or len(text) < 2:
                raise YAMLError("yaml: found unexpected end of stream")
            return text[1:-1].replace("''", "'")
        if text.startswith(("[", "{")):
            return _Flow(text).value()
        if text.startswith(("&", "*", "!", "%", "@", "`")):
            raise YAMLError(f"yaml: unsupported syntax {text[0]!r}")
        return resolve_plain(text)


def _fold(lines: list[str]) -> str:
    out = ""
    for i, line in enumerate(lines):
        if i and line and lines[i - 1]:
            out += " "
        elif i:
            out += "\n"
        out += line
    return out


class _Flow:
    """[a, b] and {k: v} on one line, nesting allowed."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0

    def value(self) -> Any:
        result = self.item()
        if self.text[self.pos :].strip():
            raise YAMLError("yaml: did not find expected ',' or ']'")
        return result

    def skip(self) -> None:
        while self.pos < len(self.text) and self.text[self.pos] == " ":
            self.pos += 1

    def item(self) -> Any:
        self.skip()
        ch = self.text[self.pos : self.pos + 1]
        if ch in {"[", "{"}:
            return self.collection(ch)
        start = self.pos
        if ch in {'"', "'"}:
            end = self.text.find(ch, self.pos + 1)
            while ch == "'" and end >= 0 and self.text.startswith("''", end):
                end = self.text.find(ch, end + 2)
            if end < 0:
                raise YAMLError("yaml: found unexpected end of stream")
            self.pos = end + 1
            return _Reader([]).scalar(self.text[start : self.pos])
        while self.pos < len(self.text) and self.text[self.pos] not in ",]}:":
            self.pos += 1
        return resolve_plain(self.text[start : self.pos].strip())

    def collection(self, opener: str) -> Any:
        closer = "]" if opener == "[" else "}"
        self.pos += 1
        items: list[Any] = []
        mapping: dict[Any, Any] = {}
        while True:
            self.skip()
            if self.text.startswith(closer, self.pos):
                self.pos += 1
                return items if opener == "[" else mapping
            key = self.item()
            self.skip()
            if opener == "{":
                if not self.text.startswith(":", self.pos):
                    raise YAMLError("yaml: did not find expected ':'")
                self.pos += 1
                mapping[key] = self.item()
            else:
                items.append(key)
            self.skip()
            if self.text.startswith(",", self.pos):
                self.pos += 1
            elif not self.text.startswith(closer, self.pos):
                raise YAMLError(f"yaml: did not find expected ',' or '{closer}'")
