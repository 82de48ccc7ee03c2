"""A Vault store's `spec.retrySettings`, as the retry policy of its HTTP session.

ESO hands the settings to Vault's Go client (go-retryablehttp), and so do we, to the same effect:
urllib3's `Retry` on the requests adapter hvac sends through, so every request (logins included,
whatever the method, as Vault's client does) is retried below the provider logic, and the
provider sees one call that succeeded or failed for good. A loop of our own around `send` would
have to re-implement what urllib3 already tells apart (a refused connection, a dropped response,
a TLS failure that must not be retried).

What ESO's Vault provider does with the settings, and therefore what we do:
- no `retrySettings`: the client's defaults. We keep no HTTP-level retries there (the reconcile
  backoff retries instead), as secretsync did before this field was implemented.
- `maxRetries` N: N retries after the first attempt (unset under `retrySettings`: 0, because ESO
  then "relies only on the reconciliation process"); a negative N is no retries, as in Go.
- `retryInterval` W: go-retryablehttp's LinearJitterBackoff with min = max = W, which waits W
  times the retry's number (W, 2W, 3W, ...); unset, Vault's own 1s..1.5s window, scaled alike.
- retried: connection failures other than TLS verification, 429, 412 (Vault's consistency
  retry) and every 5xx but 501. The last failed answer reaches hvac as usual, so a 503 after
  the last retry is still `Unavailable`.
"""

from __future__ import annotations

import random
from typing import Any

from urllib3.util.retry import Retry

from secretsync.api.retry import RetrySettings

# Vault's DefaultConfig: MinRetryWait 1000ms, MaxRetryWait 1500ms.
DEFAULT_WAIT = (1.0, 1.5)
RetryPolicy = Retry
"""What vault_retry returns, for modules that do not import urllib3 themselves."""
RETRIED_STATUSES = frozenset({412, 429, *(s for s in range(500, 600) if s != 501)})


class LinearRetry(Retry):
    """urllib3's Retry with go-retryablehttp's LinearJitterBackoff instead of exponential."""

    wait_min: float = DEFAULT_WAIT[0]
    wait_max: float = DEFAULT_WAIT[1]

    def new(self, **kw: Any) -> LinearRetry:
        retry = super().new(**kw)
        assert isinstance(retry, LinearRetry)
        retry.wait_min, retry.wait_max = self.wait_min, self.wait_max
        return retry

    def get_backoff_time(self) -> float:
        return backoff_seconds(self.wait_min, self.wait_max, len(self.history))


def backoff_seconds(wait_min: float, wait_max: float, retry_number: int) -> float:
    """The wait before retry `retry_number` (1-based); 0 before the first attempt."""
    if retry_number <= 0:
        return 0.0
    if wait_max <= wait_min:
        return max(wait_min, 0.0) * retry_number
    return (wait_min + random.random() * (wait_max - wait_min)) * retry_number  # noqa: S311 jitter


def vault_retry(settings: RetrySettings | None) -> Retry | None:
    """The retry policy for a Vault store's session; None keeps requests' default (none)."""
    if settings is None:
        return None
    retries = max(settings.max_retries or 0, 0)
    wait_min, wait_max = DEFAULT_WAIT
    if settings.retry_interval is not None:
        wait_min = wait_max = settings.retry_interval.total_seconds()
    retry = LinearRetry(
        total=retries,
        connect=retries,
        read=retries,
        status=retries,
        other=0,  # TLS and other local failures: retrying would meet the same answer
        allowed_methods=None,  # every method, as Vault's client retries writes and logins too
        status_forcelist=RETRIED_STATUSES,
        raise_on_status=False,  # the last answer goes to hvac, which maps it to our errors
        respect_retry_after_header=False,  # LinearJitterBackoff ignores Retry-After
    )
    retry.wait_min, retry.wait_max = wait_min, wait_max
    return retry
