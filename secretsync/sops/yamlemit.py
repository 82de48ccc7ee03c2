"""A port of go-yaml v3's emitter (emitterc.go), for the subset of YAML that sops writes.

Output must be byte-identical to `sops --decrypt`, so this follows the Go state machine rather
than any YAML library's own layout: block mappings and sequences, empty flow collections, the
four scalar styles sops produces, line wrapping at 80 columns, and head/line/foot comments.
"""

from __future__ import annotations

import re

from secretsync.sops.tree import Branch
from secretsync.sops.yamlnodes import Event, events_for
from secretsync.sops.yamlscalar import Analysis, analyze

BEST_WIDTH = 1 << 31
"""sops' go-yaml encoder never wraps long lines (width -1)."""

PLAIN, SINGLE, DOUBLE, LITERAL = "plain", "single", "double", "literal"


def emit(branches: tuple[Branch, ...], indent: int = 4) -> bytes:
    emitter = _Emitter(indent if 2 <= indent <= 9 else 2)
    for event in events_for(branches):
        emitter.emit(event)
    return "".join(emitter.out).encode("utf-8", "surrogateescape")


class _Emitter:
    def __init__(self, best_indent: int) -> None:
        self.out: list[str] = []
        self.best_indent = best_indent
        self.indent = -1
        self.indents: list[int] = []
        self.states: list[str] = []
        self.state = "stream_start"
        self.column = 0
        self.whitespace = True
        self.indention = True
        self.foot_indent = -1
        self.flow_level = 0
        self.events: list[Event] = []
        self.head = self.line = self.foot = self.tail = self.key_line = ""
        self.simple_key_context = self.mapping_context = False
        self.scalar: Analysis | None = None
        self.style = PLAIN
        self.tag = ""

    # --- low-level writers (put, put_break, write_indent, write_indicator) ---
    def put(self, text: str) -> None:
        self.out.append(text)
        self.column += len(text)

    def put_break(self) -> None:
        self.out.append("\n")
        self.column = 0
        self.indention = True

    def write_indent(self) -> None:
        indent = max(self.indent, 0)
        if (
            not self.indention
            or self.column > indent
            or (self.column == indent and not self.whitespace)
        ):
            self.put_break()
        if self.foot_indent == indent:
            self.put_break()
        if self.column < indent:
            self.put(" " * (indent - self.column))
        self.whitespace = True
        self.foot_indent = -1

    def write_indicator(self, text: str, need_ws: bool, is_ws: bool, is_indention: bool) -> None:
        if need_ws and not self.whitespace:
            self.put(" ")
        self.put(text)
        self.whitespace = is_ws
        self.indention = self.indention and is_indention

    def write_comment(self, comment: str) -> None:
        breaks = pound = False
        for ch in comment:
            if ch == "\n":
                self.put_break()
                breaks, pound = True, False
                continue
            if breaks:
                self.write_indent()
            if not pound:
                if ch != "#":
                    self.put("# ")
                pound = True
            self.put(ch)
            self.indention = breaks = False
        if not breaks:
            self.put_break()
        self.whitespace = True

    def process_head_comment(self) -> None:
        if self.tail:
            self.write_indent()
            self.write_comment(self.tail)
            self.tail = ""
            self.foot_indent = max(self.indent, 0)
        if self.head:
            self.write_indent()
            self.write_comment(self.head)
            self.head = ""

    def process_line_comment(self, linebreak: bool = False) -> None:
        if not self.line:
            if linebreak:
                self.put_break()
            return
        if not self.whitespace:
            self.put(" ")
        self.write_comment(self.line)
        self.line = ""

    def process_foot_comment(self) -> None:
        if not self.foot:
            return
        self.write_indent()
        self.write_comment(self.foot)
        self.foot = ""
        self.foot_indent = max(self.indent, 0)

    def increase_indent(self, flow: bool) -> None:
        self.indents.append(self.indent)
        if self.indent < 0:
            self.indent = self.best_indent if flow else 0
        elif self.states and self.states[-1] == "block_sequence_item":
            self.indent += 2
        else:
            step = self.best_indent
            self.indent = step * ((self.indent + step) // step)

    def pop_indent(self) -> None:
        self.indent = self.indents.pop()

    def pop_state(self) -> None:
        self.state = self.states.pop()

    # --- event queue (lookahead for empty collections) ---
    def emit(self, event: Event) -> None:
        self.events.append(event)
        while self.events and not self._need_more():
            current = self.events[0]
            self._analyze(current)
            getattr(self, f"_state_{self.state}")(current)
            self.events.pop(0)

    def _need_more(self) -> bool:
        accumulate = {"doc_start": 1, "seq_start": 2, "map_start": 3}.get(self.events[0].kind)
        if accumulate is None:
            return False
        if len(self.events) > accumulate:
            return False
        level = 0
        for event in self.events:
            level += (
                1 if event.kind.endswith("_start") else -1 if event.kind.endswith("_end") else 0
            )
            if level == 0:
                return False
        return True

    def _analyze(self, event: Event) -> None:
        self.head = event.head or self.head
        self.line = event.line or self.line
        self.foot = event.foot or self.foot
        self.tail = event.tail or self.tail
        self.tag = event.tag
        if event.kind == "scalar":
            self.scalar = analyze(event.value)

    def _empty_next(self, start: str, end: str) -> bool:
        return len(self.events) >= 2 and self.events[0].kind == start and self.events[1].kind == end

    # --- states ---
    def _state_stream_start(self, event: Event) -> None:
        self.state = "first_document_start"

    def _state_first_document_start(self, event: Event) -> None:
        self._document_start(event, first=True)

    def _state_document_start(self, event: Event) -> None:
        self._document_start(event, first=False)

    def _document_start(self, event: Event, first: bool) -> None:
        if event.kind == "stream_end":
            self.state = "end"
            return
        if not first:
            self.write_indent()
            self.write_indicator("---", True, False, False)
            self.write_indent()
        if self.head:
            self.process_head_comment()
            self.put_break()
        self.state = "document_content"

    def _state_document_content(self, event: Event) -> None:
        self.states.append("document_end")
        self.process_head_comment()
        self._node(event, root=True, sequence=False, mapping=False, simple_key=False)
        self.process_line_comment()
        self.process_foot_comment()

    def _state_document_end(self, event: Event) -> None:
        self.foot_indent = 0
        self.process_foot_comment()
        self.foot_indent = -1
        self.write_indent()
        self.state = "document_start"

    def _state_end(self, event: Event) -> None:
        return

    def _node(
        self, event: Event, *, root: bool, sequence: bool, mapping: bool, simple_key: bool
    ) -> None:
        self.mapping_context = mapping
        self.simple_key_context = simple_key
        if event.kind == "scalar":
            self._scalar(event)
        elif event.kind == "seq_start":
            self._process_tag()
            empty = self._empty_next("seq_start", "seq_end")
            self.state = (
                "flow_sequence_first" if empty or self.flow_level else "block_sequence_first"
            )
        elif event.kind == "map_start":
            self._process_tag()
            empty = self._empty_next("map_start", "map_end")
            self.state = "flow_mapping_first" if empty or self.flow_level else "block_mapping_first"

    def _state_block_sequence_first(self, event: Event) -> None:
        self.increase_indent(flow=False)
        self._block_sequence_item(event)

    def _state_block_sequence_item(self, event: Event) -> None:
        self._block_sequence_item(event)

    def _block_sequence_item(self, event: Event) -> None:
        if event.kind == "seq_end":
            self.pop_indent()
            self.pop_state()
            return
        self.process_head_comment()
        self.write_indent()
        self.write_indicator("-", True, False, True)
        self.states.append("block_sequence_item")
        self._node(event, root=False, sequence=True, mapping=False, simple_key=False)
        self.process_line_comment()
        self.process_foot_comment()

    def _state_block_mapping_first(self, event: Event) -> None:
        self.increase_indent(flow=False)
        self._block_mapping_key(event)

    def _state_block_mapping_key(self, event: Event) -> None:
        self._block_mapping_key(event)

    def _block_mapping_key(self, event: Event) -> None:
        self.process_head_comment()
        if event.kind == "map_end":
            self.pop_indent()
            self.pop_state()
            return
        self.write_indent()
        if self.line:
            self.key_line, self.line = self.line, ""
        self.states.append("block_mapping_simple_value")
        self._node(event, root=False, sequence=False, mapping=True, simple_key=True)

    def _state_block_mapping_simple_value(self, event: Event) -> None:
        self.write_indicator(":", False, False, False)
        if self.key_line:
            if event.kind == "scalar":
                if not self.line:
                    self.line, self.key_line = self.key_line, ""
            elif event.kind in {"map_start", "seq_start"}:
                self.line, self.key_line = self.key_line, self.line
                self.process_line_comment()
                self.line, self.key_line = self.key_line, self.line
        self.states.append("block_mapping_key")
        self._node(event, root=False, sequence=False, mapping=True, simple_key=False)
        self.process_line_comment()
        self.process_foot_comment()

    def _state_flow_sequence_first(self, event: Event) -> None:
        self._flow_empty(event, "[", "]")

    def _state_flow_mapping_first(self, event: Event) -> None:
        self._flow_empty(event, "{", "}")

    def _flow_empty(self, event: Event, open_: str, close: str) -> None:
        # sops only writes empty collections in flow style, so the first event is the end.
        self.write_indicator(open_, True, True, False)
        self.increase_indent(flow=True)
        self.flow_level += 1
        if close == "}":
            self.process_head_comment()
        self.flow_level -= 1
        self.pop_indent()
        if self.column == 0:
            self.write_indent()
        self.write_indicator(close, False, False, False)
        self.process_line_comment()
        self.process_foot_comment()
        self.pop_state()

    def _process_tag(self) -> None:
        if self.tag:
            self.write_indicator(self.tag, True, False, False)

    def _scalar(self, event: Event) -> None:
        self._select_style(event)
        self._process_tag()
        self.increase_indent(flow=True)
        self._write_scalar(event.value)
        self.pop_indent()
        self.pop_state()

    def _select_style(self, event: Event) -> None:
        data = self.scalar
        assert data is not None
        style = event.style
        if self.simple_key_context and data.multiline:
            style = DOUBLE
        if style == PLAIN:
            plain_ok = data.flow_plain if self.flow_level else data.block_plain
            if not plain_ok or (not event.value and (self.flow_level or self.simple_key_context)):
                style = SINGLE
        if style == SINGLE and not data.single_quoted:
            style = DOUBLE
        if style == LITERAL and (not data.block or self.flow_level or self.simple_key_context):
            style = DOUBLE
        self.style = style

    def _write_scalar(self, value: str) -> None:
        breaks_ok = not self.simple_key_context
        if self.style == PLAIN:
            self._write_plain(value, breaks_ok)
        elif self.style == SINGLE:
            self._write_single(value, breaks_ok)
        elif self.style == DOUBLE:
            self._write_double(value, breaks_ok)
        else:
            self._write_literal(value)

    def _write_plain(self, value: str, allow_breaks: bool) -> None:
        # go-yaml's encoder runs with an unlimited width, so plain scalars are never folded,
        # and a plain scalar never holds a line break (those are written as literals).
        if value and not self.whitespace:
            self.put(" ")
        self.put(value)
        if value:
            self.whitespace = False
        self.indention = False

    def _write_single(self, value: str, allow_breaks: bool) -> None:
        # Single quotes are only chosen for one-line values (multi-line ones become literals or
        # double-quoted), and the width is unlimited, so there is nothing to fold.
        self.write_indicator("'", True, False, False)
        self.put(value.replace("'", "''"))
        self.write_indicator("'", False, False, False)
        self.whitespace = self.indention = False

    def _write_double(self, value: str, allow_breaks: bool) -> None:
        self.write_indicator('"', True, False, False)
        if _NEEDS_ESCAPE.search(value):
            self.put("".join(_escape(ch) if _NEEDS_ESCAPE.match(ch) else ch for ch in value))
        else:
            self.put(value)
        self.write_indicator('"', False, False, False)
        self.whitespace = self.indention = False

    def _write_literal(self, value: str) -> None:
        self.write_indicator("|", True, False, False)
        if value[:1] in {" ", "\n"}:
            self.write_indicator(str(self.best_indent), False, False, False)
        if not value.endswith("\n"):
            self.write_indicator("-", False, False, False)
        elif len(value) == 1 or value[-2] == "\n":
            self.write_indicator("+", False, False, False)
        self.process_line_comment(linebreak=True)
        self.whitespace = True
        lines = value.split("\n")
        for number, line in enumerate(lines):
            if number:
                self.put_break()
            if line:
                self.write_indent()
                self.put(line)
                self.indention = False


# Characters go-yaml escapes in double quotes: non-printable ones (see is_printable), line
# breaks, the BOM, quotes and backslashes.
_NEEDS_ESCAPE = re.compile('[^\n\x20-\x7e\xa0-\ud7ff\ue000-\ufffd]|["\\\\\n\ufeff\x85\u2028\u2029]')
_DOUBLE_ESCAPED = frozenset('"\\\n\ufeff\x85\u2028\u2029\r')
_SHORT_ESCAPES = {
    "\0": "0", "\a": "a", "\b": "b", "\t": "t", "\n": "n", "\v": "v", "\f": "f", "\r": "r",
    "\x1b": "e", '"': '"', "\\": "\\", "\x85": "N", "\xa0": "_", "\u2028": "L", "\u2029": "P",
}  # fmt: skip


def _escape(ch: str) -> str:
    if ch in _SHORT_ESCAPES:
        return "\\" + _SHORT_ESCAPES[ch]
    code = ord(ch)
    if code <= 0xFF:
        return f"\\x{code:02X}"
    if code <= 0xFFFF:
        return f"\\u{code:04X}"
    return f"\\U{code:08X}"
