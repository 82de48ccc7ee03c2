"""OpenBao's database secrets engine (its built-in postgresql-database-plugin) against the test
bed's PostgreSQL, configured over the HTTP API as a Vault operator would.

The shared dev server serves several test runs at once, so each run mounts the engine at a path
of its own. Dynamic roles create a login per issue (CREATE ROLE ... VALID UNTIL, so PostgreSQL
itself refuses the password after the lease's expiry) and OpenBao drops it when the lease is
revoked or expires; the static role rotates the password of an existing login.
"""

from __future__ import annotations

import dataclasses
import secrets

from tests.testbed import bao, postgres

CONNECTION = "pg"
CREATE = "CREATE ROLE \"{{name}}\" WITH LOGIN PASSWORD '{{password}}' VALID UNTIL '{{expiration}}';"
STATIC_ROLE = "static-app"


@dataclasses.dataclass(frozen=True)
class DatabaseEngine:
    mount: str

    def creds_path(self, role: str) -> str:
        return f"{self.mount}/creds/{role}"

    def static_creds_path(self, role: str = STATIC_ROLE) -> str:
        return f"{self.mount}/static-creds/{role}"


def configure(server: bao.Bao, db: postgres.Postgres) -> DatabaseEngine:
    mount = f"database-{secrets.token_hex(4)}"
    bao.request(server, "POST", f"sys/mounts/{mount}", {"type": "database"})
    bao.request(
        server,
        "POST",
        f"{mount}/config/{CONNECTION}",
        {
            "plugin_name": "postgresql-database-plugin",
            "connection_url": db.connection_url(),
            "username": db.superuser,
            "password": db.password,
            "allowed_roles": "*",
            "verify_connection": True,
        },
    )
    bao.request(
        server,
        "POST",
        f"{mount}/static-roles/{STATIC_ROLE}",
        {"db_name": CONNECTION, "username": postgres.STATIC_USER, "rotation_period": "1h"},
    )
    return DatabaseEngine(mount)


def dynamic_role(server: bao.Bao, engine: DatabaseEngine, name: str, ttl: str, max_ttl: str) -> str:
    """A role issuing a fresh login per lease; returns its creds path."""
    bao.request(
        server,
        "POST",
        f"{engine.mount}/roles/{name}",
        {
            "db_name": CONNECTION,
            "creation_statements": [CREATE],
            "default_ttl": ttl,
            "max_ttl": max_ttl,
        },
    )
    return engine.creds_path(name)


def lease_lookup(server: bao.Bao, lease_id: str) -> dict[str, object]:
    """sys/leases/lookup: expire_time, ttl, renewable, issue_time."""
    found = bao.request(server, "PUT", "sys/leases/lookup", {"lease_id": lease_id})
    return dict(found.get("data") or {})


def unmount(server: bao.Bao, engine: DatabaseEngine) -> None:
    bao.request(server, "DELETE", f"sys/mounts/{engine.mount}")
