"""Start, wait for, and stop the test bed's processes.

Every process runs in its own session (so Ctrl-C in a terminal does not reach it half-way) and
is recorded in a pid file under the state folder, so `down` can stop what `up` started even from
another shell.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import shutil
import signal
import socket
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path


class TestbedError(RuntimeError):
    """A component is missing or failed to start; the message says what to run."""


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclasses.dataclass(frozen=True)
class Daemon:
    """A started process. posix_spawn, unlike Popen, leaves no object behind that warns at
    interpreter exit about a child still running: these children are meant to outlive us."""

    pid: int

    def poll(self) -> int | None:
        try:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
        except ChildProcessError:
            return None  # not our child (another process started it); assume alive
        return os.waitstatus_to_exitcode(status) if pid else None


def start(
    state_dir: Path,
    name: str,
    argv: Sequence[str],
    *,
    env: Mapping[str, str] | None = None,
) -> Daemon:
    logs = state_dir / "logs"
    logs.mkdir(parents=True, exist_ok=True)
    executable = shutil.which(argv[0]) or argv[0]
    pid = os.posix_spawn(
        executable,
        list(argv),
        {**os.environ, **(env or {})},
        file_actions=[
            (os.POSIX_SPAWN_OPEN, 0, os.devnull, os.O_RDONLY, 0),
            (
                os.POSIX_SPAWN_OPEN,
                1,
                str(logs / f"{name}.log"),
                os.O_WRONLY | os.O_CREAT | os.O_APPEND,
                0o644,
            ),
            (os.POSIX_SPAWN_DUP2, 1, 2),
        ],
        setsid=True,  # its own session: a terminal's Ctrl-C reaches us, not it
    )
    pids = state_dir / "pids"
    pids.mkdir(parents=True, exist_ok=True)
    (pids / f"{name}.pid").write_text(str(pid))
    # Kept so that a fault test can stop one component and start it again exactly as it was.
    (pids / f"{name}.argv").write_text(json.dumps({"argv": list(argv), "env": dict(env or {})}))
    return Daemon(pid)


def stop(state_dir: Path, name: str, *, sig: signal.Signals = signal.SIGTERM) -> None:
    """Stop one component (SIGKILL after 10 s); `restart` starts it again as it was."""
    pid = int((state_dir / "pids" / f"{name}.pid").read_text())
    if _signal_group(pid, sig):
        deadline = time.monotonic() + 10
        while _alive(pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        _signal_group(pid, signal.SIGKILL)


def restart(state_dir: Path, name: str) -> Daemon:
    """Start a stopped component again with its first argv and environment (same ports and
    data folders); the caller waits for it to be ready."""
    recorded = json.loads((state_dir / "pids" / f"{name}.argv").read_text())
    return start(state_dir, name, recorded["argv"], env=recorded["env"])


def pause(state_dir: Path, name: str, *, resume: bool = False) -> None:
    """SIGSTOP a component (it holds its connections and answers nothing), or SIGCONT it."""
    pid = int((state_dir / "pids" / f"{name}.pid").read_text())
    _signal_group(pid, signal.SIGCONT if resume else signal.SIGSTOP)


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
    proc: Daemon | None = None,
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        code = proc.poll() if proc is not None else None
        if code is not None:
            raise TestbedError(
                f"{name} exited with code {code}; its log ends with:\n{log_tail(state_dir, name)}"
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
