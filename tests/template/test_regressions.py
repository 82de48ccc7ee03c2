"""Cases where an earlier version differed from Go, found by differential fuzzing against
Go's text/template + sprig; expected outputs are Go's."""

# ruff: noqa: E501 - table rows are whole templates; wrapping them would hide what is tested

from __future__ import annotations

import pytest

from secretsync.errors import TemplateError
from secretsync.template import render_string

REGRESSION_CASES: list[tuple[str, dict[str, str], str]] = [
    (
        '{{ snakecase "%d-%s" }}|{{ snakecase "a.b.c" }}|{{ snakecase "Hello, World!" }}|{{ kebabcase "x@y.z" }}|{{ snakecase "(abc)Def" }}|{{ snakecase "a..B" }}|{{ snakecase "foo.Bar" }}|{{ snakecase "v1.2.3" }}|{{ kebabcase "FOO.bar" }}',
        {},
        "%d_%s|a.b.c|hello,_world!|x@y.z|(abc)def|a..b|foo.bar|v1.2.3|foo.bar",
    ),
    (
        '{{ "x-y_z" | omit nil }}|{{ rest (list) }}|{{ initial (list) }}|{{ first (list) }}|{{ keys nil }}|{{ join "," nil }}',
        {},
        "map[]|[]|[]|<no value>|[]|",
    ),
    (
        '{{ printf "%*d|%.*f|%d" "x" 5 nil 2 }}|{{ printf "%d" 1 nil }}|{{ printf "%-5.2T|" 1 }}|{{ printf "%x|%X|% x" (list 10 255) (list "a" "b") "hi" }}|{{ printf "%d" (dict "a" 1 "b" "x") }}|{{ printf "%+5.g" -42 }}|{{ printf "%05.2g" "" }}|{{ printf "%.10s" \'x\' }}|{{ printf "%5." 1 }}|{{ printf "%#U|%#U" 0x1F600 1 }}\n',
        {},
        "%!(BADWIDTH)5|%!(BADPREC)%!f(int=2)|%!d(MISSING)|1%!(EXTRA <nil>)|in   ||[a ff]|[61 62]|68 69|map[%!d(string=a):1 %!d(string=b):%!d(string=x)]|%!g(int=  -42)|%!g(string=00000)|%!s(int=0000000120)|%!.(int=    1)|U+1F600 '😀'|U+0001\n",
    ),
]
REGRESSION_ERRORS: list[tuple[str, dict[str, str], str]] = [
    (
        '{{ omit $ "a" }}',
        {"a": "1"},
        "wrong type for value; expected map[string]interface {}; got map[string]string",
    ),
    (
        '{{ hasKey . "a" }}',
        {"a": "1"},
        "wrong type for value; expected map[string]interface {}; got map[string]string",
    ),
    (
        '{{ get . "a" }}',
        {"a": "1"},
        "wrong type for value; expected map[string]interface {}; got map[string]string",
    ),
]


@pytest.mark.parametrize(("template", "data", "expected"), REGRESSION_CASES)
def test_matches_go(template: str, data: dict[str, str], expected: str) -> None:
    assert render_string("key", template, data) == expected


@pytest.mark.parametrize(("template", "data", "message"), REGRESSION_ERRORS)
def test_fails_like_go(template: str, data: dict[str, str], message: str) -> None:
    with pytest.raises(TemplateError) as info:
        render_string("key", template, data)
    assert message in str(info.value)
