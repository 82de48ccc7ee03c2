"""Per-store rate limits (token bucket, pause after throttling) on a simulated clock, and the
caps of secretsync.limits: each fails with a message naming the limit and what to do."""

from __future__ import annotations

from typing import Any

import pytest

from secretsync import limits
from secretsync.api.objects import SecretStore, parse_store
from secretsync.api.sources import RemoteRef
from secretsync.errors import ConfigError, LimitExceeded, TemplateLimitExceeded, Throttled
from secretsync.resolve.ratelimit import (
    BURST_ANNOTATION,
    QPS_ANNOTATION,
    Limiters,
    Rate,
    StoreId,
    TokenBucket,
    store_rate,
)
from secretsync.template.engine import render


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


class Recorded:
    def __init__(self) -> None:
        self.waited: dict[StoreId, float] = {}
        self.throttles: dict[StoreId, int] = {}
        self.tokens: dict[StoreId, float] = {}

    def rate_limited(self, store: StoreId, seconds: float) -> None:
        self.waited[store] = self.waited.get(store, 0.0) + seconds

    def throttled(self, store: StoreId) -> None:
        self.throttles[store] = self.throttles.get(store, 0) + 1

    def rate_limit_tokens(self, store: StoreId, tokens: float) -> None:
        self.tokens[store] = tokens


class Source:
    """A provider whose answers the test sets: a value, or Throttled."""

    def __init__(self) -> None:
        self.throttle = 0
        self.calls = 0

    def get(self, ref: RemoteRef) -> bytes:
        self.calls += 1
        if self.throttle:
            self.throttle -= 1
            raise Throttled("vault answered 429 (rate limited)")
        return b"v"

    def get_map(self, ref: RemoteRef) -> dict[str, bytes]:
        return {}

    def find(self, query: Any) -> dict[str, bytes]:
        return {}

    def version(self, ref: RemoteRef) -> str | None:
        return None

    def validate(self) -> None:
        return None

    def close(self) -> None:
        return None


def store(annotations: dict[str, str] | None = None, name: str = "vault") -> SecretStore:
    return parse_store(
        {
            "apiVersion": "external-secrets.io/v1",
            "kind": "SecretStore",
            "metadata": {"name": name, "namespace": "team", "annotations": annotations or {}},
            "spec": {
                "provider": {
                    "vault": {
                        "server": "http://127.0.0.1:1",
                        "path": "secret",
                        "auth": {"tokenSecretRef": {"name": "t", "key": "token"}},
                    }
                }
            },
        }
    )


def test_the_bucket_allows_a_burst_then_the_rate() -> None:
    bucket = TokenBucket(Rate(qps=10.0, burst=5), now=0.0)
    assert [bucket.reserve(0.0) for _ in range(5)] == [0.0] * 5
    assert bucket.reserve(0.0) == pytest.approx(0.1)
    assert bucket.reserve(0.0) == pytest.approx(0.2)
    assert bucket.reserve(10.0) == 0.0  # refilled, never beyond the burst
    assert bucket.available(10.0) == pytest.approx(4.0)


def test_a_zero_rate_turns_the_bucket_off() -> None:
    bucket = TokenBucket(Rate(qps=0.0, burst=1), now=0.0)
    assert [bucket.reserve(0.0) for _ in range(1000)] == [0.0] * 1000


def test_throttling_pauses_the_store_doubling_to_a_cap_until_a_success() -> None:
    bucket = TokenBucket(Rate(qps=0.0, burst=1), now=0.0)
    pauses = [bucket.throttled(0.0) for _ in range(8)]
    assert pauses == [1.0, 2.0, 4.0, 8.0, 16.0, 32.0, 60.0, 60.0]
    assert bucket.reserve(10.0) == pytest.approx(50.0)
    bucket.succeeded()
    assert bucket.throttled(100.0) == 1.0


def test_provider_calls_wait_for_their_store_and_say_so_in_metrics() -> None:
    clock, seen = Clock(), Recorded()
    limiters = Limiters(Rate(qps=2.0, burst=2), seen, clock=clock, sleep=clock.sleep)
    slow, other = Source(), Source()
    limited = limiters.wrap(store(), slow)
    unaffected = limiters.wrap(store(name="other"), other)
    ref = RemoteRef(key="k")
    for _ in range(4):
        limited.get(ref)
    assert clock.now == pytest.approx(101.0)  # 2 at once, then 2 a second
    ident = ("SecretStore", "team", "vault")
    assert seen.waited[ident] == pytest.approx(0.5 + 0.5)
    assert seen.tokens[ident] == pytest.approx(-1.0)
    before = clock.now
    unaffected.get(ref)
    assert clock.now == before and ("SecretStore", "team", "other") not in seen.waited


