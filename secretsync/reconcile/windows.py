"""spec.syncWindows: allow and deny windows that gate *periodic* refreshes (pure).

ESO 2.9's semantics (externalsecret_controller.go isPeriodicRefreshAllowedByWindows):
- A schedule is robfig/cron v3's standard parser: five fields (minute hour day-of-month month
  day-of-week; `*`, `?`, lists, ranges, steps, jan-dec, sun-sat) or a descriptor (@yearly,
  @annually, @monthly, @weekly, @daily, @midnight, @hourly, `@every <Go duration>`). Evaluated
  in UTC.
- A window is active at `t` when the first firing after `t - duration - 1s` is not after `t`,
  and `t` is not after that firing plus `duration` (both ends inclusive).
- kind allow: a refresh may run only while some window is active; deny: never while one is.
- A schedule that does not parse is ignored (an inactive window), so a typo does not block
  syncs for ever. No windows at all allow everything.
- Only the periodic refresh is gated: the first sync, a spec change and the repair of a
  missing or edited Secret run at any time (refresh.py decides that).
"""

from __future__ import annotations

import calendar
import dataclasses
import datetime
import functools
import re
from collections.abc import Callable

from secretsync.api.externalsecret import SyncWindowKind, SyncWindows
from secretsync.api.fields import Duration
from secretsync.errors import ConfigError

_SECOND = datetime.timedelta(seconds=1)
_INT = re.compile(r"[+-]?[0-9]+")
_STAR = 1 << 63
_MONTHS = {m.lower(): i for i, m in enumerate(calendar.month_abbr) if m}
_DAYS = {"sun": 0, "mon": 1, "tue": 2, "wed": 3, "thu": 4, "fri": 5, "sat": 6}


@dataclasses.dataclass(frozen=True)
class _Bounds:
    low: int
    high: int
    names: tuple[tuple[str, int], ...] = ()


_MINUTE, _HOUR, _DOM = _Bounds(0, 59), _Bounds(0, 23), _Bounds(1, 31)
_MONTH, _DOW = _Bounds(1, 12, tuple(_MONTHS.items())), _Bounds(0, 6, tuple(_DAYS.items()))


class ScheduleError(ValueError):
    """A schedule robfig/cron would refuse; ESO ignores such a window."""


@dataclasses.dataclass(frozen=True)
class Spec:
    """A cron schedule as bit sets, as robfig's SpecSchedule (seconds are always 0)."""

    minute: int
    hour: int
    dom: int
    month: int
    dow: int

    def next(self, t: datetime.datetime) -> datetime.datetime | None:
        return _spec_next(self, t)


@dataclasses.dataclass(frozen=True)
class Every:
    """`@every d`: robfig's ConstantDelaySchedule (at least 1s, whole seconds)."""

    delay: datetime.timedelta

    def next(self, t: datetime.datetime) -> datetime.datetime | None:
        return t + self.delay - datetime.timedelta(microseconds=t.microsecond)


Schedule = Spec | Every


def _bits(low: int, high: int, step: int = 1) -> int:
    return sum(1 << i for i in range(low, high + 1, step))


def _number(text: str, bounds: _Bounds) -> int:
    named = dict(bounds.names).get(text.lower())
    if named is not None:
        return named
    if not _INT.fullmatch(text):  # Go's strconv.Atoi: an optional sign, then ASCII digits
        raise ScheduleError(f"failed to parse int from {text}")
    value = int(text, 10)
    if value < 0:
        raise ScheduleError(f"negative number ({value}) not allowed: {text}")
    return value


