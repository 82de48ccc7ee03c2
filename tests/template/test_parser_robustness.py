"""Arbitrary input never crashes the engine: it renders or raises TemplateError, nothing else."""

from __future__ import annotations

import contextlib

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from secretsync.errors import TemplateError
from secretsync.template import render_string

# Fragments that steer generated text into the grammar's corners more often than raw text would.
FRAGMENTS = [
    "{{",
    "}}",
    "{{-",
    "-}}",
    " ",
    ".",
    ".a",
    "$",
    "$x",
    ":=",
    "=",
    "|",
    "(",
    ")",
    ",",
    '"s"',
    "`r`",
    "'c'",
    "1",
    "-1.5e3",
    "0x1F",
    "nil",
    "true",
    "if",
    "else",
    "end",
    "range",
    "with",
    "define",
    "template",
    "block",
    "break",
    "continue",
    "/*",
    "*/",
    "printf",
    "index",
    "len",
    "and",
    "or",
    "not",
    "eq",
    "b64dec",
    "toJson",
    "fromJson",
    "list",
    "dict",
    "\n",
    "x",
]
template_text = st.one_of(
    st.text(max_size=60),
    st.lists(st.sampled_from(FRAGMENTS), max_size=25).map("".join),
)
DATA = {"a": "1", "x": '{"k": [1, 2]}', "pw": "secret"}


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(template_text)
def test_arbitrary_templates_render_or_raise_template_error(text: str) -> None:
    try:
        result = render_string("key", text, DATA)
    except TemplateError as exc:
        assert exc.key == "key"
    else:
        assert isinstance(result, str)


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=40))
def test_arbitrary_data_never_breaks_a_valid_template(value: str) -> None:
    template = "{{ .v | b64dec }}{{ .v | fromJson }}{{ .v | quote }}{{ .v | toJson }}{{ len .v }}"
    with contextlib.suppress(TemplateError):
        render_string("key", template, {"v": value})
