"""Deliberately broken targets: the runner must report each of them (test_harness.py)."""

from __future__ import annotations

from secretsync.errors import ConfigError
from tests.fuzz.harness import Target


def raises_value_error(data: bytes) -> None:
    if len(data) > 1:
        raise ValueError("a bug the property must catch")


def hangs(data: bytes) -> None:
    while len(data) > 1:
        pass


def typed_errors_only(data: bytes) -> None:
    if len(data) > 1:
        raise ConfigError("a bad input, reported as we want", field="fuzz")


TARGETS: dict[str, Target] = {
    "raises_value_error": raises_value_error,
    "hangs": hangs,
    "typed_errors_only": typed_errors_only,
}
