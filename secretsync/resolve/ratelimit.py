"""Client-side rate limits per store: a token bucket, and a pause after the store throttles us.

Every provider call (get, get_map, find, version, a batch get, validate) takes one token of
its store's bucket: `qps` tokens a second, up to `burst` saved. A call with no token waits for
one. A call the store answers with Throttled (Vault's 429, AWS's ThrottlingException, after the
clients' own retries) pauses the whole store: 1 s, doubling up to 60 s each time a call sent
after the last throttle is throttled again, until such a call succeeds. Calls that were in
flight together are one throttle, however many of them the store refused. A
ClusterSecretStore's bucket is shared by every namespace using it: the backend behind it is one.

Limits are per store: --store-qps/--store-burst, or the store's annotations
`secretsync.io/qps` and `secretsync.io/burst`. The waits and throttles are metrics
(secretsync_store_rate_limited_seconds_total, secretsync_store_throttled_total,
secretsync_store_rate_limit_tokens). The bucket's decisions are pure (a clock passed in).
"""

from __future__ import annotations

import dataclasses
import math
import threading
import time
from collections.abc import Callable, Iterable
from typing import Protocol, TypeVar

from secretsync import limits
from secretsync.api.objects import SecretStore
from secretsync.api.sources import Find, RemoteRef
from secretsync.errors import ConfigError, SecretSyncError, Throttled
from secretsync.providers.base import BatchProvider, Provider

QPS_ANNOTATION = "secretsync.io/qps"
BURST_ANNOTATION = "secretsync.io/burst"
StoreId = tuple[str, str, str]
"""(kind, namespace, name), namespace "" for a ClusterSecretStore: the metrics' store labels."""
T = TypeVar("T")


@dataclasses.dataclass(frozen=True)
class Rate:
    qps: float = limits.STORE_QPS
    """0 turns the bucket off (throttling answers still pause the store)."""
    burst: int = limits.STORE_BURST


def store_rate(store: SecretStore, default: Rate) -> Rate:
    """The store's annotations override the operator's flags."""
    annotations = store.metadata.annotations
    qps, burst = default.qps, default.burst
    if QPS_ANNOTATION in annotations:
        qps = _number(annotations[QPS_ANNOTATION], QPS_ANNOTATION, float)
    if BURST_ANNOTATION in annotations:
        burst = int(_number(annotations[BURST_ANNOTATION], BURST_ANNOTATION, int))
    return Rate(qps=qps, burst=max(1, burst))


def _number(text: str, name: str, kind: Callable[[str], float]) -> float:
    try:
        value = kind(text)
    except ValueError:
        value = -1.0
    if not math.isfinite(value) or value < 0:
        raise ConfigError(
            f"{text!r} is not a number of 0 or more; set it to, say, "
            f"{'100' if kind is float else '200'}, or remove it to use the operator's default",
            field=f"metadata.annotations[{name}]",
        )
    return value


class TokenBucket:
    """The decisions, on a clock the caller passes: how long a call must wait."""

    def __init__(self, rate: Rate, now: float) -> None:
        self.rate = rate
        self.tokens = float(rate.burst)
        self._stamp = now
        self.paused_until = now
        self.throttles = 0
        self._throttled_at = -math.inf

    def configure(self, rate: Rate, now: float) -> None:
        if rate != self.rate:
            self._refill(now)
            self.rate = rate
            self.tokens = min(self.tokens, float(rate.burst))

    def _refill(self, now: float) -> None:
        if self.rate.qps > 0:
            elapsed = max(0.0, now - self._stamp)
            self.tokens = min(float(self.rate.burst), self.tokens + elapsed * self.rate.qps)
        self._stamp = now

    def reserve(self, now: float) -> float:
        """Take a token (the balance may go below 0: callers queue behind each other); the
        seconds this call must wait before it may go."""
        paused = max(0.0, self.paused_until - now)
        if self.rate.qps <= 0:
            return paused
        self._refill(now)
        self.tokens -= 1.0
        owed = -self.tokens / self.rate.qps if self.tokens < 0 else 0.0
        return max(owed, paused)

    def available(self, now: float) -> float:
        self._refill(now)
        return self.tokens

    def throttled(self, now: float, sent: float | None = None) -> float:
        """The store said slow down: the pause every call to it now waits out. A call `sent`
        before the last throttle was recorded was in flight with it, one episode: it does not
        double the pause again (32 workers answered 429 at once would pause a store 60 s)."""
        if sent is not None and sent < self._throttled_at:
            return max(0.0, self.paused_until - now)
        self._throttled_at = now
        self.throttles += 1
        doubled = limits.THROTTLE_BACKOFF_BASE * 2.0 ** min(self.throttles - 1, 30)
        pause = min(limits.THROTTLE_BACKOFF_CAP, doubled)
        self.paused_until = max(self.paused_until, now + pause)
        return pause

    def succeeded(self, sent: float | None = None) -> None:
        """A call went through; one sent before the last throttle says nothing about now."""
        if sent is None or sent >= self._throttled_at:
            self.throttles = 0


