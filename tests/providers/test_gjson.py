"""Go's JSON behaviour as ESO's providers expose it, byte for byte (reference/eso.md §7)."""

from __future__ import annotations

import pytest

from secretsync.providers import gjson

DOC = '{"b": {"y" : [1, 2.50, {"c": "x"}]}, "a.b": 5, "n": null, "s": "<&>", "t": true}'


@pytest.mark.parametrize(
    ("path", "text"),
    [
        ("b", '{"y" : [1, 2.50, {"c": "x"}]}'),  # raw source text, whitespace kept
        ("b.y", '[1, 2.50, {"c": "x"}]'),
        ("b.y.1", "2.50"),  # numbers as written
        ("b.y.2.c", "x"),  # strings unquoted
        ("a\\.b", "5"),  # escaped dot is a literal key
        ("b.y.#", "3"),
        ("n", ""),
        ("t", "true"),
    ],
)
def test_lookup_follows_gjson(path: str, text: str) -> None:
    found = gjson.lookup(DOC, path)
    assert found is not None
    assert found.text() == text


@pytest.mark.parametrize("path", ["missing", "b.y.7", "b.z", "s.x"])
def test_lookup_of_nothing_is_none(path: str) -> None:
    assert gjson.lookup(DOC, path) is None


def test_hash_maps_over_arrays() -> None:
    found = gjson.lookup('{"l": [{"n": "a"}, {"n": "b"}, {}]}', "l.#.n")
    assert found is not None
    assert found.raw == '["a","b"]'


def test_marshal_is_go_json_marshal() -> None:
    assert gjson.marshal(gjson.loads(DOC)) == (
        '{"a.b":5,"b":{"y":[1,2.50,{"c":"x"}]},"n":null,"s":"\\u003c\\u0026\\u003e","t":true}'
    )
    assert gjson.marshal("tab\there\u2028\x01") == '"tab\\there\\u2028\\u0001"'


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("plain", b"plain"),
        (gjson.Number("42"), b"42"),
        (None, b""),
        (True, b"true"),
        ({"z": 1, "a": [None]}, b'{"a":[null],"z":1}'),
    ],
)
def test_byte_value_is_esos_get_byte_value(value: object, expected: bytes) -> None:
    assert gjson.byte_value(value) == expected
