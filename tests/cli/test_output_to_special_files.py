"""`--output` naming a device or a FIFO writes into it, as sops does.

Files are written by renaming a temp file over the target, which keeps a crash from leaving half
a file; done to `--output /dev/null` that replaced the machine's /dev/null with a regular file
holding the plaintext. The test uses a FIFO of its own, never a real device.
"""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

PLAIN = "data:\n    password: hunter22\n"


def _env(home: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("SOPS_", "AGE_"))}
    env.update(HOME=str(home), XDG_CONFIG_HOME=str(home / ".config"), **extra)
    return env


def _encrypted(sops_bin: Path, age_keygen_bin: Path, folder: Path) -> tuple[Path, Path]:
    key = folder / "key.txt"
    subprocess.run([str(age_keygen_bin), "-o", str(key)], check=True, capture_output=True)
    recipient = next(
        line.split(": ", 1)[1]
        for line in key.read_text().splitlines()
        if line.startswith("# public key: ")
    )
    plain = folder / "secret.yaml"
    plain.write_text(PLAIN)
    encrypted = folder / "secret.enc.yaml"
    encrypted.write_bytes(
        subprocess.run(
            [str(sops_bin), "encrypt", "--age", recipient, str(plain)],
            env=_env(folder),
            capture_output=True,
            check=True,
            timeout=60,
        ).stdout
    )
    return encrypted, key


def test_decrypt_output_to_a_fifo_writes_into_it_and_leaves_it_a_fifo(
    sops_bin: Path, age_keygen_bin: Path, tmp_path: Path
) -> None:
    encrypted, key = _encrypted(sops_bin, age_keygen_bin, tmp_path)
    fifo = tmp_path / "out.fifo"
    os.mkfifo(fifo)
    # A non-blocking reader opened first lets the CLI's open for writing succeed at once; the
    # plaintext is far below the pipe's buffer, so the CLI never waits for us to read.
    reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)
    try:
        result = subprocess.run(
            [sys.executable, "-m", "secretsync", "decrypt", "--output", str(fifo), str(encrypted)],
            env=_env(tmp_path, SOPS_AGE_KEY_FILE=str(key)),
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        received = b""
        while chunk := os.read(reader, 65536):
            received += chunk
    finally:
        os.close(reader)

    assert result.returncode == 0, result.stderr
    assert received.decode() == PLAIN
    assert stat.S_ISFIFO(fifo.lstat().st_mode)
    assert sorted(p.name for p in tmp_path.iterdir() if p.name.endswith(".tmp")) == []


def test_decrypt_output_to_a_directory_is_a_clear_error(
    sops_bin: Path, age_keygen_bin: Path, tmp_path: Path
) -> None:
    encrypted, key = _encrypted(sops_bin, age_keygen_bin, tmp_path)
    folder = tmp_path / "out"
    folder.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "secretsync", "decrypt", "--output", str(folder), str(encrypted)],
        env=_env(tmp_path, SOPS_AGE_KEY_FILE=str(key)),
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    assert result.returncode == 1
    assert "--output" in result.stderr
    assert "is a directory" in result.stderr
    assert "Traceback" not in result.stderr
    assert list(folder.iterdir()) == []
