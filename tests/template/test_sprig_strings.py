"""sprig's case and slicing functions, table-driven; expected outputs from Go's sprig v3.3."""

# ruff: noqa: E501 - table rows are whole templates; wrapping them would hide what is tested

from __future__ import annotations

import pytest

from secretsync.template import render, render_string

STRINGS_CASES: list[tuple[str, dict[str, str], str]] = [
    (
        '{{ snakecase "FirstName" }}|{{ snakecase "HTTPServer" }}|{{ snakecase "NoHTTPS" }}|{{ snakecase "GO_PATH" }}|{{ snakecase "GO PATH" }}|{{ snakecase "GO-PATH" }}|{{ snakecase "http2xx" }}|{{ snakecase "HTTP20xOK" }}|{{ snakecase "Duration2m3s" }}|{{ snakecase "Bld4Floor3rd" }}',
        {},
        "first_name|http_server|no_https|go_path|go_path|go_path|http_2xx|http_20x_ok|duration_2m3s|bld4_floor_3rd",
    ),
    (
        '{{ kebabcase "FirstName" }}|{{ kebabcase "HTTPServer" }}|{{ kebabcase "a_b c" }}|{{ camelcase "http_server" }}|{{ camelcase "some-long_name here" }}|{{ camelcase "alreadyCamel" }}|{{ camelcase "_x_y" }}|{{ camelcase "hello world" }}|{{ camelcase "HTTP_SERVER" }}',
        {},
        "first-name|http-server|a-b-c|HttpServer|SomeLongNameHere|AlreadyCamel|_XY|HelloWorld|HttpServer",
    ),
    (
        '{{ title "hello wORLD" }}|{{ title "ünïcode wörds" }}|{{ swapcase "Hello World" }}|{{ untitle "HELLO" }}|{{ initials "hello  big world" }}|{{ abbrev 8 "hello world foo" }}|{{ abbrevboth 2 9 "hello world foo" }}|{{ wrap 10 "a very long sentence that wraps" }}',
        {},
        "Hello WORLD|Ünïcode Wörds|hELLO wORLD|hELLO|hbw|hello...|hello ...|a very\nlong\nsentence\nthat wraps",
    ),
]


@pytest.mark.parametrize(("template", "data", "expected"), STRINGS_CASES)
def test_strings_match_go(template: str, data: dict[str, str], expected: str) -> None:
    assert render_string("key", template, data) == expected


def test_byte_slicing_cuts_inside_a_utf8_sequence_as_go_does() -> None:
    out = render({"k": '{{ trunc 3 "héllo" }}|{{ substr 0 2 "héllo" }}|{{ len "straße" }}'}, {})
    assert out == {"k": b"h\xc3\xa9|h\xc3|7"}
