"""What to fetch: a repository URL and one revision (branch, tag or commit), validated.

Everything here is pure. Names that reach the git command line are checked so that a spec can
never smuggle an option (`--upload-pack=...`) or a transport such as `ext::` into git.
"""

from __future__ import annotations

import dataclasses
import hashlib
import re
import urllib.parse
from typing import Literal

from secretsync.api.sops import GitRef
from secretsync.errors import ConfigError

RevisionKind = Literal["branch", "tag", "commit"]
SCHEMES = ("https://", "http://", "ssh://", "file://")
_SCP_LIKE = re.compile(r"^[A-Za-z0-9._-]+@[A-Za-z0-9.-]+:[^/]")
_COMMIT = re.compile(r"^[0-9a-f]{40}([0-9a-f]{24})?$")
# git check-ref-format's rules, minus the ones a valid name cannot hit once these are excluded.
_BAD_REF = re.compile(r"(^[-/.])|(\.\.)|([\x00-\x20\x7f~^:?*\[\\])|(@\{)|(/\.)|(\.lock$)|([/.]$)")


@dataclasses.dataclass(frozen=True)
class Revision:
    kind: RevisionKind
    name: str

    @property
    def refspec(self) -> str:
        """What `git fetch` is asked for: a full ref name, or the commit itself."""
        if self.kind == "branch":
            return f"refs/heads/{self.name}"
        if self.kind == "tag":
            return f"refs/tags/{self.name}"
        return self.name

    @property
    def immutable(self) -> bool:
        """A commit never changes, so once fetched it never needs fetching again."""
        return self.kind == "commit"


@dataclasses.dataclass(frozen=True)
class Remote:
    url: str
    revision: Revision

    @property
    def display(self) -> str:
        """The URL as it may appear in logs and errors: no user info, no query."""
        return display_url(self.url)

    def cache_name(self, fingerprint: str) -> str:
        """A directory name per (URL, revision, credentials); hashes keep it short and inert."""
        url_hash = hashlib.sha256(self.url.encode()).hexdigest()[:16]
        ref_hash = hashlib.sha256(self.revision.name.encode()).hexdigest()[:12]
        return f"{url_hash}-{self.revision.kind}-{ref_hash}-{fingerprint[:12]}"


def revision_from(ref: GitRef, field: str) -> Revision:
    ref.validate(field)
    if ref.commit is not None:
        commit = ref.commit.strip().lower()
        if not _COMMIT.match(commit):
            raise ConfigError("must be a full 40-character commit hash", field=f"{field}.commit")
        return Revision("commit", commit)
    kind: RevisionKind = "branch" if ref.branch is not None else "tag"
    name = ref.branch if ref.branch is not None else ref.tag
    if not name or _BAD_REF.search(name):
        raise ConfigError("is not a valid git ref name", field=f"{field}.{kind}")
    return Revision(kind, name)


def check_url(url: str, field: str) -> str:
    """Only the transports the spec allows; never one that runs a command (`ext::`)."""
    if not (url.startswith(SCHEMES) or _SCP_LIKE.match(url)):
        raise ConfigError("must be an https, http, ssh or file URL", field=field)
    parsed = urllib.parse.urlsplit(url)
    if parsed.password:
        # A password in the URL would end up in git's messages and in our cache key.
        raise ConfigError("must not contain a password; use secretRef", field=field)
    return url


def display_url(url: str) -> str:
    parsed = urllib.parse.urlsplit(url)
    if not parsed.scheme or parsed.scheme not in {"https", "http", "ssh", "file"}:
        return url.split("?", 1)[0]
    host = parsed.hostname or ""
    if parsed.port:
        host = f"{host}:{parsed.port}"
    return urllib.parse.urlunsplit((parsed.scheme, host, parsed.path, "", ""))
