"""Compose parser events into sops' tree the way go-yaml v3 and sops' YAML store do.

Both YAML parsers (ruamel's, and the fast one for sops-style files) produce these neutral
events, so the tree, comment placement and scalar resolution are decided in one place: merge
keys stay literal, aliases are expanded, scalars follow go-yaml v3 rules.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Iterator
from dataclasses import dataclass

from secretsync.errors import ConfigError
from secretsync.sops.tree import Branch, Comment, Value
from secretsync.sops.yamlscalar import resolve_plain

_TAG = "tag:yaml.org,2002:"
EOF_LINE = 1 << 30


@dataclass(slots=True)
class Ev:
    """One parser event; `line`/`column` where it starts, `end_line` the last line it covers."""

    kind: str  # doc_start doc_end map_start map_end seq_start seq_end scalar alias stream_end
    line: int = 0
    column: int = 0
    end_line: int = 0
    value: str = ""
    tag: str | None = None
    style: str | None = None  # None (plain), '"', "'", "|" or ">"
    anchor: str | None = None
    flow: bool = False


@dataclass(frozen=True, slots=True)
class SourceComment:
    line: int
    column: int
    text: str
    own_line: bool


def scan_comments(text: str, spans: list[tuple[int, int]]) -> list[SourceComment]:
    """Every `#` comment outside a scalar (spans are character ranges of scalars)."""
    out: list[SourceComment] = []
    spans.sort()
    span_i = 0
    offset = 0
    for number, line in enumerate(text.split("\n")):
        start = 0
        while (pos := line.find("#", start)) >= 0:
            absolute = offset + pos
            while span_i < len(spans) and spans[span_i][1] <= absolute:
                span_i += 1
            inside = span_i < len(spans) and spans[span_i][0] <= absolute
            if not inside and (pos == 0 or line[pos - 1] in " \t"):
                body = line[pos + 1 :].rstrip("\r")
                out.append(SourceComment(number, pos, body, not line[:pos].strip()))
                break
            start = pos + 1
        offset += len(line) + 1
    return out


class _Comments:
    """Comments in line order; taking them is linear overall, not per lookup."""

    def __init__(self, comments: list[SourceComment]) -> None:
        self.own = [c for c in comments if c.own_line]
        self.inline = [c for c in comments if not c.own_line]

    def take_own(self, before: int, min_column: int) -> list[SourceComment]:
        taken: list[SourceComment] = []
        kept: list[SourceComment] = []
        i = 0
        while i < len(self.own) and self.own[i].line < before:
            (taken if self.own[i].column >= min_column else kept).append(self.own[i])
            i += 1
        if taken:
            self.own[:i] = kept
        return taken

    def take_inline(self, first: int, last: int) -> list[SourceComment]:
        i = 0
        while i < len(self.inline) and self.inline[i].line <= last:
            i += 1
        taken = [c for c in self.inline[:i] if c.line >= first]
        if taken:
            self.inline[:i] = [c for c in self.inline[:i] if c.line < first]
        return taken


class Composer:
    def __init__(self, events: list[Ev], comments: list[SourceComment], source: str) -> None:
        self.events = events
        self.pos = 0
        self.comments = _Comments(comments)
        self.source = source
        self.anchors: dict[str, Value] = {}

    def next(self) -> Ev:
        event = self.events[self.pos]
        self.pos += 1
        return event

    def own_line(self, before: int, min_column: int = 0) -> list[tuple[str | Comment, Value]]:
        return [(Comment(c.text), None) for c in self.comments.take_own(before, min_column)]

    def documents(self) -> Iterator[Branch]:
        while self.events[self.pos].kind != "stream_end":
            if self.next().kind == "doc_start":
                self.anchors = {}
                yield self.document()

    def document(self) -> Branch:
        first = self.events[self.pos]
        if first.kind == "map_start":
            self.next()
            branch = self.mapping(first)
        elif first.kind == "scalar" and first.value == "" and first.style is None:
            self.next()
            branch = Branch()
        else:
            raise ConfigError(
                "YAML documents that are not mappings are not supported", field=self.source
            )
        end = self.next()
        return Branch(branch.items + tuple(self.own_line(end.end_line + 1)))

    def value(self) -> Value:
        event = self.next()
        if event.kind == "alias":
            if event.anchor not in self.anchors:
                raise ConfigError(f"unknown alias {event.anchor!r}", field=self.source)
            return self.anchors[event.anchor]
        if event.kind == "scalar":
            result: Value = self.scalar(event)
        elif event.kind == "map_start":
            result = self.mapping(event)
        elif event.kind == "seq_start":
            result = self.sequence(event)
        else:
            raise ConfigError("unexpected YAML structure", field=self.source)
        if event.anchor:
            self.anchors[event.anchor] = result
        return result

    def scalar(self, event: Ev) -> Value:
        if event.style == '"' and _has_surrogate(event.value):
            # Only a `\uD800` escape yields one (the text was strict UTF-8); go-yaml refuses it.
            raise ConfigError(
                f"has an escape for a UTF-16 surrogate at line {event.line + 1}, which is not a "
                "character; go-yaml refuses it too",
                field=self.source,
            )
        tag = event.tag
        if tag is None and event.style is None:
            return resolve_plain(event.value)
        if tag is None or tag == "!" or not tag.startswith(_TAG):
            return event.value
        kind = tag[len(_TAG) :]
        if kind == "binary":
            try:
                return base64.b64decode("".join(event.value.split()), validate=True)
            except (binascii.Error, ValueError):
                raise ConfigError("has invalid !!binary data", field=self.source) from None
        if kind in {"int", "float", "bool", "null", "timestamp"}:
            value = resolve_plain(event.value)
            if kind == "float" and isinstance(value, int) and not isinstance(value, bool):
                return float(value)
            return value
        return event.value

    def mapping(self, start: Ev) -> Branch:
        items: list[tuple[str | Comment, Value]] = []
        seen: set[str] = set()
        while self.events[self.pos].kind != "map_end":
            line = self.events[self.pos].line
            items += self.own_line(line)
            key = self.value()
            if not isinstance(key, str):
                raise ConfigError("only string keys are supported", field=self.source)
            if key in seen:
                raise ConfigError(f"duplicate key {key!r}", field=self.source)
            seen.add(key)
            if self.events[self.pos].kind in {"scalar", "alias"}:
                value = self.value()
                last = self.events[self.pos - 1].end_line
                items += [(Comment(c.text, True), None) for c in self.take_inline(line, last)]
            else:
                items += [(Comment(c.text), None) for c in self.take_inline(line, line)]
                value = self.value()
            items.append((key, value))
        end = self.next()
        if not start.flow:
            items += self.own_line(end.line, start.column)
        return Branch(tuple(items))

    def take_inline(self, first: int, last: int) -> list[SourceComment]:
        return self.comments.take_inline(first, last)

    def sequence(self, start: Ev) -> tuple[Value, ...]:
        items: list[Value] = []
        while self.events[self.pos].kind != "seq_end":
            event = self.events[self.pos]
            items += [c for c, _ in self.own_line(event.line)]
            value = self.value()
            if event.kind in {"scalar", "alias"}:
                last = self.events[self.pos - 1].end_line
                items += [Comment(c.text, True) for c in self.take_inline(event.line, last)]
            items.append(value)
        end = self.next()
        if not start.flow:
            items += [c for c, _ in self.own_line(end.line, start.column)]
        return tuple(items)


def _has_surrogate(text: str) -> bool:
    return any("\ud800" <= char <= "\udfff" for char in text)
