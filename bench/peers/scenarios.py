"""The scenarios, each on a fresh bed with one operator at a time: sync (create N → all
Ready), no-change refresh (2 minutes at a 1 m interval), rotation to healthy Deployments, and
the apiserver's floor (the same writes by a bare client, no operator, no provider)."""

from __future__ import annotations

import base64
import collections
import concurrent.futures
import json
import statistics
import time
from collections.abc import Callable
from typing import Any, Protocol

from kubernetes import client

from bench.peers import measure, workload
from bench.peers.report import Result
from tests.testbed import stack

REFRESH_WINDOW = 120.0
ROTATION_COUNTS = (1, 50)
ROTATION_TIMEOUT = 300.0


class Runner(Protocol):
    """What bench/peers/run_*.py modules provide."""

    NAME: str
    KIND: workload.Kind
    SETTINGS: dict[str, tuple[str, list[str]]]

    def install(self, testbed: stack.Testbed, folder: Any) -> None: ...
    def prepare(self, b: workload.Bed) -> collections.Counter[measure.Write]: ...
    def start(self, b: workload.Bed, setting: str) -> workload.Operator: ...


def _timeout(count: int) -> float:
    return max(600.0, count * 0.3)


SETTLE_TIMEOUT = 60.0


def settled(b: workload.Bed) -> collections.Counter[measure.Write]:
    """The apiserver's write counts once they stop moving: every operator here posts its
    Events off the sync (ESO's broadcaster, secretsync's event queue), so some are still being
    posted when the last object turns Ready. Counted with the run they belong to, not with the
    next window."""
    deadline = time.monotonic() + SETTLE_TIMEOUT
    last = b.writes()
    while time.monotonic() < deadline:
        time.sleep(2.0)
        now = b.writes()
        if now == last:
            return now
        last = now
    return last


def sync(runner: Runner, key: str, setting: str, count: int) -> Result:
    with workload.bed(key, runner.install) as b:
        workload.seed(b, count)
        runner.prepare(b)
        operator = runner.start(b, setting)
        try:
            writes0, audit0 = b.writes(), measure.audit_offset(b.audit)
            cpu0 = measure.cpu_seconds(operator.pid)
            started = time.monotonic()
            own = workload.create_all(b, runner.KIND, count, "1h")
            done = workload.wait_ready(b, runner.KIND, count, _timeout(count))
            writes1 = settled(b)
            cpu = measure.cpu_seconds(operator.pid) - cpu0
            rss = measure.peak_rss_mb(operator.pid)
            provider = measure.provider_requests(b.audit, audit0)
        finally:
            operator.stop()
    return Result(
        scenario="sync",
        count=count,
        operator=key,
        setting=setting,
        label=f"{runner.NAME}, {runner.SETTINGS[setting][0]}",
        seconds=round(done - started, 1),
        rss_mb=round(rss),
        cpu_s=round(cpu, 1),
        writes=measure.operator_writes(writes0, writes1, own),
        provider=provider,
        load=measure.load_average(),
    )


def refresh(runner: Runner, key: str, setting: str, count: int) -> Result:
    """N objects at refreshInterval 1m, all Ready, then 2 minutes in which nothing changes at
    the source: every object is due twice."""
    with workload.bed(key, runner.install) as b:
        workload.seed(b, count)
        runner.prepare(b)
        operator = runner.start(b, setting)
        try:
            workload.create_all(b, runner.KIND, count, "1m")
            workload.wait_ready(b, runner.KIND, count, _timeout(count))
            writes0, audit0 = settled(b), measure.audit_offset(b.audit)
            cpu0 = measure.cpu_seconds(operator.pid)
            time.sleep(REFRESH_WINDOW)
            cpu = measure.cpu_seconds(operator.pid) - cpu0
            writes1 = b.writes()
            provider = measure.provider_requests(b.audit, audit0)
        finally:
            operator.stop()
    return Result(
        scenario="refresh",
        count=count,
        operator=key,
        setting=setting,
        label=f"{runner.NAME}, {runner.SETTINGS[setting][0]}",
        seconds=REFRESH_WINDOW,
        rss_mb=None,
        cpu_s=round(cpu, 1),
        writes=measure.operator_writes(writes0, writes1, collections.Counter()),
        provider=provider,
        load=measure.load_average(),
    )


