"""Start the loopback Git server and make bare repositories it serves."""

from __future__ import annotations

import secrets
import subprocess
import sys
import urllib.error
import urllib.request
from dataclasses import dataclass
from pathlib import Path

from tests.testbed import paths, procs

USER = "testbed"


@dataclass(frozen=True)
class GitServer:
    url: str
    root: Path
    user: str
    password: str
    token: str

    def create_repo(self, name: str, *, private: bool = False) -> str:
        """Create an empty bare repository; returns its clone URL (without credentials)."""
        area = "private" if private else "public"
        repo = self.root / area / f"{name}.git"
        subprocess.run(
            ["git", "init", "--quiet", "--bare", "--initial-branch=main", str(repo)], check=True
        )
        return f"{self.url}/{area}/{name}.git"


def start(state_dir: Path) -> GitServer:
    root = state_dir / "git"
    for area in ("public", "private"):
        (root / area).mkdir(parents=True, exist_ok=True)
    port = procs.free_port()
    server = GitServer(
        url=f"http://127.0.0.1:{port}",
        root=root,
        user=USER,
        password=secrets.token_urlsafe(12),
        token=secrets.token_urlsafe(16),
    )
    proc = procs.start(
        state_dir,
        "git-http",
        [
            sys.executable,
            "-m",
            "tests.testbed.gitserver",
            # `--flag=value`: a random password may start with "-", which argparse would
            # otherwise read as an option.
            f"--root={root}",
            f"--port={port}",
            f"--user={server.user}",
            f"--password={server.password}",
            f"--token={server.token}",
        ],
        env={"PYTHONPATH": str(paths.REPO_ROOT)},
    )

    def ready() -> bool:
        try:
            urllib.request.urlopen(f"{server.url}/private/", timeout=2)  # noqa: S310
        except urllib.error.HTTPError as exc:
            return exc.code == 401
        return False

    procs.wait_for(state_dir, "git-http", ready, timeout=20, proc=proc)
    return server