class LimitTelemetry(Protocol):
    def rate_limited(self, store: StoreId, seconds: float) -> None: ...

    def throttled(self, store: StoreId) -> None: ...

    def rate_limit_tokens(self, store: StoreId, tokens: float) -> None: ...


class NoLimitTelemetry:
    def rate_limited(self, store: StoreId, seconds: float) -> None:
        return None

    def throttled(self, store: StoreId) -> None:
        return None

    def rate_limit_tokens(self, store: StoreId, tokens: float) -> None:
        return None


class StoreLimiter:
    """One store's bucket, shared by its providers (referent namespaces, generations)."""

    def __init__(
        self,
        store: StoreId,
        rate: Rate,
        telemetry: LimitTelemetry,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.store, self._telemetry, self._clock, self._sleep = store, telemetry, clock, sleep
        self._lock = threading.Lock()
        self.bucket = TokenBucket(rate, clock())

    def configure(self, rate: Rate) -> None:
        with self._lock:
            self.bucket.configure(rate, self._clock())

    def call(self, operation: Callable[[], T]) -> T:
        with self._lock:
            now = self._clock()
            wait = self.bucket.reserve(now)
            tokens = self.bucket.available(now)
        self._telemetry.rate_limit_tokens(self.store, tokens)
        if wait > 0:
            self._telemetry.rate_limited(self.store, wait)
            self._sleep(wait)
        sent = self._clock()
        try:
            result = operation()
        except Throttled:
            with self._lock:
                self.bucket.throttled(self._clock(), sent)
            self._telemetry.throttled(self.store)
            raise
        except SecretSyncError:
            raise  # neither proof the store is fine nor that it throttles
        with self._lock:
            self.bucket.succeeded(sent)
        return result


class RateLimited:
    """A provider whose calls go through its store's limiter. A batch get is one call."""

    def __init__(self, inner: Provider, limiter: StoreLimiter) -> None:
        self._inner, self._limiter = inner, limiter

    def get(self, ref: RemoteRef) -> bytes:
        return self._limiter.call(lambda: self._inner.get(ref))

    def get_map(self, ref: RemoteRef) -> dict[str, bytes]:
        return self._limiter.call(lambda: self._inner.get_map(ref))

    def find(self, query: Find) -> dict[str, bytes]:
        return self._limiter.call(lambda: self._inner.find(query))

    def version(self, ref: RemoteRef) -> str | None:
        return self._limiter.call(lambda: self._inner.version(ref))

    def validate(self) -> None:
        self._limiter.call(self._inner.validate)

    def close(self) -> None:
        self._inner.close()


class RateLimitedBatch(RateLimited):
    def __init__(self, inner: BatchProvider, limiter: StoreLimiter) -> None:
        super().__init__(inner, limiter)
        self._batch = inner

    def get_many(self, refs: Iterable[RemoteRef]) -> dict[RemoteRef, bytes | SecretSyncError]:
        wanted = list(refs)
        return self._limiter.call(lambda: self._batch.get_many(wanted))


class Limiters:
    """The limiters of every store the operator reads, by store."""

    def __init__(
        self,
        default: Rate | None = None,
        telemetry: LimitTelemetry | None = None,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.default = default or Rate()
        self._telemetry = telemetry or NoLimitTelemetry()
        self._clock, self._sleep = clock, sleep
        self._limiters: dict[StoreId, StoreLimiter] = {}
        self._lock = threading.Lock()

    def wrap(self, store: SecretStore, provider: Provider) -> Provider:
        limiter = self.limiter(store)
        if isinstance(provider, BatchProvider):
            return RateLimitedBatch(provider, limiter)
        return RateLimited(provider, limiter)

    def limiter(self, store: SecretStore) -> StoreLimiter:
        """Raises ConfigError for an annotation that is not a number."""
        rate = store_rate(store, self.default)
        ident = (store.kind, store.metadata.namespace or "", store.metadata.name)
        with self._lock:
            limiter = self._limiters.get(ident)
            if limiter is None:
                limiter = StoreLimiter(
                    ident, rate, self._telemetry, clock=self._clock, sleep=self._sleep
                )
                self._limiters[ident] = limiter
        limiter.configure(rate)
        return limiter
