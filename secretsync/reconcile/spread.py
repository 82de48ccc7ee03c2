"""When a periodic refresh falls due: on a per-object grid, so refreshes do not line up.

Refreshing at `last refresh + interval` keeps objects that once synced together (created by
one `kubectl apply`, or all overdue when the operator comes back from an outage) refreshing
together for ever after: every hour the stores see the whole fleet in the same second (ESO
issue #4231). Instead each object refreshes on a grid of its own: the times `phase + k *
interval` (seconds since the epoch, UTC), where the phase is a hash of the object's uid spread
over [0, interval). The next refresh is the first grid time at least `MIN_GAP` after the last
one. So:

- the phase is a pure function of the uid: a restart, a new leader or a replica computes the
  same due time from the status' refreshTime, and never lines objects up again;
- in the steady state the period is exactly the interval, and no refresh is ever more than
  `interval + MIN_GAP` after the previous one (a random offset added to the interval would
  instead stretch every period);
- objects that synced together fall due at uniformly spread times over the next interval: the
  first periodic refresh after a creation or a forced sync comes early for most of them, once.

The first sync of a new object and a forced sync (any annotation or spec change) do not come
here: they run at once (refresh.should_refresh).
"""

from __future__ import annotations

import datetime
import hashlib
import math

MIN_GAP = 1.0
"""Seconds: status.refreshTime is kept to the second, so a refresh at 10:00:00.7 reads back as
10:00:00; without a gap of a second the grid time it ran at would look due again."""

MIN_SPREAD_INTERVAL = 2 * MIN_GAP
"""Below this the grid cannot be told apart from the refreshTime's rounding: plain interval."""


def phase(uid: str) -> float:
    """A stable fraction in [0, 1) for the object: the same on every run, on every replica."""
    digest = hashlib.sha256(uid.encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2.0**64


def next_due(
    uid: str | None, last: datetime.datetime, interval: datetime.timedelta
) -> datetime.datetime:
    """The first grid time of the object `MIN_GAP` or more after its last refresh `last`.
    Without a uid (an object never stored by an apiserver) or with an interval too short to
    spread, the plain `last + interval`."""
    seconds = interval.total_seconds()
    if uid is None or seconds < MIN_SPREAD_INTERVAL:
        return last + interval
    offset = phase(uid) * seconds
    earliest = last.timestamp() + MIN_GAP
    # The grid's k-th time is offset + k * interval; take the first at or after `earliest`.
    k = math.ceil((earliest - offset) / seconds)
    due = offset + k * seconds
    if due < earliest:  # floating point rounding at the boundary
        due += seconds
    return datetime.datetime.fromtimestamp(due, datetime.UTC)
