"""Go text/template syntax and built-ins, table-driven.

Expected outputs were produced by Go 1.26's text/template (with sprig v3.3 loaded and
missingkey=error, as ESO configures it) on the same templates and data.
"""

# ruff: noqa: E501 - table rows are whole templates; wrapping them would hide what is tested

from __future__ import annotations

import pytest

from secretsync.errors import TemplateError
from secretsync.template import render_string

CORE_CASES: list[tuple[str, dict[str, str], str]] = [
    (
        'a{{ .x }}b {{- .y -}} c{{/* c */}}{{ $v := 3 }}{{ $v }} {{ if eq .x "1" }}one{{ else if .y }}y{{ end }}',
        {"x": "1", "y": "2"},
        "a1b2c3 one",
    ),
    ('{{ index . "missing" }}|{{ index . "x" }}', {"x": "1"}, "|1"),
    (
        "{{ 1000000.0 }} {{ 123456.0 }} {{ 1.5 }} {{ 3.0 }} {{ 1e3 }} {{ 0x10 }} {{ 017 }} {{ 'a' }} {{ -5 }} {{ +3 }} {{ 1_000 }} {{ 0.000001 }} {{ .5 }}",
        {},
        "1e+06 123456 1.5 3 1000 16 15 97 -5 3 1000 1e-06 0.5",
    ),
    (
        '{{ printf "%d %5d %-5d| %05d %x %X %o %b %c %q %U" 42 42 42 -42 255 255 8 5 65 65 65 }}',
        {},
        "42    42 42   | -0042 ff FF 10 101 A 'A' U+0041",
    ),
    (
        '{{ printf "%s %q %v %x %X % x %10s|%-10s|%.2s" "hi" "a\\"b\\n" "v" "hi" "hi" "hi" "r" "l" "trunc" }}',
        {},
        'hi "a\\"b\\n" v 6869 6869 68 69          r|l         |tr',
    ),
    (
        '{{ printf "%f %.2f %5.2f %e %E %g %G %8.3f %+d %+.1f" 3.14159 3.14159 3.14159 1234.5678 1234.5678 0.00001234 1e21 2.5 5 2.0 }}',
        {},
        "3.141590 3.14  3.14 1.234568e+03 1.234568E+03 1.234e-05 1E+21    2.500 +5 +2.0",
    ),
    ('{{ printf "%t %v %v %d" true false nil "x" }}', {}, "true false <nil> %!d(string=x)"),
    (
        '{{ printf "%d %d" 1 }} {{ printf "%d" 1 2 }} {{ printf "%z" 1 }} {{ printf "100%%" }} {{ printf "%" }}',
        {},
        "1 %!d(MISSING) 1%!(EXTRA int=2) %!z(int=1) 100% %!(NOVERB)",
    ),
    (
        '{{ print 1 2 "a" "b" 3 }}|{{ println 1 "a" }}|{{ print nil }}|{{ print }}',
        {},
        "1 2ab3|1 a\n|<nil>|",
    ),
    (
        '{{ html "<a href=\'x\'>&\\"" }} {{ js "a\'b\\"c<>&=\\\\\\n\\u2028é" }} {{ urlquery "a b&c=d/é~" }} {{ html 1 2 }}',
        {},
        "&lt;a href=&#39;x&#39;&gt;&amp;&#34; a\\'b\\\"c\\u003C\\u003E\\u0026\\u003D\\\\\\u000A\\u2028é a+b%26c%3Dd%2F%C3%A9~ 1 2",
    ),
    (
        "{{ range $k, $v := . }}{{ $k }}={{ $v }};{{ end }}|{{ range . }}{{ . }}{{ end }}",
        {"a": "1", "b": "2", "c": "3"},
        "a=1;b=2;c=3;|123",
    ),
    (
        "{{ range $i := 3 }}{{ $i }}{{ end }}|{{ range 0 }}x{{ else }}empty{{ end }}",
        {},
        "012|empty",
    ),
    ('{{ with .a }}{{ . }}{{ end }}{{ with "" }}no{{ else }}else{{ end }}', {"a": "1"}, "1else"),
    (
        '{{ define "t" }}T({{ . }}){{ end }}{{ template "t" "x" }}{{ template "t" }}{{ block "b" 5 }}B{{ . }}{{ end }}',
        {},
        "T(x)T(<no value>)B5",
    ),
    (
        '{{ and 1 0 "x" }} {{ or 0 "" "y" }} {{ and 1 2 }} {{ or 0 "" }} {{ not 0 }} {{ not "a" }}',
        {},
        "0 y 2  true false",
    ),
    (
        '{{ eq 1 1 }} {{ eq "a" "b" "a" }} {{ ne 1 2 }} {{ lt 1 2 }} {{ le 2 2 }} {{ gt "b" "a" }} {{ ge 1.5 2.5 }}',
        {},
        "true true true true true true false",
    ),
    ("{{ $x := 1 }}{{ if true }}{{ $x = 2 }}{{ end }}{{ $x }}", {}, "2"),
    ("{{ $x := 1 }}{{ if true }}{{ $x := 2 }}{{ $x }}{{ end }}{{ $x }}", {}, "21"),
    (
        '{{ (printf "%d" 5) }} {{ printf "%s-%s" "a" ("b" | printf "%s!") }} {{ "x" | printf "%s%s" "y" }}',
        {},
        "5 a-b! yx",
    ),
    ('{{ 3 | printf "%d" | printf "%s" }}', {}, "3"),
    (
        '{{ range $k, $v := . }}{{ if eq $k "m" }}{{ continue }}{{ end }}{{ if eq $k "z" }}{{ break }}{{ end }}{{ $k }}{{ end }}',
        {"z": "26", "a": "1", "m": "13"},
        "a",
    ),
    ('{{- "  trimmed" }}   \n  {{- 1 -}}\n   {{ 2 }}', {}, "  trimmed12"),
    ("{{/* comment */ -}}\n   x", {}, "x"),
    (
        '{{ printf "%v" 1e6 }} {{ printf "%v %v" 1e20 1e21 }} {{ 100000000.0 }} {{ -0.0 }}',
        {},
        "1e+06 1e+20 1e+21 1e+08 -0",
    ),
    (
        '{{ printf "%6.2f|%-8.3e|%08.3f|%+08d|%x|%#x|%#o" 3.14159 1234.5 -3.14159 42 -255 255 8 }}',
        {},
        "  3.14|1.234e+03|-003.142|+0000042|-ff|0xff|010",
    ),
    (
        '{{ printf "%5t|%-5t|%q|%#q|%+q" true false \'x\' "a`b" "é" }}',
        {},
        ' true|false|\'x\'|"a`b"|"\\u00e9"',
    ),
    ('{{ "\\x41\\u00e9\\101\\t" }} {{ `raw\\n` }}', {}, "AéA\t raw\\n"),
    (
        '{{ printf "%s" 5 }} {{ printf "%d" "x" }} {{ printf "%d" 1.5 }} {{ printf "%f" 1 }}',
        {},
        "%!s(int=5) %!d(string=x) %!d(float64=1.5) %!f(int=1)",
    ),
    ('{{ printf "%*d|%-*d|%.*f" 5 1 4 2 2 3.14159 }}', {}, "    1|2   |3.14"),
    ("{{ with $x := 5 }}{{ $x }}{{ end }}{{ if $y := 0 }}a{{ else }}{{ $y }}{{ end }}", {}, "50"),
    ("{{ with 0 }}a{{ else with 2 }}{{ . }}{{ end }}", {}, "2"),
    ("{{ $ }}", {}, "map[]"),
    ("{{ .}}\n", {}, "map[]\n"),
    (
        '{{ $v := fromJson "{\\"a\\": null, \\"l\\": [1, 2.5, \\"x\\"], \\"e\\": {}, \\"n\\": 0}" }}{{ index $v "missing" }}|{{ $v.l }}|{{ len $v }}|{{ if $v.e }}t{{ else }}f{{ end }}|{{ if $v.n }}t{{ else }}f{{ end }}|{{ printf "%v" $v }}|{{ $v.a }}',
        {},
        "<no value>|[1 2.5 x]|4|f|f|map[a:<nil> e:map[] l:[1 2.5 x] n:0]|<no value>",
    ),
    (
        '{{ and "a" "b" }}|{{ or "" 0 }}|{{ and 0 .nothere }}|{{ or 1 .nothere }}|{{ not (eq 1 2) }}|{{ 1 | not }}',
        {},
        "b|0|0|1|true|false",
    ),
    ('{{ eq "a" nil }}|{{ eq nil nil }}|{{ ne "a" "b" }}', {}, "false|true|true"),
    (
        '{{ print 1.0 2 }}|{{ println }}|{{ printf "%s" (list "a" 1) }}|{{ printf "%d" (list 1 2) }}|{{ printf "%q" (list "a") }}|{{ printf "%5s|%-5s|%05s" "ab" "ab" "ab" }}|{{ printf "%v" (dict "a" (list 1 2)) }}',
        {},
        '1 2|\n|[a %!s(int=1)]|[1 2]|["a"]|   ab|ab   |000ab|map[a:[1 2]]',
    ),
    (
        '{{ printf "%+v|%#v|%#v|%#v" 1 "s" 1.5 (list 1) }}|{{ printf "%e|%g|%.3g|%G" 0.0 100000000.0 1234.5678 1e-7 }}|{{ printf "%c|%U|%#U" 0x1F600 0x1F600 0x1F600 }}',
        {},
        "1|\"s\"|1.5|[]interface {}{1}|0.000000e+00|1e+08|1.23e+03|1E-07|😀|U+1F600|U+1F600 '😀'",
    ),
    (
        '{{ printf "%t|%s|%d|%6.2v|%x|%X" 1 nil true 3.14159 -1 "Hi" }}|{{ printf "%08.3f|%+.2e|% d|%o|%#o|%b" -3.14159 12345.678 5 64 64 5 }}',
        {},
        "%!t(int=1)|%!s(<nil>)|%!d(bool=true)|   3.1|-1|4869|-003.142|+1.23e+04| 5|100|0100|101",
    ),
    (
        '{{ define "r" }}{{ if gt . 0 }}{{ . }}{{ template "r" (sub . 1) }}{{ end }}{{ end }}{{ template "r" 5 }}',
        {},
        "54321",
    ),
    (
        '{{ range $i, $e := list "a" "b" }}{{ $i }}{{ $e }}{{ else }}none{{ end }}|{{ range $e := list }}x{{ else }}none{{ end }}|{{ range $k, $v := dict "b" 1 "a" 2 }}{{ $k }}{{ $v }}{{ end }}',
        {},
        "0a1b|none|a2b1",
    ),
    (
        '{{ with .a }}{{ $ }}{{ end }}|{{ template "t" . }}{{ define "t" }}[{{ .a }}]{{ end }}',
        {"a": "1"},
        "map[a:1]|[1]",
    ),
    (
        '{{ "a" | printf "%s-%s" "b" | printf "(%s)" }}|{{ (printf "x") | len }}|{{ $x := 5 }}{{ $x = add $x 1 }}{{ $x }}',
        {},
        "(b-a)|1|6",
    ),
    ('{{- /* c1 */ -}}\n  {{- "a" -}}\n  {{/* c2 */}}\n  {{- "b" }}', {}, "ab"),
    (
        "{{ 'a' }}|{{ '\\n' }}|{{ '\\x41' }}|{{ '\\u00e9' }}|{{ 1e2 }}|{{ 0b101 }}|{{ 0o17 }}|{{ 1_0 }}|{{ 0x1p-2 }}|{{ -0x10 }}",
        {},
        "97|10|65|233|100|5|15|10|0.25|-16",
    ),
    ("{{ $ := 1 }}", {}, ""),
    ('{{ define "x" }}{{ end }}{{ define "x" }}y{{ end }}{{ template "x" }}', {}, "y"),
    (
        '{{ html "<b>" "x" nil }}|{{ js "</script>" }}|{{ urlquery "a/b c" 1 }}|{{ print "a" 1 2 "b" nil }}',
        {},
        "&lt;b&gt;x&lt;no value&gt;|\\u003C/script\\u003E|a%2Fb+c1|a1 2b<nil>",
    ),
    (
        '{{ printf "%#v|%#v|%#v" (dict "a" (list 1 nil "x")) nil true }}\n',
        {},
        'map[string]interface {}{"a":[]interface {}{1, interface {}(nil), "x"}}|<nil>|true\n',
    ),
]
CORE_ERRORS: list[tuple[str, dict[str, str], str]] = [
    ("{{ .missing }}", {"x": "1"}, 'map has no entry for key "missing"'),
    (
        '{{ len "héllo" }} {{ index "abc" 1 }} {{ slice "abcdef" 1 3 }} {{ len .}}',
        {},
        "list should be type of slice or array but string",
    ),
    ('{{ eq 1 "a" }}', {}, "error calling eq: incompatible types for comparison"),
    ("{{ lt true false }}", {}, "invalid type for comparison"),
    ("{{ range $i, $v := .x }}{{ end }}", {}, 'map has no entry for key "x"'),
    ("{{ .x.y }}", {"x": "1"}, "can't evaluate field y in type string"),
    ("{{ nil }}", {}, "nil is not a command"),
    ('{{ "a" | 3 }}', {}, "non executable command in pipeline stage 2"),
    ("{{ .x }", {}, "unrecognized character in action: '}'"),
    ("{{ if }}x{{ end }}", {}, "missing value for if"),
    ("{{ end }}", {}, "unexpected {{end}}"),
    ("{{ range .}}{{ break }}{{ end }}{{ break }}", {}, "{{break}} outside {{range}}"),
    ("{{ undefinedfn 1 }}", {}, 'function "undefinedfn" not defined'),
    ("{{ $undefined }}", {}, 'undefined variable "$undefined"'),
    ('{{ template "nope" }}', {}, 'template "nope" not defined'),
    ("{{ index 5 1 }}", {}, "can't index item of type int"),
    ('{{ slice "abc" 2 1 }}', {}, "list should be type of slice or array but string"),
    ('{{ "unterminated }}', {}, "unterminated string"),
    ("{{ 'ab' }}", {}, "'ab'"),
    ("{{ 1.2.3 }}", {}, "unexpected '.3' in operand"),
    ("{{ 08 }}", {}, "bad number syntax: 08"),
    ("{{ 99999999999999999999 }}", {}, "99999999999999999999 overflows int"),
    ("{{ (1) 2 }}", {}, "can't give argument to non-function"),
    ("{{ .x 1 }}", {}, "x is not a method but has arguments"),
    (
        '{{ $v := fromJson "{\\"a\\": null}" }}{{ $v.a.b }}',
        {},
        "nil pointer evaluating interface {}.b",
    ),
    (
        '{{ $v := fromJson "{\\"a\\": 1}" }}{{ $v.missing }}',
        {},
        'map has no entry for key "missing"',
    ),
    ("{{ eq 1 1.0 }}", {}, "error calling eq: incompatible types for comparison"),
    ("{{ lt 1 2.5 }}", {}, "error calling lt: incompatible types for comparison"),
    ("{{ index (list 1 2) 5 }}", {}, "5"),
    (
        '{{ with $x := "v" }}{{ $x }}{{ . }}{{ end }}|{{ with .missing }}{{ end }}',
        {},
        'map has no entry for key "missing"',
    ),
    ("{{ .x | }}", {}, 'map has no entry for key "x"'),
    ("{{ (1 }}", {}, "unclosed left paren"),
    ("{{ if 1 }}{{ else }}{{ else }}{{ end }}", {}, "expected end; found {{else}}"),
    ("{{ range $a, $b, $c := list }}{{ end }}", {}, "too many declarations in range"),
    ("{{ len 3 }}", {}, "len of type int"),
    ('{{ call "x" }}', {}, "error calling call: non-function of type string"),
    ("{{ printf }}", {}, "want at least 1 got 0"),
    ('{{ index "abc" -1 }}', {}, "-1"),
    ("{{ $x := list 1 2 }}{{ index $x 1.0 }}\n", {}, "cannot index slice/array with type float64"),
]


@pytest.mark.parametrize(("template", "data", "expected"), CORE_CASES)
def test_renders_like_go(template: str, data: dict[str, str], expected: str) -> None:
    assert render_string("key", template, data) == expected


@pytest.mark.parametrize(("template", "data", "message"), CORE_ERRORS)
def test_fails_like_go(template: str, data: dict[str, str], message: str) -> None:
    with pytest.raises(TemplateError) as info:
        render_string("key", template, data)
    assert message in str(info.value)
    assert info.value.key == "key"
    assert info.value.line >= 1
