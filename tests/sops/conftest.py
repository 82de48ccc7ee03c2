"""Helpers for the SOPS tests: age keys from the real age-keygen, and running the real sops."""

from __future__ import annotations

import os
import re
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from secretsync.sops import keys


@dataclass(frozen=True)
class AgeKey:
    path: Path
    recipient: str

    @property
    def identities(self) -> keys.Identities:
        return keys.parse_identities(self.path.read_text())


def make_age_key(age_keygen_bin: Path, path: Path, *, pq: bool = False) -> AgeKey:
    argv = [str(age_keygen_bin), *(["-pq"] if pq else []), "-o", str(path)]
    subprocess.run(argv, check=True, capture_output=True)
    recipient = next(
        line.split(": ", 1)[1]
        for line in path.read_text().splitlines()
        if line.startswith("# public key: ")
    )
    return AgeKey(path, recipient)


@pytest.fixture
def age_key(age_keygen_bin: Path, tmp_path: Path) -> AgeKey:
    return make_age_key(age_keygen_bin, tmp_path / "key.txt")


@pytest.fixture
def pq_key(age_keygen_bin: Path, tmp_path: Path) -> AgeKey:
    """A post-quantum hybrid key from the real `age-keygen -pq` (age 1.3)."""
    return make_age_key(age_keygen_bin, tmp_path / "pq.txt", pq=True)


def clean_env(home: Path, **extra: str) -> dict[str, str]:
    """An environment with no inherited sops/age settings and a private HOME."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOPS_", "AGE_"))}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), **extra)
    return env


def run_sops(
    binary: Path, args: list[str], home: Path, *, check: bool = True, **env: str
) -> subprocess.CompletedProcess[bytes]:
    result = subprocess.run(
        [str(binary), *args],
        env=clean_env(home, **env),
        capture_output=True,
        check=False,
        cwd=home,
        timeout=60,
    )
    if check and result.returncode != 0:
        raise AssertionError(f"sops {args} failed ({result.returncode}): {result.stderr!r}")
    return result


def plain_file(folder: Path, data: bytes) -> Path:
    path = folder / "secret.yaml"
    path.write_bytes(data)
    return path


def layout(data: bytes) -> bytes:
    """An encrypted file with everything random or timed masked, to compare layouts."""
    data = re.sub(rb"ENC\[AES256_GCM,[^\]]*\]", b"ENC", data)
    return re.sub(rb"(lastmodified|created_at|enc): [^\n]*", rb"\1", data)
