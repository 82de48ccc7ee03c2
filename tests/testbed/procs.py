"""Start, wait for, and stop the test bed's processes.

Every process runs in its own session (so Ctrl-C in a terminal does not reach it half-way) and
is recorded in a pid file under the state folder, so `down` can stop what `up` started even from
another shell.
"""

from __future__ import annotations

import contextlib
import dataclasses
import itertools
import json
import os
import re
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
    # pid_max is 32768 on the CI machines and busy runs wrap it in minutes: the start time tells
    # a later stop or stop_all whether the pid still names this process or a stranger reusing it.
    (pids / f"{name}.started").write_text(str(_start_ticks(pid) or ""))
    # Kept so that a fault test can stop one component and start it again exactly as it was.
    (pids / f"{name}.argv").write_text(json.dumps({"argv": list(argv), "env": dict(env or {})}))
    return Daemon(pid)


_held_ports: dict[tuple[str, str], list[socket.socket]] = {}
"""Ports of stopped components, kept by `stop(..., keep_ports=True)` until `restart`."""


def stop(
    state_dir: Path,
    name: str,
    *,
    sig: signal.Signals = signal.SIGTERM,
    grace: float = 10.0,
    keep_ports: bool = False,
) -> None:
    """Stop one component (SIGKILL after `grace` seconds) and return once it is gone, so that
    its ports and data folder locks are free for `restart`.

    With `keep_ports`, this process binds the component's loopback ports until `restart`:
    its clients are refused as before, but no other process can take a port meanwhile. The
    ports come from the kernel's ephemeral range (free_port), which any program binding port 0
    draws from, so an outage of many seconds on a busy machine could otherwise lose the port
    and the restart with it."""
    pid = _recorded(state_dir, name)
    if pid is not None and _signal_group(pid, sig):
        _wait_or_kill(state_dir, name, pid, grace)
    if keep_ports:
        argv = json.loads((state_dir / "pids" / f"{name}.argv").read_text())["argv"]
        _held_ports[(str(state_dir), name)] = [
            sock for port in _ports(argv) if (sock := _reserve(port)) is not None
        ]


def _wait_or_kill(state_dir: Path, name: str, pid: int, grace: float) -> None:
    if _wait_gone(pid, grace) or _recorded(state_dir, name) is None:
        return
    _signal_group(pid, signal.SIGKILL)
    if not _wait_gone(pid, 10):
        raise TestbedError(f"{name} (pid {pid}) still runs 10 s after SIGKILL")


def _reserve(port: int) -> socket.socket | None:
    """Bind without listening: the port is ours, and a connection to it is refused, exactly
    as when nothing is there."""
    # Without SO_REUSEADDR no other socket can share the port; with it (needed when the stopped
    # server's accepted connections linger in TIME_WAIT there) the kernel still keeps it from
    # anyone binding port 0, which is how free_port and most servers find theirs.
    for reuse in (False, True):
        sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, int(reuse))
        try:
            sock.bind(("127.0.0.1", port))
        except OSError:
            sock.close()
            continue
        return sock
    return None  # already taken: restart will name who holds it


def _release(state_dir: Path, name: str) -> None:
    for sock in _held_ports.pop((str(state_dir), name), []):
        sock.close()


def restart(
    state_dir: Path,
    name: str,
    *,
    ready: Callable[[], bool] | None = None,
    timeout: float = 60.0,
    attempts: int = 3,
) -> Daemon:
    """Start a stopped component again with its first argv and environment (same ports and
    data folders).

    Without `ready` the caller waits for it. With `ready`, return once it answers; a start
    that exits at once (its port briefly held by another process, say) is tried again up to
    `attempts` times, and a component that does not come back raises TestbedError with its
    exit, its log and whoever holds its ports, rather than leaving the caller to time out on
    a dependant."""
    recorded = json.loads((state_dir / "pids" / f"{name}.argv").read_text())
    argv, env = recorded["argv"], recorded["env"]
    _release(state_dir, name)
    if ready is None:
        return start(state_dir, name, argv, env=env)
    failures: list[str] = []
    for attempt in range(1, attempts + 1):
        proc = start(state_dir, name, argv, env=env)
        exited = _wait_ready_or_exit(proc, ready, timeout)
        if exited is None:
            return proc
        failures.append(f"attempt {attempt}: {exited}")
        if "exited" not in exited:
            break  # it runs but does not answer: another start would only race it
        time.sleep(attempt)
    holders = [h for port in _ports(argv) for h in port_holders(port)]
    raise TestbedError(
        f"{name} did not come back ({'; '.join(failures)}); "
        f"its ports are held by: {', '.join(holders) or 'nobody'}; "
        f"its log ends with:\n{log_tail(state_dir, name)}"
    )


