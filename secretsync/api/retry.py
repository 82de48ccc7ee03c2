"""A store's `spec.retrySettings`: ESO's retry tuning for the provider's own client.

Both fields are optional, as in ESO (no schema defaults: the CRD must accept what ESO's does and
store it as given). What an unset field means depends on the provider, again as in ESO; the
providers that read it (Vault, AWS) say so where they turn it into client settings.
"""

from __future__ import annotations

import dataclasses

from secretsync.api.fields import Duration, field


@dataclasses.dataclass(frozen=True, kw_only=True)
class RetrySettings:
    max_retries: int | None = field(
        "How many times a failed provider request is retried (Vault: retries after the first "
        "attempt; AWS: the SDK's attempt limit, as ESO passes it). Applies to Vault and AWS "
        "stores; other providers (sops) ignore it.",
        default=None,
    )
    retry_interval: Duration | None = field(
        'The wait before a retry, as a Go duration ("2s"). Applies to Vault and AWS stores; '
        "other providers (sops) ignore it.",
        default=None,
    )
