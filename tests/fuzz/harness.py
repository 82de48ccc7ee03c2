"""The property every fuzz target checks, independent of the fuzzing engine.

An input either succeeds or raises one of our typed errors (secretsync.errors); anything else, a
hang, or plaintext in an error is a Crash. atheris runs `check` on generated inputs (runner.py);
the regression tests replay saved inputs through the same function with `bounded`.
"""

from __future__ import annotations

import contextlib
import signal
from collections.abc import Callable, Iterable, Iterator
from types import FrameType

from secretsync.errors import SecretSyncError

Target = Callable[[bytes], None]

TIME_LIMIT_S = 10
"""Per input. The slowest legitimate inputs take about 2 s uninstrumented (a template ranging over
the 1,000,000 iterations the executor allows, a 4096-bit `genPrivateKey "rsa"`), several times
that under atheris on a loaded machine; a real hang never ends."""


class Crash(Exception):
    """An input broke the property; the message says which way."""


def check(target: Target, data: bytes) -> None:
    """Run one input; raise Crash unless it succeeded or raised one of our typed errors."""
    try:
        target(data)
    except Crash:
        raise
    except SecretSyncError:
        return
    except Exception as exc:
        raise Crash(f"untyped {type(exc).__name__}: {exc}") from exc


def leaks(exc: BaseException, secrets: Iterable[str], data: bytes) -> str | None:
    """A secret that appears in the error (or any error it chains) but not in the input itself:
    the error revealed plaintext the caller could not already see."""
    texts = []
    seen: BaseException | None = exc
    while seen is not None:
        texts.append(str(seen))
        seen = seen.__cause__ or seen.__context__
    joined = "\n".join(texts)
    for secret in secrets:
        if secret in joined and secret.encode() not in data:
            return secret
    return None


@contextlib.contextmanager
def bounded(seconds: float) -> Iterator[None]:
    """Raise Crash if the block runs longer than `seconds` (main thread only; the replay path:
    under atheris, libFuzzer's own -timeout does this)."""

    def expire(_signum: int, _frame: FrameType | None) -> None:
        raise Crash(f"hang: no result within {seconds} s")

    previous = signal.signal(signal.SIGALRM, expire)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)
