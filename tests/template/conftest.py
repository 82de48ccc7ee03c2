"""The Go side of the regexp differential tests: tests/template/goregex, built on first use."""

from __future__ import annotations

import fcntl
import hashlib
from pathlib import Path

import pytest

from tests.testbed import binaries, paths

GOREGEX_DIR = Path(__file__).resolve().parent / "goregex"


def goregex_binary() -> binaries.GoBinary:
    """Keyed by a hash of its source, so an edit to main.go builds a new binary."""
    digest = hashlib.sha256()
    for name in ("go.mod", "main.go"):
        digest.update((GOREGEX_DIR / name).read_bytes())
    return binaries.GoBinary("goregex", digest.hexdigest()[:16], ".", module_dir=GOREGEX_DIR)


@pytest.fixture(scope="session")
def goregex_bin() -> Path:
    """Go's own regexp package behind a JSON-lines pipe (see goregex/main.go)."""
    binary = goregex_binary()
    lock_path = paths.cache_dir() / "bin" / ".goregex.lock"
    lock_path.parent.mkdir(parents=True, exist_ok=True)
    with lock_path.open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # xdist workers: one builds, the others wait
        binaries.build(binary, log=False)
    return binary.path
