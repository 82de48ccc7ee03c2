"""The real stakater Reloader (v1.4.22, built from the Go module proxy), started on demand
against the test bed or a private apiserver: never part of the shared stack's `up`.

It runs out of cluster with a kubeconfig (the admin one: it is a third party here, not the code
under test), without HA/leader election, and confined to one namespace with `--namespaces` when
given one, so on the shared test bed it never restarts another test's workloads. Without a
namespace it watches them all (for a private apiserver, as the benchmarks use).

Reloader serves its metrics and health on :9090 (every interface) and has no flag to move them,
so only one can run on the machine at a time. A file lock in the per-user cache serialises
starts across processes (pytest-xdist workers, benchmarks): `start` waits for the running one to
stop, then fails naming who holds it. The lock's file descriptor is handed to the Reloader
process itself, so the lock lives exactly as long as that process, even when whoever started it
dies without calling `stop`.
"""

from __future__ import annotations

import contextlib
import dataclasses
import errno
import fcntl
import os
import socket
import time
from pathlib import Path

from tests.testbed import binaries, paths, peer, procs

NAME = "reloader"
PORT = 9090
"""Fixed by Reloader (constants.DefaultHttpListenAddr)."""

LOCK_WAIT = 600.0
"""How long `start` waits for another Reloader on this machine to stop."""


@dataclasses.dataclass(frozen=True)
class Reloader:
    folder: Path
    process: procs.Daemon
    namespace: str | None
    metrics_url: str = f"http://127.0.0.1:{PORT}"

    @property
    def pid(self) -> int:
        return self.process.pid

    def log(self) -> str:
        return peer.log(self.folder, NAME)

    def metrics(self) -> str:
        return peer.metrics(self.metrics_url)


def binary() -> Path:
    """The built Reloader; a TestbedError naming the install command when it is not built."""
    return binaries.require(binaries.RELOADER)


def lock_path() -> Path:
    return paths.cache_dir() / "reloader-9090.lock"


def _take_lock(wait: float) -> int:
    """An fd holding the machine-wide Reloader lock, or a TestbedError naming the holder."""
    path = lock_path()
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    deadline = time.monotonic() + wait
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return fd
        except BlockingIOError:
            if time.monotonic() >= deadline:
                holder = path.read_text().strip() or "unknown"
                os.close(fd)
                raise procs.TestbedError(
                    f"another Reloader (pid {holder}) still holds {path} after {wait:.0f}s; "
                    f"Reloader serves on :{PORT} with no flag to move it, so only one runs at "
                    "a time. Stop that one (tests/testbed/reloader.stop) and try again."
                ) from None
            time.sleep(0.5)


def _check_port_free() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        # As Go's listeners do, so that connections of a Reloader just stopped, still in
        # TIME_WAIT, do not count as the port being taken.
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind(("", PORT))
        except OSError as exc:
            if exc.errno != errno.EADDRINUSE:
                raise
            raise procs.TestbedError(
                f"port {PORT} is in use by a process that does not hold {lock_path()}; "
                f"Reloader cannot serve on another port. Find it with `ss -ltnp 'sport = {PORT}'` "
                "and stop it."
            ) from None


def start(
    kubeconfig: Path,
    folder: Path,
    *,
    namespace: str | None = None,
    lock_wait: float = LOCK_WAIT,
) -> Reloader:
    """Start Reloader and wait until it serves; `namespace` confines it to that namespace."""
    exe = binary()
    folder.mkdir(parents=True, exist_ok=True)
    fd = _take_lock(lock_wait)
    try:
        _check_port_free()
        argv = [str(exe), "--log-level=debug"]
        if namespace is not None:
            argv.append(f"--namespaces={namespace}")
        # Inherited by Reloader (procs.start spawns without closing it), so the flock is held
        # for as long as it runs; our own copy is closed below.
        os.set_inheritable(fd, True)
        # Reloader reads its kubeconfig only from $KUBECONFIG (or ~/.kube/config).
        proc = procs.start(folder, NAME, argv, env={"KUBECONFIG": str(kubeconfig)})
        os.ftruncate(fd, 0)
        os.write(fd, str(proc.pid).encode())
    finally:
        os.close(fd)
    reloader = Reloader(folder, proc, namespace)

    def serving() -> bool:
        # Logged right before it starts serving, after every controller was started.
        return "meta info configmap" in reloader.log() and "reloader_" in reloader.metrics()

    try:
        procs.wait_for(folder, NAME, serving, timeout=90, proc=proc)
    except procs.TestbedError:
        stop(reloader)
        raise
    return reloader


def stop(reloader: Reloader) -> None:
    procs.stop(reloader.folder, NAME)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(reloader.pid, 0)
    with contextlib.suppress(FileNotFoundError):
        (reloader.folder / "pids" / f"{NAME}.pid").unlink()
