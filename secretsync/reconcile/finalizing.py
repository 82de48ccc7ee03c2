"""When a cleanup that blocks a deletion is abandoned (pure): the revocation of an
ExternalSecret's leases, the removal of what a PushSecret pushed. Deletion never hangs on a
store that is gone or a server that stays unreachable; what is left behind is said in a Warning
Event by the caller."""

from __future__ import annotations

import datetime
from collections.abc import Mapping
from typing import Any

from secretsync.errors import ConfigError, NotFound, SecretSyncError, Unsupported

GIVE_UP_AFTER_SECONDS = 300.0
"""How long a deleted object waits for its cleanup before its finalizer goes anyway."""


def deleting_since(raw: Mapping[str, Any]) -> float | None:
    """metadata.deletionTimestamp as epoch seconds; None when absent or unreadable."""
    stamp = (raw.get("metadata") or {}).get("deletionTimestamp")
    if not stamp:
        return None
    try:
        return datetime.datetime.fromisoformat(str(stamp).replace("Z", "+00:00")).timestamp()
    except ValueError:
        return None


def give_up(error: SecretSyncError, deleting_since: float | None, now: float) -> bool:
    """Whether a cleanup that failed on deletion is abandoned (the finalizer removed): at once
    when it cannot succeed (the store or generator is gone or unusable), otherwise once the
    object has waited GIVE_UP_AFTER_SECONDS."""
    if isinstance(error, NotFound | ConfigError | Unsupported):
        return True
    return deleting_since is None or now - deleting_since >= GIVE_UP_AFTER_SECONDS
