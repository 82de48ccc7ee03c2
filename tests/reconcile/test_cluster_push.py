"""ClusterPushSecret decisions (reconcile/cluster_push.py), pure: namespaces by selector, the
child PushSecret (spec as written, metadata, controller ownerReference), create/update/delete,
a same-named PushSecret that is not ours left alone and reported, a renamed child replaced."""

from __future__ import annotations

import datetime
from typing import Any

from secretsync.api.parsing import parse
from secretsync.api.push import ClusterPushSecretSpec
from secretsync.reconcile import cluster_push as rules

PUSH_SPEC = {
    "secretStoreRefs": [{"name": "vault", "kind": "ClusterSecretStore"}],
    "selector": {"secret": {"name": "src"}},
    "data": [{"match": {"secretKey": "pw", "remoteRef": {"remoteKey": "app"}}}],
}


def _raw(**spec: Any) -> dict[str, Any]:
    return {
        "kind": "ClusterPushSecret",
        "metadata": {"name": "cps", "uid": "u-1"},
        "spec": {
            "pushSecretSpec": PUSH_SPEC,
            "namespaceSelectors": [{"matchLabels": {"team": "a"}}],
            **spec,
        },
    }


def _spec(raw: dict[str, Any]) -> ClusterPushSecretSpec:
    return parse(ClusterPushSecretSpec, raw["spec"], "spec")


def test_namespaces_are_selected_by_any_selector_and_none_without_selectors() -> None:
    raw = _raw(namespaceSelectors=[{"matchLabels": {"team": "a"}}, {"matchLabels": {"x": "y"}}])
    namespaces = {"a": {"team": "a"}, "b": {"x": "y"}, "c": {"team": "c"}}
    assert rules.selected(_spec(raw), namespaces) == ["a", "b"]
    assert rules.selected(_spec(_raw(namespaceSelectors=[])), namespaces) == []


def test_the_child_carries_the_spec_as_written_the_metadata_and_a_controller_owner() -> None:
    raw = _raw(pushSecretName="pushed", pushSecretMetadata={"labels": {"l": "1"}})
    body = rules.child(raw, _spec(raw), "a")
    assert body["metadata"]["name"] == "pushed" and body["metadata"]["namespace"] == "a"
    assert body["metadata"]["labels"] == {"l": "1"}
    assert body["spec"] == PUSH_SPEC and body["spec"] is not PUSH_SPEC
    (owner,) = body["metadata"]["ownerReferences"]
    assert (owner["kind"], owner["name"], owner["uid"], owner["controller"]) == (
        "ClusterPushSecret", "cps", "u-1", True,
    )  # fmt: skip
    assert rules.owned(body, "cps") and not rules.owned(body, "other")


def test_plan_creates_updates_deletes_and_reports_a_foreign_push_secret() -> None:
    raw = _raw()
    spec = _spec(raw)
    mine = rules.child(raw, spec, "b")
    stale = {**mine, "spec": {**PUSH_SPEC, "refreshInterval": "5m"}}
    foreign = {"metadata": {"name": "cps", "namespace": "c"}, "spec": {}}
    gone = rules.child(raw, spec, "old")
    existing = {
        ("b", "cps"): stale,
        ("c", "cps"): foreign,
        ("old", "cps"): gone,
        ("d", "cps"): mine | {"metadata": {**mine["metadata"], "namespace": "d"}},
    }
    work = rules.plan(raw, spec, ["a", "b", "c", "d"], existing)
    assert [b["metadata"]["namespace"] for b in work.create] == ["a"]
    assert [b["spec"] for b in work.update] == [PUSH_SPEC]
    assert work.failed == {"c": rules.NOT_OURS}
    assert work.delete == [("old", "cps")]


def test_a_renamed_child_replaces_the_old_one() -> None:
    before = _raw()
    old = rules.child(before, _spec(before), "a")
    raw = _raw(pushSecretName="renamed")
    work = rules.plan(raw, _spec(raw), ["a"], {("a", "cps"): old})
    assert [b["metadata"]["name"] for b in work.create] == ["renamed"]
    assert work.delete == [("a", "cps")]


def test_status_lists_namespaces_and_says_which_failed() -> None:
    now = datetime.datetime(2026, 1, 1, tzinfo=datetime.UTC)
    ok = rules.new_status(_raw(), "cps", ["b", "a"], {}, None, now=now)
    assert ok["provisionedNamespaces"] == ["a", "b"] and ok["failedNamespaces"] == []
    assert ok["conditions"][0]["status"] == "True"
    bad = rules.new_status(_raw(), "cps", ["a"], {"c": rules.NOT_OURS}, None, now=now)
    assert bad["failedNamespaces"] == [{"namespace": "c", "reason": rules.NOT_OURS}]
    assert (bad["conditions"][0]["status"], bad["conditions"][0]["reason"]) == ("False", "Errored")
    assert rules.cluster_store_refs(_raw()) == [("ClusterSecretStore", None, "vault")]
