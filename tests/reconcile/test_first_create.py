"""Which syncs create the target Secret without reading it first (reconcile.sync.creates_unread):
only one nobody has reported on, with a policy that creates the Secret."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from secretsync.api.objects import parse_external_secret
from secretsync.reconcile import refresh
from secretsync.reconcile.sync import creates_unread

pytestmark = pytest.mark.unit
NEVER = refresh.SyncState(refresh_time=None, synced_resource_version=None)
SYNCED = refresh.SyncState(
    refresh_time=datetime.datetime(2026, 12, 6, tzinfo=datetime.UTC), synced_resource_version="1"
)


def _raw(policy: str = "Owner", status: dict[str, Any] | None = None) -> dict[str, Any]:
    raw: dict[str, Any] = {
        "apiVersion": "external-secrets.io/v1",
        "kind": "ExternalSecret",
        "metadata": {"name": "db", "namespace": "ns", "uid": "u-1", "generation": 1},
        "spec": {
            "secretStoreRef": {"name": "vault", "kind": "SecretStore"},
            "target": {"creationPolicy": policy},
            "data": [{"secretKey": "pw", "remoteRef": {"key": "db"}}],
        },
    }
    if status is not None:
        raw["status"] = status
    return raw


def _decide(raw: dict[str, Any], state: refresh.SyncState = NEVER) -> bool:
    return creates_unread(parse_external_secret(raw), raw, state)


@pytest.mark.parametrize("policy", ["Owner", "Orphan"])
def test_a_new_external_secret_that_creates_its_secret_skips_the_read(policy: str) -> None:
    assert _decide(_raw(policy))


@pytest.mark.parametrize("policy", ["Merge", "None"])
def test_policies_that_never_create_read_the_secret(policy: str) -> None:
    assert not _decide(_raw(policy))


def test_any_status_means_a_read_first() -> None:
    # ESO's status before a migration, or a failure this operator reported: the Secret may be
    # there, and a create that 409s would cost more than the read.
    assert not _decide(_raw(status={"refreshTime": "2026-12-06T00:00:00Z"}))
    assert not _decide(_raw(status={"conditions": [{"type": "Ready", "status": "False"}]}))


def test_a_sync_this_process_recorded_means_a_read_first() -> None:
    # Our own status patch not yet seen by the watch: the Reporter's memory says it synced.
    assert not _decide(_raw(), SYNCED)
