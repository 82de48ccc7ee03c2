"""The webhook receiver's decisions, without a network: the leader acts, a standby with no
leader to forward to says to retry, and a forwarded delivery is never forwarded again."""

from __future__ import annotations

import json

import pytest

from secretsync.errors import ConfigError
from secretsync.gitsource.push import Push
from secretsync.operator.webhook import FORWARDED, Receiver
from tests.operator.webhooks import github, push

BODY = push("https://git.example.com/team/secrets.git")
RAW = json.dumps(BODY).encode()


def test_the_leader_acts_on_a_genuine_push_only() -> None:
    seen: list[Push] = []

    def on_push(pushed: Push) -> int:
        seen.append(pushed)
        return 3

    receiver = Receiver(b"s3cret", lambda: None)
    receiver.lead(on_push)

    assert receiver.handle(github(BODY, "s3cret"), RAW) == (202, {"externalSecrets": 3})
    assert seen[0].repositories == {"git.example.com/team/secrets"}
    assert receiver.handle(github(BODY, "other"), RAW)[0] == 401
    garbage = {"X-Gitlab-Token": "s3cret"}
    assert receiver.handle(garbage, b"{}")[0] == 400
    assert len(seen) == 1


def test_a_standby_without_a_leader_or_given_a_forwarded_delivery_asks_for_a_retry() -> None:
    leader_urls: list[str | None] = [None]
    receiver = Receiver(b"s3cret", lambda: leader_urls[0])
    assert receiver.handle(github(BODY, "s3cret"), RAW)[0] == 503
    leader_urls[0] = "http://127.0.0.1:1"  # never reached: a forwarded delivery stops here
    forwarded = {**github(BODY, "s3cret"), FORWARDED: "1"}
    status, reply = receiver.handle(forwarded, RAW)
    assert status == 503 and "does not lead" in reply["error"]


def test_an_empty_secret_is_refused() -> None:
    with pytest.raises(ConfigError, match="empty"):
        Receiver(b"\n", lambda: None)
