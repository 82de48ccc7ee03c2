"""The Password generator's rules (ESO's, from go-password): counts, alphabets, repeats,
encodings, keys; and a clear error naming the field for a spec that cannot be met."""

from __future__ import annotations

import base64
import string
from typing import Any

import pytest

from secretsync.api.generators import PasswordSpec
from secretsync.api.parsing import parse
from secretsync.errors import ConfigError, LimitExceeded
from secretsync.generators import password
from secretsync.generators.base import GeneratorContext


class _NoCredentials:
    def secret_data(self, namespace: str, name: str) -> Any:
        raise AssertionError("a password needs no credentials")

    def config_map_data(self, namespace: str, name: str) -> Any:
        raise AssertionError

    def service_account_token(self, *args: Any) -> str:
        raise AssertionError

    def service_account_annotations(self, namespace: str, name: str) -> Any:
        raise AssertionError


CTX = GeneratorContext("pw", "default", _NoCredentials())


def _spec(**raw: Any) -> PasswordSpec:
    return parse(PasswordSpec, raw, "spec")


def _generate(**raw: Any) -> dict[str, bytes]:
    return password.generate(_spec(**raw), CTX)


def test_the_defaults_are_esos_24_characters_a_quarter_digits_a_quarter_symbols() -> None:
    value = _generate()["password"].decode()
    assert len(value) == 24
    assert sum(c in string.digits for c in value) == 6
    assert sum(c in password.DEFAULT_SYMBOLS for c in value) == 6
    assert sum(c in string.ascii_letters for c in value) == 12
    assert len(set(value)) == 24  # no repeats by default


def test_counts_and_symbol_characters_are_honoured() -> None:
    for _ in range(50):
        value = _generate(length=12, digits=3, symbols=2, symbolCharacters="-_")
        text = value["password"].decode()
        assert len(text) == 12
        assert sum(c.isdigit() for c in text) == 3
        assert sorted(c for c in text if c in "-_") == ["-", "_"]


def test_no_upper_leaves_lower_case_letters_only() -> None:
    for _ in range(20):
        text = _generate(length=20, digits=0, symbols=0, noUpper=True)["password"].decode()
        assert text.islower() and text.isalpha()


def test_allow_repeat_allows_more_characters_than_the_alphabet_has() -> None:
    text = _generate(length=100, digits=50, symbols=0, allowRepeat=True)["password"].decode()
    assert len(text) == 100 and sum(c.isdigit() for c in text) == 50


def test_two_runs_differ() -> None:
    assert _generate() != _generate()


@pytest.mark.parametrize(
    ("raw", "field", "words"),
    [
        ({"length": 8, "digits": 5, "symbols": 4}, "spec.length", "exceed the length"),
        ({"length": 40, "digits": 11, "symbols": 0}, "spec.digits", "allowRepeat"),
        ({"length": 8, "symbols": 3, "symbolCharacters": "!!"}, "spec.symbols", "allowRepeat"),
        ({"length": 60, "digits": 0, "symbols": 0}, "spec.length", "allowRepeat"),
        ({"length": 8, "symbols": 1, "symbolCharacters": ""}, "spec.symbolCharacters", "empty"),
    ],
)
def test_an_unsatisfiable_spec_names_the_field(raw: dict[str, Any], field: str, words: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _generate(**raw)
    assert caught.value.field == field
    assert words in str(caught.value)


def test_a_cluster_generator_spec_is_named_by_its_path() -> None:
    ctx = GeneratorContext("pw", "default", _NoCredentials(), "spec.generator.passwordSpec")
    with pytest.raises(ConfigError) as caught:
        password.generate(_spec(length=4, digits=4, symbols=1), ctx)
    assert caught.value.field == "spec.generator.passwordSpec.length"


def test_secret_keys_each_get_their_own_password() -> None:
    found = _generate(secretKeys=["a", "b", "c"])
    assert sorted(found) == ["a", "b", "c"]
    assert len(set(found.values())) == 3


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"secretKeys": ["a", "a"]}, "spec.secretKeys[1]"),
        ({"secretKeys": [""]}, "spec.secretKeys[0]"),
        ({"digits": -1}, "spec.digits"),
        ({"encoding": "rot13"}, "spec.encoding"),
        ({"length": "long"}, "spec.length"),
    ],
)
def test_an_invalid_spec_is_refused_naming_the_field(raw: dict[str, Any], field: str) -> None:
    with pytest.raises(ConfigError) as caught:
        _spec(**raw)
    assert caught.value.field == field


@pytest.mark.parametrize(
    ("encoding", "decode"),
    [
        ("base64", base64.b64decode),
        ("base64url", base64.urlsafe_b64decode),
        ("base32", base64.b32decode),
        ("hex", bytes.fromhex),
        ("raw", lambda b: b),
    ],
)
def test_encodings_encode_the_password(encoding: str, decode: Any) -> None:
    raw = _generate(length=16, encoding=encoding)["password"]
    text = decode(raw if encoding != "hex" else raw.decode()).decode()
    assert len(text) == 16


def test_a_length_no_secret_could_hold_is_refused_before_anything_is_built() -> None:
    with pytest.raises(LimitExceeded) as caught:
        _generate(length=2**70, allowRepeat=True)
    assert caught.value.field == "spec.length"
    assert "1 MiB" in str(caught.value)
    assert len(_generate(length=4096, allowRepeat=True)["password"]) == 4096