def _wait_ready_or_exit(proc: Daemon, ready: Callable[[], bool], timeout: float) -> str | None:
    """None once ready, else what went wrong: it exited first, or it never answered."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        code = proc.poll()
        if code is not None:
            return f"exited with code {code}"
        with contextlib.suppress(Exception):
            if ready():
                return None
        time.sleep(0.2)
    return f"running but not ready after {timeout:.0f}s"


def running(state_dir: Path, name: str) -> bool:
    """True while the component's recorded process runs."""
    pid = _recorded(state_dir, name)
    return pid is not None and _alive(pid)


def pause(state_dir: Path, name: str, *, resume: bool = False) -> None:
    """SIGSTOP a component (it holds its connections and answers nothing), or SIGCONT it."""
    pid = _recorded(state_dir, name)
    if pid is not None:
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
        _release(state_dir, pid_file.stem)
        pid = _recorded(state_dir, pid_file.stem)
        if pid is not None and _signal_group(pid, signal.SIGTERM):
            if not _wait_gone(pid, grace) and _recorded(state_dir, pid_file.stem) is not None:
                _signal_group(pid, signal.SIGKILL)
                _wait_gone(pid, 10)
            stopped.append(pid_file.stem)
        pid_file.unlink()
    return stopped


def port_holders(port: int) -> list[str]:
    """Who listens on a loopback TCP port, as "pid (command)", for a message that explains a
    component that cannot bind its port again."""
    inodes: set[str] = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        with contextlib.suppress(OSError):
            for line in Path(table).read_text().splitlines()[1:]:
                fields = line.split()
                if int(fields[1].rsplit(":", 1)[1], 16) == port and fields[3] == "0A":  # LISTEN
                    inodes.add(f"socket:[{fields[9]}]")
    holders = []
    for proc_dir in Path("/proc").iterdir():
        if not proc_dir.name.isdigit():
            continue
        with contextlib.suppress(OSError):
            if any(str(fd.readlink()) in inodes for fd in (proc_dir / "fd").iterdir()):
                command = (proc_dir / "cmdline").read_bytes().replace(b"\0", b" ").decode()
                holders.append(f"{proc_dir.name} ({command.strip()[:120]})")
    return holders


def _ports(argv: Sequence[str]) -> list[int]:
    """The loopback ports a component was told to listen on, read from its flags."""
    found = re.findall(r"127\.0\.0\.1:(\d+)|-port=(\d+)", " ".join(argv))
    numbers = [int(a or b) for a, b in found]
    numbers += [
        int(b) for a, b in itertools.pairwise(argv) if a in ("-p", "--port") and b.isdigit()
    ]
    return sorted(set(numbers))


def _recorded(state_dir: Path, name: str) -> int | None:
    """The component's pid, or None when that pid now belongs to another process."""
    pids = state_dir / "pids"
    pid = int((pids / f"{name}.pid").read_text())
    started = pids / f"{name}.started"
    expected = started.read_text().strip() if started.exists() else ""
    if expected and str(_start_ticks(pid)) != expected:
        return None  # it ended and the pid was given to someone else: not ours to signal
    return pid


def _start_ticks(pid: int) -> int | None:
    """A process's start time (clock ticks since boot), from /proc/<pid>/stat."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    # The command name in parentheses may hold spaces; the fields after it are fixed.
    return int(stat.rsplit(")", 1)[1].split()[19])


def _wait_gone(pid: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while _alive(pid):
        if time.monotonic() >= deadline:
            return False
        time.sleep(0.1)
    return True


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