class RotationRunner(Protocol):
    ROTATION_NAME: str
    DEPLOYMENT_ANNOTATIONS: dict[str, str]

    def install(self, testbed: stack.Testbed, folder: Any) -> None: ...
    def prepare(self, b: workload.Bed) -> collections.Counter[measure.Write]: ...
    def rotation_object(self, name: str, path: str, deployments: list[str]) -> dict[str, Any]: ...
    def start_rotation(self, b: workload.Bed) -> workload.Operator: ...

    @property
    def KIND(self) -> workload.Kind: ...


def rolled(deployment: dict[str, Any], generation_before: int) -> bool:
    """The Deployment's template changed since `generation_before` and the rollout finished as
    `kubectl rollout status` judges it: the change observed, every replica updated and
    available, no old replica left."""
    generation: int = deployment["metadata"]["generation"]
    status: dict[str, int] = deployment.get("status") or {}
    replicas: int = (deployment.get("spec") or {}).get("replicas", 1)
    return (
        generation > generation_before
        and status.get("observedGeneration", 0) >= generation
        and status.get("updatedReplicas", 0) == replicas
        and status.get("availableReplicas", 0) == replicas
        and status.get("replicas", 0) == replicas
    )


def _deployments(b: workload.Bed) -> dict[str, dict[str, Any]]:
    apps: Any = client.AppsV1Api(b.api)  # raw responses: _preload_content=False
    response = apps.list_namespaced_deployment(workload.NAMESPACE, _preload_content=False)
    return {d["metadata"]["name"]: d for d in json.loads(response.data)["items"]}


def _poll(check: Callable[[], bool], timeout: float, what: str) -> float:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return time.monotonic()
        time.sleep(0.25)
    raise TimeoutError(f"{what} not done after {timeout:.0f} s")


def _secret_value(b: workload.Bed, name: str) -> str | None:
    core: Any = client.CoreV1Api(b.api)
    try:
        response = core.read_namespaced_secret(name, workload.NAMESPACE, _preload_content=False)
    except client.ApiException as exc:
        if exc.status == 404:
            return None
        raise
    data = json.loads(response.data).get("data") or {}
    return base64.b64decode(data["password"]).decode() if "password" in data else None


def _available(d: dict[str, Any]) -> bool:
    status = d.get("status") or {}
    return bool(status.get("availableReplicas", 0) == d["spec"].get("replicas", 1))


def rotation(runner: RotationRunner, key: str, rounds: int) -> list[Result]:
    """One object per group (1 and 50 Deployments reading its Secret), refreshInterval 5 s; a
    value changed in OpenBao, timed until every Deployment of the group has rolled and is
    healthy. Median of `rounds`."""
    groups = {n: [f"app-{n}-{i}" for i in range(n)] for n in ROTATION_COUNTS}
    with workload.bed(key, runner.install) as b:
        runner.prepare(b)
        apps: Any = client.AppsV1Api(b.api)
        for n, names in groups.items():
            workload.put_value(b, f"bench/rot-{n}", "v0")
            b.custom.create_namespaced_custom_object(
                runner.KIND.group,
                runner.KIND.version,
                workload.NAMESPACE,
                runner.KIND.plural,
                runner.rotation_object(f"rot-{n}", f"bench/rot-{n}", names),
            )
            for name in names:
                apps.create_namespaced_deployment(
                    workload.NAMESPACE, _deployment(name, f"rot-{n}", runner.DEPLOYMENT_ANNOTATIONS)
                )
        operator = runner.start_rotation(b)
        samples: dict[int, list[float]] = {n: [] for n in groups}
        failed = dict.fromkeys(groups, 0)
        try:
            _poll(
                lambda: (
                    len(found := _deployments(b)) == sum(map(len, groups.values()))
                    and all(_available(d) for d in found.values())
                ),
                300,
                "Deployments available at first",
            )
            # Each group's Secret first written with v0: a change that lands before the first
            # sync would make the Secret's creation carry it, and a creation restarts nothing.
            _poll(
                lambda: all(_secret_value(b, f"rot-{n}") == "v0" for n in groups),
                300,
                "first sync of the rotated Secrets",
            )
            time.sleep(5)  # let the first sync's writes (and any restarts) settle
            for n, names in groups.items():
                for r in range(rounds):
                    found = _deployments(b)
                    before = {name: found[name]["metadata"]["generation"] for name in names}
                    started = time.monotonic()
                    workload.put_value(b, f"bench/rot-{n}", f"v{r + 1}")

                    def done(names: list[str] = names, before: dict[str, int] = before) -> bool:
                        now = _deployments(b)
                        return all(rolled(now[x], before[x]) for x in names)

                    try:
                        samples[n].append(_poll(done, ROTATION_TIMEOUT, "rotation") - started)
                    except TimeoutError:
                        # Reported in the table, not raised: a peer (or we) not rolling every
                        # consumer is a result, and the other groups still run.
                        failed[n] += 1
                        break
                    time.sleep(3)
        finally:
            operator.stop()
    return [
        Result(
            scenario="rotation",
            count=n,
            operator=key,
            setting="rotation",
            label=runner.ROTATION_NAME
            + (
                f" — not every Deployment rolled within {ROTATION_TIMEOUT:.0f} s"
                if failed[n]
                else ""
            ),
            seconds=round(statistics.median(samples[n]), 1) if samples[n] else None,
            rss_mb=None,
            cpu_s=None,
            writes={},
            provider={},
            load=measure.load_average(),
        )
        for n in groups
    ]


