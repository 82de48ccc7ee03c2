"""Every bound secretsync puts on one tenant's use of the operator, in one place, with why.

docs/limits.md explains them to users. A limit that is exceeded fails the one sync that
exceeded it with a LimitExceeded naming the ExternalSecret, the limit and what to do; the
Secret written by the last good sync is kept, and other ExternalSecrets are not affected.
"""

from __future__ import annotations

from collections.abc import Mapping

from secretsync.errors import LimitExceeded

SECRET_MAX_BYTES = 1024 * 1024
"""The apiserver refuses a Secret whose data (keys plus decoded values) total more than 1 MiB
(k8s.io/api core validation, MaxSecretSize). Checked before the write, so the sync fails with
a message that says which ExternalSecret and by how much, rather than the apiserver's 422 at
write time (what ESO reports)."""

FIND_MAX_KEYS = 1000
"""dataFrom.find matches at most this many remote secrets. A pattern that is too broad (an
empty path, `.*`) reads a whole store on every refresh: each match is a provider call or a
share of a batch, and a value in the Secret. 1,000 keys of a few hundred bytes each is already
a fair part of the 1 MiB a Secret can hold."""

TEMPLATE_MAX_OUTPUT_BYTES = SECRET_MAX_BYTES
"""One template's output. Anything larger could never be written to a Secret, so rendering
stops there instead of building it in memory first."""

TEMPLATE_MAX_SECONDS = 2.0
"""Wall-clock time one template execution may take. Small templates render in microseconds
(docs/benchmarks.md); a template that loops over large data or generates keys in a loop holds
a worker that other ExternalSecrets wait for."""

TEMPLATE_MAX_RANGE_ITERATIONS = 1_000_000
"""Range iterations in one template execution, counted across all its range loops. Go would
loop as long as asked; an operator must not let one template spin."""

TEMPLATE_MAX_DEPTH = 100
"""Nested template calls. Go caps recursion at 100,000; Python's stack is far smaller."""

STORE_QPS = 100.0
"""Provider calls per second per store, sustained (a token bucket's rate). High enough not to
bind one store's normal syncs (the operator reaches about 90 syncs a second against one Vault
store on the test bed, docs/benchmarks.md), low enough that 10,000 ExternalSecrets coming due
at once reach the backend over 100 s rather than in one burst. Vault sets no quota by default;
AWS Secrets Manager allows 10,000 GetSecretValue a second per account, Parameter Store 40
GetParameter a second by default (annotate such a store with secretsync.io/qps: "30").
--store-qps, or the store's annotation."""

STORE_BURST = 200
"""Calls a store may make at once above its rate (the bucket's size): a restart or a new batch
of ExternalSecrets goes out at once up to this many, then at the rate. --store-burst."""

STORE_CONCURRENCY_SHARE = 0.5
"""The share of the sync workers (--concurrency) that ExternalSecrets of one store may hold at
once, unless --store-concurrency says otherwise: a store whose calls take 5 s then holds at most
half the workers, and the other stores' ExternalSecrets keep the rest."""

THROTTLE_BACKOFF_BASE = 1.0
THROTTLE_BACKOFF_CAP = 60.0
"""After a store answers "slow down" (HTTP 429 from Vault, ThrottlingException from AWS), every
call to that store waits: 1 s, doubling on each further throttle, at most 60 s, until a call
succeeds. The provider clients' own retries have already run by then."""


def store_concurrency(concurrency: int, explicit: int | None) -> int:
    """How many workers one store's ExternalSecrets may hold at once."""
    if explicit is not None and explicit > 0:
        return min(explicit, max(1, concurrency))
    return max(1, int(concurrency * STORE_CONCURRENCY_SHARE))


def secret_size(data: Mapping[str, bytes]) -> int:
    """As the apiserver counts it: the length of every key and of every decoded value."""
    return sum(len(key) + len(value) for key, value in data.items())


def check_secret_size(data: Mapping[str, bytes]) -> None:
    size = secret_size(data)
    if size > SECRET_MAX_BYTES:
        raise LimitExceeded(
            f"the Secret would hold {size} bytes, over the {SECRET_MAX_BYTES}-byte "
            "(1 MiB) limit of a Kubernetes Secret; split the data across several "
            "ExternalSecrets or select fewer keys. The Secret written last is kept"
        )


def check_find(count: int) -> None:
    if count > FIND_MAX_KEYS:
        raise LimitExceeded(
            f"matched {count} remote secrets, over the limit of {FIND_MAX_KEYS} per "
            "find; narrow find.path, find.name.regexp or find.tags. The Secret written last "
            "is kept"
        )
