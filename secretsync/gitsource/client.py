"""The git CLI, run as a subprocess: shallow fetch of one revision, and materialising a commit.

We use the git CLI rather than dulwich or pygit2: it is the only one of the three our dependencies
allow, it speaks every transport (smart HTTP v2, ssh through OpenSSH's own host-key checking, file)
and it fetched faster than dulwich in our measurement (docs/benchmarks.md, SOPS-in-Git provider).
"""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

from secretsync.errors import AccessDenied, NotFound, SecretSyncError, Unavailable
from secretsync.gitsource.auth import GitAuth, git_environment
from secretsync.gitsource.source import Remote
from secretsync.redact import Redactor

FETCH_TIMEOUT_SECONDS = 120.0
LOCAL_TIMEOUT_SECONDS = 60.0

# Lower-cased fragments of git's and ssh's messages (LC_ALL=C), first match wins.
_CAUSES: tuple[tuple[str, type[SecretSyncError]], ...] = (
    ("authentication failed", AccessDenied),
    ("could not read username", AccessDenied),
    ("could not read password", AccessDenied),
    ("the requested url returned error: 401", AccessDenied),
    ("the requested url returned error: 403", AccessDenied),
    ("permission denied", AccessDenied),
    ("host key verification failed", AccessDenied),
    ("couldn't find remote ref", NotFound),
    ("not our ref", NotFound),
    ("the requested url returned error: 404", NotFound),
    ("does not appear to be a git repository", NotFound),
    ("repository not found", NotFound),
    ("not found", NotFound),
    ("unable to access", Unavailable),
    ("could not resolve", Unavailable),
    ("connection refused", Unavailable),
    ("timed out", Unavailable),
)


def classify(stderr: str) -> type[SecretSyncError]:
    """Which error a failed fetch is; anything unrecognised is worth a retry."""
    lowered = stderr.lower()
    for fragment, error in _CAUSES:
        if fragment in lowered:
            return error
    return Unavailable


def reason(stderr: str, redactor: Redactor) -> str:
    """git's last meaningful line, masked: enough to act on, never a credential."""
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    return redactor(lines[-1]) if lines else "git failed without a message"


def _run(args: list[str], env: dict[str, str], timeout: float) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["git", *args],
        env=env,
        capture_output=True,
        text=True,
        errors="replace",
        timeout=timeout,
        check=False,
        stdin=subprocess.DEVNULL,
    )


def fetch(remote: Remote, auth: GitAuth, git_dir: Path) -> str:
    """Shallow-fetch the revision into a bare repository; returns the commit hash."""
    if not (git_dir / "HEAD").exists():
        _local(["init", "--quiet", "--bare", str(git_dir)], "initialising the cache")
    where = f"fetching {remote.display} at {remote.revision.kind} {remote.revision.name}"
    args = ["--git-dir", str(git_dir), "fetch", "--quiet", "--depth", "1", "--no-tags"]
    args += ["--no-write-fetch-head", "--", remote.url]
    target = f"refs/secretsync/{remote.revision.kind}"
    with git_environment(auth) as env:
        try:
            result = _run(
                [*args, f"+{remote.revision.refspec}:{target}"], env, FETCH_TIMEOUT_SECONDS
            )
        except subprocess.TimeoutExpired as exc:
            raise Unavailable(f"{where}: timed out") from exc
    if result.returncode != 0:
        error = classify(result.stderr)
        raise error(f"{where}: {reason(result.stderr, Redactor(auth.secrets))}")
    return _local(["--git-dir", str(git_dir), "rev-parse", f"{target}^{{commit}}"], where).strip()


def materialise(git_dir: Path, commit: str, target: Path) -> Path:
    """Write the commit's files to `target` (atomically: a temporary folder, then a rename),
    using a private index so that nothing shared is touched."""
    if target.is_dir():
        return target
    staging = target.with_name(f".{target.name}.{os.getpid()}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(mode=0o700, parents=True)
    index = staging.with_name(staging.name + ".index")
    env = {"GIT_INDEX_FILE": str(index)}
    try:
        _local(["--git-dir", str(git_dir), "read-tree", commit], "reading the tree", env)
        _local(
            ["--git-dir", str(git_dir), "--work-tree", str(staging), "checkout-index", "--all"],
            "checking out",
            env,
        )
        staging.rename(target)
    finally:
        index.unlink(missing_ok=True)
        shutil.rmtree(staging, ignore_errors=True)
    return target


def _local(args: list[str], what: str, extra: dict[str, str] | None = None) -> str:
    """A git command that touches only the local cache; failing is our problem, not the user's."""
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "LC_ALL": "C"}
    env |= {"GIT_CONFIG_NOSYSTEM": "1", "GIT_CONFIG_GLOBAL": os.devnull} | (extra or {})
    try:
        result = _run(args, env, LOCAL_TIMEOUT_SECONDS)
    except subprocess.TimeoutExpired as exc:
        raise Unavailable(f"{what}: timed out") from exc
    if result.returncode != 0:
        raise Unavailable(f"{what}: {reason(result.stderr, Redactor())}")
    return result.stdout
