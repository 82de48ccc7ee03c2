"""ESO's documented template behaviour (eso.md §4 and runtime/template/v2/template_test.go),
through the public `render` entry point with bytes in and bytes out."""

from __future__ import annotations

import json

import pytest

from secretsync.errors import TemplateError
from secretsync.template import render, render_keys_and_values

ESO_EXAMPLES = [
    ("{{ .secret | b64dec }}", {"secret": b"MTIzNA=="}, b"1234"),
    (
        "{{ $v := .secret | fromJson }}{{ $v.foo | toJson }}",
        {"secret": b'{"foo": {"baz":"bang"}}'},
        b'{"baz":"bang"}',
    ),
    ("{{ .secret | fromJson | toYaml }}", {"secret": b'{"foo": "bar"}'}, b"foo: bar"),
    ("{{ .secret | fromYaml | toJson }}", {"secret": b"foo: bar"}, b'{"foo":"bar"}'),
    ("{{ .path | ext }}", {"path": b"foo/bar/baz.exe"}, b".exe"),
    (
        "{{ .example | sha256sum | hexdec | b64enc }}",
        {"example": b"example"},
        b"UNhY4JhezH9gQYqvDMWrWH9CwlcKiECVqejMrND2VFw=",
    ),
    # b64dec hands back Go's error text rather than failing.
    ("{{ .secret | b64dec }}", {"secret": b"x!"}, b"illegal base64 data at input byte 1"),
    # fromJson swallows errors: the result is nil, which prints as <no value>.
    ("{{ .secret | fromJson }}", {"secret": b"not json"}, b"<no value>"),
    # fromJson numbers are float64: big integers print in scientific notation (#1362).
    ("{{ (.secret | fromJson).n }}", {"secret": b'{"n": 12345678}'}, b"1.2345678e+07"),
    ('{{ index . "my-key" }}', {"my-key": b"v"}, b"v"),
    ("{{ .x | hexdec }}", {"x": b"4869"}, b"Hi"),
    ("{{ .x | hexdec }}", {"x": b"4x"}, b"encoding/hex: invalid byte: U+0078 'x'"),
    ("{{ .x | hexdec }}", {"x": b"486"}, b"encoding/hex: odd length hex string"),
    (
        '{{ .conn | replace "postgres://" "db+postgresql://"}}',
        {"conn": b"postgres://user:pass@db.host:5432/dbname"},
        b"db+postgresql://user:pass@db.host:5432/dbname",
    ),
    ('{{ "123412341234" | b64enc | b64dec }}', {}, b"123412341234"),
    ('{{ printf "{{ .x }}" }}', {}, b"{{ .x }}"),
]


@pytest.mark.parametrize(("template", "data", "expected"), ESO_EXAMPLES)
def test_eso_documented_examples(template: str, data: dict[str, bytes], expected: bytes) -> None:
    assert render({"key": template}, data) == {"key": expected}


def test_unknown_key_is_an_error_naming_the_template_key() -> None:
    with pytest.raises(TemplateError) as info:
        render({"tls.crt": "{{ .unknown }}"}, {"known": b"x"})
    assert info.value.key == "tls.crt"
    assert (info.value.line, info.value.column) == (1, 4)
    assert 'map has no entry for key "unknown"' in str(info.value)


def test_dockerconfigjson_is_built_byte_exact() -> None:
    template = (
        '{"auths":{"{{ .registry }}":{"username":"{{ .user }}","password":"{{ .pass }}",'
        '"auth":"{{ printf "%s:%s" .user .pass | b64enc }}"}}}'
    )
    data = {"registry": b"registry.example.com", "user": b"alice", "pass": b"s3cr3t"}
    out = render({".dockerconfigjson": template}, data)[".dockerconfigjson"]
    assert out == (
        b'{"auths":{"registry.example.com":{"username":"alice","password":"s3cr3t",'
        b'"auth":"YWxpY2U6czNjcjN0"}}}'
    )
    assert json.loads(out)["auths"]["registry.example.com"]["username"] == "alice"


def test_binary_values_pass_through_unchanged() -> None:
    raw = bytes(range(256))
    out = render({"bin": "{{ .raw }}", "b64": "{{ .raw | b64enc }}"}, {"raw": raw})
    assert out["bin"] == raw
    assert out["b64"] == __import__("base64").b64encode(raw)


def test_every_key_renders_independently() -> None:
    out = render({"a": "{{ .x | upper }}", "b": "{{ .y }}-{{ .x }}"}, {"x": b"one", "y": b"two"})
    assert out == {"a": b"ONE", "b": b"two-one"}


def test_custom_delimiters() -> None:
    out = render({"k": "<< .x >> {{ .x }}"}, {"x": b"v"}, left="<<", right=">>")
    assert out == {"k": b"v {{ .x }}"}


def test_keys_and_values_scope_reads_the_rendered_yaml_map() -> None:
    template = "{{ range $k, $v := . }}{{ $k | upper }}: {{ $v | quote }}\n{{ end }}empty:\n"
    out = render_keys_and_values(template, {"user": b"alice", "port": b"5432"})
    assert out == {"PORT": b"5432", "USER": b"alice", "empty": b""}


def test_keys_and_values_scope_rejects_non_string_values() -> None:
    with pytest.raises(TemplateError, match="not a string"):
        render_keys_and_values("port: {{ .port }}", {"port": b"5432"})