def test_a_throttled_store_waits_before_its_next_call() -> None:
    clock, seen = Clock(), Recorded()
    limiters = Limiters(Rate(qps=0.0, burst=1), seen, clock=clock, sleep=clock.sleep)
    source = Source()
    limited = limiters.wrap(store(), source)
    source.throttle = 2
    for _ in range(2):
        with pytest.raises(Throttled):
            limited.get(RemoteRef(key="k"))
    assert limited.get(RemoteRef(key="k")) == b"v"
    ident = ("SecretStore", "team", "vault")
    assert seen.throttles[ident] == 2
    assert clock.now == pytest.approx(100.0 + 1.0 + 2.0)


def test_a_store_annotation_overrides_the_flags_and_a_bad_one_is_named() -> None:
    default = Rate(qps=100.0, burst=200)
    assert store_rate(store(), default) == default
    annotated = store({QPS_ANNOTATION: "2.5", BURST_ANNOTATION: "3"})
    assert store_rate(annotated, default) == Rate(qps=2.5, burst=3)
    with pytest.raises(ConfigError) as caught:
        store_rate(store({QPS_ANNOTATION: "fast"}), default)
    assert "metadata.annotations[secretsync.io/qps]" in str(caught.value)
    assert "'fast' is not a number" in str(caught.value)


def test_store_concurrency_is_half_the_workers_unless_set() -> None:
    assert limits.store_concurrency(32, None) == 16
    assert limits.store_concurrency(32, 0) == 16
    assert limits.store_concurrency(1, None) == 1
    assert limits.store_concurrency(32, 4) == 4
    assert limits.store_concurrency(8, 100) == 8


def test_a_secret_over_1_mib_is_refused_with_the_limit_and_what_to_do() -> None:
    limits.check_secret_size({"a": b"x" * (limits.SECRET_MAX_BYTES - 1)})
    with pytest.raises(LimitExceeded) as caught:
        limits.check_secret_size({"ab": b"x" * (limits.SECRET_MAX_BYTES - 1)})
    message = str(caught.value)
    assert "1048577 bytes" in message and "1048576-byte (1 MiB) limit" in message
    assert "split the data" in message


def test_a_find_over_the_cap_is_refused() -> None:
    limits.check_find(limits.FIND_MAX_KEYS)
    with pytest.raises(LimitExceeded, match=r"matched 1001 remote secrets, over the limit of 1000"):
        limits.check_find(limits.FIND_MAX_KEYS + 1)


def test_a_template_that_writes_too_much_stops_with_the_limit() -> None:
    with pytest.raises(TemplateLimitExceeded) as caught:
        render({"big": "{{ range until 2000 }}{{ $.v }}{{ end }}"}, {"v": b"x" * 1024})
    assert isinstance(caught.value, LimitExceeded)
    assert "output exceeded 1048576 characters" in str(caught.value)
    assert "template 'big'" in str(caught.value)


def test_a_template_that_runs_too_long_stops_with_the_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(limits, "TEMPLATE_MAX_SECONDS", 0.05)
    with pytest.raises(TemplateLimitExceeded, match=r"ran longer than 0.05 s"):
        render({"slow": "{{ range until 900000 }}{{ if false }}x{{ end }}{{ end }}"}, {})


def test_calls_throttled_together_are_one_throttle_and_do_not_stack_the_pause() -> None:
    bucket = TokenBucket(Rate(qps=0.0, burst=1), now=0.0)
    # 32 calls in flight at 0.0, all refused: the store said slow down once.
    pauses = [bucket.throttled(0.5, sent=0.0) for _ in range(32)]
    assert pauses == [1.0] + [pytest.approx(1.0)] * 31
    assert bucket.reserve(0.5) == pytest.approx(1.0)
    # A call in flight with them that went through proves nothing about the pause.
    bucket.succeeded(sent=0.0)
    # Sent after the pause began and refused again: a further throttle, the pause doubles.
    assert bucket.throttled(1.6, sent=1.5) == 2.0
    assert bucket.throttled(1.7, sent=1.5) == pytest.approx(1.9)
    bucket.succeeded(sent=3.6)
    assert bucket.throttled(10.0, sent=9.0) == 1.0
