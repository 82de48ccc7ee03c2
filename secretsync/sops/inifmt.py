"""The INI store (stores/ini), following gopkg.in/ini.v1 as sops configures it.

Every section becomes a top-level key holding a mapping of string values. ini.v1 quirks kept:
the delimiter is the first `=` or `:`, an unquoted value ends at the first `#` or `;`, comments
attach to the next key or section, and keys are aligned with ` = ` when written.
"""

from __future__ import annotations

from secretsync.errors import ConfigError
from secretsync.sops.dotenvfmt import value_to_string
from secretsync.sops.tree import Branch, Comment, Value

DEFAULT_SECTION = "DEFAULT"


def _strip_comment_char(comment: str) -> str:
    if comment.startswith(";"):
        return comment.lstrip("; ")
    if comment.startswith("#"):
        return comment.lstrip("# ")
    return comment


def _read_value(raw: str, lines: list[str], comment: list[str]) -> str:
    line = raw.lstrip()
    if not line:
        return ""
    for quote in ('"""', "`"):
        if line.startswith(quote) and len(line) > len(quote):
            end = line.rfind(quote, len(quote))
            if end >= len(quote):
                return line[len(quote) : end]
            raise ConfigError("multi-line INI values are not supported", field="ini")
    line = line.strip()
    if line.endswith("\\"):
        raise ConfigError("INI continuation lines are not supported", field="ini")
    cut = min((i for i in (line.find("#"), line.find(";")) if i >= 0), default=-1)
    if cut >= 0:
        comment.append(line[cut:])
        line = line[:cut].strip()
    if len(line) >= 2 and line[0] == line[-1] and line[0] in "'\"":
        line = line[1:-1]
    return line


def _key_name(line: str, where: str) -> tuple[str, str]:
    if line[0] in '"`':
        quote = '"""' if line.startswith('"""') and len(line) > 6 else line[0]
        end = line.find(quote, len(quote))
        rest = line[end + len(quote) :] if end >= 0 else ""
        cut = min((i for i in (rest.find("="), rest.find(":")) if i >= 0), default=-1)
        if end < 0 or cut < 0:
            raise ConfigError("has a key without a value", field=where)
        return line[len(quote) : end].strip(), rest[cut + 1 :]
    cut = min((i for i in (line.find("="), line.find(":")) if i >= 0), default=-1)
    if cut <= 0:
        raise ConfigError("has a line that is neither a section nor key = value", field=where)
    return line[:cut].strip(), line[cut + 1 :]


def load(data: bytes, source: str = "input") -> tuple[Branch, ...]:
    text = data.decode("utf-8", "surrogateescape").removeprefix("\ufeff")
    sections: list[tuple[str, list[tuple[str | Comment, Value]], dict[str, int]]] = [
        (DEFAULT_SECTION, [], {})
    ]
    comment: list[str] = []
    for number, raw in enumerate(text.split("\n"), start=1):
        line = raw.lstrip()
        if not line:
            continue
        if line[0] in "#;":
            comment.append(line)
            continue
        if line[0] == "[":
            close = line.rfind("]")
            if close < 0:
                raise ConfigError("has an unclosed section header", field=f"{source}:{number}")
            rest = line[close + 1 :]
            inline = min((i for i in (rest.find("#"), rest.find(";")) if i >= 0), default=-1)
            if inline >= 0:
                comment.append(rest[inline:])
            items: list[tuple[str | Comment, Value]] = []
            if "".join(comment).strip():
                items.append((Comment(_strip_comment_char("\n".join(comment).strip())), None))
            sections.append((line[1:close], items, {}))
            comment = []
            continue
        key, rest = _key_name(line, f"{source}:{number}")
        value = _read_value(rest, [], comment)
        _add_key(sections[-1], key, value, comment)
        comment = []
    return (Branch(tuple((name, Branch(tuple(items))) for name, items, _ in sections)),)


def _add_key(
    section: tuple[str, list[tuple[str | Comment, Value]], dict[str, int]],
    key: str,
    value: str,
    comment: list[str],
) -> None:
    _, items, index = section
    # ini.v1 keeps one value per key name: a repeated key overwrites the first.
    if key in index:
        items[index[key]] = (key, value)
        return
    index[key] = len(items)
    items.append((key, value))
    text = "\n".join(comment).strip()
    if text:
        items.append((Comment(_strip_comment_char(text)), None))


def _comment_lines(text: str) -> list[str]:
    out = []
    for line in text.split("\n"):
        if line[:1] in {"#", ";"}:
            out.append(line[:1] + " " + line[1:].strip())
        else:
            out.append("; " + line.strip())
    return out


def _quote_key(name: str) -> str:
    if '"' in name or "=" in name or ":" in name:
        return f"`{name}`"
    if "`" in name:
        return f'"""{name}"""'
    return name


def _quoted_length(name: str) -> int:
    size = len(_utf8(name))
    if '"' in name or "=" in name or ":" in name:
        return size + 2
    return size + 6 if "`" in name else size


def _utf8(text: str) -> bytes:
    # load() keeps bytes that are not UTF-8 as surrogates; they are written back unchanged.
    return text.encode("utf-8", "surrogateescape")


def _quote_value(value: str) -> str:
    if "\n" in value or "`" in value:
        return f'"""{value}"""'
    if "#" in value or ";" in value:
        return f"`{value}`"
    if value.strip() != value:
        return f'"{value}"'
    return value


def _section_lines(name: str, branch: Branch, first: bool) -> list[str] | None:
    items = list(branch.items)
    lines: list[str] = []
    head = items[0][0] if items else None
    if isinstance(head, Comment):
        lines += _comment_lines(head.value)
        items.pop(0)
    keys = [(k, v) for k, v in items if isinstance(k, str)]
    if first and name.upper() == DEFAULT_SECTION and not keys:
        return None
    if not (first and name.upper() == DEFAULT_SECTION):
        lines.append(f"[{name}]")
    comments: dict[str, str] = {}
    last = None
    for key, _value in items:
        if isinstance(key, Comment) and last is not None:
            comments[last] = key.value
        elif isinstance(key, str):
            last = key
    # ini.v1 aligns ` = ` by byte length, counting the quotes it will add.
    width = max((_quoted_length(k) for k, _ in keys), default=0)
    for key, value in keys:
        if key in comments:
            lines += _comment_lines(comments[key])
        quoted = _quote_key(key)
        text = _quote_value(value_to_string(value))
        lines.append(f"{quoted}{' ' * (width - len(_utf8(quoted)))} = {text}")
    return lines


def emit(branches: tuple[Branch, ...]) -> bytes:
    blocks: list[list[str]] = []
    sections = [(k, v) for b in branches for k, v in b.items if not isinstance(k, Comment)]
    for index, (name, value) in enumerate(sections):
        if not isinstance(value, Branch) or not isinstance(name, str):
            raise ConfigError("INI sections must be mappings", field=str(name))
        lines = _section_lines(name, value, first=index == 0)
        if lines is not None:
            blocks.append(lines)
    return _utf8("\n".join("\n".join(lines) + "\n" for lines in blocks))
