"""dataFrom[].rewrite[].merge through the running operator: secrets found in OpenBao merged
into one set of keys (priority wins a conflict), and into one JSON key."""

from __future__ import annotations

import json
from collections.abc import Callable

from tests.operator.harness import Cluster, Operator, eventually
from tests.operator.manifests import condition, vault, vault_store, visible_text
from tests.testbed import stack


def test_found_secrets_merge_by_priority_and_into_json(
    kube: Cluster, testbed: stack.Testbed, start_operator: Callable[..., Operator]
) -> None:
    base = f"merge/{kube.namespace}"
    client = vault(testbed)
    client.secrets.kv.v2.create_or_update_secret(
        f"{base}/defaults", secret={"host": "db.default", "port": 5432, "pool": {"max": 10}}
    )
    client.secrets.kv.v2.create_or_update_secret(
        f"{base}/override", secret={"host": "db.prod", "password": "pw-5e11a0"}
    )
    vault_store(kube, testbed)
    find = {"find": {"path": base, "name": {"regexp": "^merge/"}}}
    # Found keys are full paths; a rewrite replaces key conversion, so strip the path first.
    strip = {"regexp": {"source": "^merge/[^/]+/", "target": ""}}
    for name, merge in (
        ("flat", {"priority": ["override"], "conflictPolicy": "Ignore"}),
        ("json", {"strategy": "JSON", "into": "config", "conflictPolicy": "Ignore"}),
        ("strict", {}),
    ):
        kube.apply(
            "externalsecrets",
            {
                "kind": "ExternalSecret",
                "metadata": {"name": name},
                "spec": {
                    "refreshInterval": "1h",
                    "secretStoreRef": {"name": "vault"},
                    "target": {"name": name},
                    "dataFrom": [{**find, "rewrite": [strip, {"merge": merge}]}],
                },
            },
        )
    start_operator()

    flat = eventually(lambda: kube.data("flat"), what="the merged Secret")
    assert flat == {
        "host": b"db.prod",  # the priority key merges last
        "port": b"5432",
        "pool": b'{"max":10}',
        "password": b"pw-5e11a0",
    }
    merged = eventually(lambda: kube.data("json"), what="the JSON Secret")
    # Strategy JSON keeps the found keys and adds the merged object under `into`.
    assert set(merged) == {"defaults", "override", "config"}
    assert json.loads(merged["override"]) == {"host": "db.prod", "password": "pw-5e11a0"}
    assert json.loads(merged["config"]) == {
        "host": "db.prod",  # "override" sorts after "defaults"
        "port": 5432,
        "pool": {"max": 10},
        "password": "pw-5e11a0",
    }
    # Without conflictPolicy: Ignore, "host" in both is an error naming the field only.
    ready = condition(kube, "strict", "False", "SecretSyncedError")
    assert "conflicts: host" in ready["message"]
    assert kube.secret("strict") is None
    assert not any("pw-5e11a0" in text for text in visible_text(kube, "flat", "json", "strict"))
