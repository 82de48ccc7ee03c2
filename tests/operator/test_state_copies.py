"""The operator's cache of ExternalSecrets hands out copies, and keeps no managedFields."""

from __future__ import annotations

from typing import Any

from secretsync.operator.state import State


def _es() -> dict[str, Any]:
    return {
        "apiVersion": "external-secrets.io/v1",
        "kind": "ExternalSecret",
        "metadata": {
            "name": "db",
            "namespace": "team",
            "generation": 1,
            "labels": {"app": "db"},
            "managedFields": [{"manager": "kubectl", "fieldsV1": {"f:spec": {}}}],
        },
        "spec": {"data": [{"secretKey": "password", "remoteRef": {"key": "db"}}]},
        "status": {"refreshTime": None, "conditions": [{"type": "Ready", "status": "True"}]},
    }


def test_the_cache_keeps_no_managed_fields_and_hands_out_copies() -> None:
    state = State()
    sent = _es()
    assert state.put_es(sent)
    kept = state.get_es(("team", "db"))
    assert kept is not None
    assert "managedFields" not in kept["metadata"]
    assert sent["metadata"]["managedFields"]  # the caller's object is left as it was
    assert {k: v for k, v in kept.items() if k != "metadata"} == {
        k: v for k, v in sent.items() if k != "metadata"
    }
    # Neither the sender's later edits nor a reader's reach the cache.
    sent["spec"]["data"][0]["remoteRef"]["key"] = "changed"
    kept["status"]["conditions"].append({"type": "Other"})
    again = state.get_es(("team", "db"))
    assert again is not None
    assert again["spec"]["data"][0]["remoteRef"]["key"] == "db"
    assert again["status"]["conditions"] == [{"type": "Ready", "status": "True"}]
    # A status-only change is no reason to sync; a label change is.
    assert not state.put_es({**_es(), "status": {"refreshTime": "2026-12-06T10:00:00Z"}})
    relabelled = _es()
    relabelled["metadata"]["labels"] = {"app": "other"}
    assert state.put_es(relabelled)
