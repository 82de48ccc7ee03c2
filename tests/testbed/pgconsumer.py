"""The database consumer stand-in: pods that really log in to PostgreSQL.

A pod annotated `testbed.secretsync.io/pg-consumer: <secret>` gets a worker when it is first
seen. Like a container that takes its credentials from a Secret (env or volume), the worker reads
that Secret's `username` and `password` once, when the pod starts, and never again: a pod that
the rollout replaces gets the Secret's data as it is then, a pod left running keeps the old
credential. KWOK pods have no processes, so the worker is a thread here that opens a NEW
connection to PostgreSQL every 100 ms (a real login: SCRAM over TCP, `SELECT 1`), counting
successes and failures, until the pod is deleted.

The worker is also the pod's readiness probe: when it cannot log in, it sets the pod's `Ready`
and `ContainersReady` conditions to False (and back to True when it can again), as a kubelet
would after a failing probe. KWOK only writes a pod's status when it starts the pod, so these
patches stay. Use the Deployment's `minReadySeconds` (1 s is plenty): KWOK readies every pod at
once, and a pod whose first login fails is flipped back within a tick, before it counts as
available.

Counts are kept per pod: `failed_serving` are the failures of a pod after it had logged in at
least once (the outage a rotation causes), `failed_start` those of a pod that never logged in
(a broken credential: that pod never became Ready, so it served nobody). Only user names are
kept and shown; passwords stay in the worker.
"""

from __future__ import annotations

import base64
import dataclasses
import datetime
import logging
import threading
import time
from collections.abc import Iterator, Mapping
from typing import Any

import psycopg
from kubernetes import client, watch
from kubernetes.client.rest import ApiException

from tests.testbed import postgres

ANNOTATION = "testbed.secretsync.io/pg-consumer"
"""On a pod template: the Secret (username/password keys) this pod logs in with."""

INTERVAL = 0.1
CONNECT_TIMEOUT = 2

log = logging.getLogger("pgconsumer")


@dataclasses.dataclass
class Counts:
    """One pod's logins. `user` is the login it started with (never the password)."""

    pod: str
    user: str
    ok: int = 0
    failed_start: int = 0
    failed_serving: int = 0
    last_error: str = ""
    running: bool = True

    @property
    def failed(self) -> int:
        return self.failed_start + self.failed_serving


def record(counts: Counts, logged_in: bool, error: str = "") -> None:
    """Count one login; a failure is `serving` once the pod has logged in before."""
    if logged_in:
        counts.ok += 1
    elif counts.ok:
        counts.failed_serving += 1
        counts.last_error = error
    else:
        counts.failed_start += 1
        counts.last_error = error


