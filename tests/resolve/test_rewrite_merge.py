"""dataFrom[].rewrite[].merge, with ESO 2.9's semantics (runtime/esutils RewriteMerge): order,
priority, conflicts, both strategies, Go's number and JSON text, and messages without values."""

from __future__ import annotations

import json
from typing import Any

import pytest

from secretsync.api.externalsecret import ExternalSecretSpec
from secretsync.api.parsing import parse
from secretsync.api.sources import RewriteMerge
from secretsync.errors import ConfigError
from secretsync.resolve import merge, plan

MONGO = b'{"username": "foz", "password": "baz"}'
REDIS = b'{"host": "redis.example.com", "port": "6379"}'


def _merge(**fields: Any) -> RewriteMerge:
    return parse(RewriteMerge, fields, "merge")


def test_default_extracts_every_field_and_drops_the_input_keys() -> None:
    out = merge.rewrite_merge(_merge(), {"mongo": MONGO, "redis": REDIS}, "m")
    assert out == {
        "username": b"foz",
        "password": b"baz",
        "host": b"redis.example.com",
        "port": b"6379",
    }


def test_priority_keys_merge_last_in_their_order_and_win() -> None:
    data = {
        "redis": REDIS,
        "mongo": MONGO,
        "other": b'{"key": "value", "host": "other.example.com"}',
    }
    rule = _merge(conflictPolicy="Ignore", priority=["mongo", "redis"])
    assert merge.merge_order(rule, data) == ["other", "mongo", "redis"]
    out = merge.rewrite_merge(rule, data, "m")
    assert out["host"] == b"redis.example.com"
    assert out["key"] == b"value"
    # Without priority, keys merge sorted: "redis" comes after "other" and still wins.
    assert merge.rewrite_merge(_merge(conflictPolicy="Ignore"), data, "m")["host"] == (
        b"redis.example.com"
    )
    flipped = _merge(conflictPolicy="Ignore", priority=["redis", "other"])
    assert merge.rewrite_merge(flipped, data, "m")["host"] == b"other.example.com"


def test_absent_priority_key_is_an_error_unless_ignored() -> None:
    data = {"mongo": MONGO, "redis": REDIS}
    with pytest.raises(ConfigError) as caught:
        merge.rewrite_merge(_merge(priority=["missing", "mongo"]), data, "spec.m")
    assert "'missing' not found" in str(caught.value)
    assert "spec.m.priority" in str(caught.value)
    tolerant = _merge(priority=["missing", "mongo"], priorityPolicy="IgnoreNotFound")
    assert merge.rewrite_merge(tolerant, data, "m")["username"] == b"foz"


def test_conflicts_fail_by_default_naming_fields_not_values() -> None:
    data = {"a": b'{"username": "s3cr3t-a", "x": "1"}', "b": b'{"username": "s3cr3t-b"}'}
    with pytest.raises(ConfigError) as caught:
        merge.rewrite_merge(_merge(), data, "m")
    message = str(caught.value)
    assert "conflicts: username" in message
    assert "s3cr3t" not in message
    out = merge.rewrite_merge(_merge(conflictPolicy="Ignore"), data, "m")
    assert out["username"] == b"s3cr3t-b"  # "b" sorts after "a"


def test_json_strategy_keeps_the_inputs_and_writes_the_merged_object_into() -> None:
    data = {"mongo": MONGO, "redis": REDIS}
    out = merge.rewrite_merge(_merge(strategy="JSON", into="credentials"), data, "m")
    assert out["mongo"] == MONGO and out["redis"] == REDIS
    # Go's encoder: sorted keys, no spaces, and no HTML escaping (ESO's JSONMarshal).
    assert out["credentials"] == (
        b'{"host":"redis.example.com","password":"baz","port":"6379","username":"foz"}'
    )
    html = merge.rewrite_merge(_merge(strategy="JSON", into="j"), {"a": b'{"u": "<a&b>"}'}, "m")[
        "j"
    ]
    assert html == b'{"u":"<a&b>"}'


def test_json_strategy_needs_into() -> None:
    with pytest.raises(ConfigError, match="missing 'into'"):
        merge.rewrite_merge(_merge(strategy="JSON"), {"a": MONGO}, "m")


def test_values_as_go_writes_them() -> None:
    data = {
        "a": json.dumps(
            {
                "int": 42,
                "float": 2.5,
                "big": 1e21,
                "tiny": 1e-7,
                "bool": True,
                "null": None,
                "obj": {"z": 1, "a": "<&>"},
                "list": [1, "x", None],
            }
        ).encode()
    }
    out = merge.rewrite_merge(_merge(), data, "m")
    assert out == {
        "int": b"42",
        "float": b"2.5",
        "big": b"1000000000000000000000",  # FormatFloat 'f': never an exponent
        "tiny": b"0.0000001",
        "bool": b"true",
        "null": b"",
        "obj": b'{"a":"\\u003c\\u0026\\u003e","z":1}',  # json.Marshal escapes HTML
        "list": b'[1,"x",null]',
    }


def test_null_adds_nothing_and_non_objects_are_refused_without_their_value() -> None:
    assert merge.rewrite_merge(_merge(), {"a": b"null", "b": MONGO}, "m")["username"] == b"foz"
    for bad in (b'"s3cr3t"', b"[1]", b"42", b'{"user": "s3cr3t"', b"s3cr3t", b'{"n": 1e999}'):
        with pytest.raises(ConfigError) as caught:
            merge.rewrite_merge(_merge(), {"k": bad}, "m")
        assert "'k' is not a JSON object" in str(caught.value)
        assert "s3cr3t" not in str(caught.value)


def test_merge_runs_in_order_with_the_other_rewrites_then_keys_are_validated() -> None:
    spec = parse(
        ExternalSecretSpec,
        {
            "secretStoreRef": {"name": "s"},
            "dataFrom": [
                {
                    "find": {"name": {"regexp": "."}},
                    "rewrite": [
                        {"regexp": {"source": "^db/(.*)$", "target": "$1"}},
                        {"merge": {"priority": ["primary"], "conflictPolicy": "Ignore"}},
                        {"regexp": {"source": "^(.*)$", "target": "db_$1"}},
                    ],
                }
            ],
        },
        "spec",
    )
    found = {"db/primary": b'{"host": "p", "user": "u"}', "db/replica": b'{"host": "r"}'}

    def no_transform(template: str, key: str, where: str) -> str:
        raise AssertionError("no transform expected")

    resolved = plan.combine(spec, plan.reads(spec), [found], no_transform)
    assert resolved.data == {"db_host": b"p", "db_user": b"u"}


def test_merged_field_names_are_still_checked_as_secret_keys() -> None:
    spec = parse(
        ExternalSecretSpec,
        {
            "secretStoreRef": {"name": "s"},
            "dataFrom": [{"extract": {"key": "k"}, "rewrite": [{"merge": {}}]}],
        },
        "spec",
    )
    with pytest.raises(ConfigError, match="not a valid Secret key"):
        plan.combine(spec, plan.reads(spec), [{"a": b'{"bad key": "v"}'}], lambda t, k, w: k)


def test_a_rewrite_names_exactly_one_operation() -> None:
    with pytest.raises(ConfigError, match="exactly one of: merge, regexp, transform"):
        parse(
            ExternalSecretSpec,
            {
                "secretStoreRef": {"name": "s"},
                "dataFrom": [
                    {
                        "extract": {"key": "k"},
                        "rewrite": [{"merge": {}, "regexp": {"source": "a", "target": "b"}}],
                    }
                ],
            },
            "spec",
        )
