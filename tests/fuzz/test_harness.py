"""The harness can fail: untyped exceptions, hangs and leaked plaintext are reported."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from secretsync.errors import ConfigError, DecryptionError
from tests.fuzz.harness import Crash, bounded, check, leaks
from tests.fuzz.runner import fuzz

pytestmark = pytest.mark.unit


def test_an_untyped_exception_is_a_crash() -> None:
    def target(data: bytes) -> None:
        raise ValueError(data.decode())

    with pytest.raises(Crash, match="untyped ValueError: boom"):
        check(target, b"boom")


def test_our_typed_errors_are_a_valid_outcome() -> None:
    def target(_data: bytes) -> None:
        raise ConfigError("bad", field="spec.x")

    check(target, b"x")


def test_an_error_showing_a_value_the_input_does_not_hold_leaks() -> None:
    try:
        try:
            raise KeyError("decrypted: hunter2-secret")
        except KeyError as inner:
            raise DecryptionError("failed") from inner
    except DecryptionError as exc:
        assert leaks(exc, {"hunter2-secret"}, b"ciphertext") == "hunter2-secret"
        # The same text in the input is no leak: the caller already had it.
        assert leaks(exc, {"hunter2-secret"}, b"x hunter2-secret") is None


def test_bounded_turns_a_hang_into_a_crash() -> None:
    with pytest.raises(Crash, match="hang"), bounded(0.2):
        while True:
            time.sleep(0.01)


def test_the_runner_reports_a_target_raising_value_error(tmp_path: Path) -> None:
    result = fuzz("raises_value_error", 1000, tmp_path, module="tests.fuzz.broken")
    assert result.crashed
    assert "untyped ValueError: a bug the property must catch" in result.output
    (artifact,) = result.artifacts
    assert artifact.name.startswith("crash-")
    assert len(artifact.read_bytes()) > 1


def test_the_runner_reports_a_hang_as_a_timeout(tmp_path: Path) -> None:
    result = fuzz("hangs", 1000, tmp_path, module="tests.fuzz.broken", timeout_s=1)
    assert result.crashed
    assert [a.name.split("-")[0] for a in result.artifacts] == ["timeout"]


def test_the_runner_passes_a_target_that_raises_only_typed_errors(tmp_path: Path) -> None:
    result = fuzz("typed_errors_only", 500, tmp_path, module="tests.fuzz.broken")
    assert not result.crashed, result.output[-2000:]
    assert result.runs == 500
