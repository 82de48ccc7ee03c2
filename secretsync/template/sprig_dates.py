"""sprig's date functions (date.go). "Local" is UTC: the operator runs in a container whose
local zone is UTC, as ESO's does; named zones come from the system tz database."""

from __future__ import annotations

import datetime as dt
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from secretsync.template.callables import FuncError, GoFunc, make
from secretsync.template.gotime import (
    UTC,
    ZERO,
    GoTime,
    format_duration,
    format_time,
    parse_duration,
    parse_time,
)
from secretsync.template.values import Int64


def now() -> GoTime:
    return GoTime(dt.datetime.now(UTC), "UTC")


def _as_time(value: Any) -> GoTime:
    """sprig's dateInZone argument: a time, or Unix seconds; anything else means now."""
    if isinstance(value, GoTime):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return GoTime(dt.datetime.fromtimestamp(value, UTC), "UTC")
    return now()


def _in_zone(value: GoTime, zone: str) -> GoTime:
    if zone in {"Local", "UTC", ""}:
        return GoTime(value.moment.astimezone(UTC), "UTC")
    try:
        tz = ZoneInfo(zone)
    except (ZoneInfoNotFoundError, ValueError):
        return GoTime(value.moment.astimezone(UTC), "UTC")  # sprig falls back to UTC
    moment = value.moment.astimezone(tz)
    return GoTime(moment, moment.tzname() or "")


def date_in_zone(layout: str, value: Any, zone: str) -> str:
    return format_time(_in_zone(_as_time(value), zone), layout)


def to_date(layout: str, text: str) -> GoTime:
    try:
        return parse_time(layout, text)
    except FuncError:
        return GoTime(ZERO, "UTC")


def _check_time(value: Any) -> GoTime:
    if not isinstance(value, GoTime):
        raise FuncError(f"wrong type for value; expected time.Time; got {type(value).__name__}")
    return value


def date_modify(change: str, value: Any) -> GoTime:
    moment = _check_time(value)
    try:
        ns = parse_duration(change)
    except FuncError:
        return moment
    return GoTime(moment.moment + dt.timedelta(microseconds=ns // 1000), moment.zone)


def must_date_modify(change: str, value: Any) -> GoTime:
    moment = _check_time(value)
    ns = parse_duration(change)
    return GoTime(moment.moment + dt.timedelta(microseconds=ns // 1000), moment.zone)


def duration(value: Any) -> str:
    # sprig reads only a string or an int64; a template's integer literal is a Go int, so 0s.
    seconds = int(value) if isinstance(value, Int64) else 0
    if isinstance(value, str):
        try:
            seconds = int(value)
        except ValueError:
            seconds = 0
    return format_duration(seconds * 10**9)


_ROUND_UNITS = [
    ("y", 365 * 24 * 3600), ("mo", 30 * 24 * 3600), ("d", 24 * 3600), ("h", 3600), ("m", 60),
    ("s", 1),
]  # fmt: skip


def duration_round(value: Any) -> str:
    ns = 0
    if isinstance(value, str):
        try:
            ns = parse_duration(value)
        except FuncError:
            ns = 0
    elif isinstance(value, GoTime):
        ns = int((dt.datetime.now(UTC) - value.moment).total_seconds() * 10**9)
    elif isinstance(value, int) and not isinstance(value, bool):
        ns = value
    seconds = abs(ns) / 10**9
    for unit, size in _ROUND_UNITS:
        if seconds > size:
            return f"{int(seconds // size)}{unit}"
    return "0s"


def ago(value: Any) -> str:
    moment = _as_time(value).moment
    seconds = round((dt.datetime.now(UTC) - moment).total_seconds())
    return format_duration(seconds * 10**9)


def must_to_date(layout: str, text: str) -> GoTime:
    return parse_time(layout, text)


FUNCS: dict[str, GoFunc] = {
    "ago": make(ago, "a"),
    "date": make(lambda layout, value: date_in_zone(layout, value, "Local"), "sa"),
    "date_in_zone": make(date_in_zone, "sas"),
    "dateInZone": make(date_in_zone, "sas"),
    "date_modify": make(date_modify, "sa"),
    "dateModify": make(date_modify, "sa"),
    "must_date_modify": make(must_date_modify, "sa"),
    "mustDateModify": make(must_date_modify, "sa"),
    "duration": make(duration, "a"),
    "durationRound": make(duration_round, "a"),
    "htmlDate": make(lambda value: date_in_zone("2006-01-02", value, "Local"), "a"),
    "htmlDateInZone": make(lambda value, zone: date_in_zone("2006-01-02", value, zone), "as"),
    "mustToDate": make(must_to_date, "ss"),
    "now": make(now, ""),
    "toDate": make(to_date, "ss"),
    "unixEpoch": make(lambda value: str(int(_as_time(value).moment.timestamp())), "a"),
}
