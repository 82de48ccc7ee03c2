"""File I/O for the CLI: reading inputs, atomic writes that keep the mode, private temp dirs.

tempfile and shutil are imported by the functions that write files: decrypting to stdout, the
common case measured against sops, needs neither.
"""

from __future__ import annotations

import contextlib
import os
import stat
import sys
from collections.abc import Iterator
from pathlib import Path

from secretsync.errors import ConfigError, NotFound

STDIN = "-"


def read_input(path: str | None) -> bytes:
    if path in {None, STDIN}:
        return sys.stdin.buffer.read()
    assert path is not None
    try:
        return Path(path).read_bytes()
    except FileNotFoundError:
        raise NotFound(f"{path}: no such file") from None
    except IsADirectoryError:
        raise ConfigError("is a directory", field=path) from None
    except PermissionError:
        raise ConfigError("cannot be read (permission denied)", field=path) from None


def _mode_for(path: Path) -> int:
    try:
        return stat.S_IMODE(path.stat().st_mode)
    except FileNotFoundError:
        umask = os.umask(0)
        os.umask(umask)
        return 0o666 & ~umask


def atomic_write(path: Path, data: bytes, *, mode: int | None = None) -> None:
    """Temp file in the same folder, fsync, rename over the target; the old mode is kept.

    On any failure the temp file is removed and the target is untouched, so a crash never leaves
    an emptied file or a stray copy of the contents.
    """
    import tempfile  # noqa: PLC0415 - lazy, see the module docstring

    final_mode = _mode_for(path) if mode is None else mode
    fd, tmp_name = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as handle:
            os.fchmod(handle.fileno(), final_mode)
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    with contextlib.suppress(OSError):
        dir_fd = os.open(path.parent, os.O_RDONLY)
        try:
            os.fsync(dir_fd)
        finally:
            os.close(dir_fd)


def write_output(data: bytes, path: str | None) -> None:
    if path in {None, STDIN}:
        sys.stdout.buffer.write(data)
        sys.stdout.buffer.flush()
        return
    assert path is not None
    target = Path(path)
    if target.is_dir():
        raise ConfigError("is a directory; give a file", field="--output")
    if target.exists() and not target.is_file():
        # A device or a FIFO (/dev/null, /dev/stderr, a named pipe): write into it, as sops
        # does. Renaming a temp file over it would replace the device with a regular file.
        with target.open("wb") as handle:
            handle.write(data)
        return
    atomic_write(target, data)


@contextlib.contextmanager
def private_dir() -> Iterator[Path]:
    """A 0700 folder for plaintext, removed on every exit path (errors and Ctrl-C included)."""
    import shutil  # noqa: PLC0415 - lazy, see the module docstring
    import tempfile  # noqa: PLC0415 - lazy, see the module docstring

    folder = Path(tempfile.mkdtemp(prefix="secretsync-"))
    try:
        folder.chmod(0o700)
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)


def find_upwards(start: Path, name: str, limit: int = 100) -> Path | None:
    folder = start.resolve()
    for _ in range(limit):
        candidate = folder / name
        if candidate.is_file():
            return candidate
        if folder.parent == folder:
            return None
        folder = folder.parent
    return None