def _deployment(name: str, secret: str, annotations: dict[str, str]) -> dict[str, Any]:
    return {
        "apiVersion": "apps/v1",
        "kind": "Deployment",
        "metadata": {"name": name, "annotations": annotations},
        "spec": {
            "replicas": 1,
            "selector": {"matchLabels": {"app": name}},
            "template": {
                "metadata": {"labels": {"app": name}},
                "spec": {
                    "containers": [
                        {
                            "name": "app",
                            "image": "app:1",
                            "env": [
                                {
                                    "name": "PASSWORD",
                                    "valueFrom": {
                                        "secretKeyRef": {"name": secret, "key": "password"}
                                    },
                                }
                            ],
                        }
                    ]
                },
            },
        },
    }


def floor(count: int) -> Result:
    """What the operators write for N ExternalSecrets, by a bare client and no operator: per
    object the ExternalSecret create (which the operator runs also make), its Secret, a status
    patch and an Event, by 16 threads."""
    with workload.bed("floor", workload.install_ours) as b:
        core: Any = client.CoreV1Api(b.api)  # plain bodies and raw responses
        kind = workload.EXTERNAL_SECRET

        def one(i: int) -> None:
            workload.create_object(b, kind, kind.make(i, workload.key(i), "1h"))
            workload.drain(
                core.create_namespaced_secret(
                    workload.NAMESPACE,
                    {"metadata": {"name": f"es-{i}"}, "data": {"password": "dmFsdWU="}},
                    _preload_content=False,
                )
            )
            workload.drain(
                b.custom.patch_namespaced_custom_object_status(
                    kind.group,
                    kind.version,
                    workload.NAMESPACE,
                    kind.plural,
                    f"es-{i}",
                    {"status": {"conditions": [{"type": "Ready", "status": "True"}]}},
                    _preload_content=False,
                )
            )
            workload.drain(
                core.create_namespaced_event(
                    workload.NAMESPACE,
                    {
                        "metadata": {"generateName": f"es-{i}."},
                        "involvedObject": {
                            "apiVersion": "external-secrets.io/v1",
                            "kind": "ExternalSecret",
                            "name": f"es-{i}",
                            "namespace": workload.NAMESPACE,
                        },
                        "reason": "Updated",
                        "message": "Updated Secret",
                        "type": "Normal",
                    },
                    _preload_content=False,
                )
            )

        writes0 = b.writes()
        started = time.monotonic()
        with concurrent.futures.ThreadPoolExecutor(workload.THREADS) as pool:
            list(pool.map(one, range(count)))
        seconds = time.monotonic() - started
        writes1 = b.writes()
    own = collections.Counter({(kind.plural, "", "POST"): count})
    return Result(
        scenario="sync",
        count=count,
        operator="floor",
        setting="floor",
        label="floor: a bare client, 16 threads (Secret + status patch + Event per object)",
        seconds=round(seconds, 1),
        rss_mb=None,
        cpu_s=None,
        writes=measure.operator_writes(writes0, writes1, own),
        provider={},
        load=measure.load_average(),
    )
