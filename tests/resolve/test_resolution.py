"""The pure resolution step: ESO's merge order, key handling, decoding and not-found rules.

Provider results are given directly: `combine` is a pure function of the spec and the outcomes.
"""

from __future__ import annotations

from typing import Any

import pytest

from secretsync.api.externalsecret import ExternalSecretSpec
from secretsync.api.parsing import parse
from secretsync.api.sources import ConversionStrategy, DecodingStrategy, Rewrite, RewriteRegexp
from secretsync.errors import ConfigError, NotFound
from secretsync.resolve import keys, plan, values
from secretsync.resolve.secret import data_hash


def _spec(**fields: Any) -> ExternalSecretSpec:
    return parse(ExternalSecretSpec, {"secretStoreRef": {"name": "s"}, **fields}, "spec")


def _no_transform(template: str, key: str, where: str) -> str:
    raise AssertionError("no transform expected")


def _combine(spec: ExternalSecretSpec, outcomes: list[plan.Outcome]) -> plan.Resolved:
    return plan.combine(spec, plan.reads(spec), outcomes, _no_transform)


def test_data_from_merges_in_order_then_data_overrides() -> None:
    spec = _spec(
        dataFrom=[{"extract": {"key": "a"}}, {"extract": {"key": "b"}}],
        data=[{"secretKey": "shared", "remoteRef": {"key": "c"}}],
    )
    resolved = _combine(
        spec, [{"shared": b"from-a", "only-a": b"1"}, {"shared": b"from-b"}, b"from-data"]
    )
    assert resolved.data == {"shared": b"from-data", "only-a": b"1"}
    assert [r.where for r in plan.reads(spec)] == [
        "spec.dataFrom[0]",
        "spec.dataFrom[1]",
        "spec.data[0]",
    ]


def test_conversion_applies_only_without_rewrite() -> None:
    spec = _spec(
        dataFrom=[
            {"find": {"name": {"regexp": "."}}},
            {"find": {"name": {"regexp": "."}, "conversionStrategy": "Unicode"}},
            {
                "find": {"name": {"regexp": "."}},
                "rewrite": [{"regexp": {"source": "^dev/(.*)$", "target": "${1}"}}],
            },
        ]
    )
    resolved = _combine(spec, [{"dev/db": b"1"}, {"x@y": b"2"}, {"dev/api": b"3"}])
    assert resolved.data == {"dev_db": b"1", "x_U0040_y": b"2", "api": b"3"}


def test_a_rewrite_that_leaves_invalid_keys_names_the_entry() -> None:
    spec = _spec(
        dataFrom=[
            {
                "find": {"name": {"regexp": "."}},
                "rewrite": [{"regexp": {"source": "x", "target": "y"}}],
            }
        ]
    )
    with pytest.raises(ConfigError) as error:
        _combine(spec, [{"dev/db": b"1"}])
    assert error.value.field == "spec.dataFrom[0]"


@pytest.mark.parametrize(
    ("target", "expected"),
    [
        ("$1", "db"),
        ("${1}", "db"),
        ("$1_x", ""),
        ("${1}_x", "db_x"),
        ("$$1", "$1"),
        ("$name", "db"),
        ("pre-$9", "pre-"),
    ],
)
def test_go_replacement_syntax(target: str, expected: str) -> None:
    rewrite = Rewrite(regexp=RewriteRegexp(source="^dev-(?P<name>.*)$", target=target))
    renamed = keys.rewrite_keys({"dev-db": b"v"}, (rewrite,), "spec", _no_transform)
    assert renamed == {expected: b"v"}


@pytest.mark.parametrize(
    ("policy", "value", "expected"),
    [
        (DecodingStrategy.BASE64, b"aGk=", b"hi"),
        (DecodingStrategy.BASE64URL, b"-_8=", b"\xfb\xff"),
        (DecodingStrategy.AUTO, b"aGk=", b"hi"),
        (DecodingStrategy.AUTO, b"not base64!", b"not base64!"),
        (DecodingStrategy.AUTO, b"abcd", b"i\xb7\x1d"),  # ESO's caveat: valid base64 gets decoded
        (DecodingStrategy.NONE, b"aGk=", b"aGk="),
    ],
)
def test_decoding_strategies(policy: DecodingStrategy, value: bytes, expected: bytes) -> None:
    assert values.decode(value, policy, "f") == expected


def test_strict_base64_names_the_field_without_the_value() -> None:
    with pytest.raises(ConfigError) as error:
        values.decode(b"s3cr3t-value!", DecodingStrategy.BASE64, "spec.data[0].remoteRef")
    assert error.value.field == "spec.data[0].remoteRef"
    assert "s3cr3t" not in str(error.value)


def test_not_found_is_an_error_under_retain() -> None:
    spec = _spec(data=[{"secretKey": "k", "remoteRef": {"key": "gone"}}])
    with pytest.raises(NotFound):
        _combine(spec, [NotFound("spec.data[0] (key 'gone'): no such secret")])


@pytest.mark.parametrize("policy", ["Delete", "Merge"])
def test_not_found_is_skipped_under_delete_and_merge(policy: str) -> None:
    spec = _spec(
        target={"deletionPolicy": policy},
        data=[
            {"secretKey": "a", "remoteRef": {"key": "gone"}},
            {"secretKey": "b", "remoteRef": {"key": "here"}},
        ],
    )
    gone = "spec.data[0] (key 'gone'): no such secret"
    resolved = _combine(spec, [NotFound(gone), b"v"])
    assert resolved.data == {"b": b"v"}
    assert resolved.missing == (gone,)
    assert not resolved.everything_missing


def test_null_bytes_fail_when_asked() -> None:
    spec = _spec(data=[{"secretKey": "k", "remoteRef": {"key": "x", "nullBytePolicy": "Fail"}}])
    with pytest.raises(ConfigError):
        _combine(spec, [b"a\x00b"])


def test_key_conversion_default_and_unicode() -> None:
    assert keys.convert_key("a/b c.d", ConversionStrategy.DEFAULT) == "a_b_c.d"
    assert keys.convert_key("é", ConversionStrategy.UNICODE) == "_U00e9_"


def test_data_hash_matches_esos_go_implementation() -> None:
    # Computed with Go: fmt.Sprintf("%+v", map[string][]byte{...}) then crypto/sha3.Sum224.
    data = {"password": b"hunter2", "user": b"admin", "empty": b""}
    assert data_hash(data) == "341d3885cd2cdc89324a974f173ac6511d16d3c6580da04c83f2a67f"
