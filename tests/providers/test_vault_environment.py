"""The Vault client takes its proxy settings from the environment once, when it is made, and
still honours them (HTTPS_PROXY / HTTP_PROXY, and NO_PROXY for the server), against the test
bed's OpenBao."""

from __future__ import annotations

import socket
from collections.abc import Iterator
from urllib.parse import urlsplit

import pytest

from secretsync.errors import Unavailable
from secretsync.providers.base import NoTelemetry
from secretsync.providers.vault import HvacTransport
from secretsync.providers.vault_client import Call
from tests.testbed import stack

HEALTH = Call(operation="Health", method="GET", path="sys/health", what="checking health")


@pytest.fixture
def refusing_proxy() -> Iterator[str]:
    """An address where nothing listens: a request sent through it fails."""
    with socket.socket() as held:
        held.bind(("127.0.0.1", 0))  # bound, never listening: connections are refused
        yield f"http://127.0.0.1:{held.getsockname()[1]}"


def _clear(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "http_proxy", "https_proxy", "no_proxy"):
        monkeypatch.delenv(name, raising=False)


def test_a_proxy_in_the_environment_is_used(
    testbed: stack.Testbed, refusing_proxy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _clear(monkeypatch)
    monkeypatch.setenv("HTTP_PROXY", refusing_proxy)
    transport = HvacTransport(testbed.VAULT_ADDR, True, NoTelemetry())
    with pytest.raises(Unavailable):
        transport.send(HEALTH)


def test_no_proxy_for_the_server_goes_direct(
    testbed: stack.Testbed, refusing_proxy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _clear(monkeypatch)
    monkeypatch.setenv("HTTP_PROXY", refusing_proxy)
    monkeypatch.setenv("NO_PROXY", str(urlsplit(testbed.VAULT_ADDR).hostname))
    transport = HvacTransport(testbed.VAULT_ADDR, True, NoTelemetry())
    assert '"initialized":true' in transport.send(HEALTH).replace(" ", "")


def test_the_environment_is_read_when_the_client_is_made(
    testbed: stack.Testbed, refusing_proxy: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    _clear(monkeypatch)
    transport = HvacTransport(testbed.VAULT_ADDR, True, NoTelemetry())
    monkeypatch.setenv("HTTP_PROXY", refusing_proxy)  # too late for this client, as in Go
    assert '"initialized":true' in transport.send(HEALTH).replace(" ", "")
