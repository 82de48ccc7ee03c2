"""Git push webhooks, as pure decisions: genuine or not, which repository, which ref."""

from __future__ import annotations

import hashlib
import hmac
import json

import pytest

from secretsync.errors import ConfigError
from secretsync.gitsource import push
from secretsync.gitsource.source import Revision

SECRET = b"hook-s3cret"
BODY = json.dumps(
    {
        "ref": "refs/heads/main",
        "after": "0" * 40,
        "repository": {
            "clone_url": "https://git.example.com/Team/Secrets.git",
            "ssh_url": "git@git.example.com:Team/Secrets.git",
            "html_url": "https://git.example.com/Team/Secrets",
        },
    }
).encode()
GITLAB = json.dumps(
    {
        "object_kind": "push",
        "ref": "refs/heads/prod",
        "project": {
            "git_http_url": "https://gitlab.example.com/group/sub/app.git",
            "git_ssh_url": "git@gitlab.example.com:group/sub/app.git",
            "web_url": "https://gitlab.example.com/group/sub/app",
        },
    }
).encode()


def _sign(body: bytes, secret: bytes = SECRET) -> str:
    return hmac.new(secret, body, hashlib.sha256).hexdigest()


@pytest.mark.parametrize(
    ("url", "key"),
    [
        ("https://git.example.com/Team/Secrets.git", "git.example.com/team/secrets"),
        ("https://user:pw@git.example.com:8443/Team/Secrets/", "git.example.com/team/secrets"),
        ("git@git.example.com:Team/Secrets.git", "git.example.com/team/secrets"),
        ("ssh://git@git.example.com:2222/Team/Secrets.git", "git.example.com/team/secrets"),
        ("http://127.0.0.1:33331/public/app.git", "127.0.0.1/public/app"),
        ("file:///srv/git/app.git", "/srv/git/app"),
    ],
)
def test_every_url_of_a_repository_reduces_to_one_key(url: str, key: str) -> None:
    assert push.repository_key(url) == key


@pytest.mark.parametrize(
    ("headers", "genuine"),
    [
        ({"X-Hub-Signature-256": "sha256=" + _sign(BODY)}, True),
        ({"x-hub-signature-256": "SHA256=" + _sign(BODY).upper()}, True),
        ({"X-Hub-Signature-256": "sha256=" + _sign(BODY, b"other")}, False),
        ({"X-Hub-Signature-256": _sign(BODY)}, False),
        ({"X-Gitea-Signature": _sign(BODY)}, True),
        ({"X-Forgejo-Signature": _sign(BODY)}, True),
        ({"X-Gitea-Signature": _sign(BODY + b" ")}, False),
        ({"X-Gitlab-Token": SECRET.decode()}, True),
        ({"X-Gitlab-Token": "wrong"}, False),
        ({}, False),
    ],
)
def test_only_a_valid_signature_or_token_is_genuine(headers: dict[str, str], genuine: bool) -> None:
    assert push.authentic(headers, BODY, SECRET) is genuine


def test_a_github_or_gitea_push_names_its_repository_and_ref() -> None:
    pushed = push.parse(BODY)
    assert pushed.ref == "refs/heads/main"
    assert pushed.repositories == {"git.example.com/team/secrets"}
    main = Revision("branch", "main")
    assert pushed.affects("git@git.example.com:team/secrets.git", main)
    assert pushed.affects("https://git.example.com/Team/Secrets", main)
    assert not pushed.affects("https://git.example.com/Team/Secrets", Revision("branch", "dev"))
    assert not pushed.affects("https://git.example.com/Team/Other", main)
    assert not pushed.affects("https://git.example.com/Team/Secrets", Revision("commit", "a" * 40))


def test_a_gitlab_push_and_a_tag_push() -> None:
    pushed = push.parse(GITLAB)
    assert pushed.affects("git@gitlab.example.com:group/sub/app.git", Revision("branch", "prod"))
    tag = json.loads(GITLAB)
    tag["ref"] = "refs/tags/v1"
    pushed = push.parse(json.dumps(tag).encode())
    assert pushed.affects("https://gitlab.example.com/group/sub/app", Revision("tag", "v1"))
    assert not pushed.affects("https://gitlab.example.com/group/sub/app", Revision("branch", "v1"))


def test_a_push_without_a_ref_concerns_every_ref_of_the_repository() -> None:
    body = json.dumps({"repository": {"clone_url": "https://h/a/b.git"}}).encode()
    pushed = push.parse(body)
    assert pushed.ref is None
    assert pushed.affects("https://h/a/b", Revision("branch", "anything"))


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (b"not json", "not JSON"),
        (b"[1, 2]", "not a JSON object"),
        (b'{"ref": "refs/heads/main"}', "names no repository"),
    ],
)
def test_a_payload_that_is_not_a_push_is_a_clear_error(body: bytes, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        push.parse(body)


def test_ping_is_recognised() -> None:
    assert push.is_ping({"X-GitHub-Event": "ping"})
    assert not push.is_ping({"X-GitHub-Event": "push"})
