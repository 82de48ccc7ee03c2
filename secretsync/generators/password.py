"""The Password generator, with ESO's rules (it uses sethvargo/go-password): `length`
characters of which `digits` are digits and `symbols` are drawn from `symbolCharacters`, the
rest letters (lower-case only with `noUpper`), shuffled; without `allowRepeat` no character
appears twice. One password per key in `secretKeys` (default `password`), then encoded.

Randomness comes from `secrets` only. The decisions (counts, alphabets, what cannot be
satisfied) are pure and raise ConfigError naming the spec field.
"""

from __future__ import annotations

import base64
import dataclasses
import secrets
import string

from secretsync.api.generators import PasswordEncoding, PasswordSpec
from secretsync.errors import ConfigError, LimitExceeded
from secretsync.generators.base import GeneratorContext
from secretsync.limits import SECRET_MAX_BYTES

DEFAULT_SYMBOLS = '~!@#$%^&*()_+`-={}|[]\\:"<>?,./'
DEFAULT_KEY = "password"
SHARE = 0.25
"""Digits and symbols default to a quarter of the length each (rounded down), as in ESO."""


@dataclasses.dataclass(frozen=True)
class Plan:
    length: int
    digits: int
    symbols: int
    letters_alphabet: str
    symbols_alphabet: str
    allow_repeat: bool

    @property
    def letters(self) -> int:
        return self.length - self.digits - self.symbols


def plan(spec: PasswordSpec, path: str = "spec") -> Plan:
    """The counts and alphabets for `spec`, or a ConfigError naming what cannot be met."""
    length = spec.length if spec.length > 0 else 24
    digits = spec.digits if spec.digits is not None else int(length * SHARE)
    symbols = spec.symbols if spec.symbols is not None else int(length * SHARE)
    symbol_chars = spec.symbol_characters if spec.symbol_characters is not None else DEFAULT_SYMBOLS
    letters = string.ascii_lowercase if spec.no_upper else string.ascii_letters
    if length > SECRET_MAX_BYTES:
        # A tenant's length must not make the operator build a huge string: no Secret could
        # hold it anyway.
        raise LimitExceeded(
            f"is {length}, over the {SECRET_MAX_BYTES}-character limit (a Secret holds at most "
            "1 MiB); ask for a shorter password",
            field=f"{path}.length",
        )
    if digits + symbols > length:
        raise ConfigError(
            f"digits ({digits}) plus symbols ({symbols}) exceed the length ({length})",
            field=f"{path}.length",
        )
    if symbols and not symbol_chars:
        raise ConfigError("is empty but symbols asks for some", field=f"{path}.symbolCharacters")
    made = Plan(length, digits, symbols, letters, symbol_chars, spec.allow_repeat)
    if not spec.allow_repeat:
        _check_unique_supply(made, path)
    return made


def _check_unique_supply(made: Plan, path: str) -> None:
    """Without repeats each class has only so many distinct characters."""
    if made.digits > len(string.digits):
        raise ConfigError(
            f"asks for {made.digits} digits but only 10 exist without repeats; "
            "lower it or set allowRepeat",
            field=f"{path}.digits",
        )
    distinct_symbols = len(set(made.symbols_alphabet))
    if made.symbols > distinct_symbols:
        raise ConfigError(
            f"asks for {made.symbols} symbols but symbolCharacters has {distinct_symbols} "
            "without repeats; lower it or set allowRepeat",
            field=f"{path}.symbols",
        )
    if made.letters > len(made.letters_alphabet):
        raise ConfigError(
            f"leaves {made.letters} letters but only {len(made.letters_alphabet)} exist without "
            "repeats; lower the length, or set allowRepeat",
            field=f"{path}.length",
        )


def password(made: Plan) -> str:
    """One password: each class drawn in turn, each character inserted at a random place."""
    chars: list[str] = []
    for count, alphabet in (
        (made.letters, made.letters_alphabet),
        (made.digits, string.digits),
        (made.symbols, made.symbols_alphabet),
    ):
        pool = list(dict.fromkeys(alphabet))
        for _ in range(count):
            char = secrets.choice(pool)
            if not made.allow_repeat:
                pool.remove(char)
            chars.insert(secrets.randbelow(len(chars) + 1), char)
    return "".join(chars)


def encode(value: str, encoding: PasswordEncoding) -> bytes:
    raw = value.encode()
    if encoding is PasswordEncoding.BASE64:
        return base64.b64encode(raw)
    if encoding is PasswordEncoding.BASE64URL:
        return base64.urlsafe_b64encode(raw)
    if encoding is PasswordEncoding.BASE32:
        return base64.b32encode(raw)
    if encoding is PasswordEncoding.HEX:
        return raw.hex().encode()
    return raw


def generate(spec: PasswordSpec, ctx: GeneratorContext) -> dict[str, bytes]:
    made = plan(spec, ctx.spec_path)
    keys = spec.secret_keys or (DEFAULT_KEY,)
    return {key: encode(password(made), spec.encoding) for key in keys}
