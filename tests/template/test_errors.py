"""Template errors are typed, name the key and line:column, and never carry a secret value."""

from __future__ import annotations

import pytest

from secretsync.errors import ConfigError, TemplateError
from secretsync.template import render

SECRET = "correct-horse-battery-staple"


@pytest.mark.parametrize(
    ("template", "line", "column", "reason"),
    [
        ("{{ .missing }}", 1, 4, 'map has no entry for key "missing"'),
        ("line one\n  {{ nosuchfn }}", 2, 6, 'function "nosuchfn" not defined'),
        ("{{ if .pw }}\n{{ end", 2, 1, "unclosed action"),
        ("{{ .pw | fail }}", 1, 10, "error calling fail"),
        ("a\nb\n{{ $x }}", 3, 4, 'undefined variable "$x"'),
        ("{{ range .pw }}{{ end }}", 1, 4, "range can't iterate over"),
        ("{{ index .pw 99 }}", 1, 4, "index out of range: 99"),
    ],
)
def test_error_names_key_and_position(template: str, line: int, column: int, reason: str) -> None:
    with pytest.raises(TemplateError) as info:
        render({"app.conf": template}, {"pw": SECRET.encode()})
    error = info.value
    assert isinstance(error, ConfigError)
    assert (error.key, error.line, error.column) == ("app.conf", line, column)
    assert reason in str(error)
    assert SECRET not in str(error)


@pytest.mark.parametrize(
    "template",
    [
        "{{ .pw | fail }}",
        "{{ range .pw }}{{ end }}",
        '{{ fail (printf "leak %s" .pw) }}',
        "{{ .pw | mustRegexFind .pw }}",
        "{{ mustFromJson .pw }}",
        '{{ .pw | filterCertChain "leaf" }}',
    ],
)
def test_secret_values_never_reach_the_message(template: str) -> None:
    with pytest.raises(TemplateError) as info:
        render({"k": template}, {"pw": f"({SECRET}".encode()})
    assert SECRET not in str(info.value)
    assert SECRET not in repr(info.value.args)


def test_parse_error_is_raised_before_any_data_is_read() -> None:
    with pytest.raises(TemplateError) as info:
        render({"k": "{{ .a "}, {})
    assert "unclosed action" in str(info.value)


@pytest.mark.parametrize(
    ("template", "reason"),
    [
        ('{{ repeat 99999999999 "a" }}', "result would exceed"),
        ("{{ until 99999999999 }}", "result would exceed"),
        ("{{ range 99999999999 }}{{ end }}", "range exceeded"),
        ("{{ range $i := until 1000 }}{{ range until 1001 }}{{ end }}{{ end }}", "range exceeded"),
        ("{{ randAlpha 99999999999 }}", "result would exceed"),
    ],
)
def test_runaway_templates_stop_with_an_error(template: str, reason: str) -> None:
    with pytest.raises(TemplateError, match=reason):
        render({"k": template}, {})


def test_huge_printf_width_is_refused_as_go_does() -> None:
    out = render({"k": '{{ printf "%99999999d" 1 }}'}, {})
    assert out == {"k": b"%!(NOVERB)%!(EXTRA int=1)"}
