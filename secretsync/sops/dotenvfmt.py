"""The dotenv store (stores/dotenv): `KEY=value` lines, `#` comments, `\\n` escapes.

Like sops, quotes and `export` are not interpreted and keys are not trimmed.
"""

from __future__ import annotations

from secretsync.errors import ConfigError
from secretsync.sops.tree import Branch, Comment, GoTime, Value
from secretsync.sops.values import format_float


def load(data: bytes, source: str = "input") -> tuple[Branch, ...]:
    items: list[tuple[str | Comment, Value]] = []
    for number, raw in enumerate(data.split(b"\n"), start=1):
        if not raw:
            continue
        line = raw.decode("utf-8", "surrogateescape")
        if line.startswith("#"):
            items.append((Comment(line[1:]), None))
            continue
        key, sep, value = line.partition("=")
        if not sep:
            raise ConfigError("is not a KEY=value line", field=f"{source}:{number}")
        items.append((key, value.replace("\\n", "\n")))
    return (Branch(tuple(items)),)


def value_to_string(value: Value) -> str:
    """`stores.ValToString`, which dotenv and INI use for non-string values."""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        text = format_float(value)
        return text if "." in text else f"{text}.0"
    if isinstance(value, GoTime):
        return value.text
    if value is None:
        return "<nil>"
    if isinstance(value, Branch | tuple):
        raise ConfigError("nested values cannot be written to a dotenv or INI file", field="value")
    return str(value)


def emit(branches: tuple[Branch, ...]) -> bytes:
    lines: list[str] = []
    for key, value in branches[0].items if branches else ():
        if isinstance(key, Comment):
            lines.append(f"#{key.value}\n")
            continue
        text = value.replace("\n", "\\n") if isinstance(value, str) else value_to_string(value)
        lines.append(f"{key}={text}\n")
    return "".join(lines).encode("utf-8", "surrogateescape")
