"""Start, wait for, and stop the test bed's processes.

Every process runs in its own session (so Ctrl-C in a terminal does not reach it half-way) and
is recorded in a pid file under the state folder, so `down` can stop what `up` started even from
another shell.
"""

from __future__ import annotations

import contextlib
import os
import signal
import socket
import subprocess
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

# Started daemons outlive the call that started them; holding their Popen objects keeps Python
# from warning, when one is garbage-collected, that the process is still running.
_DAEMONS: list[subprocess.Popen[bytes]] = []


class TestbedError(RuntimeError):
    """A component is missing or failed to start; the message says what to run."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def start(
    state_dir: Path,
    name: str,
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
    cwd: Path | None = None,
) -> subprocess.Popen[bytes]:
    logs = state_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    with (logs / f"{name}.log").open("ab") as log:
        proc = subprocess.Popen(
            list(argv),
            stdin=subprocess.DEVNULL,
            stdout=log,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
            cwd=cwd,
            start_new_session=True,
        )
    _DAEMONS.append(proc)
    pids = state_dir / "pids"
    pids.mkdir(parents=True, exist_ok=True)
    (pids / f"{name}.pid").write_text(str(proc.pid))
    return proc


def log_tail(state_dir: Path, name: str, lines: int = 25) -> str:
    path = state_dir / "logs" / f"{name}.log"
    if not path.exists():
        return "(no log)"
    return "\n".join(path.read_text(errors="replace").splitlines()[-lines:])


def wait_for(
    state_dir: Path,
    name: str,
    ready: Callable[[], bool],
    *,
    timeout: float,
    proc: subprocess.Popen[bytes] | None = None,
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise TestbedError(
                f"{name} exited with code {proc.returncode}; its log ends with:\n"
                f"{log_tail(state_dir, name)}"
            )
        with contextlib.suppress(Exception):
            if ready():
                return
        time.sleep(0.2)
    tail = log_tail(state_dir, name)
    raise TestbedError(f"{name} was not ready after {timeout:.0f}s; its log ends with:\n{tail}")


def stop_all(state_dir: Path, *, grace: float = 10.0) -> list[str]:
    """Stop every recorded process, newest first, so dependants go before what they depend on."""
    pid_dir = state_dir / "pids"
    if not pid_dir.is_dir():
        return []
    files = sorted(pid_dir.glob("*.pid"), key=lambda p: p.stat().st_mtime_ns, reverse=True)
    stopped = []
    for pid_file in files:
        pid = int(pid_file.read_text())
        if _signal_group(pid, signal.SIGTERM):
            deadline = time.monotonic() + grace
            while _alive(pid) and time.monotonic() < deadline:
                time.sleep(0.1)
            _signal_group(pid, signal.SIGKILL)
            stopped.append(pid_file.stem)
        pid_file.unlink()
    return stopped


def _signal_group(pid: int, sig: signal.Signals) -> bool:
    try:
        os.killpg(pid, sig)
    except (ProcessLookupError, PermissionError):
        return False
    return True


def _alive(pid: int) -> bool:
    # Reap it if it is our child, so a zombie does not look alive.
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True
