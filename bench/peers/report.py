"""The side-by-side table: one row per (scenario, N, operator setting), each figure with its
ratio to ESO's on the same scenario and N. Pure functions over Results."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Sequence
from typing import Any


@dataclasses.dataclass(frozen=True)
class Result:
    scenario: str
    """sync, refresh or rotation (the floor is a sync row)."""
    count: int
    operator: str
    """eso, secretsync, vso or floor."""
    setting: str
    label: str
    seconds: float | None
    rss_mb: float | None
    cpu_s: float | None
    writes: dict[str, int]
    """Operator writes by resource, a subresource as `resource/sub`."""
    provider: dict[str, int]
    """OpenBao requests: logins, reads, other."""
    load: str

    def key(self) -> tuple[str, int, str, str]:
        return (self.scenario, self.count, self.operator, self.setting)


TIMES = "\N{MULTIPLICATION SIGN}"
NONE = "\N{EN DASH}"
SCENARIO_ORDER = {"sync": 0, "refresh": 1, "rotation": 2}
OPERATOR_ORDER = {"eso": 0, "secretsync": 1, "vso": 2, "floor": 3}
SETTING_ORDER = {"default": 0, "16": 1, "16-lag": 2, "16-qps50": 3}


def reference_setting(setting: str) -> str:
    """The ESO setting a row is compared with: defaults with defaults, rotation with ESO +
    Reloader, everything else with ESO at --concurrent 16 and its client limit raised."""
    return setting if setting in ("default", "rotation") else "16"


def reference(result: Result, results: Iterable[Result]) -> Result | None:
    wanted = (result.scenario, result.count, "eso", reference_setting(result.setting))
    return next((r for r in results if r.key() == wanted), None)


def ratio(value: float | None, ref: float | None) -> str:
    """` (0.80x)` with a multiplication sign, or nothing when there is nothing to divide by."""
    if value is None or not ref:
        return ""
    return f" ({value / ref:.2f}{TIMES})"


def writes_summary(writes: dict[str, int]) -> dict[str, int]:
    """Secret writes, status writes (any `/status`), Events, and the rest."""
    out = {"secrets": 0, "status": 0, "events": 0, "other": 0}
    for resource, n in writes.items():
        if resource == "secrets":
            out["secrets"] += n
        elif resource.endswith("/status"):
            out["status"] += n
        elif resource == "events":
            out["events"] += n
        else:
            out["other"] += n
    return out


def _num(value: float | None, unit: str, ref: float | None) -> str:
    if value is None:
        return NONE
    shown = f"{value:,.0f}" if unit == " MB" or value >= 100 else f"{value:,.1f}"
    return f"{shown}{unit}{ratio(value, ref)}"


def _split(values: dict[str, int], order: Sequence[str], ref: dict[str, int] | None) -> str:
    if not values:
        return NONE
    total = sum(values.values())
    parts = " / ".join(f"{values.get(k, 0):,}" for k in order)
    return f"{parts} = {total:,}{ratio(total, sum(ref.values()) if ref else None)}"


def row(result: Result, results: Sequence[Result]) -> str:
    ref = reference(result, results)
    writes = writes_summary(result.writes) if result.writes or result.scenario != "rotation" else {}
    ref_writes = writes_summary(ref.writes) if ref else None
    cells = [
        result.scenario,
        f"{result.count:,}",
        result.label,
        _num(result.seconds, " s", ref.seconds if ref else None)
        if result.scenario != "refresh"
        else f"{result.seconds:.0f} s window",
        _num(result.rss_mb, " MB", ref.rss_mb if ref else None),
        _num(result.cpu_s, " s", ref.cpu_s if ref else None),
        _split(writes, ("secrets", "status", "events", "other"), ref_writes),
        _split(result.provider, ("reads", "logins", "other"), ref.provider if ref else None),
        result.load.split(" / ")[0],
    ]
    return "| " + " | ".join(cells) + " |"


def ordered(results: Iterable[Result]) -> list[Result]:
    return sorted(
        results,
        key=lambda r: (
            SCENARIO_ORDER.get(r.scenario, 9),
            r.count,
            OPERATOR_ORDER.get(r.operator, 9),
            SETTING_ORDER.get(r.setting, 9),
        ),
    )


HEADER = [
    "| scenario | N | operator, settings | time | peak RSS | operator CPU "
    "| apiserver writes: Secret / status / Event / other | OpenBao requests: reads / logins "
    "/ other | load |",
    "|---|---|---|---|---|---|---|---|---|",
]


def table(results: Sequence[Result]) -> str:
    rows = ordered(results)
    return "\n".join([*HEADER, *(row(r, rows) for r in rows)])


def merge(old: Iterable[Result], new: Iterable[Result]) -> list[Result]:
    """`new` replaces any old result of the same scenario, N, operator and setting."""
    fresh = list(new)
    keys = {r.key() for r in fresh}
    return ordered([*(r for r in old if r.key() not in keys), *fresh])


def to_json(results: Iterable[Result]) -> list[dict[str, Any]]:
    return [dataclasses.asdict(r) for r in results]


def from_json(data: Iterable[dict[str, Any]]) -> list[Result]:
    return [Result(**item) for item in data]
