"""Git credentials from a Kubernetes Secret, and the environment that hands them to git.

Credentials never go into the URL, the command line (visible in the process list) or .git/config:
HTTP credentials travel as an `http.extraHeader` set through GIT_CONFIG_COUNT/KEY/VALUE, which only
the git process and its children see; an SSH key and known_hosts are written to a 0700 directory
that exists only while git runs.
"""

from __future__ import annotations

import base64
import contextlib
import dataclasses
import hashlib
import hmac
import os
import shlex
import shutil
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path

from secretsync.errors import ConfigError


@dataclasses.dataclass(frozen=True)
class GitAuth:
    """At most one of: an HTTP Authorization header, or an SSH identity with known_hosts."""

    header: str | None = dataclasses.field(default=None, repr=False)
    identity: bytes | None = dataclasses.field(default=None, repr=False)
    known_hosts: bytes | None = dataclasses.field(default=None, repr=False)

    @property
    def secrets(self) -> tuple[str, ...]:
        """Values to mask in any message git might print."""
        values = [self.header or ""]
        if self.header:
            values.append(self.header.split(" ", 2)[-1])
        return tuple(v for v in values if v)

    def fingerprint(self, salt: bytes) -> str:
        """Separates cache entries per credential set, so one tenant's fetch never serves
        another's; salted so that a directory name reveals nothing about a password."""
        if self.header is None and self.identity is None:
            return "anonymous"
        parts = ((self.header or "").encode(), self.identity or b"", self.known_hosts or b"")
        material = b"\0".join(parts)
        return hmac.new(salt, material, hashlib.sha256).hexdigest()


NO_AUTH = GitAuth()


def auth_from_secret(data: Mapping[str, bytes], source: str) -> GitAuth:
    """Flux's keys: username+password, bearerToken, or identity+known_hosts."""
    if "bearerToken" in data:
        return GitAuth(header=f"Authorization: Bearer {_text(data, 'bearerToken', source)}")
    if "username" in data or "password" in data:
        user, password = _text(data, "username", source), _text(data, "password", source)
        token = base64.b64encode(f"{user}:{password}".encode()).decode()
        return GitAuth(header=f"Authorization: Basic {token}")
    if "identity" in data:
        if not data.get("known_hosts"):
            raise ConfigError("an ssh identity needs known_hosts", field=f"{source}.known_hosts")
        return GitAuth(identity=data["identity"], known_hosts=data["known_hosts"])
    raise ConfigError("set username+password, bearerToken, or identity+known_hosts", field=source)


def _text(data: Mapping[str, bytes], key: str, source: str) -> str:
    if key not in data:
        raise ConfigError("is missing", field=f"{source}.{key}")
    try:
        text = data[key].decode().strip()
    except UnicodeDecodeError:
        raise ConfigError("is not UTF-8", field=f"{source}.{key}") from None
    if not text or "\n" in text or "\r" in text:
        # A newline would let the value inject further HTTP headers.
        raise ConfigError("must be one non-empty line", field=f"{source}.{key}")
    return text


def base_environment() -> dict[str, str]:
    """Git isolated from the host's and the user's configuration, and never prompting."""
    return {
        "PATH": os.environ.get("PATH", "/usr/bin:/bin"),
        "LC_ALL": "C",
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_ASKPASS": "",
        "SSH_ASKPASS": "",
        "GIT_CONFIG_NOSYSTEM": "1",
        "GIT_CONFIG_GLOBAL": os.devnull,
        "GIT_PROTOCOL_FROM_USER": "0",
    }


def config_environment(settings: list[tuple[str, str]]) -> dict[str, str]:
    """`git -c k=v` without putting k=v on the command line."""
    env = {"GIT_CONFIG_COUNT": str(len(settings))}
    for index, (key, value) in enumerate(settings):
        env[f"GIT_CONFIG_KEY_{index}"] = key
        env[f"GIT_CONFIG_VALUE_{index}"] = value
    return env


def http_settings(auth: GitAuth) -> list[tuple[str, str]]:
    settings = [("protocol.allow", "never")]
    settings += [(f"protocol.{p}.allow", "always") for p in ("https", "http", "ssh", "file")]
    settings.append(("credential.helper", ""))
    if auth.header:
        settings.append(("http.extraHeader", auth.header))
        # The header would follow a redirect to another host; a Git server has no need to.
        settings.append(("http.followRedirects", "false"))
    return settings


def ssh_command(key_file: Path | None, known_hosts: Path | None) -> str:
    """Strict host checking against the Secret's known_hosts only; no agent, no user config."""
    parts = ["ssh", "-F", os.devnull, "-o", "BatchMode=yes", "-o", "StrictHostKeyChecking=yes"]
    parts += ["-o", f"UserKnownHostsFile={known_hosts or os.devnull}", "-o", "IdentityAgent=none"]
    if key_file is not None:
        parts += ["-o", "IdentitiesOnly=yes", "-i", str(key_file)]
    return shlex.join(parts)


@contextlib.contextmanager
def git_environment(auth: GitAuth) -> Iterator[dict[str, str]]:
    """The environment for one git invocation; key material is removed on every exit path."""
    scratch = Path(tempfile.mkdtemp(prefix="secretsync-git-"))  # mkdtemp makes it 0700
    try:
        key_file = known_hosts = None
        if auth.identity is not None:
            key_file = _write_private(scratch / "identity", auth.identity.rstrip(b"\n") + b"\n")
            known_hosts = _write_private(scratch / "known_hosts", auth.known_hosts or b"")
        env = base_environment() | {"HOME": str(scratch)}
        env |= config_environment(http_settings(auth))
        env["GIT_SSH_COMMAND"] = ssh_command(key_file, known_hosts)
        yield env
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _write_private(path: Path, data: bytes) -> Path:
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(data)
    return path
