"""Rotation through the running operator, beyond the happy path: two rotations in quick
succession both roll (VSO #1228), an operator killed mid-rollout is replaced without a second
restart and the health verdict still arrives, and Reloader's annotations opt workloads in
without any spec.rollout."""

from __future__ import annotations

import datetime
import re
import signal
import time
from collections.abc import Callable
from typing import Any

import hvac
from kubernetes import client

from secretsync.reconcile import status
from secretsync.resolve.secret import data_hash
from secretsync.rollout.restart import CHANGE_TOKEN
from tests.operator.harness import Cluster, Operator, eventually
from tests.operator.manifests import rotating_es
from tests.rollout import cluster as c
from tests.testbed import stack


def _deploy(  # a Deployment of one pod that reads the Secret "db"
    api: client.ApiClient,
    namespace: str,
    name: str,
    *,
    annotations: dict[str, str] | None = None,
    min_ready_seconds: int | None = None,
) -> None:
    body = c.deployment(
        name, c.pod_template(name, secret="db"), replicas=1, annotations=annotations
    )
    body.spec.min_ready_seconds = min_ready_seconds
    client.AppsV1Api(api).create_namespaced_deployment(namespace, body)


def _rollout(kube: Cluster) -> dict[str, Any]:
    found: dict[str, Any] = (kube.es("db").get("status") or {}).get("rollout") or {}
    return found


def _head(password: str) -> str:
    """The head of the change token of a rollout of this data (restart.new_token)."""
    return data_hash({"password": password.encode()})[:10]


def _pod_tokens(api: client.ApiClient, namespace: str, app: str) -> set[str]:
    pods = client.CoreV1Api(api).list_namespaced_pod(namespace, label_selector=f"app={app}").items
    return {
        (p.metadata.annotations or {}).get(CHANGE_TOKEN, "")
        for p in pods
        if p.metadata.deletion_timestamp is None
    }


def _started(operator: Operator) -> int:
    found = re.search(r'secretsync_rollouts_total\{outcome="started"\} (\d+)', operator.metrics())
    return int(found.group(1)) if found else 0


def test_two_rotations_in_quick_succession_both_roll(
    kube: Cluster,
    kube_api: client.ApiClient,
    testbed: stack.Testbed,
    start_operator: Callable[..., Operator],
) -> None:
    vault = hvac.Client(url=testbed.VAULT_ADDR, token=testbed.VAULT_TOKEN)
    key = f"rot/{kube.namespace}"
    ns = kube.namespace
    vault.secrets.kv.v2.create_or_update_secret(key, secret={"password": "one"})
    rotating_es(kube, testbed, key, {"targets": [{"kind": "Deployment", "name": "app"}]})
    operator = start_operator()
    eventually(lambda: kube.data("db") == {"password": b"one"}, what="first sync")
    _deploy(kube_api, ns, "app")
    eventually(lambda: c.generation(kube_api, ns, "Deployment", "app") == 1, what="the app")

    # Two changes within about a second: the second lands once the first has synced, while the
    # first is still debounced or rolling. The second must not be swallowed: its own token ends
    # on the pod template and in status, and it is what the pods run.
    vault.secrets.kv.v2.create_or_update_secret(key, secret={"password": "two"})
    eventually(lambda: kube.data("db") == {"password": b"two"}, timeout=10, what="two synced")
    vault.secrets.kv.v2.create_or_update_secret(key, secret={"password": "three"})
    eventually(lambda: kube.data("db") == {"password": b"three"}, timeout=10, what="three")
    done = eventually(
        lambda: (
            (r := _rollout(kube)).get("phase") == "Succeeded"
            and r["token"].startswith(_head("three"))
            and r
        ),
        timeout=40,
        what="the rollout of the second change to succeed",
    )
    assert c.template_token(kube_api, ns, "Deployment", "app") == done["token"]
    eventually(
        lambda: _pod_tokens(kube_api, ns, "app") == {done["token"]},
        timeout=20,
        what="the pods to run the second change",
    )
    assert _started(operator) == 2, "each change got a rollout of its own"
    after_pair = c.generation(kube_api, ns, "Deployment", "app")
    assert after_pair in (2, 3), "debounced into one restart, or one restart each"

    # Two changes that each reach the workload: the second arrives right after the first's
    # restart landed, so the workload is restarted twice, with two distinct tokens.
    vault.secrets.kv.v2.create_or_update_secret(key, secret={"password": "four"})
    first = eventually(
        lambda: (
            (t := c.template_token(kube_api, ns, "Deployment", "app") or "").startswith(
                _head("four")
            )
            and t
        ),
        timeout=10,
        what="the restart for four",
    )
    vault.secrets.kv.v2.create_or_update_secret(key, secret={"password": "five"})
    second = eventually(
        lambda: (
            (r := _rollout(kube)).get("phase") == "Succeeded"
            and r["token"].startswith(_head("five"))
            and r["token"]
        ),
        timeout=40,
        what="the rollout of five to succeed",
    )
    assert first != second
    assert c.template_token(kube_api, ns, "Deployment", "app") == second
    assert c.generation(kube_api, ns, "Deployment", "app") == after_pair + 2, "two restarts"
    eventually(
        lambda: _pod_tokens(kube_api, ns, "app") == {second},
        timeout=20,
        what="the pods to run the last change",
    )
    assert _started(operator) == 4


