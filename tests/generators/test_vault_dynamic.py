"""VaultDynamicSecret against the real OpenBao and PostgreSQL: OpenBao's database engine issues
a login (CREATE ROLE ... VALID UNTIL), the generator's values really log in, the lease it
reports is renewed (OpenBao's lease lookup shows the later expiry), a renewal capped by the
role's max TTL turns the next step into a re-issue, which yields a new working login, and
revoking the lease drops the login from pg_roles. No credential reaches an error or the lease.
"""

from __future__ import annotations

import time
from typing import Any

import pytest

from secretsync.api.generators import VaultDynamicSecretSpec, parse_generator
from secretsync.errors import SecretSyncError
from secretsync.generators import leases, vault_dynamic
from secretsync.generators.base import GeneratorContext
from secretsync.generators.leases import Action, Lease
from tests.testbed import bao, baodb, postgres

TOKEN_SECRET = "bao-token"


class _TokenSecret:
    """The Kubernetes Secret holding the store's token, as the operator would read it."""

    def __init__(self, token: str) -> None:
        self._token = token

    def secret_data(self, namespace: str, name: str) -> Any:
        assert name == TOKEN_SECRET
        return {"token": self._token.encode()}

    def config_map_data(self, namespace: str, name: str) -> Any:
        raise AssertionError

    def service_account_token(self, *args: Any) -> str:
        raise AssertionError

    def service_account_annotations(self, namespace: str, name: str) -> Any:
        raise AssertionError


def _spec(server: bao.Bao, path: str, **extra: Any) -> VaultDynamicSecretSpec:
    raw = {
        "kind": "VaultDynamicSecret",
        "metadata": {"name": "db"},
        "spec": {
            "provider": {
                "server": server.addr,
                "auth": {"tokenSecretRef": {"name": TOKEN_SECRET, "key": "token"}},
            },
            "path": path,
            **extra,
        },
    }
    spec = parse_generator(raw).spec
    assert isinstance(spec, VaultDynamicSecretSpec)
    return spec


def _run(server: bao.Bao, spec: VaultDynamicSecretSpec) -> tuple[dict[str, bytes], list[Lease]]:
    found: list[Lease] = []
    ctx = GeneratorContext("db", "team", _TokenSecret(server.token), on_lease=found.append)
    return vault_dynamic.generate(spec, ctx), found


def _ctx(server: bao.Bao) -> GeneratorContext:
    return GeneratorContext("db", "team", _TokenSecret(server.token))


def _logs_in(db: postgres.Postgres, values: dict[str, bytes]) -> bool:
    done = postgres.login(db, values["username"].decode(), values["password"].decode())
    return done.returncode == 0 and done.stdout.strip() == values["username"].decode()


def test_an_issued_login_works_and_its_lease_is_kept_without_the_credential(
    bao_dev: bao.Bao, postgres_db: postgres.Postgres, bao_database: baodb.DatabaseEngine
) -> None:
    path = baodb.dynamic_role(bao_dev, bao_database, "issue", "1m", "5m")
    values, found = _run(bao_dev, _spec(bao_dev, path))
    assert set(values) == {"username", "password"}
    assert _logs_in(postgres_db, values)
    (lease,) = found
    assert lease.id.startswith(f"{path}/")
    assert (lease.ttl, lease.renewable, lease.generator) == (60, True, "VaultDynamicSecret/db")
    recorded = leases.encode(found)
    assert values["password"].decode() not in recorded
    assert values["username"].decode() not in recorded


def test_renewal_extends_the_lease_in_openbao(
    bao_dev: bao.Bao, postgres_db: postgres.Postgres, bao_database: baodb.DatabaseEngine
) -> None:
    path = baodb.dynamic_role(bao_dev, bao_database, "renew", "20s", "10m")
    spec = _spec(bao_dev, path)
    values, (lease,) = _run(bao_dev, spec)
    before = str(baodb.lease_lookup(bao_dev, lease.id)["expire_time"])
    time.sleep(2)  # so a renewal by the same TTL ends visibly later
    after_renewal = vault_dynamic.renew(spec, _ctx(bao_dev), lease)
    after = str(baodb.lease_lookup(bao_dev, lease.id)["expire_time"])
    assert after > before
    assert not after_renewal.capped
    assert after_renewal.expires_at > lease.expires_at
    assert leases.next_step(after_renewal, 2 / 3).action is Action.RENEW
    assert _logs_in(postgres_db, values)


def test_a_renewal_capped_by_max_ttl_leads_to_a_reissue_with_a_new_working_login(
    bao_dev: bao.Bao, postgres_db: postgres.Postgres, bao_database: baodb.DatabaseEngine
) -> None:
    path = baodb.dynamic_role(bao_dev, bao_database, "capped", "30s", "31s")
    spec = _spec(bao_dev, path)
    first, (lease,) = _run(bao_dev, spec)
    time.sleep(4)  # the max TTL now leaves 27s: a renewal by 30s is cut short
    capped = vault_dynamic.renew(spec, _ctx(bao_dev), lease)
    assert capped.capped
    step = leases.next_step(capped, 2 / 3)
    assert step.action is Action.REISSUE
    assert step.at < capped.expires_at
    second, (fresh,) = _run(bao_dev, spec)
    assert fresh.id != lease.id
    assert second["username"] != first["username"]
    assert _logs_in(postgres_db, second)
    assert _logs_in(postgres_db, first)  # still valid until revoked: the caller decides when
    vault_dynamic.revoke(spec, _ctx(bao_dev), lease)
    assert not _logs_in(postgres_db, first)
    assert _logs_in(postgres_db, second)


def test_revoking_the_lease_drops_the_login(
    bao_dev: bao.Bao, postgres_db: postgres.Postgres, bao_database: baodb.DatabaseEngine
) -> None:
    path = baodb.dynamic_role(bao_dev, bao_database, "revoke", "1m", "5m")
    spec = _spec(bao_dev, path)
    values, (lease,) = _run(bao_dev, spec)
    user = values["username"].decode()
    assert postgres.roles(postgres_db, user) == [user]
    vault_dynamic.revoke(spec, _ctx(bao_dev), lease)
    assert postgres.roles(postgres_db, user) == []
    assert not _logs_in(postgres_db, values)


def test_a_static_role_reads_its_rotated_password_and_keeps_no_lease(
    bao_dev: bao.Bao, postgres_db: postgres.Postgres, bao_database: baodb.DatabaseEngine
) -> None:
    values, found = _run(bao_dev, _spec(bao_dev, bao_database.static_creds_path()))
    assert values["username"] == postgres.STATIC_USER.encode()
    assert _logs_in(postgres_db, values)
    assert found == []


def test_raw_result_holds_the_whole_response(
    bao_dev: bao.Bao, postgres_db: postgres.Postgres, bao_database: baodb.DatabaseEngine
) -> None:
    path = baodb.dynamic_role(bao_dev, bao_database, "raw", "1m", "5m")
    values, (lease,) = _run(bao_dev, _spec(bao_dev, path, resultType="Raw"))
    assert values["lease_id"].decode() == lease.id
    assert b'"username"' in values["data"]


def test_an_unknown_role_fails_clearly_without_values(
    bao_dev: bao.Bao, bao_database: baodb.DatabaseEngine
) -> None:
    with pytest.raises(SecretSyncError) as caught:
        _run(bao_dev, _spec(bao_dev, bao_database.creds_path("nobody")))
    assert "IssueDynamicSecret" in str(caught.value)
    assert bao_dev.token not in str(caught.value)
