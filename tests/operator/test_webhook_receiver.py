"""The webhook receiver's decisions, without a network: the leader acts, a standby with no
leader to forward to says to retry, and a forwarded delivery is never forwarded again."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from secretsync.errors import ConfigError
from secretsync.gitsource.push import Push
from secretsync.operator.webhook import FORWARDED, Receiver, TokenFile
from tests.operator.webhooks import github, push

BODY = push("https://git.example.com/team/secrets.git")
RAW = json.dumps(BODY).encode()


def test_the_leader_acts_on_a_genuine_push_only() -> None:
    seen: list[Push] = []

    def on_push(pushed: Push) -> int:
        seen.append(pushed)
        return 3

    receiver = Receiver(lambda: b"s3cret", lambda: None)
    receiver.lead(on_push)

    assert receiver.handle(github(BODY, "s3cret"), RAW) == (202, {"externalSecrets": 3})
    assert seen[0].repositories == {"git.example.com/team/secrets"}
    assert receiver.handle(github(BODY, "other"), RAW)[0] == 401
    garbage = {"X-Gitlab-Token": "s3cret"}
    assert receiver.handle(garbage, b"{}")[0] == 400
    assert len(seen) == 1


def test_a_standby_without_a_leader_or_given_a_forwarded_delivery_asks_for_a_retry() -> None:
    leader_urls: list[str | None] = [None]
    receiver = Receiver(lambda: b"s3cret", lambda: leader_urls[0])
    assert receiver.handle(github(BODY, "s3cret"), RAW)[0] == 503
    leader_urls[0] = "http://127.0.0.1:1"  # never reached: a forwarded delivery stops here
    forwarded = {**github(BODY, "s3cret"), FORWARDED: "1"}
    status, reply = receiver.handle(forwarded, RAW)
    assert status == 503 and "does not lead" in reply["error"]


def test_the_token_file_is_read_again_when_it_changes(tmp_path: Path) -> None:
    path = tmp_path / "token"
    path.write_text("first\n")
    token = TokenFile(path)
    receiver = Receiver(token.current, lambda: None)
    receiver.lead(lambda pushed: 0)
    assert receiver.handle(github(BODY, "first"), RAW)[0] == 202
    path.write_text("second-and-longer\n")
    assert receiver.handle(github(BODY, "first"), RAW)[0] == 401
    assert receiver.handle(github(BODY, "second-and-longer"), RAW)[0] == 202
    path.write_text("")  # a half-rotated Secret: the last good token stays
    assert token.current() == b"second-and-longer"
    path.unlink()
    assert token.current() == b"second-and-longer"


def test_an_empty_or_missing_token_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "empty").write_text("\n")
    with pytest.raises(ConfigError, match="empty"):
        TokenFile(tmp_path / "empty")
    with pytest.raises(ConfigError, match="cannot read"):
        TokenFile(tmp_path / "missing")
