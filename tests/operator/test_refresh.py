"""When the operator looks at the source again: refreshInterval (0 means once), refreshPolicy
CreatedOnce / OnChange / Periodic, and the force-sync annotation (any annotation change)."""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from tests.operator.harness import Cluster, Operator, eventually
from tests.operator.manifests import external_secret, unique, vault, vault_store
from tests.testbed import stack

Start = Callable[..., Operator]
SHAPES = {
    "once": {"refreshInterval": "0"},
    "periodic": {"refreshInterval": "1s"},
    "hourly": {"refreshInterval": "1h"},
    "created-once": {"refreshInterval": "1s", "refreshPolicy": "CreatedOnce"},
    "on-change": {"refreshInterval": "1s", "refreshPolicy": "OnChange"},
}


def test_refresh_intervals_policies_and_force_sync(
    kube: Cluster, testbed: stack.Testbed, start_operator: Start
) -> None:
    key = unique("refresh")
    bao = vault(testbed)
    bao.secrets.kv.v2.create_or_update_secret(key, secret={"v": "one"})
    vault_store(kube, testbed)
    for name, spec in SHAPES.items():
        kube.apply("externalsecrets", external_secret(name, key, **spec))
    start_operator()

    def values() -> dict[str, bytes | None]:
        return {name: (kube.data(f"{name}-secret") or {}).get("v") for name in SHAPES}

    eventually(lambda: set(values().values()) == {b"one"}, what="the first sync of all")
    versions = {n: kube.es(n)["metadata"]["resourceVersion"] for n in SHAPES if n != "periodic"}

    bao.secrets.kv.v2.create_or_update_secret(key, secret={"v": "two"})
    eventually(lambda: values()["periodic"] == b"two", timeout=10, what="the 1s refresh")
    # The Event follows the Secret write (status first, then the Event): wait for it too.
    eventually(
        lambda: "Updated" in [e.reason for e in kube.events("periodic")],
        timeout=10,
        what="the Updated event",
    )
    time.sleep(2.5)  # more than two intervals of the 1s shapes that must not refresh
    assert values() == {
        "once": b"one",
        "periodic": b"two",
        "hourly": b"one",
        "created-once": b"one",
        "on-change": b"one",
    }
    assert {n: kube.es(n)["metadata"]["resourceVersion"] for n in versions} == versions, (
        "an idle refresh check writes no status"
    )

    before = {n: kube.es(n)["status"]["syncedResourceVersion"] for n in SHAPES}
    # Changing any annotation is a change: OnChange and Periodic sync, 0 and CreatedOnce don't.
    for name in SHAPES:
        kube.patch_es(name, {"metadata": {"annotations": {"force-sync": str(time.time())}}})
    eventually(
        lambda: values()["hourly"] == b"two" and values()["on-change"] == b"two",
        timeout=10,
        what="force-sync",
    )
    time.sleep(1.0)
    assert values() == {
        "once": b"one",
        "periodic": b"two",
        "hourly": b"two",
        "created-once": b"one",
        "on-change": b"two",
    }
    for name in ("hourly", "on-change"):
        synced = kube.es(name)["status"]["syncedResourceVersion"]
        assert synced.startswith("1-") and synced != before[name], "annotations count, not spec"


def test_with_a_refresh_time_resolution_idle_refreshes_write_no_status(
    kube: Cluster, testbed: stack.Testbed, start_operator: Start
) -> None:
    key = unique("lag")
    bao = vault(testbed)
    bao.secrets.kv.v2.create_or_update_secret(key, secret={"v": "one"})
    vault_store(kube, testbed)
    kube.apply("externalsecrets", external_secret("lagging", key, refreshInterval="1s"))
    start_operator("--refresh-time-resolution", "1m")

    def value() -> bytes | None:
        return (kube.data("lagging-secret") or {}).get("v")

    eventually(lambda: value() == b"one", what="the first sync")
    eventually(lambda: (kube.es("lagging").get("status") or {}).get("refreshTime"), what="status")
    first = kube.es("lagging")
    time.sleep(3.5)  # three refreshes that change nothing
    assert kube.es("lagging")["metadata"]["resourceVersion"] == first["metadata"]["resourceVersion"]

    # Still refreshing every second: a change arrives, and that refresh writes refreshTime.
    bao.secrets.kv.v2.create_or_update_secret(key, secret={"v": "two"})
    eventually(lambda: value() == b"two", timeout=10, what="the 1s refresh")
    moved = eventually(
        lambda: (
            (es := kube.es("lagging"))["status"]["refreshTime"] != first["status"]["refreshTime"]
            and es
        ),
        timeout=10,
        what="refreshTime written with the update",
    )
    time.sleep(3.5)
    assert kube.es("lagging")["metadata"]["resourceVersion"] == moved["metadata"]["resourceVersion"]


def test_a_refresh_time_resolution_that_is_not_a_duration_is_refused_by_name(
    operator_kubeconfig: Path,
) -> None:
    done = subprocess.run(
        [
            *(sys.executable, "-m", "secretsync", "operator"),
            *("--kubeconfig", str(operator_kubeconfig), "--refresh-time-resolution", "5 minutes"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 2
    assert "--refresh-time-resolution" in done.stderr and "Traceback" not in done.stderr