def test_an_operator_killed_mid_rollout_is_replaced_without_a_second_restart(
    kube: Cluster,
    kube_api: client.ApiClient,
    testbed: stack.Testbed,
    start_operator: Callable[..., Operator],
) -> None:
    vault = hvac.Client(url=testbed.VAULT_ADDR, token=testbed.VAULT_TOKEN)
    key = f"rot/{kube.namespace}"
    ns = kube.namespace
    vault.secrets.kv.v2.create_or_update_secret(key, secret={"password": "one"})
    rotating_es(
        kube,
        testbed,
        key,
        {"targets": [{"kind": "Deployment", "name": "app"}], "healthTimeout": "60s"},
    )
    first = start_operator()
    eventually(lambda: kube.data("db") == {"password": b"one"}, what="first sync")
    # New pods count as available only after 6s Ready, so the rollout stays in flight for a
    # while after the restart.
    _deploy(kube_api, ns, "app", min_ready_seconds=6)
    eventually(lambda: c.generation(kube_api, ns, "Deployment", "app") == 1, what="the app")

    # A first rotation that finishes, so the ExternalSecret already has a rollout record when
    # the second one starts.
    vault.secrets.kv.v2.create_or_update_secret(key, secret={"password": "two"})
    eventually(
        lambda: (
            (r := _rollout(kube)).get("phase") == "Succeeded"
            and r["token"].startswith(_head("two"))
        ),
        timeout=40,
        what="the first rollout",
    )
    assert c.generation(kube_api, ns, "Deployment", "app") == 2

    vault.secrets.kv.v2.create_or_update_secret(key, secret={"password": "three"})
    deadline = time.monotonic() + 15
    while c.generation(kube_api, ns, "Deployment", "app") == 2:
        assert time.monotonic() < deadline, "the restart did not land"
        time.sleep(0.05)
    first.stop(signal.SIGKILL)
    in_flight = _rollout(kube)
    assert in_flight.get("phase") == "Progressing", in_flight
    token = in_flight["token"]
    assert token.startswith(_head("three"))
    assert c.template_token(kube_api, ns, "Deployment", "app") == token

    second = start_operator()
    eventually(
        lambda: _rollout(kube).get("phase") == "Succeeded",
        timeout=40,
        what="the resumed rollout's verdict",
    )
    assert _rollout(kube)["token"] == token
    assert c.generation(kube_api, ns, "Deployment", "app") == 3, "no second restart"
    assert c.template_token(kube_api, ns, "Deployment", "app") == token
    metrics = second.metrics()
    assert 'secretsync_rollouts_total{outcome="succeeded"} 1' in metrics
    assert _started(second) == 0, "the new process started no rollout of its own"
    # The verdict stays: later syncs (every second) neither restart nor rewrite it.
    time.sleep(3)
    assert _rollout(kube).get("phase") == "Succeeded"
    assert _rollout(kube)["token"] == token
    assert c.generation(kube_api, ns, "Deployment", "app") == 3


