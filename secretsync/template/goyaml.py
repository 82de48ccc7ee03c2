"""The YAML that ESO's toYaml/fromYaml produce and accept (sigs.k8s.io/yaml over go-yaml v2),
for the JSON-shaped values templates handle.

This is deliberately small: a block-style emitter matching go-yaml v2's choices (sorted keys,
sequences not indented under their key, literal blocks for multi-line strings, quotes only where
a plain scalar would read back differently) and a parser for block mappings and sequences, plain
and quoted scalars, literal/folded blocks and simple flow collections. ruamel.yaml belongs to
the SOPS engine, so it is not used here.
"""

from __future__ import annotations

import math
import re
from typing import Any

from secretsync.template.gojson import encode_float
from secretsync.template.values import format_float, sort_key


class YAMLError(ValueError):
    """Input outside the YAML subset we read, or a value Go's marshaller rejects."""


_BOOL_WORDS = {
    **dict.fromkeys(["y", "Y", "yes", "Yes", "YES", "on", "On", "ON"], True),
    **dict.fromkeys(["true", "True", "TRUE"], True),
    **dict.fromkeys(["n", "N", "no", "No", "NO", "off", "Off", "OFF"], False),
    **dict.fromkeys(["false", "False", "FALSE"], False),
}
_NULL_WORDS = {"", "~", "null", "Null", "NULL"}
_INT = re.compile(r"^[-+]?(0|[1-9][0-9_]*|0[0-7_]+|0o[0-7_]+|0x[0-9a-fA-F_]+|0b[01_]+)$")
_FLOAT = re.compile(r"^[-+]?(\.[0-9]+|[0-9][0-9_]*(\.[0-9_]*)?)([eE][-+]?[0-9]+)?$")
_SPECIAL_FLOATS = {".inf": math.inf, "+.inf": math.inf, "-.inf": -math.inf, ".nan": math.nan}
_INDICATORS = set("-?:,[]{}#&*!|>'\"%@`")


def resolve_plain(text: str) -> Any:  # noqa: PLR0911 - one per YAML 1.1 type
    """What go-yaml v2 reads a plain scalar as (YAML 1.1: yes/no/on/off are booleans)."""
    if text in _NULL_WORDS:
        return None
    if text in _BOOL_WORDS:
        return _BOOL_WORDS[text]
    if _INT.match(text):
        clean = text.replace("_", "")
        sign = -1 if clean.startswith("-") else 1
        body = clean.lstrip("+-")
        if len(body) > 1 and body[0] == "0" and body[1].isdigit():
            return sign * int(body, 8)
        return sign * int(body, 0)
    if _FLOAT.match(text) and any(c.isdigit() for c in text):
        return float(text.replace("_", ""))
    if text.lower() in _SPECIAL_FLOATS:
        return _SPECIAL_FLOATS[text.lower()]
    return text


# -- emitter -----------------------------------------------------------------------------------
def marshal_yaml(value: Any) -> str:
    """sigs.k8s.io/yaml.Marshal: via JSON (so floats that are integral become ints)."""
    return "".join(_emit(_jsonish(value), 0, top=True))


def _jsonish(value: Any) -> Any:
    if isinstance(value, float):
        text = encode_float(value)
        return int(text) if re.fullmatch(r"-?\d+", text) else float(text)
    if isinstance(value, dict):
        return {str(k): _jsonish(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonish(v) for v in value]
    if value is None or isinstance(value, (bool, int, str)):
        return value
    raise YAMLError(f"json: unsupported type: {type(value).__name__}")


def _emit(value: Any, indent: int, top: bool = False) -> list[str]:
    pad = " " * indent
    if isinstance(value, dict) and value:
        out = []
        for key in sorted(value, key=sort_key):
            out.append(f"{pad}{_scalar(key, indent)}:{_after_key(value[key], indent)}")
        return out
    if isinstance(value, list) and value:
        out = []
        for item in value:
            body = "".join(_emit(item, indent + 2)).lstrip(" ")
            out.append(f"{pad}- {body}" if body.strip() else f"{pad}-\n")
        return out
    return [pad + _scalar(value, indent) + "\n"]


def _after_key(value: Any, indent: int) -> str:
    if isinstance(value, dict) and value:
        return "\n" + "".join(_emit(value, indent + 2))
    if isinstance(value, list) and value:
        return "\n" + "".join(_emit(value, indent))
    return " " + _scalar(value, indent) + "\n"


def _scalar(value: Any, indent: int) -> str:  # noqa: PLR0911 - one per kind
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if math.isnan(value):
            return ".nan"
        if math.isinf(value):
            return ".inf" if value > 0 else "-.inf"
        return format_float(value)
    if isinstance(value, dict):
        return "{}"
    if isinstance(value, list):
        return "[]"
    return _string(str(value), indent)


def _string(text: str, indent: int) -> str:
    if "\n" in text and _block_allowed(text):
        chomp = "-" if not text.endswith("\n") else ("+" if text.endswith("\n\n") else "")
        pad = " " * (indent + 2)
        lines = text.removesuffix("\n").split("\n") if chomp != "+" else text[:-1].split("\n")
        return f"|{chomp}\n" + "\n".join(pad + line if line else "" for line in lines)
    if resolve_plain(text) != text or not isinstance(resolve_plain(text), str):
        return _double_quoted(text)
    if _plain_allowed(text):
        return text
    if "\n" not in text and all(c.isprintable() for c in text):
        return "'" + text.replace("'", "''") + "'"
    return _double_quoted(text)


def _plain_allowed(text: str) -> bool:
    if not text or text != text.strip(" ") or text[0] in _INDICATORS - {"-", "?", ":"}:
        return False
    if text[0] in "-?:" and (len(text) == 1 or text[1] == " "):
        return False
    if ": " in text or " #" in text or text.endswith(":") or "\t" in text:
        return False
    return all(c.isprintable() for c in text)


def _block_allowed(text: str) -> bool:
    return (
        all(c.isprintable() or c == "\n" for c in text)
        and not text.startswith((" ", "\n"))
        and " \n" not in text
    )


def _double_quoted(text: str) -> str:
    escapes = {'"': '\\"', "\\": "\\\\", "\n": "\\n", "\t": "\\t", "\r": "\\r"}
    out = []
    for ch in text:
        if ch in escapes:
            out.append(escapes[ch])
        elif not ch.isprintable():
            out.append(f"\\x{ord(ch):02X}" if ord(ch) < 0x100 else f"\\u{ord(ch):04X}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


def unmarshal_yaml(text: str) -> Any:
    """sigs.k8s.io/yaml.Unmarshal into interface{}: YAML to JSON, so numbers become float64."""
    from secretsync.template.goyaml_parse import parse_yaml  # noqa: PLC0415 - avoids a cycle

    return _json_numbers(parse_yaml(text))


def _json_numbers(value: Any) -> Any:
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, (int, float)):
        if isinstance(value, float) and (math.isnan(value) or math.isinf(value)):
            raise YAMLError("error converting YAML to JSON: json: unsupported value")
        return float(value)
    if isinstance(value, dict):
        return {_json_key(k): _json_numbers(v) for k, v in value.items()}
    return [_json_numbers(v) for v in value]


def _json_key(key: Any) -> str:
    if isinstance(key, str):
        return key
    if isinstance(key, bool):
        return "true" if key else "false"
    if isinstance(key, float):
        return format_float(key)
    return "null" if key is None else str(key)
