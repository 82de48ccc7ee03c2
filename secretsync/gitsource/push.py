"""Push notifications from Git hosts (pure): who sent it, is it genuine, which repository and ref.

GitHub signs the body with HMAC-SHA256 (`X-Hub-Signature-256: sha256=<hex>`), Gitea and
Forgejo do the same without the prefix (`X-Gitea-Signature`, `X-Forgejo-Signature`), and
GitLab sends the shared token itself (`X-Gitlab-Token`). A repository is named by several URLs
(https, ssh, web page); all of them are reduced to host and path, so a store that fetches over
ssh matches a push that names the https URL.
"""

from __future__ import annotations

import dataclasses
import hashlib
import hmac
import json
import re
import urllib.parse
from collections.abc import Iterable, Mapping

from secretsync.errors import ConfigError
from secretsync.gitsource.source import Revision

MAX_BODY = 10 * 1024 * 1024
"""GitHub caps payloads at 25 MB, but a push naming this much is not worth reading whole."""

_URL_FIELDS = {
    "repository": ("clone_url", "ssh_url", "html_url", "git_url", "url", "git_http_url"),
    "project": ("git_http_url", "git_ssh_url", "web_url", "http_url", "ssh_url"),
}
_SCP_LIKE = re.compile(r"^(?:[^@/]+@)?([^:/]+):(.+)$")


@dataclasses.dataclass(frozen=True)
class Push:
    repositories: frozenset[str]
    """Every URL of the pushed repository, reduced by repository_key."""

    ref: str | None
    """The full ref that moved (refs/heads/main), or None when the host did not say."""

    def affects(self, url: str, revision: Revision) -> bool:
        if revision.immutable or repository_key(url) not in self.repositories:
            return False
        return self.ref is None or self.ref == revision.refspec


def repository_key(url: str) -> str:
    """host/path, lower case, without scheme, user, port, `.git` or trailing slash."""
    text = url.strip()
    if "://" in text:
        parsed = urllib.parse.urlsplit(text)
        host, path = parsed.hostname or "", parsed.path
    else:
        scp = _SCP_LIKE.match(text)
        host, path = (scp.group(1), scp.group(2)) if scp else ("", text)
    path = path.strip("/").removesuffix(".git").strip("/")
    return f"{host}/{path}".lower()


def _header(headers: Mapping[str, str], name: str) -> str | None:
    wanted = name.lower()
    return next((v for k, v in headers.items() if k.lower() == wanted), None)


def authentic(headers: Mapping[str, str], body: bytes, secret: bytes) -> bool:
    """True when the request carries a valid signature or token for `secret`."""
    digest = hmac.new(secret, body, hashlib.sha256).hexdigest()
    github = _header(headers, "X-Hub-Signature-256")
    if github is not None:
        return hmac.compare_digest(github.strip().lower(), f"sha256={digest}")
    for name in ("X-Gitea-Signature", "X-Forgejo-Signature", "X-Gogs-Signature"):
        signed = _header(headers, name)
        if signed is not None:
            return hmac.compare_digest(signed.strip().lower(), digest)
    token = _header(headers, "X-Gitlab-Token")
    if token is not None:
        return hmac.compare_digest(token.encode(), secret)
    return False


def is_ping(headers: Mapping[str, str]) -> bool:
    """GitHub and Gitea say hello when a hook is created; it names no push."""
    event = _header(headers, "X-GitHub-Event") or _header(headers, "X-Gitea-Event") or ""
    return event.lower() == "ping"


def parse(body: bytes) -> Push:
    try:
        payload = json.loads(body)
    except ValueError:
        raise ConfigError("the request body is not JSON") from None
    if not isinstance(payload, Mapping):
        raise ConfigError("the request body is not a JSON object")
    urls = set(_urls(payload))
    if not urls:
        raise ConfigError("the payload names no repository (repository or project URLs)")
    ref = payload.get("ref")
    return Push(
        repositories=frozenset(repository_key(u) for u in urls),
        ref=ref if isinstance(ref, str) and ref.startswith("refs/") else None,
    )


def _urls(payload: Mapping[str, object]) -> Iterable[str]:
    for section, fields in _URL_FIELDS.items():
        block = payload.get(section)
        if isinstance(block, Mapping):
            for field in fields:
                value = block.get(field)
                if isinstance(value, str) and value:
                    yield value
