"""The real sops and age binaries work together, and Git clones over the loopback server."""

from __future__ import annotations

import os
import subprocess
import uuid
from pathlib import Path

import pytest

from tests.testbed.git import GitServer


def _age_identity(age_keygen_bin: Path, directory: Path) -> tuple[Path, str]:
    keys = directory / "keys.txt"
    subprocess.run([str(age_keygen_bin), "-o", str(keys)], check=True, capture_output=True)
    public = next(
        line.split(": ")[1]
        for line in keys.read_text().splitlines()
        if line.startswith("# public key: ")
    )
    return keys, public


@pytest.mark.parametrize("which", ["sops_bin", "sops_old_bin"])
def test_sops_encrypts_and_decrypts_with_an_age_key(
    which: str, request: pytest.FixtureRequest, age_keygen_bin: Path, tmp_path: Path
) -> None:
    sops = request.getfixturevalue(which)
    keys, public = _age_identity(age_keygen_bin, tmp_path)
    plain = tmp_path / "secret.yaml"
    plain.write_text("password: hunter22\n")
    env = {**os.environ, "SOPS_AGE_KEY_FILE": str(keys)}
    encrypted = subprocess.run(
        [str(sops), "--encrypt", "--age", public, str(plain)],
        check=True,
        capture_output=True,
        env=env,
    ).stdout
    assert b"hunter22" not in encrypted
    assert b"ENC[AES256_GCM," in encrypted
    enc_file = tmp_path / "secret.enc.yaml"
    enc_file.write_bytes(encrypted)
    decrypted = subprocess.run(
        [str(sops), "--decrypt", str(enc_file)], check=True, capture_output=True, env=env
    ).stdout
    assert decrypted == b"password: hunter22\n"


def test_age_encrypts_to_a_recipient(age_bin: Path, age_keygen_bin: Path, tmp_path: Path) -> None:
    keys, public = _age_identity(age_keygen_bin, tmp_path)
    sealed = subprocess.run(
        [str(age_bin), "-r", public], input=b"payload", check=True, capture_output=True
    ).stdout
    opened = subprocess.run(
        [str(age_bin), "-d", "-i", str(keys)], input=sealed, check=True, capture_output=True
    ).stdout
    assert opened == b"payload"


def _git(*args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "GIT_TERMINAL_PROMPT": "0",
        "GIT_AUTHOR_NAME": "t",
        "GIT_AUTHOR_EMAIL": "t@t",
        "GIT_COMMITTER_NAME": "t",
        "GIT_COMMITTER_EMAIL": "t@t",
    }
    return subprocess.run(
        ["git", *args], cwd=cwd, env=env, capture_output=True, text=True, check=False
    )


def _push_one_commit(url: str, work: Path) -> None:
    assert _git("init", "-q", "-b", "main", str(work)).returncode == 0
    (work / "README").write_text("hello\n")
    assert _git("add", "README", cwd=work).returncode == 0
    assert _git("commit", "-qm", "first", cwd=work).returncode == 0
    pushed = _git("push", "-q", url, "main", cwd=work)
    assert pushed.returncode == 0, pushed.stderr


def test_git_clones_a_public_repository_over_http(git_server: GitServer, tmp_path: Path) -> None:
    url = git_server.create_repo(f"pub-{uuid.uuid4().hex}")
    _push_one_commit(url, tmp_path / "work")
    cloned = _git("clone", "-q", "--depth=1", url, str(tmp_path / "clone"))
    assert cloned.returncode == 0, cloned.stderr
    assert (tmp_path / "clone" / "README").read_text() == "hello\n"


def test_git_private_repository_needs_credentials(git_server: GitServer, tmp_path: Path) -> None:
    url = git_server.create_repo(f"priv-{uuid.uuid4().hex}", private=True)
    with_password = url.replace("http://", f"http://{git_server.user}:{git_server.password}@")
    _push_one_commit(with_password, tmp_path / "work")

    anonymous = _git("clone", "-q", url, str(tmp_path / "anon"))
    assert anonymous.returncode != 0
    assert "could not read Username" in anonymous.stderr, "the server asked for credentials"
    wrong = _git(
        "clone",
        "-q",
        url.replace("http://", f"http://{git_server.user}:wrong@"),
        str(tmp_path / "wrong"),
    )
    assert "Authentication failed" in wrong.stderr

    bearer = _git(
        "-c",
        f"http.extraHeader=Authorization: Bearer {git_server.token}",
        "clone",
        "-q",
        url,
        str(tmp_path / "bearer"),
    )
    assert bearer.returncode == 0, bearer.stderr
    assert (tmp_path / "bearer" / "README").exists()