def readiness_patch(ready: bool, now: datetime.datetime) -> dict[str, Any]:
    """A pod status patch (strategic merge: conditions merge by type) saying ready or not."""
    value = "True" if ready else "False"
    stamp = now.astimezone(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    conditions = [
        {"type": kind, "status": value, "lastTransitionTime": stamp}
        | ({} if ready else {"reason": "LoginFailed"})
        for kind in ("Ready", "ContainersReady")
    ]
    return {"status": {"conditions": conditions}}


def pod_ready(pod: Mapping[str, Any]) -> bool:
    for item in (pod.get("status") or {}).get("conditions") or []:
        if item.get("type") == "Ready":
            return item.get("status") == "True"
    return False


def started(pod: Mapping[str, Any]) -> bool:
    """KWOK has started the pod (given it an IP): from then on its status is ours to change."""
    return bool((pod.get("status") or {}).get("podIP"))


def credentials(secret: client.V1Secret | None) -> tuple[str, str] | None:
    data = (secret.data if secret else None) or {}
    if "username" not in data or "password" not in data:
        return None
    return base64.b64decode(data["username"]).decode(), base64.b64decode(data["password"]).decode()


def login(db: postgres.Postgres, user: str, password: str) -> str:
    """One new connection and `SELECT 1`; '' when it worked, else the error's first line (it
    names the user, never the password)."""
    try:
        with psycopg.connect(
            host=db.host, port=db.port, user=user, password=password, dbname="postgres",
            connect_timeout=CONNECT_TIMEOUT, sslmode="disable",
        ) as conn:  # fmt: skip
            conn.execute("SELECT 1").fetchone()
    except psycopg.Error as exc:
        return (str(exc).strip().splitlines() or [type(exc).__name__])[0]
    return ""


class _Worker:
    def __init__(self, owner: Consumers, pod: Mapping[str, Any]) -> None:
        meta = pod["metadata"]
        self.owner = owner
        self.name: str = meta["name"]
        self.uid: str = meta["uid"]
        self.pod = pod
        self.stop = threading.Event()
        secret_name = (meta.get("annotations") or {})[ANNOTATION]
        found = credentials(owner.read_secret(secret_name))
        self.user, self._password = found or ("", "")
        self.counts = Counts(self.name, self.user)
        self.thread = threading.Thread(target=self.run, name=f"pg-{self.name}", daemon=True)

    def run(self) -> None:
        while not self.stop.is_set():
            began = time.monotonic()
            error = (
                login(self.owner.db, self.user, self._password)
                if self.user
                else "the Secret had no username/password when the pod started"
            )
            if self.stop.is_set():  # the pod went while we were logging in: not its login
                break
            with self.owner.lock:
                record(self.counts, not error, error)
            self.probe(not error)
            self.stop.wait(max(0.0, INTERVAL - (time.monotonic() - began)))
        self.counts.running = False

    def probe(self, ready: bool) -> None:
        pod = self.pod
        if not started(pod) or pod_ready(pod) == ready:
            return
        patch = readiness_patch(ready, datetime.datetime.now(datetime.UTC))
        try:
            self.owner.core.patch_namespaced_pod_status(self.name, self.owner.namespace, patch)
        except ApiException as exc:
            if exc.status != 404:
                log.warning("%s: status patch failed: %s", self.name, exc.reason)
            return
        # Seen as patched until the watch says otherwise (KWOK starting it, say).
        self.pod = {**pod, "status": {**(pod.get("status") or {}), **patch["status"]}}


class Consumers:
    """The stand-in for one namespace, run in the test's own process (start/stop), so the
    test reads the counts directly."""

    def __init__(self, api: client.ApiClient, namespace: str, db: postgres.Postgres) -> None:
        self.core = client.CoreV1Api(api)
        self.namespace = namespace
        self.db = db
        self.lock = threading.Lock()
        self._workers: dict[str, _Worker] = {}
        self._finished: list[Counts] = []
        self._stop = threading.Event()
        self._watcher = threading.Thread(target=self._watch, name="pg-watch", daemon=True)
        self._listed = threading.Event()

    def read_secret(self, name: str) -> client.V1Secret | None:
        try:
            return self.core.read_namespaced_secret(name, self.namespace)
        except ApiException as exc:
            if exc.status == 404:
                return None
            raise

    def start(self) -> Consumers:
        self._watcher.start()
        if not self._listed.wait(30):
            raise RuntimeError("the pg consumer stand-in could not list pods")
        return self

    def stop(self) -> None:
        self._stop.set()
        with self.lock:
            workers = list(self._workers.values())
        for worker in workers:
            worker.stop.set()
        for worker in workers:
            worker.thread.join(CONNECT_TIMEOUT + 1)

    def counts(self) -> list[Counts]:
        """Every pod seen so far, gone ones included (copies)."""
        with self.lock:
            live = [dataclasses.replace(w.counts) for w in self._workers.values()]
            return [dataclasses.replace(c) for c in self._finished] + live

    def running(self) -> list[Counts]:
        return [c for c in self.counts() if c.running]

    def totals(self) -> dict[str, int]:
        found = self.counts()
        return {
            "pods": len(found),
            "ok": sum(c.ok for c in found),
            "failed_start": sum(c.failed_start for c in found),
            "failed_serving": sum(c.failed_serving for c in found),
        }

    def _watch(self) -> None:
        while not self._stop.is_set():
            try:
                for pod in self._events():
                    self._seen(pod)
            except ApiException as exc:
                if exc.status != 410:
                    log.warning("pod watch failed: %s", exc.reason)
                    time.sleep(0.5)
            except Exception as exc:  # the apiserver restarting must not end the stand-in
                log.warning("pod watch failed: %s", type(exc).__name__)
                time.sleep(0.5)

    def _events(self) -> Iterator[dict[str, Any]]:
        api = self.core.api_client
        listing = api.sanitize_for_serialization(self.core.list_namespaced_pod(self.namespace))
        items = listing.get("items") or []
        # A pod deleted between two watches is in neither: without this its worker would log
        # in forever and count as running (a rollout never seen to end).
        self._gone({str((pod.get("metadata") or {}).get("uid")) for pod in items})
        for pod in items:
            yield pod
        self._listed.set()
        stream = watch.Watch().stream(
            self.core.list_namespaced_pod,
            self.namespace,
            resource_version=listing["metadata"]["resourceVersion"],
            timeout_seconds=5,  # short, so stop() is noticed
        )
        for event in stream:
            if self._stop.is_set():
                return
            pod = event["raw_object"]
            if event["type"] == "DELETED":
                pod = {**pod, "metadata": {**pod["metadata"], "deletionTimestamp": "gone"}}
            yield pod

    def _gone(self, listed: set[str]) -> None:
        """Stop the workers of pods a fresh listing no longer has."""
        with self.lock:
            gone = [uid for uid in self._workers if uid not in listed]
            workers = [self._workers.pop(uid) for uid in gone]
            self._finished.extend(worker.counts for worker in workers)
        for worker in workers:
            worker.stop.set()

    def _seen(self, pod: dict[str, Any]) -> None:
        meta = pod.get("metadata") or {}
        if ANNOTATION not in (meta.get("annotations") or {}):
            return
        uid = meta["uid"]
        with self.lock:
            worker = self._workers.get(uid)
        if meta.get("deletionTimestamp"):
            if worker is not None:
                worker.stop.set()
                with self.lock:
                    self._workers.pop(uid, None)
                    self._finished.append(worker.counts)
            return
        if worker is not None:
            worker.pod = pod
            return
        if self._stop.is_set() or any(c.pod == meta["name"] for c in self._finished):
            return
        worker = _Worker(self, pod)  # reads the Secret now: the pod's start
        with self.lock:
            self._workers[uid] = worker
        worker.thread.start()
