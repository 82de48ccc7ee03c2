"""Faults of the apiserver, etcd, the Lease and the stores under a running operator, with nothing
lost: after each, every Secret is the same object with its last good data, every ExternalSecret
is Ready within 30 s, no Deployment restarts twice and no Secret is written without cause.

One private test bed for the module (the shared one must never be stopped), on one xdist worker.
The tests run in order on one fleet; each leaves it converged for the next.
"""

from __future__ import annotations

import datetime
import time
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from kubernetes import client
from kubernetes.client.exceptions import ApiException

from tests.faults import health
from tests.faults.fleet import ROLLED, Before, Fleet, Sizes, Writes, before, check_nothing_lost
from tests.operator.harness import eventually
from tests.providers.sops_git_fixtures import age_key
from tests.testbed import binaries, stack

pytestmark = [pytest.mark.testbed, pytest.mark.xdist_group("faults")]

# 200 ExternalSecrets across the three kinds of store (issue 14 asks for 200).
SIZES = Sizes(vault=80, aws=70, sops=50)
RECOVERY: dict[str, float] = {}


def _log(text: str) -> None:
    print(text)


@pytest.fixture(scope="module")
def fleet(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    folder = tmp_path_factory.mktemp("faults")
    state = folder / "stack"
    started = time.monotonic()
    testbed = stack.up(state, log=lambda _: None)
    try:
        _log(f"private test bed up in {time.monotonic() - started:.1f}s")
        key = age_key(binaries.require(binaries.AGE_KEYGEN), folder, "age")
        made = Fleet(testbed, SIZES, folder, binaries.require(binaries.SOPS), key)
        try:
            started = time.monotonic()
            made.install()
            made.run_operator()
            made.wait_all_ready(180)
            made.deploy_apps()
            made.writes = Writes(made.api)
            _log(f"{SIZES.total} ExternalSecrets synced in {time.monotonic() - started:.1f}s")
            yield made
        finally:
            made.close()
    finally:
        stack.down(state)
        _log(f"recovery seconds: {RECOVERY}")


BROKEN: list[str] = []
"""Set by the first test that finds the bed broken: the later ones fail at once with it."""


@pytest.fixture
def start(fleet: Fleet) -> Before:
    """The bed answers and the fleet has converged: a fault starts from a known state."""
    if BROKEN:
        raise health.BedBroken(f"skipped waiting: {BROKEN[0]}")
    try:
        health.check(fleet.testbed)
    except health.BedBroken as exc:
        BROKEN.append(str(exc))
        raise
    return before(fleet)


def _wait_apiserver(fleet: Fleet) -> float:
    """Until the apiserver serves the fleet's namespace again, on its own: after an etcd
    restart nothing restarts the apiserver, as in a real cluster whose etcd comes back."""
    started = time.monotonic()
    eventually(fleet.apiserver_answers, timeout=120, what="the apiserver to answer")
    return time.monotonic() - started


def test_apiserver_stopped_for_30s(fleet: Fleet, start: Before) -> None:
    fleet.stop("kube-apiserver")
    time.sleep(30)  # the outage itself: what the issue asks to survive
    fleet.restart("kube-apiserver")
    _wait_apiserver(fleet)
    RECOVERY["apiserver"] = check_nothing_lost(
        fleet, start, log=_log, label="apiserver down 30s"
    ).recovery_seconds


def test_etcd_stopped_and_restarted(fleet: Fleet, start: Before) -> None:
    fleet.stop("etcd")
    time.sleep(15)  # the outage: the apiserver answers errors meanwhile
    fleet.restart("etcd")
    _wait_apiserver(fleet)
    RECOVERY["etcd"] = check_nothing_lost(
        fleet, start, log=_log, label="etcd down 15s"
    ).recovery_seconds


LEASE = ("secretsync-system", "secretsync-operator")


def _write_lease(coordination: client.CoordinationV1Api, change: Callable[[Any], None]) -> None:
    """Read, change and replace the Lease as another identity would: the leader renews it every
    2 s, so a replace between our read and write meets a conflict; read again and retry."""
    for _ in range(10):
        lease: Any = coordination.read_namespaced_lease(LEASE[1], LEASE[0])
        change(lease)
        try:
            coordination.replace_namespaced_lease(LEASE[1], LEASE[0], lease)
        except ApiException as exc:
            if exc.status != 409:
                raise
            continue
        return
    raise AssertionError("the Lease kept changing under ten writes in a row")


def test_a_stolen_lease_stops_the_old_leader_at_once(fleet: Fleet, start: Before) -> None:
    pod, writes = fleet.pod, fleet.writes
    assert pod is not None and writes is not None
    coordination = client.CoordinationV1Api(fleet.api)
    exits = len(pod.exits)
    lease: Any = coordination.read_namespaced_lease(LEASE[1], LEASE[0])
    assert lease.spec.holder_identity == pod.identity

    def steal(lease: Any) -> None:
        now = datetime.datetime.now(datetime.UTC)
        lease.spec.holder_identity = "thief"
        lease.spec.acquire_time = lease.spec.renew_time = now
        lease.spec.lease_duration_seconds = 3600

    _write_lease(coordination, steal)
    stolen = time.monotonic()
    eventually(lambda: len(pod.exits) > exits, timeout=30, what="the old leader to stop")
    stopped_after = pod.exits[exits] - stolen
    _log(f"stolen lease: the old leader stopped after {stopped_after:.1f}s")
    # Within one renewal (2 s) and the harness's poll; before the fix it wrote on for 15 s.
    assert stopped_after < 5, f"the old leader went on for {stopped_after:.1f}s"

    # While the thief holds the Lease, nobody of ours writes, even for a changed source.
    fleet.set_vault("v-001", "v-001-while-stolen")
    eventually(
        lambda: "standing by while thief leads" in pod.logs_since(start.log_offset),
        what="the restarted operator to stand by",
    )
    time.sleep(15)  # longer than the refresh interval: a leader would have synced by now
    assert not writes.writes, f"Secrets written under a stolen Lease: {writes.writes}"
    assert fleet.secrets()["v-001"].data != fleet.expected["v-001"]

    def let_go(lease: Any) -> None:
        lease.spec.holder_identity = None

    _write_lease(coordination, let_go)
    released = time.monotonic()
    RECOVERY["lease"] = check_nothing_lost(
        fleet, start, changed={"v-001"}, log=_log, label="lease stolen then released"
    ).recovery_seconds
    _log(f"  synced {time.monotonic() - released:.1f}s after the thief let go")


def _batch_calls(fleet: Fleet) -> float:
    assert fleet.pod is not None
    return sum(
        float(line.rsplit(" ", 1)[1])
        for line in fleet.pod.operator.metrics().splitlines()
        if line.startswith("externalsecret_provider_api_calls_count")
        and "BatchGetSecretValue" in line
    )


def test_moto_stopped_during_a_batch_read(fleet: Fleet, start: Before) -> None:
    batches = _batch_calls(fleet)
    for name in fleet.names("aws"):  # every AWS ExternalSecret due at once: batched reads
        fleet.kube.patch_es(
            name, {"metadata": {"annotations": {"force-sync": str(time.monotonic_ns())}}}
        )
    fleet.pause("moto")
    try:
        time.sleep(35)  # past the AWS client's 30 s read timeout: reads in flight fail
    finally:
        fleet.pause("moto", resume=True)
    # force-sync is copied onto each Secret (as ESO copies the ExternalSecret's annotations):
    # one write each, their data unchanged.
    RECOVERY["moto"] = check_nothing_lost(
        fleet,
        start,
        changed=fleet.names("aws"),
        log=_log,
        label="moto stopped 35s during a batch read",
    ).recovery_seconds
    assert _batch_calls(fleet) > batches, "the forced refresh read in batches"


def _moto_answers(fleet: Fleet) -> bool:
    url = f"{fleet.testbed.AWS_ENDPOINT_URL}/moto-api/"
    with urllib.request.urlopen(url, timeout=2) as response:  # noqa: S310
        return int(response.status) == 200


def test_moto_killed_and_restarted_empty(fleet: Fleet, start: Before) -> None:
    """moto keeps its secrets in memory: after a restart every AWS key is gone until it is
    seeded again. A key that is gone at the source fails the sync; the Secret stays."""
    fleet.stop("moto")
    fleet.restart("moto")
    eventually(lambda: _moto_answers(fleet), what="moto to answer")
    eventually(
        lambda: len(fleet.not_ready(fleet.names("aws"))) >= 10,
        what="the AWS ExternalSecrets to see their keys gone",
    )
    for name in fleet.names("aws"):
        fleet.set_aws(name, fleet.expected[name]["password"].decode())
    RECOVERY["moto-empty"] = check_nothing_lost(
        fleet, start, log=_log, label="moto restarted empty, then seeded"
    ).recovery_seconds


def test_openbao_restarted_in_the_middle_of_a_rotation(fleet: Fleet, start: Before) -> None:
    rotated = fleet.names("vault")
    for name in rotated:
        fleet.set_vault(name, f"{name}-two")

    def begun() -> bool:
        seen = fleet.secrets()
        return any(seen[n].data == fleet.expected[n] for n in rotated)

    eventually(begun, what="the rotation to reach the first Secrets")
    fleet.stop("openbao-tls")
    midway = sum(fleet.secrets()[n].data == fleet.expected[n] for n in rotated)
    fleet.restart("openbao-tls")
    fleet.unseal()
    _log(f"OpenBao restarted with {midway}/{len(rotated)} Secrets rotated")
    RECOVERY["openbao-restart"] = check_nothing_lost(
        fleet,
        start,
        changed=rotated,
        rolled={"vault"},
        log=_log,
        label="OpenBao restarted mid-rotation",
    ).recovery_seconds


def test_openbao_sealed_then_unsealed(fleet: Fleet, start: Before) -> None:
    fleet.seal()
    try:
        eventually(
            lambda: fleet.not_ready(fleet.names("vault")),
            what="the Vault ExternalSecrets to see the sealed store",
        )
    finally:
        fleet.unseal()
    RECOVERY["openbao-seal"] = check_nothing_lost(
        fleet, start, log=_log, label="OpenBao sealed then unsealed"
    ).recovery_seconds


def test_git_errors_then_a_force_push_rewriting_history(fleet: Fleet, start: Before) -> None:
    root = Path(fleet.testbed.GIT_ROOT)
    requests = root / "requests.log"
    seen = requests.read_text().count(" 503") if requests.exists() else 0
    (root / "failing").touch()
    try:
        eventually(
            lambda: requests.read_text().count(" 503") >= seen + 2,
            what="the operator to meet the failing Git server",
        )
    finally:
        (root / "failing").unlink()
    values = dict(fleet.sops_values)
    values[ROLLED["sops"]] = "s-000-rewritten"
    fleet.rewrite_sops(values)
    RECOVERY["git"] = check_nothing_lost(
        fleet,
        start,
        changed={ROLLED["sops"]},
        rolled={"sops"},
        log=_log,
        label="Git errors, then a force-push",
    ).recovery_seconds
