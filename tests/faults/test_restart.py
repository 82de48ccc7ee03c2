"""The restart the fault tests rely on: a component comes back answering, or the test learns why
not (its exit, its log, who holds its port) instead of timing out on whatever depends on it."""

from __future__ import annotations

import os
import signal
import socket
import sys
import threading
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.operator.harness import eventually
from tests.testbed import procs

SERVER = (
    "import http.server, sys; "
    "http.server.HTTPServer(('127.0.0.1', int(sys.argv[2])), "
    "http.server.SimpleHTTPRequestHandler).serve_forever()"
)


@pytest.fixture
def state(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path
    procs.stop_all(tmp_path, grace=2)


@pytest.fixture
def held() -> Iterator[socket.socket]:
    """A port someone else listens on."""
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    sock.listen()
    yield sock
    sock.close()


def _answers(port: int) -> bool:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/", timeout=2) as response:
        return int(response.status) == 200


def _argv(port: int) -> list[str]:
    return [sys.executable, "-c", SERVER, "-p", str(port)]


def test_a_restart_tries_again_when_its_port_was_briefly_held(
    state: Path, held: socket.socket
) -> None:
    port = held.getsockname()[1]
    procs.start(state, "web", _argv(port))
    log = state / "logs" / "web.log"
    eventually(lambda: "Address already in use" in log.read_text(), what="the first start to fail")

    def release_after_a_failed_attempt() -> None:
        # The restart's own first attempt fails too: its second traceback in the log.
        eventually(lambda: log.read_text().count("Address already in use") >= 2, timeout=60)
        held.close()

    releaser = threading.Thread(target=release_after_a_failed_attempt)
    releaser.start()
    proc = procs.restart(state, "web", ready=lambda: _answers(port), timeout=30, attempts=4)
    releaser.join()
    assert _answers(port)
    assert procs.running(state, "web")
    assert proc.poll() is None


def test_a_component_that_cannot_come_back_is_named_with_who_holds_its_port(
    state: Path, held: socket.socket
) -> None:
    port = held.getsockname()[1]
    procs.start(state, "web", _argv(port))
    with pytest.raises(procs.TestbedError) as raised:
        procs.restart(state, "web", ready=lambda: _answers(port), timeout=30, attempts=2)
    said = str(raised.value)
    assert "web did not come back" in said
    assert "attempt 2: exited with code 1" in said
    assert f"{os.getpid()} (" in said, "the holder of the port is named"
    assert "Address already in use" in said, "the log tail is shown"


def test_stop_returns_once_the_process_is_gone(state: Path) -> None:
    port = procs.free_port()
    procs.start(state, "web", _argv(port))
    eventually(lambda: _answers(port), what="the server to answer")
    procs.stop(state, "web")
    assert not procs.running(state, "web")
    # Its port is free at once for the restart.
    procs.restart(state, "web", ready=lambda: _answers(port), timeout=30)


def _listens(port: int) -> bool:
    # A bare connect that we close first: no TIME_WAIT is left on the server's port.
    socket.create_connection(("127.0.0.1", port), timeout=2).close()
    return True


@pytest.mark.parametrize("keep_ports", [True, False])
def test_a_stopped_component_keeps_its_port_until_it_is_restarted(
    state: Path, keep_ports: bool
) -> None:
    port = procs.free_port()
    procs.start(state, "web", _argv(port))
    eventually(lambda: _listens(port), what="the server to listen")
    procs.stop(state, "web", keep_ports=keep_ports)
    with pytest.raises(ConnectionRefusedError):  # its clients see it stopped, as before
        socket.create_connection(("127.0.0.1", port), timeout=2)
    with socket.socket() as thief:
        thief.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as Go's servers do
        if not keep_ports:
            thief.bind(("127.0.0.1", port))  # the port was anyone's
            return
        with pytest.raises(OSError, match="Address already in use"):
            thief.bind(("127.0.0.1", port))
    procs.restart(state, "web", ready=lambda: _answers(port), timeout=30)
    assert _answers(port)


def test_a_recorded_pid_given_to_another_process_is_not_signalled(state: Path) -> None:
    proc = procs.start(state, "web", _argv(procs.free_port()))
    # As if the component had ended and its pid been reused: the start time no longer matches.
    (state / "pids" / "web.started").write_text("1")
    try:
        procs.stop(state, "web")
        assert procs.stop_all(state) == []
        assert proc.poll() is None, "a process that is not the recorded one was signalled"
    finally:
        os.killpg(proc.pid, signal.SIGKILL)
        os.waitpid(proc.pid, 0)
