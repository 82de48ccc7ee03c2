"""Loading YAML the way sops (go-yaml v3) does; the only importer of ruamel.yaml.

Files in the shape sops writes go through the fast line parser (yamlfast.py). Anything else is
parsed here with ruamel's event API, and both feed the same composer (yamlcompose.py): library
composers apply merge keys and YAML 1.1 resolution, which would change the tree and so the MAC.
"""

from __future__ import annotations

from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.events import (
    AliasEvent,
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
)

from secretsync.errors import ConfigError
from secretsync.sops.tree import Branch
from secretsync.sops.yamlcompose import EOF_LINE, Composer, Ev, scan_comments
from secretsync.sops.yamlfast import parse as fast_parse

_KINDS: dict[type, str] = {
    DocumentStartEvent: "doc_start",
    DocumentEndEvent: "doc_end",
    MappingStartEvent: "map_start",
    MappingEndEvent: "map_end",
    SequenceStartEvent: "seq_start",
    SequenceEndEvent: "seq_end",
    ScalarEvent: "scalar",
    AliasEvent: "alias",
    StreamEndEvent: "stream_end",
}


def _end_line(event: Any) -> int:
    end = event.end_mark
    # A block scalar ends at the start of the next line; its last line is the one before.
    if getattr(event, "style", None) in {"|", ">"} and end.column == 0:
        return int(end.line) - 1
    return int(end.line)


def _convert(raw: list[Any], text: str) -> tuple[list[Ev], list[tuple[int, int]]]:
    events: list[Ev] = []
    spans: list[tuple[int, int]] = []
    for index, event in enumerate(raw):
        kind = _KINDS.get(type(event))
        if kind is None:
            continue
        ev = Ev(kind, event.start_mark.line, event.start_mark.column, _end_line(event))
        if kind == "scalar":
            ev.value, ev.tag, ev.style = event.value, event.tag, event.style
        if kind in {"scalar", "map_start", "seq_start", "alias"}:
            ev.anchor = event.anchor
        if kind in {"map_start", "seq_start"}:
            ev.flow = bool(event.flow_style)
        if kind == "doc_end" and not event.explicit:
            ev.end_line = _next_document_line(raw, index)
        if kind == "scalar":
            start, end = event.start_mark.index, event.end_mark.index
            if event.style in {"|", ">"}:
                # A comment may follow the block indicator, on the indicator's line.
                start = text.find("\n", start) + 1 or end
            spans.append((start, end))
        events.append(ev)
    return events, spans


def _next_document_line(raw: list[Any], index: int) -> int:
    for event in raw[index + 1 :]:
        if isinstance(event, DocumentStartEvent):
            return int(event.start_mark.line) - 1
    return EOF_LINE


def load_events(text: str, source: str) -> list[Any]:
    try:
        return list(YAML(typ="safe", pure=True).parse(text))
    except MarkedYAMLError as exc:
        where = exc.problem_mark
        line = f" at line {where.line + 1}, column {where.column + 1}" if where else ""
        # The problem text can quote the offending line, which may hold a secret value.
        raise ConfigError(f"is not valid YAML{line}", field=source) from None
    except YAMLError:
        raise ConfigError("is not valid YAML", field=source) from None
    except ValueError:
        # ruamel's chr() on an escape beyond U+10FFFF; go-yaml refuses it too.
        raise ConfigError(
            "is not valid YAML: an escape names no Unicode character", field=source
        ) from None


def load(data: bytes, source: str = "input") -> tuple[Branch, ...]:
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError("is not valid UTF-8", field=source) from None
    fast = fast_parse(text)
    if fast is not None:
        events, spans = fast
    else:
        events, spans = _convert(load_events(text, source), text)
    comments = scan_comments(text, spans)
    return tuple(Composer(events, comments, source).documents())
