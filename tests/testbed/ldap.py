"""slapd (OpenLDAP, from Debian's packages): a real directory for OpenBao's ldap auth method.

Each instance is private: its own slapd.conf, an mdb database in a temporary folder, loaded
offline with slapadd before slapd starts, and a free loopback port. The directory holds one base
DN, an OU of users with known passwords (stored as salted SHA hashes, as an administrator
would), an OU of groups, and a read-only bind account for OpenBao's user search. It starts in
well under a second, so tests start it on demand from a fixture instead of the shared stack.
"""

from __future__ import annotations

import base64
import dataclasses
import hashlib
import secrets
import shutil
import socket
import subprocess
from collections.abc import Mapping
from pathlib import Path

from tests.testbed import procs

INSTALL_HINT = "apt-get install slapd ldap-utils  (make bootstrap does it)"
SCHEMAS = Path("/etc/ldap/schema")
MODULES = Path("/usr/lib/ldap")
BASE_DN = "dc=secretsync,dc=test"
USERS_DN = f"ou=users,{BASE_DN}"
GROUPS_DN = f"ou=groups,{BASE_DN}"
BIND_DN = f"cn=reader,{BASE_DN}"


@dataclasses.dataclass(frozen=True)
class Ldap:
    url: str
    bind_dn: str
    bind_password: str = dataclasses.field(repr=False)
    users: Mapping[str, str] = dataclasses.field(repr=False)
    """uid -> password"""

    groups: Mapping[str, tuple[str, ...]]
    """cn -> member uids"""

    pid: int

    def user_dn(self, uid: str) -> str:
        return f"uid={uid},{USERS_DN}"


def binaries() -> tuple[Path, Path]:
    found = [shutil.which(name) or f"/usr/sbin/{name}" for name in ("slapd", "slapadd")]
    paths = tuple(Path(p) for p in found)
    if not all(p.exists() for p in paths) or not (MODULES / "back_mdb.so").exists():
        raise procs.TestbedError(f"slapd is not installed; run: {INSTALL_HINT}")
    return paths[0], paths[1]


def ssha(password: str) -> str:
    """The {SSHA} form slappasswd writes: base64(sha1(password + salt) + salt)."""
    salt = secrets.token_bytes(8)
    digest = hashlib.sha1(password.encode() + salt).digest()  # noqa: S324 - LDAP's own scheme
    return "{SSHA}" + base64.b64encode(digest + salt).decode()


def _config(folder: Path) -> str:
    includes = "".join(
        f"include {SCHEMAS / name}.schema\n" for name in ("core", "cosine", "inetorgperson", "nis")
    )
    return (
        f"{includes}"
        f"pidfile {folder / 'slapd.pid'}\n"
        f"modulepath {MODULES}\nmoduleload back_mdb\n"
        # Passwords are only ever compared (bind), never read; everything else is public to
        # an authenticated reader.
        "access to attrs=userPassword by anonymous auth by self auth by * none\n"
        "access to * by users read by * none\n"
        f'database mdb\nsuffix "{BASE_DN}"\nrootdn "cn=admin,{BASE_DN}"\n'
        f"rootpw {ssha(secrets.token_hex(16))}\n"
        f"directory {folder / 'db'}\nmaxsize 16777216\n"
        "index objectClass,uid,member eq\n"
    )


def _ldif(
    users: Mapping[str, str], groups: Mapping[str, tuple[str, ...]], bind_password: str
) -> str:
    entries = [
        f"dn: {BASE_DN}\nobjectClass: dcObject\nobjectClass: organization\n"
        "o: secretsync test bed\ndc: secretsync\n",
        f"dn: {USERS_DN}\nobjectClass: organizationalUnit\nou: users\n",
        f"dn: {GROUPS_DN}\nobjectClass: organizationalUnit\nou: groups\n",
        f"dn: {BIND_DN}\nobjectClass: person\nobjectClass: simpleSecurityObject\ncn: reader\n"
        f"sn: reader\nuserPassword: {ssha(bind_password)}\n",
    ]
    for number, (uid, password) in enumerate(sorted(users.items()), start=1000):
        entries.append(
            f"dn: uid={uid},{USERS_DN}\nobjectClass: inetOrgPerson\nobjectClass: posixAccount\n"
            f"uid: {uid}\ncn: {uid}\nsn: {uid}\nuidNumber: {number}\ngidNumber: {number}\n"
            f"homeDirectory: /home/{uid}\nuserPassword: {ssha(password)}\n"
        )
    for cn, members in sorted(groups.items()):
        lines = "".join(f"member: uid={uid},{USERS_DN}\n" for uid in members)
        entries.append(f"dn: cn={cn},{GROUPS_DN}\nobjectClass: groupOfNames\ncn: {cn}\n{lines}")
    return "\n".join(entries)


def start(folder: Path, users: Mapping[str, str], groups: Mapping[str, tuple[str, ...]]) -> Ldap:
    """Load the directory offline, then serve it on a free loopback port."""
    slapd, slapadd = binaries()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "db").mkdir(exist_ok=True)
    bind_password = secrets.token_urlsafe(16)
    conf = folder / "slapd.conf"
    conf.write_text(_config(folder))
    data = folder / "directory.ldif"
    data.write_text(_ldif(users, groups, bind_password))
    loaded = subprocess.run(
        [str(slapadd), "-f", str(conf), "-l", str(data)],
        capture_output=True,
        text=True,
        check=False,
    )
    if loaded.returncode != 0:
        raise procs.TestbedError(f"slapadd failed:\n{loaded.stderr[-2000:]}")
    port = procs.free_port()
    url = f"ldap://127.0.0.1:{port}"
    # -d keeps slapd in the foreground (no daemon to chase); "stats" logs each bind.
    proc = procs.start(folder, "slapd", [str(slapd), "-f", str(conf), "-h", f"{url}/", "-d", "256"])
    procs.wait_for(folder, "slapd", lambda: _listening(port), timeout=15, proc=proc)
    return Ldap(url, BIND_DN, bind_password, dict(users), dict(groups), proc.pid)


def _listening(port: int) -> bool:
    with socket.create_connection(("127.0.0.1", port), timeout=1):
        return True


def stop(folder: Path) -> None:
    procs.stop_all(folder, grace=5)
