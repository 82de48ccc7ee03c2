"""The raw list-then-watch loop (secretsync.kube.watch) on the real apiserver: what it hands
over, a watch resumed without a new list, a deletion missed while no watch was open, and a
failure said once."""

from __future__ import annotations

import collections
import logging
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from kubernetes import client

from secretsync.kube import watch
from secretsync.kube.client import Expired

LABEL = "watch-loop-test"


def _config_map(name: str, labelled: bool = True, value: str = "1") -> client.V1ConfigMap:
    labels = {LABEL: "true"} if labelled else {}
    return client.V1ConfigMap(
        metadata=client.V1ObjectMeta(name=name, labels=labels), data={"v": value}
    )


def eventually(check: Callable[[], bool], timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not check():
        assert time.monotonic() < deadline, "the condition never held"
        time.sleep(0.1)


class Seen:
    """What the loop handed over, by object name, in order."""

    def __init__(self) -> None:
        self.events: list[tuple[str, str]] = []
        self.lock = threading.Lock()

    def __call__(self, kind: str, raw: dict[str, Any]) -> None:
        with self.lock:
            self.events.append((kind, raw["metadata"]["name"]))

    def has(self, kind: str, name: str) -> bool:
        with self.lock:
            return (kind, name) in self.events


class Counting:
    """The loop's real list and watch, counted; `before_watch` runs in place of the first
    watch's opening and may raise what the apiserver would have answered."""

    def __init__(
        self, monkeypatch: pytest.MonkeyPatch, before_watch: Callable[[], None] | None = None
    ) -> None:
        self.before_watch = before_watch
        self.calls: collections.Counter[str] = collections.Counter()
        real_list, real_events = watch._list, watch.events

        def listing(*args: Any) -> Any:
            self.calls["list"] += 1
            return real_list(*args)

        def watching(*args: Any) -> Any:
            self.calls["watch"] += 1
            if self.calls["watch"] == 1 and self.before_watch is not None:
                self.before_watch()
            return real_events(*args)

        monkeypatch.setattr(watch, "_list", listing)
        monkeypatch.setattr(watch, "events", watching)


@pytest.fixture
def running() -> Iterator[Callable[[watch.Resource, str, watch.Handler], None]]:
    stop = threading.Event()
    threads: list[threading.Thread] = []

    def start(resource: watch.Resource, namespace: str, handler: watch.Handler) -> None:
        thread = threading.Thread(
            target=watch.run,
            args=(resource, namespace, f"{LABEL}=true", handler, stop),
            daemon=True,
        )
        thread.start()
        threads.append(thread)

    yield start
    stop.set()
    for thread in threads:
        thread.join(timeout=10)


def test_selected_objects_are_listed_then_followed(
    kube_api: client.ApiClient, namespace: str, running: Any
) -> None:
    core = client.CoreV1Api(kube_api)
    core.create_namespaced_config_map(namespace, _config_map("before"))
    core.create_namespaced_config_map(namespace, _config_map("unlabelled", labelled=False))
    seen = Seen()
    running(watch.config_maps(kube_api), namespace, seen)
    eventually(lambda: seen.has("ADDED", "before"))
    core.create_namespaced_config_map(namespace, _config_map("after"))
    core.patch_namespaced_config_map("after", namespace, {"data": {"v": "2"}})
    core.delete_namespaced_config_map("before", namespace)
    eventually(lambda: seen.has("DELETED", "before"))
    eventually(lambda: seen.has("MODIFIED", "after"))
    assert ("ADDED", "after") in seen.events
    assert not any(name == "unlabelled" for _, name in seen.events)


def test_an_ended_watch_is_resumed_without_listing_again(
    kube_api: client.ApiClient,
    namespace: str,
    running: Any,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(watch, "WATCH_SECONDS", 1)  # the apiserver ends each watch after 1 s
    core = client.CoreV1Api(kube_api)
    counting = Counting(monkeypatch)
    seen = Seen()
    running(watch.config_maps(kube_api), namespace, seen)
    eventually(lambda: counting.calls["watch"] >= 3)
    core.create_namespaced_config_map(namespace, _config_map("late"))
    eventually(lambda: seen.has("ADDED", "late"))
    assert counting.calls["list"] == 1
    assert seen.events.count(("ADDED", "late")) == 1


def test_an_object_deleted_while_no_watch_was_open_is_handed_over_as_deleted(
    kube_api: client.ApiClient, namespace: str, running: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    core = client.CoreV1Api(kube_api)
    for name in ("kept", "lost"):
        core.create_namespaced_config_map(namespace, _config_map(name))

    def delete_then_expire() -> None:
        # Between the list and the first watch. The watch is then answered 410 Gone, as the
        # apiserver answers a version it no longer keeps (test_raw_requests.py shows the real
        # answer; here it must come at exactly this moment, and a watch from the list's own
        # version would replay the deletion), so the loop must list again; that list is the
        # first the deletion is seen in, and no watch event will ever tell of it.
        core.delete_namespaced_config_map("lost", namespace)
        raise Expired("watching test configmaps: version expired")

    counting = Counting(monkeypatch, before_watch=delete_then_expire)
    seen = Seen()
    running(watch.config_maps(kube_api), namespace, seen)
    eventually(lambda: seen.has("DELETED", "lost"))
    assert counting.calls["list"] == 2
    assert ("DELETED", "kept") not in seen.events


def test_a_kind_that_cannot_be_listed_is_said_once_with_what_to_do(
    kube_api: client.ApiClient,
    namespace: str,
    running: Any,
    caplog: pytest.LogCaptureFixture,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(watch, "RETRY_SECONDS", 0.2)
    missing = watch.custom(kube_api, "example.invalid", "v1", "nothings")
    with caplog.at_level(logging.INFO, logger="secretsync.kube.watch"):
        running(missing, namespace, Seen())
        time.sleep(2.5)  # retries at 0.2, 0.4, 0.8 s: three more failures
    said = [r for r in caplog.records if r.name == "secretsync.kube.watch"]
    assert len(said) == 1, [r.getMessage() for r in said]
    assert said[0].levelno == logging.WARNING
    assert "listing nothings failed" in said[0].getMessage()
    assert "kubectl apply -k crds/" in said[0].getMessage()
    assert said[0].__dict__["reason"] == "NotFound"


@pytest.mark.unit
def test_vanished_names_the_keys_a_relist_no_longer_has() -> None:
    before = {("a", "x"), ("a", "y"), ("b", "x")}
    assert watch.vanished(before, {("a", "x")}) == [
        {"metadata": {"namespace": "a", "name": "y"}},
        {"metadata": {"namespace": "b", "name": "x"}},
    ]
    assert watch.vanished(set(), {("a", "x")}) == []
