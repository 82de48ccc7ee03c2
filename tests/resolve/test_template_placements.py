"""templateFrom into a Secret, the pure part: ESO's order (entries in turn; in an entry its
configMap items, secret items, then literal; template.data last), targets in any case, scopes,
valuesDecodingStrategy, and messages that name the item."""

from __future__ import annotations

from typing import Any

import pytest

from secretsync.api.parsing import parse
from secretsync.api.target import Template
from secretsync.errors import ConfigError, TemplateError
from secretsync.resolve import templating

DATA = {"user": b"app", "password": b"pw-c0ffee"}
SOURCES = {
    ("ConfigMap", "cm"): {"v": "cm {{ .user }}", "kv": "k1: '{{ .user }}'\nshared: cm"},
    ("Secret", "sec"): {"v": "sec {{ .user }}", "kv": "shared: secret\nk2: x"},
}


def _apply(template: dict[str, Any]) -> templating.Desired:
    parsed = parse(Template, template, "spec.target.template")
    return templating.apply(parsed, DATA, lambda kind, name: SOURCES[(kind, name)])


def test_order_within_an_entry_and_across_entries() -> None:
    out = _apply(
        {
            "templateFrom": [
                {
                    "literal": "shared: literal",
                    "secret": {
                        "name": "sec",
                        "items": [{"key": "kv", "templateAs": "KeysAndValues"}],
                    },
                    "configMap": {
                        "name": "cm",
                        "items": [{"key": "kv", "templateAs": "KeysAndValues"}],
                    },
                },
                {"configMap": {"name": "cm", "items": [{"key": "v"}]}},
            ],
            "data": {"k2": "template.data"},
        }
    )
    assert out.data == {
        "k1": b"app",
        "shared": b"literal",  # configMap, then secret, then literal
        "k2": b"template.data",  # template.data last
        "v": b"cm app",
    }


def test_targets_match_in_any_case_and_decode_values() -> None:
    out = _apply(
        {
            "templateFrom": [
                {"literal": "team: payments", "target": "LABELS"},
                {"literal": "note: fixed", "target": "annotations"},
                {"literal": "raw: '{{ .user | b64enc }}'", "valuesDecodingStrategy": "Base64"},
                {
                    "secret": {"name": "sec", "items": [{"key": "v"}]},
                    "target": "dAtA",
                    "valuesDecodingStrategy": "Auto",
                },
            ]
        }
    )
    assert out.labels == {"team": "payments"}
    assert out.annotations == {"note": "fixed"}
    assert out.data == {"raw": b"app", "v": b"sec app"}  # Auto leaves non-base64 text alone


def test_a_value_that_is_not_base64_names_the_item() -> None:
    with pytest.raises(ConfigError) as caught:
        _apply({"templateFrom": [{"literal": "x: '%%%'", "valuesDecodingStrategy": "Base64"}]})
    assert "templateFrom[0].literal" in str(caught.value)


def test_a_missing_key_names_the_item() -> None:
    with pytest.raises(ConfigError) as caught:
        _apply({"templateFrom": [{"configMap": {"name": "cm", "items": [{"key": "nope"}]}}]})
    assert "templateFrom[0].configMap.items[0]" in str(caught.value)
    assert "ConfigMap cm has no key 'nope'" in str(caught.value)


def test_keys_and_values_must_be_a_string_map() -> None:
    with pytest.raises(TemplateError, match="not a string"):
        _apply({"templateFrom": [{"literal": "port: 5432"}]})


def test_an_entry_needs_a_source() -> None:
    with pytest.raises(ConfigError, match="set one of: configMap, secret, literal"):
        _apply({"templateFrom": [{"target": "Data"}]})


def test_a_label_may_not_carry_a_secret_value() -> None:
    with pytest.raises(ConfigError, match="would expose a secret value"):
        _apply({"templateFrom": [{"literal": "p: '{{ .password }}'", "target": "Labels"}]})
