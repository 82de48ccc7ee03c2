"""sops' tree → go-yaml node → emitter events, as stores/yaml and go-yaml's encode.go do it.

Comments follow sops' placement rules (`appendTreeBranch`/`appendSequence`): head comments go to
the next key (or the collection when they come first), inline comments become the next value's
line comment, and leftovers become the last key's foot comment.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass, field

from secretsync.sops.tree import Branch, Comment, GoTime, Value
from secretsync.sops.yamlscalar import go_float_g, needs_quotes


@dataclass(frozen=True, slots=True)
class Event:
    kind: str
    value: str = ""
    tag: str = ""
    style: str = "plain"
    head: str = ""
    line: str = ""
    foot: str = ""
    tail: str = ""


@dataclass(slots=True)
class _Node:
    kind: str
    value: str = ""
    tag: str = ""
    style: str = "plain"
    head: str = ""
    line: str = ""
    foot: str = ""
    content: list[_Node] = field(default_factory=list)


def _scalar(value: Value) -> _Node:  # noqa: PLR0911 - one return per Go type, as Node.Encode switches
    """What `yaml.Node.Encode(value)` gives for a leaf."""
    if value is None:
        return _Node("scalar", "null")
    if isinstance(value, bool):
        return _Node("scalar", "true" if value else "false")
    if isinstance(value, int):
        return _Node("scalar", str(value))
    if isinstance(value, float):
        return _Node("scalar", go_float_g(value))
    if isinstance(value, GoTime):
        return _Node("scalar", value.text)
    if isinstance(value, bytes):
        return _binary(value)
    if isinstance(value, Comment):
        return _scalar(value.value)
    assert isinstance(value, str)
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        return _binary(value.encode("utf-8", "surrogateescape"))
    if "\n" in value:
        return _Node("scalar", value, style="literal")
    if value == "<<":
        # go-yaml resolves `<<` to its merge tag and writes it back tagged.
        return _Node("scalar", value, tag="!!merge")
    return _Node("scalar", value, style="double" if needs_quotes(value) else "plain")


def _binary(raw: bytes) -> _Node:
    text = base64.b64encode(raw).decode()
    if len(text) > 70:
        text = "\n".join(text[i : i + 70] for i in range(0, len(text), 70)) + "\n"
        return _Node("scalar", text, tag="!!binary", style="literal")
    return _Node("scalar", text, tag="!!binary")


def _joined(comments: list[str]) -> str:
    return "#" + "\n#".join(comments)


def _add_head(node: _Node, comments: list[str]) -> None:
    if comments:
        text = _joined(comments)
        node.head = f"{text}\n{node.head}" if node.head else text


def _add_line(node: _Node, comments: list[str]) -> None:
    if comments:
        text = _joined(comments)
        node.line = f"{node.line}\n{text}" if node.line else text


def _add_foot(node: _Node, comments: list[str]) -> None:
    if comments:
        text = _joined(comments)
        node.foot = f"{node.foot}\n{text}" if node.foot else text


def _to_node(value: Value) -> _Node:
    if isinstance(value, Branch):
        return _mapping(value)
    if isinstance(value, tuple):
        return _sequence(value)
    return _scalar(value)


def _mapping(branch: Branch) -> _Node:
    node = _Node("map")
    heads: list[str] = []
    inlines: list[str] = []
    for key, value in branch.items:
        if isinstance(key, Comment):
            (inlines if key.inline else heads).append(key.value)
            continue
        if not node.content:
            _add_head(node, heads)
            heads = []
        key_node = _scalar(key)
        _add_head(key_node, heads)
        value_node = _to_node(value)
        _add_line(value_node, inlines)
        heads, inlines = [], []
        node.content += [key_node, value_node]
    heads += inlines
    if node.content:
        _add_foot(node.content[-2], heads)
    else:
        _add_head(node, heads)
    return node


def _sequence(items: tuple[Value, ...]) -> _Node:
    node = _Node("seq")
    heads: list[str] = []
    inlines: list[str] = []
    for item in items:
        if isinstance(item, Comment):
            (inlines if item.inline else heads).append(item.value)
            continue
        if not node.content:
            _add_head(node, heads)
            heads = []
        item_node = _to_node(item)
        _add_head(item_node, heads)
        _add_line(item_node, inlines)
        heads, inlines = [], []
        node.content.append(item_node)
    heads += inlines
    if node.content:
        _add_foot(node.content[-1], heads)
    else:
        _add_head(node, heads)
    return node


def _events(node: _Node, tail: str, out: list[Event]) -> None:
    """encode.go `node()`: a key's foot comment is carried as the next key's tail."""
    if node.kind == "scalar":
        out.append(
            Event("scalar", node.value, node.tag, node.style, node.head, node.line, node.foot, tail)
        )
    elif node.kind == "seq":
        out.append(Event("seq_start", head=node.head))
        for item in node.content:
            _events(item, "", out)
        out.append(Event("seq_end", line=node.line, foot=node.foot))
    else:
        out.append(Event("map_start", head=node.head, tail=tail))
        carried = ""
        for i in range(0, len(node.content), 2):
            key, value = node.content[i], node.content[i + 1]
            foot, key.foot = key.foot, ""
            _events(key, carried, out)
            carried = foot
            _events(value, "", out)
        out.append(Event("map_end", line=node.line, foot=node.foot, tail=carried))


def events_for(branches: tuple[Branch, ...]) -> list[Event]:
    out = [Event("stream_start")]
    for branch in branches:
        out.append(Event("doc_start"))
        _events(_mapping(branch), "", out)
        out.append(Event("doc_end"))
    out.append(Event("stream_end"))
    return out
