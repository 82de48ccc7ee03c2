"""PostgreSQL (Debian's package): a real server behind OpenBao's database secrets engine.

Each instance is private: a data directory made by initdb in a temporary folder, a free loopback
port, password (scram) logins only, and its Unix socket inside the data directory. PostgreSQL
refuses to run as root, so when the test bed runs as root the server runs as the package's
unprivileged `postgres` user (setpriv execs it in place: the recorded pid is the server's own).

`psql` is the client: `login()` proves a credential really opens a session, as a consumer would.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import pwd
import secrets
import signal
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

from tests.testbed import procs

INSTALL_HINT = "apt-get install postgresql  (make bootstrap does it)"
SUPERUSER = "bao_admin"
"""The login OpenBao's database engine manages roles with."""

STATIC_USER = "static_app"
"""An existing login whose password OpenBao's static role rotates."""

SERVICE_USER = "postgres"


@dataclasses.dataclass(frozen=True)
class Postgres:
    host: str
    port: int
    superuser: str
    password: str = dataclasses.field(repr=False)
    data_dir: Path
    pid: int

    def connection_url(self) -> str:
        """OpenBao's connection_url, with its own placeholders for the managing login."""
        return (
            f"postgresql://{{{{username}}}}:{{{{password}}}}@{self.host}:{self.port}"
            "/postgres?sslmode=disable"
        )


def bin_dir() -> Path:
    """The newest installed server's bin folder (/usr/lib/postgresql/<major>/bin)."""
    found = sorted(
        Path("/usr/lib/postgresql").glob("*/bin/postgres"),
        key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0,
    )
    if not found:
        raise procs.TestbedError(f"PostgreSQL is not installed; run: {INSTALL_HINT}")
    return found[-1].parent


def _as_service_user(argv: Sequence[str]) -> list[str]:
    """PostgreSQL will not run as root: drop to the package's user when we are root."""
    if os.geteuid() != 0:
        return list(argv)
    try:
        pwd.getpwnam(SERVICE_USER)
    except KeyError:
        raise procs.TestbedError(
            f"running as root and there is no {SERVICE_USER!r} user; run: {INSTALL_HINT}"
        ) from None
    return [
        "setpriv", f"--reuid={SERVICE_USER}", f"--regid={SERVICE_USER}", "--init-groups", *argv
    ]  # fmt: skip


def _hand_over(path: Path) -> None:
    if os.geteuid() == 0:
        entry = pwd.getpwnam(SERVICE_USER)
        os.chown(path, entry.pw_uid, entry.pw_gid)


def start(folder: Path | None = None) -> Postgres:
    """initdb a fresh cluster, then serve it on a free loopback port."""
    binaries = bin_dir()
    folder = folder or Path(tempfile.mkdtemp(prefix="secretsync-pg-"))
    folder.chmod(0o755)  # the service user reaches its data directory through it
    data = folder / "data"
    data.mkdir()
    data.chmod(0o700)
    _hand_over(data)
    password = secrets.token_urlsafe(18)
    pwfile = folder / "pwfile"
    pwfile.write_text(password + "\n")
    pwfile.chmod(0o644)  # read once by initdb, as the service user; removed right after
    initdb = subprocess.run(
        _as_service_user(
            [str(binaries / "initdb"), "-D", str(data), "-U", SUPERUSER,
             f"--pwfile={pwfile}", "--auth=scram-sha-256", "-E", "UTF8", "--no-sync"]
        ),
        capture_output=True, text=True, check=False,
    )  # fmt: skip
    pwfile.unlink()
    if initdb.returncode != 0:
        raise procs.TestbedError(f"initdb failed:\n{initdb.stderr[-2000:]}")
    port = procs.free_port()
    argv = [
        str(binaries / "postgres"), "-D", str(data), "-h", "127.0.0.1", "-p", str(port),
        "-k", str(data), "-c", "fsync=off", "-c", "log_connections=on",
    ]  # fmt: skip
    proc = procs.start(folder, "postgres", _as_service_user(argv))
    db = Postgres("127.0.0.1", port, SUPERUSER, password, data, proc.pid)
    procs.wait_for(folder, "postgres", lambda: _ready(db), timeout=30, proc=proc)
    sql(db, f"CREATE ROLE {STATIC_USER} WITH LOGIN PASSWORD '{secrets.token_urlsafe(18)}'")
    return db


def _ready(db: Postgres) -> bool:
    return sql(db, "SELECT 1").strip() == "1"


def _psql() -> str:
    return str(bin_dir() / "psql")


def sql(db: Postgres, statement: str) -> str:
    """Run one statement as the superuser; its rows as psql's unaligned text."""
    done = login(db, db.superuser, db.password, statement)
    if done.returncode != 0:
        raise procs.TestbedError(f"psql failed: {done.stderr.strip()}")
    return done.stdout


def login(
    db: Postgres, user: str, password: str, statement: str = "SELECT current_user"
) -> subprocess.CompletedProcess[str]:
    """Log in over TCP with this user and password, as a consumer would, and run `statement`."""
    env = {"PATH": os.environ.get("PATH", ""), "PGPASSWORD": password, "PGCONNECT_TIMEOUT": "5"}
    argv = [_psql(), "-h", db.host, "-p", str(db.port), "-U", user, "-d", "postgres",
            "-X", "-A", "-t", "-v", "ON_ERROR_STOP=1", "-c", statement]  # fmt: skip
    return subprocess.run(argv, capture_output=True, text=True, env=env, check=False, timeout=30)


def roles(db: Postgres, like: str) -> list[str]:
    """Login roles whose name matches the LIKE pattern (OpenBao names its own v-<...>)."""
    query = f"SELECT rolname FROM pg_roles WHERE rolname LIKE '{like}' ORDER BY 1"  # noqa: S608 - test-chosen pattern
    out = sql(db, query)
    return [line for line in out.splitlines() if line]


def stop(db: Postgres, folder: Path | None = None) -> None:
    """A fast shutdown (SIGINT: sessions are ended, not waited for), then remove its files."""
    folder = folder or db.data_dir.parent
    with contextlib.suppress(ProcessLookupError):
        os.kill(db.pid, signal.SIGINT)
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline and procs.Daemon(db.pid).poll() is None:
        try:
            os.kill(db.pid, 0)
        except ProcessLookupError:
            break
        time.sleep(0.1)
    procs.stop_all(folder, grace=5)
    subprocess.run(["rm", "-rf", str(folder)], check=False)
