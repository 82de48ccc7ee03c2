"""The sops provider of a SecretStore, a secretsync extension: SOPS-encrypted files in a Git
repository, decrypted with age identities from a Secret."""

from __future__ import annotations

import dataclasses

from secretsync.api.common import SecretKeySelector
from secretsync.api.fields import Duration, field
from secretsync.errors import ConfigError


@dataclasses.dataclass(frozen=True, kw_only=True)
class GitRef:
    branch: str | None = field("Branch to follow.", default=None)
    tag: str | None = field("Tag to pin.", default=None)
    commit: str | None = field("Commit to pin.", default=None)

    def validate(self, path: str) -> None:
        if sum(v is not None for v in (self.branch, self.tag, self.commit)) != 1:
            raise ConfigError("set exactly one of: branch, tag, commit", field=path)


@dataclasses.dataclass(frozen=True, kw_only=True)
class SopsGit:
    url: str = field("Repository URL: https, ssh or file.")
    ref: GitRef = field("What to check out.", default_factory=lambda: GitRef(branch="main"))
    path: str = field("Files are looked up below this folder.", default="")
    secret_ref: SecretKeySelector | None = field(
        "Credentials: username+password, bearerToken, or identity+known_hosts.", default=None
    )
    interval: Duration = field(
        "How often the repository is fetched.", default=Duration(minutes=1), schema_default="1m"
    )

    def validate(self, path: str) -> None:
        if not self.url.startswith(("https://", "http://", "ssh://", "file://", "git@")):
            raise ConfigError("must be an https, ssh or file URL", field=f"{path}.url")


@dataclasses.dataclass(frozen=True, kw_only=True)
class SopsDecryption:
    secret_ref: SecretKeySelector = field(
        "Secret whose keys ending in .agekey hold age identities (as Flux reads them)."
    )


@dataclasses.dataclass(frozen=True, kw_only=True)
class SopsProvider:
    git: SopsGit = field("Where the encrypted files live.")
    decryption: SopsDecryption = field("How to decrypt them.")
