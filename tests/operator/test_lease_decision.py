"""Who may hold the leader Lease (pure)."""

from __future__ import annotations

import datetime

import pytest

from secretsync.kube.leases import may_take

NOW = datetime.datetime(2026, 1, 1, 12, 0, 0, tzinfo=datetime.UTC)


@pytest.mark.parametrize(
    ("spec", "allowed"),
    [
        ({}, True),
        ({"holderIdentity": "me", "renewTime": NOW, "leaseDurationSeconds": 15}, True),
        ({"holderIdentity": "other", "renewTime": NOW, "leaseDurationSeconds": 15}, False),
        (
            {
                "holderIdentity": "other",
                "renewTime": NOW - datetime.timedelta(seconds=16),
                "leaseDurationSeconds": 15,
            },
            True,
        ),
        (
            {
                "holderIdentity": "other",
                "renewTime": "2026-01-01T11:59:50Z",
                "leaseDurationSeconds": 15,
            },
            False,
        ),
        ({"holderIdentity": None, "renewTime": NOW}, True),
    ],
)
def test_may_take(spec: dict[str, object], allowed: bool) -> None:
    assert may_take(spec, "me", NOW) is allowed
