"""A source that says it moved brings a periodic refresh forward, and only a periodic one."""

from __future__ import annotations

import datetime
from typing import Any

import pytest

from secretsync.api.objects import parse_external_secret
from secretsync.reconcile import refresh

NOW = datetime.datetime(2026, 11, 26, 12, 0, tzinfo=datetime.UTC)


def _es(**spec: Any) -> Any:
    return parse_external_secret(
        {
            "apiVersion": "external-secrets.io/v1",
            "kind": "ExternalSecret",
            "metadata": {"name": "db", "namespace": "ns", "generation": 1},
            "spec": {
                "secretStoreRef": {"name": "git"},
                "data": [{"secretKey": "k", "remoteRef": {"key": "app.yaml"}}],
                **spec,
            },
        }
    )


@pytest.mark.parametrize(
    ("spec", "moved", "due"),
    [
        ({"refreshInterval": "1h"}, False, False),
        ({"refreshInterval": "1h"}, True, True),
        ({"refreshInterval": "0s"}, True, False),
        ({"refreshInterval": "1h", "refreshPolicy": "OnChange"}, True, False),
        ({"refreshInterval": "1h", "refreshPolicy": "CreatedOnce"}, True, False),
    ],
)
def test_source_moved(spec: dict[str, Any], moved: bool, due: bool) -> None:
    es = _es(**spec)
    state = refresh.SyncState(
        refresh_time=NOW - datetime.timedelta(minutes=1),
        synced_resource_version=refresh.synced_version(es.metadata),
    )
    assert refresh.should_refresh(es.spec, es.metadata, state, NOW, source_moved=moved) is due
