"""Public entry points: parse (cached per template text) and render, as ESO's engine v2 does.

ESO renders each `target.template.data` value as its own Go template named after its key, with
`missingkey=error`, over a map[string]string of the provider data (bytes converted to strings).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from secretsync.errors import TemplateError, TemplateLimitExceeded
from secretsync.redact import Redactor
from secretsync.template.executor import ExecError, ExecLimit, Executor
from secretsync.template.funcs import FUNCS, SPECIALS, has_func
from secretsync.template.goyaml import YAMLError, unmarshal_yaml
from secretsync.template.nodes import Tree
from secretsync.template.parser import ParseError, parse
from secretsync.template.values import StringMap, from_bytes, to_bytes, type_name

DEFAULT_LEFT = "{{"
DEFAULT_RIGHT = "}}"
PARSE_CACHE_SIZE = 4096


@dataclass(frozen=True, slots=True)
class Template:
    """A parsed template, reusable across renders and threads."""

    tree: Tree

    def execute(self, data: Any, key: str = "") -> str:
        """Run the template over `data` (Go-shaped Python values; see values.py)."""
        defines = dict(self.tree.defines)
        executor = Executor(FUNCS, SPECIALS, defines)
        try:
            return executor.run(self.tree.body, data)
        except ExecLimit as exc:
            raise _error(key, self.tree.text, str(exc), exc.pos, TemplateLimitExceeded) from None
        except ExecError as exc:
            raise _error(key, self.tree.text, str(exc), exc.pos) from None
        except RecursionError:
            raise TemplateError("template nested too deeply", key=key) from None


def compile_template(
    text: str, key: str = "", left: str = DEFAULT_LEFT, right: str = DEFAULT_RIGHT
) -> Template:
    """Parse `text`, reusing an earlier parse of the same text and delimiters."""
    try:
        return _parse_cached(text, left, right)
    except ParseError as exc:
        raise _error(key, text, str(exc), exc.pos) from None
    except RecursionError:
        raise TemplateError("template nested too deeply", key=key) from None


@lru_cache(maxsize=PARSE_CACHE_SIZE)
def _parse_cached(text: str, left: str, right: str) -> Template:
    return Template(parse("", text, has_func, left, right))


def render_string(
    key: str,
    text: str,
    data: Mapping[str, str],
    left: str = DEFAULT_LEFT,
    right: str = DEFAULT_RIGHT,
) -> str:
    """Render one template over string data; raises TemplateError.

    Messages are not redacted here; callers holding secret data should use `render`.
    """
    template = compile_template(text, key, left, right)
    return template.execute(StringMap(data), key)


def render(
    templates: Mapping[str, str],
    data: Mapping[str, bytes],
    *,
    left: str = DEFAULT_LEFT,
    right: str = DEFAULT_RIGHT,
) -> dict[str, bytes]:
    """Render every template over the provider data, as ESO's `execute` does for scope Values.

    Errors name the key and position, and are redacted of every data value as a safety net.
    """
    strings = StringMap({k: from_bytes(v) for k, v in data.items()})
    out: dict[str, bytes] = {}
    for key, text in templates.items():
        try:
            template = compile_template(text, key, left, right)
            out[key] = to_bytes(template.execute(strings, key))
        except TemplateError as exc:
            redact = Redactor(data.values())
            raise type(exc)(redact(exc.reason), key=key, line=exc.line, column=exc.column) from None
    return out


def render_keys_and_values(
    text: str,
    data: Mapping[str, bytes],
    *,
    left: str = DEFAULT_LEFT,
    right: str = DEFAULT_RIGHT,
) -> dict[str, bytes]:
    """ESO's scope KeysAndValues (and every templateFrom literal): render the whole text, then
    read it as a YAML map of string keys to string values."""
    rendered = render({text: text}, data, left=left, right=right)[text]
    try:
        parsed = unmarshal_yaml(from_bytes(rendered))
    except YAMLError as exc:
        raise TemplateError(f"could not unmarshal template to 'map[string][]byte': {exc}") from None
    if parsed is None:
        return {}
    if not isinstance(parsed, dict):
        raise TemplateError("could not unmarshal template to 'map[string][]byte': not a map")
    out: dict[str, bytes] = {}
    for key, value in parsed.items():
        if value is not None and not isinstance(value, str):
            raise TemplateError(
                f"could not unmarshal template to 'map[string][]byte': the value of {key!r} "
                f"is a {type_name(value)}, not a string"
            )
        out[key] = to_bytes(value or "")
    return out


def _error(
    key: str, text: str, message: str, pos: int, kind: type[TemplateError] = TemplateError
) -> TemplateError:
    line = text.count("\n", 0, pos) + 1
    column = pos - (text.rfind("\n", 0, pos) + 1) + 1
    return kind(message, key=key, line=line, column=column)