def _range(expr: str, bounds: _Bounds) -> int:
    range_and_step = expr.split("/")
    low_high = range_and_step[0].split("-")
    extra = 0
    if low_high[0] in ("*", "?"):
        start, end, extra = bounds.low, bounds.high, _STAR
    else:
        start = _number(low_high[0], bounds)
        if len(low_high) > 2:
            raise ScheduleError(f"too many hyphens: {expr}")
        end = _number(low_high[1], bounds) if len(low_high) == 2 else start
    if len(range_and_step) > 2:
        raise ScheduleError(f"too many slashes: {expr}")
    step = 1
    if len(range_and_step) == 2:
        step = _number(range_and_step[1], _Bounds(0, 0))
        if len(low_high) == 1:
            end = bounds.high  # "N/step" means "N-max/step"
        if step > 1:
            extra = 0
    if start < bounds.low or end > bounds.high or start > end or step == 0:
        raise ScheduleError(f"range out of bounds or empty: {expr}")
    return _bits(start, end, step) | extra


def _field(text: str, bounds: _Bounds) -> int:
    bits = 0
    for expr in (part for part in text.split(",") if part):
        bits |= _range(expr, bounds)
    return bits


_ALL_DOM, _ALL_MONTH, _ALL_DOW = _bits(1, 31) | _STAR, _bits(1, 12) | _STAR, _bits(0, 6) | _STAR
_DESCRIPTORS = {
    "@yearly": Spec(1, 1, 1 << 1, 1 << 1, _ALL_DOW),
    "@annually": Spec(1, 1, 1 << 1, 1 << 1, _ALL_DOW),
    "@monthly": Spec(1, 1, 1 << 1, _ALL_MONTH, _ALL_DOW),
    "@weekly": Spec(1, 1, _ALL_DOM, _ALL_MONTH, 1),
    "@daily": Spec(1, 1, _ALL_DOM, _ALL_MONTH, _ALL_DOW),
    "@midnight": Spec(1, 1, _ALL_DOM, _ALL_MONTH, _ALL_DOW),
    "@hourly": Spec(1, _bits(0, 23) | _STAR, _ALL_DOM, _ALL_MONTH, _ALL_DOW),
}


@functools.lru_cache(maxsize=1024)
def parse_schedule(text: str) -> Schedule:
    """robfig/cron's standard parser (minute hour dom month dow, descriptors allowed)."""
    if not text:
        raise ScheduleError("empty spec string")
    if text.startswith(("TZ=", "CRON_TZ=")):
        # The CRD pattern leaves four fields after a time zone, which robfig refuses anyway.
        raise ScheduleError("time zones are not supported; schedules are evaluated in UTC")
    if text.startswith("@"):
        return _descriptor(text)
    fields = text.split()
    if len(fields) != 5:
        raise ScheduleError(f"expected exactly 5 fields, found {len(fields)}")
    bounds = (_MINUTE, _HOUR, _DOM, _MONTH, _DOW)
    minute, hour, dom, month, dow = (_field(f, b) for f, b in zip(fields, bounds, strict=True))
    return Spec(minute, hour, dom, month, dow)


def _descriptor(text: str) -> Schedule:
    if text in _DESCRIPTORS:
        return _DESCRIPTORS[text]
    if text.startswith("@every "):
        try:
            delay = Duration.parse(text[len("@every ") :], "schedule")
        except ConfigError:
            raise ScheduleError(f"failed to parse duration {text}") from None
        seconds = max(1, int(delay.total_seconds()))  # at least 1s, whole seconds
        return Every(datetime.timedelta(seconds=seconds))
    raise ScheduleError(f"unrecognized descriptor: {text}")


def _day_matches(spec: Spec, t: datetime.datetime) -> bool:
    dom = bool(1 << t.day & spec.dom)
    dow = bool(1 << ((t.weekday() + 1) % 7) & spec.dow)  # Go: Sunday is 0
    if spec.dom & _STAR or spec.dow & _STAR:
        return dom and dow
    return dom or dow


def _add_month(t: datetime.datetime) -> datetime.datetime:
    # Called only on the first of a month, so the day always exists.
    return t.replace(year=t.year + 1, month=1) if t.month == 12 else t.replace(month=t.month + 1)