def test_reloader_annotations_opt_workloads_in_without_spec_rollout(
    kube: Cluster,
    kube_api: client.ApiClient,
    testbed: stack.Testbed,
    start_operator: Callable[..., Operator],
) -> None:
    vault = hvac.Client(url=testbed.VAULT_ADDR, token=testbed.VAULT_TOKEN)
    key = f"rot/{kube.namespace}"
    ns = kube.namespace
    vault.secrets.kv.v2.create_or_update_secret(key, secret={"password": "one"})
    rotating_es(
        kube, testbed, key, None, target_annotations={"reloader.stakater.com/match": "true"}
    )
    start_operator()
    eventually(lambda: kube.data("db") == {"password": b"one"}, what="first sync")
    _deploy(kube_api, ns, "auto", annotations={"reloader.stakater.com/auto": "true"})
    _deploy(kube_api, ns, "named", annotations={"secret.reloader.stakater.com/reload": "db"})
    _deploy(kube_api, ns, "search", annotations={"reloader.stakater.com/search": "true"})
    _deploy(kube_api, ns, "plain")
    names = ("auto", "named", "search", "plain")
    eventually(
        lambda: all(c.generation(kube_api, ns, "Deployment", n) == 1 for n in names),
        what="the workloads",
    )

    vault.secrets.kv.v2.create_or_update_secret(key, secret={"password": "two"})
    done = eventually(
        lambda: (r := _rollout(kube)).get("phase") == "Succeeded" and r,
        timeout=40,
        what="the rollout to succeed",
    )
    assert done["workloads"] == ["Deployment/auto", "Deployment/named", "Deployment/search"]
    for name in ("auto", "named", "search"):
        assert c.generation(kube_api, ns, "Deployment", name) == 2, name
        assert c.template_token(kube_api, ns, "Deployment", name) == done["token"], name
    assert c.generation(kube_api, ns, "Deployment", "plain") == 1, "no opt-in, no restart"
    assert c.template_token(kube_api, ns, "Deployment", "plain") is None
    assert kube.data("db") == {"password": b"two"}


def test_the_sync_loop_never_writes_back_what_the_rollout_engine_owns() -> None:
    """The bug the kill test found: the sync loop patched its cached status back, putting an
    old status.rollout (and RolloutFailed) over the engine's newer one, so a restarted
    operator found no rollout in flight to resume."""
    cached = {
        "rollout": {"token": "old", "phase": "Succeeded"},
        "conditions": [
            {"type": "RolloutFailed", "status": "False", "reason": "RolloutSucceeded"},
            {"type": "Ready", "status": "True", "lastTransitionTime": "2020-01-01T00:00:00Z"},
        ],
    }
    fresher = [{"type": "RolloutFailed", "status": "True", "reason": "RolledBack"}]
    new = status.new_status(
        cached,
        status.Outcome(True, status.Reason.SYNCED, "secret synced", synced=True),
        generation=1,
        synced_version="1",
        target_name="db",
        now=datetime.datetime(2021, 1, 1, tzinfo=datetime.UTC),
        fresher=fresher,
    )
    assert "rollout" not in new, "a merge patch without it leaves the engine's record alone"
    assert [c["type"] for c in new["conditions"]] == ["RolloutFailed", "Ready"]
    assert new["conditions"][0] == fresher[0]
    assert new["conditions"][1]["lastTransitionTime"] == "2020-01-01T00:00:00Z"
