"""An AWS store's `spec.retrySettings`, as botocore's retry settings.

ESO's AWS provider (providers/v1/aws/provider.go), when `retrySettings` is set, installs the Go
SDK's standard retryer wrapped by `retry.AddWithMaxAttempts(r, maxRetries)`:
- `maxRetries` is the SDK's *attempt* limit (the first call included), not a retry count: 3
  means three calls in all. Unset under `retrySettings`: 3. We follow that, so a store migrated
  from ESO makes as many calls as it did there. One difference: the Go SDK reads 0 (or less) as
  "no limit"; a reconcile must not hang on a dead endpoint, so 0 or less is one attempt here.
- `retryInterval` above zero replaces the SDK's exponential jittered backoff with a fixed delay
  (ESO's fixedDelayer); unset or zero keeps the SDK's backoff.
- what is retried stays the SDK's choice (throttles, 5xx, connection errors), as in ESO.
Without `retrySettings` the SDK default applies: three attempts (RETRY_CONFIG).

The mode stays adaptive (aws_session.py says why); the settings change only count and delay.
"""

from __future__ import annotations

from typing import Any

from botocore.retries import quota, standard
from botocore.retries.base import BaseRetryBackoff

from secretsync.api.retry import RetrySettings

DEFAULT_ATTEMPTS = 3  # the SDK default, as in ESO
MODE = "adaptive"


def retry_config(settings: RetrySettings | None) -> dict[str, Any]:
    """botocore's `Config(retries=...)` for a store."""
    attempts = DEFAULT_ATTEMPTS
    if settings is not None and settings.max_retries is not None:
        attempts = max(settings.max_retries, 1)
    return {"mode": MODE, "total_max_attempts": attempts}


def fixed_delay(settings: RetrySettings | None) -> float | None:
    """The fixed wait between attempts in seconds, or None for the SDK's own backoff."""
    if settings is None or settings.retry_interval is None:
        return None
    seconds = settings.retry_interval.total_seconds()
    return seconds if seconds > 0 else None


class FixedBackoff(BaseRetryBackoff):
    def __init__(self, seconds: float) -> None:
        self._seconds = seconds

    def delay_amount(self, context: Any) -> float:
        return self._seconds


def use_fixed_delay(client: Any, seconds: float) -> None:
    """Replace a client's standard retry handler by one with a fixed delay.

    botocore has no setting for the delay, so the handler it registered (unique id
    `retry-config-<service>`, built by botocore.retries.standard.register_retry_handler) is
    swapped for the same handler with a FixedBackoff; the attempt limit, the retryable
    conditions and the retry quota are built the way botocore builds them.
    """
    name = client.meta.service_model.service_id.hyphenize()
    attempts = client.meta.config.retries.get("total_max_attempts", DEFAULT_ATTEMPTS)
    adapter = standard.RetryEventAdapter()
    retry_quota = standard.RetryQuotaChecker(
        quota.RetryQuota(), standard.ThrottlingErrorDetector(adapter)
    )
    handler = standard.RetryHandler(
        retry_policy=standard.RetryPolicy(
            retry_checker=standard.StandardRetryConditions(max_attempts=attempts),
            retry_backoff=FixedBackoff(seconds),
        ),
        retry_event_adapter=adapter,
        retry_quota=retry_quota,  # type: ignore[arg-type]  # the stubs say RetryQuota; botocore passes this
        service_name=name,
    )
    unique_id = f"retry-config-{name}"
    client.meta.events.unregister(f"needs-retry.{name}", unique_id=unique_id)
    client.meta.events.register(f"after-call.{name}", retry_quota.release_retry_quota)
    client.meta.events.register(f"needs-retry.{name}", handler.needs_retry, unique_id=unique_id)


def configure(client: Any, settings: RetrySettings | None) -> Any:
    """A new client with the store's retry delay applied (its count is in the Config)."""
    seconds = fixed_delay(settings)
    if seconds is not None:
        use_fixed_delay(client, seconds)
    return client
