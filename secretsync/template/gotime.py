"""Go's time.Time as templates see it: reference-date layouts ("2006-01-02 15:04:05"), the
String() form, durations, and a Stringer/field-access wrapper for the executor."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from secretsync.template.callables import FuncError

UTC = dt.UTC
ZERO = dt.datetime(1, 1, 1, tzinfo=UTC)
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"]  # fmt: skip
_DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"]
# Longest first within each leading character, as Go's nextStdChunk tries them.
_TOKENS = [
    "January", "Jan", "Monday", "Mon", "MST", "002", "01", "02", "03", "04", "05", "06",
    "15", "1", "2006", "2", "__2", "_2", "3", "4", "5", "PM", "pm",
    "-07:00:00", "-070000", "-07:00", "-0700", "-07",
    "Z07:00:00", "Z070000", "Z07:00", "Z0700", "Z07",
]  # fmt: skip
_FRACTION = re.compile(r"[.,](0+|9+)(?![0-9])")


def tokenize(layout: str) -> list[tuple[bool, str]]:
    """(is_token, text) chunks of a Go layout."""
    out: list[tuple[bool, str]] = []
    i = 0
    while i < len(layout):
        frac = _FRACTION.match(layout, i)
        if frac:
            out.append((True, frac.group(0)))
            i = frac.end()
            continue
        chunk = next((t for t in _TOKENS if layout.startswith(t, i)), None)
        if chunk == "2" and layout.startswith("2006", i):
            chunk = "2006"
        if chunk is None:
            out.append((False, layout[i]))
            i += 1
        else:
            out.append((True, chunk))
            i += len(chunk)
    return out


@dataclass(frozen=True)
class GoTime:
    """A time.Time: an aware datetime plus its zone abbreviation."""

    moment: dt.datetime
    zone: str = "UTC"
    go_type = "time.Time"

    def go_string(self) -> str:
        return format_time(self, "2006-01-02 15:04:05.999999999 -0700 MST")

    def go_json(self) -> str:
        return format_time(self, "2006-01-02T15:04:05.999999999Z07:00")

    def go_method(self, name: str, args: list[Any]) -> Any:
        simple: dict[str, Callable[[], Any]] = {
            "Year": lambda: self.moment.year,
            "Day": lambda: self.moment.day,
            "Hour": lambda: self.moment.hour,
            "Minute": lambda: self.moment.minute,
            "Second": lambda: self.moment.second,
            "Nanosecond": lambda: self.moment.microsecond * 1000,
            "YearDay": lambda: self.moment.timetuple().tm_yday,
            "Unix": lambda: int(self.moment.timestamp()),
            "UnixNano": lambda: (
                int(self.moment.timestamp()) * 10**9 + self.moment.microsecond * 1000
            ),
            "IsZero": lambda: self.moment == ZERO,
            "UTC": lambda: GoTime(self.moment.astimezone(UTC), "UTC"),
            "Local": lambda: GoTime(self.moment.astimezone(UTC), "UTC"),
            "String": self.go_string,
            "Month": lambda: _MONTHS[self.moment.month - 1],
            "Weekday": lambda: _DAYS[self.moment.weekday()],
        }
        if name == "Format" and len(args) == 1 and isinstance(args[0], str):
            return format_time(self, args[0])
        if name in simple and not args:
            return simple[name]()
        raise FuncError(f"can't evaluate field {name} in type time.Time")


def _offset(moment: dt.datetime, colon: bool, seconds: bool, z: bool, hours_only: bool) -> str:
    delta = moment.utcoffset() or dt.timedelta(0)
    total = int(delta.total_seconds())
    if z and total == 0:
        return "Z"
    sign = "-" if total < 0 else "+"
    total = abs(total)
    hh, mm, ss = total // 3600, total // 60 % 60, total % 60
    sep = ":" if colon else ""
    text = f"{sign}{hh:02d}" + ("" if hours_only else f"{sep}{mm:02d}")
    return text + (f"{sep}{ss:02d}" if seconds else "")


def format_time(value: GoTime, layout: str) -> str:
    m = value.moment
    out: list[str] = []
    for is_token, text in tokenize(layout):
        out.append(_format_token(value, m, text) if is_token else text)
    return "".join(out)


def _format_token(value: GoTime, m: dt.datetime, chunk: str) -> str:
    hour12 = m.hour % 12 or 12
    simple = {
        "January": _MONTHS[m.month - 1], "Jan": _MONTHS[m.month - 1][:3],
        "Monday": _DAYS[m.weekday()], "Mon": _DAYS[m.weekday()][:3],
        "01": f"{m.month:02d}", "1": str(m.month), "02": f"{m.day:02d}", "2": str(m.day),
        "_2": f"{m.day:2d}", "2006": f"{m.year:04d}", "06": f"{m.year % 100:02d}",
        "15": f"{m.hour:02d}", "03": f"{hour12:02d}", "3": str(hour12),
        "04": f"{m.minute:02d}", "4": str(m.minute), "05": f"{m.second:02d}", "5": str(m.second),
        "PM": "PM" if m.hour >= 12 else "AM", "pm": "pm" if m.hour >= 12 else "am",
        "002": f"{m.timetuple().tm_yday:03d}", "__2": f"{m.timetuple().tm_yday:3d}",
    }  # fmt: skip
    if chunk in simple:
        return simple[chunk]
    if chunk == "MST":
        return value.zone or _offset(m, False, False, False, False)
    if chunk[0] in "-Z":
        body = chunk[1:]
        return _offset(
            m, ":" in body, len(body.replace(":", "")) == 6, chunk[0] == "Z", body == "07"
        )
    digits = f"{m.microsecond:06d}000"[: len(chunk) - 1]
    if chunk[1] == "9":
        digits = digits.rstrip("0")
        return chunk[0] + digits if digits else ""
    return chunk[0] + digits


_PARSE_PATTERNS = {
    "January": r"(?P<month_name>[A-Za-z]+)", "Jan": r"(?P<month_abbr>[A-Za-z]{3})",
    "Monday": r"[A-Za-z]+", "Mon": r"[A-Za-z]{3}", "MST": r"(?P<zone>[A-Z]{3,4}|[+-]\d{4})",
    "01": r"(?P<month>\d{2})", "1": r"(?P<month>\d{1,2})", "02": r"(?P<day>\d{2})",
    "2": r"(?P<day>\d{1,2})", "_2": r" ?(?P<day>\d{1,2})", "2006": r"(?P<year>\d{4})",
    "06": r"(?P<year2>\d{2})", "15": r"(?P<hour>\d{1,2})", "03": r"(?P<hour12>\d{2})",
    "3": r"(?P<hour12>\d{1,2})", "04": r"(?P<minute>\d{2})", "4": r"(?P<minute>\d{1,2})",
    "05": r"(?P<second>\d{2})", "5": r"(?P<second>\d{1,2})", "PM": r"(?P<pm>AM|PM)",
    "pm": r"(?P<pm>am|pm)", "002": r"\d{3}", "__2": r" *\d{1,3}",
}  # fmt: skip


def parse_time(layout: str, text: str) -> GoTime:
    """time.ParseInLocation(layout, text, UTC) for the common layout elements."""
    pattern = "".join(
        _token_regex(tok) if is_tok else re.escape(tok) for is_tok, tok in tokenize(layout)
    )
    try:
        match = re.fullmatch(pattern, text)
    except re.error:
        match = None  # a layout repeating an element; Go would also fail to parse it
    if match is None:
        raise FuncError(f'parsing time "{text}" as "{layout}": cannot parse')
    return _build_time(match.groupdict(), text, layout)


def _token_regex(chunk: str) -> str:
    if chunk in _PARSE_PATTERNS:
        return _PARSE_PATTERNS[chunk]
    if chunk[0] in "-Z":
        zulu = "Z|" if chunk[0] == "Z" else ""
        return rf"(?P<offset>{zulu}[+-]\d{{2}}(?::?\d{{2}}){{0,2}})"
    return r"(?:[.,](?P<fraction>\d+))" + ("?" if chunk[1] == "9" else "")


def _build_time(parts: dict[str, str | None], text: str, layout: str) -> GoTime:
    def num(key: str, default: int) -> int:
        value = parts.get(key)
        return int(value) if value else default

    month = num("month", 1)
    for key, size in (("month_name", None), ("month_abbr", 3)):
        name = parts.get(key)
        if name:
            names = [m[:size] if size else m for m in _MONTHS]
            if name.capitalize() not in names:
                raise FuncError(f'parsing time "{text}" as "{layout}": cannot parse')
            month = names.index(name.capitalize()) + 1
    year = num("year", 0) if parts.get("year") else 1
    if parts.get("year2"):
        year = num("year2", 0) + (1900 if num("year2", 0) >= 69 else 2000)
    hour = num("hour", 0)
    if parts.get("hour12"):
        hour = num("hour12", 0) % 12 + (12 if (parts.get("pm") or "").lower() == "pm" else 0)
    fraction = (parts.get("fraction") or "0")[:6].ljust(6, "0")
    zone, tz = _zone(parts.get("offset") or parts.get("zone"))
    try:
        moment = dt.datetime(
            year, month, num("day", 1), hour, num("minute", 0), num("second", 0), int(fraction), tz
        )
    except ValueError:
        raise FuncError(f'parsing time "{text}": day out of range') from None
    return GoTime(moment, zone)


def _zone(text: str | None) -> tuple[str, dt.tzinfo]:
    if not text or text in {"Z", "UTC", "GMT"}:
        return "UTC", UTC
    if text[0] not in "+-":
        return text, UTC  # Go also treats an unknown abbreviation as a zero offset
    digits = text[1:].replace(":", "").ljust(6, "0")
    seconds = int(digits[:2]) * 3600 + int(digits[2:4]) * 60 + int(digits[4:6])
    offset = dt.timedelta(seconds=-seconds if text[0] == "-" else seconds)
    return ("UTC" if not seconds else ""), dt.timezone(offset)


_DURATION_UNITS = {"ns": 1, "us": 10**3, "µs": 10**3, "μs": 10**3, "ms": 10**6, "s": 10**9,
                   "m": 60 * 10**9, "h": 3600 * 10**9}  # fmt: skip
_DURATION = re.compile(r"(\d+\.?\d*|\.\d+)(ns|us|µs|μs|ms|s|m|h)")


def parse_duration(text: str) -> int:
    """time.ParseDuration, in nanoseconds."""
    sign, body = (-1, text[1:]) if text.startswith("-") else (1, text.lstrip("+"))
    if body == "0":
        return 0
    total, pos = 0.0, 0
    for match in _DURATION.finditer(body):
        if match.start() != pos:
            break
        total += float(match.group(1)) * _DURATION_UNITS[match.group(2)]
        pos = match.end()
    if not body or pos != len(body):
        raise FuncError(f'time: invalid duration "{text}"')
    return sign * int(total)


def format_duration(ns: int) -> str:
    """time.Duration.String()."""
    if ns == 0:
        return "0s"
    sign, ns = ("-", -ns) if ns < 0 else ("", ns)
    if ns < 10**9:
        for unit, size in (("ms", 10**6), ("µs", 10**3), ("ns", 1)):
            if ns >= size:
                return sign + _trim(ns, size) + unit
    hours, rest = divmod(ns, 3600 * 10**9)
    minutes, rest = divmod(rest, 60 * 10**9)
    out = (f"{hours}h" if hours else "") + (f"{minutes}m" if hours or minutes else "")
    return sign + out + _trim(rest, 10**9) + "s"


def _trim(value: int, unit: int) -> str:
    whole, frac = divmod(value, unit)
    digits = str(frac).rjust(len(str(unit)) - 1, "0").rstrip("0")
    return f"{whole}.{digits}" if digits else str(whole)