def _spec_next(spec: Spec, t: datetime.datetime) -> datetime.datetime | None:
    """robfig's SpecSchedule.Next in UTC: the first firing strictly after `t` (whole seconds),
    or None when there is none within five years. Each unit, largest first, moves `t` forward
    until it matches (truncating the smaller units the first time); rolling over into the next
    larger unit starts again from months, as robfig's `goto WRAP` does."""
    t = t.replace(microsecond=0) + _SECOND
    year_limit = t.year + 5
    added = False
    while t.year <= year_limit:
        for matches, truncate, step, rolled_over in _UNITS:
            while not matches(spec, t):
                if not added:
                    added, t = True, truncate(t)
                t = step(t)
                if rolled_over(t):
                    break
            else:
                continue
            break  # rolled over: from the months again
        else:
            return t
    return None


_Unit = tuple[
    Callable[[Spec, datetime.datetime], bool],
    Callable[[datetime.datetime], datetime.datetime],
    Callable[[datetime.datetime], datetime.datetime],
    Callable[[datetime.datetime], bool],
]
_UNITS: tuple[_Unit, ...] = (
    (
        lambda s, t: bool(1 << t.month & s.month),
        lambda t: t.replace(day=1, hour=0, minute=0, second=0),
        _add_month,
        lambda t: t.month == 1,
    ),
    (
        _day_matches,
        lambda t: t.replace(hour=0, minute=0, second=0),
        lambda t: t + datetime.timedelta(days=1),
        lambda t: t.day == 1,
    ),
    (
        lambda s, t: bool(1 << t.hour & s.hour),
        lambda t: t.replace(minute=0, second=0),
        lambda t: t + datetime.timedelta(hours=1),
        lambda t: t.hour == 0,
    ),
    (
        lambda s, t: bool(1 << t.minute & s.minute),
        lambda t: t.replace(second=0),
        lambda t: t + datetime.timedelta(minutes=1),
        lambda t: t.minute == 0,
    ),
    (  # the seconds field is always "0"
        lambda s, t: t.second == 0,
        lambda t: t,
        lambda t: t + _SECOND,
        lambda t: t.second == 0,
    ),
)


def active(schedule: Schedule, duration: datetime.timedelta, at: datetime.datetime) -> bool:
    """ESO's isWithinSyncWindow."""
    opened = schedule.next(at - duration - _SECOND)
    return opened is not None and opened <= at <= opened + duration


def _active_any(windows: SyncWindows, at: datetime.datetime) -> bool:
    for window in windows.windows:
        try:
            schedule = parse_schedule(window.schedule)
        except ScheduleError:
            continue  # ignored, as ESO does: a typo must not block every sync
        if active(schedule, window.duration, at):
            return True
    return False


def allowed(windows: SyncWindows | None, at: datetime.datetime) -> bool:
    """Whether the windows let a periodic refresh run at `at` (UTC)."""
    if windows is None or not windows.windows:
        return True
    at = at.astimezone(datetime.UTC)
    if windows.kind is SyncWindowKind.DENY:
        return not _active_any(windows, at)
    return _active_any(windows, at)


def next_allowed(windows: SyncWindows | None, now: datetime.datetime) -> datetime.datetime | None:
    """The first whole second at or after `now` at which a periodic refresh may run; None
    when none comes within five years (an allow list of schedules that never fire)."""
    now = now.astimezone(datetime.UTC)
    if allowed(windows, now):
        return now
    assert windows is not None
    candidate = now
    for _ in range(64):  # each step jumps to a window edge; overlapping windows need a few
        edge = _next_edge(windows, candidate)
        if edge is None or allowed(windows, edge):
            return edge
        candidate = edge
    return None


def _next_edge(windows: SyncWindows, after: datetime.datetime) -> datetime.datetime | None:
    """The nearest moment after `after` at which some window opens or closes."""
    edges: list[datetime.datetime] = []
    for window in windows.windows:
        try:
            schedule = parse_schedule(window.schedule)
        except ScheduleError:
            continue
        opened = schedule.next(after - window.duration - _SECOND)
        if opened is not None and opened <= after <= opened + window.duration:
            edges.append(opened + window.duration + _SECOND)  # closes (the end is inclusive)
        upcoming = schedule.next(after)
        if upcoming is not None:
            edges.append(upcoming)
    later = [e for e in edges if e > after]
    return min(later) if later else None
