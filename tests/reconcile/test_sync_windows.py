"""spec.syncWindows: the schedule engine against robfig/cron itself (the library ESO 2.9 uses,
built from the Go module cache), and the refresh decision with a fake clock."""

from __future__ import annotations

import datetime
import hashlib
import json
import random
import shutil
import subprocess
from pathlib import Path
from typing import Any

import pytest

from secretsync.api.externalsecret import ExternalSecretSpec
from secretsync.api.objects import ObjectMeta
from secretsync.api.parsing import parse
from secretsync.reconcile import refresh, windows
from tests.testbed import binaries, paths, procs

UTC = datetime.UTC
GOCRON = Path(__file__).parent / "gocron"

SCHEDULES = [
    "0 22 * * *",
    "0 9 * * 1-5",
    "0 2 * * 6",
    "*/15 * * * *",
    "5,35 */3 * * *",
    "30 1 1,15 * *",
    "0 0 1 * 1",  # day-of-month OR day-of-week, as in cron
    "0 0 */2 * 1",  # a stepped field is not a star: still OR
    "0 0 * * *",
    "0 12 29 2 *",  # leap days only
    "0 0 31 4 *",  # never fires: April has 30 days
    "15 10 ? JAN-mar sun",
    "0-10/5 4 * * MON,wed",
    "7/20 * * * *",
    "@hourly",
    "@daily",
    "@midnight",
    "@weekly",
    "@monthly",
    "@yearly",
    "@annually",
    "@every 90m",
    "@every 1h30m15.5s",
    "@every 500ms",
    "@every 3h",
]
BAD = [
    "not-a-cron",
    "0 22 * *",
    "61 * * * *",
    "* * * * 7",
    "@fortnightly",
    "@every soon",
    "1_0 * * * *",
]


@pytest.fixture(scope="session")
def gocron() -> Path:
    """robfig/cron v3.0.1 behind a small JSON-lines command, built once per source version."""
    source = (GOCRON / "main.go").read_bytes() + (GOCRON / "go.mod").read_bytes()
    built = paths.bin_dir("gocron", hashlib.sha256(source).hexdigest()[:12]) / "gocron"
    if built.exists():
        return built
    if shutil.which("go") is None:
        raise procs.TestbedError(
            "the sync-window tests compare with Go's robfig/cron; install Go, then "
            + binaries.INSTALL_HINT
        )
    built.parent.mkdir(parents=True, exist_ok=True)
    env = {**binaries.go_env(), "GOFLAGS": "-mod=mod", "GOPROXY": "off"}
    done = subprocess.run(
        ["go", "build", "-o", str(built), "."],
        cwd=GOCRON,
        env=env,
        capture_output=True,
        check=False,
    )
    if done.returncode != 0:
        raise procs.TestbedError(
            "building tests/reconcile/gocron failed (robfig/cron v3.0.1 must be in the Go module "
            f"cache; {binaries.INSTALL_HINT} fetches it):\n{done.stderr.decode()[-2000:]}"
        )
    return built


def _ask(gocron: Path, cases: list[dict[str, str]]) -> list[dict[str, Any]]:
    text = "".join(json.dumps(case) + "\n" for case in cases)
    done = subprocess.run([str(gocron)], input=text.encode(), capture_output=True, check=True)
    return [json.loads(line) for line in done.stdout.decode().splitlines()]


def _iso(when: datetime.datetime) -> str:
    return when.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _times(seed: int, count: int) -> list[datetime.datetime]:
    rng = random.Random(seed)  # noqa: S311 - test data, not secrets
    start = datetime.datetime(2026, 1, 1, tzinfo=UTC)
    picked = [
        start + datetime.timedelta(seconds=rng.randrange(4 * 365 * 86400)) for _ in range(count)
    ]
    # Edges: whole minutes, a microsecond before one, year and month ends, a leap day.
    picked += [
        datetime.datetime(2026, 12, 31, 23, 59, 59, tzinfo=UTC),
        datetime.datetime(2028, 2, 28, 23, 59, 0, tzinfo=UTC),
        datetime.datetime(2026, 6, 1, 21, 59, 59, 999999, tzinfo=UTC),
        datetime.datetime(2026, 6, 1, 22, 0, tzinfo=UTC),
        datetime.datetime(2026, 6, 2, 0, 0, tzinfo=UTC),
        datetime.datetime(2026, 6, 2, 0, 0, 1, tzinfo=UTC),
    ]
    return picked


def test_next_firing_and_window_membership_match_robfig(gocron: Path) -> None:
    durations = ["0s", "1s", "59s", "10m", "2h", "8h", "26h"]
    cases = [
        {"schedule": schedule, "at": _iso(at), "duration": durations[i % len(durations)]}
        for schedule in SCHEDULES
        for i, at in enumerate(_times(hash(schedule) & 0xFFFF, 40))
    ]
    answers = _ask(gocron, cases)
    mismatches = []
    for case, go in zip(cases, answers, strict=True):
        assert not go["error"], (case, go)
        schedule = windows.parse_schedule(case["schedule"])
        at = datetime.datetime.fromisoformat(case["at"])
        mine = schedule.next(at)
        duration = datetime.timedelta(seconds=_seconds(case["duration"]))
        got = {"next": _iso(mine) if mine else "", "active": windows.active(schedule, duration, at)}
        if got != {"next": go["next"], "active": go["active"]}:
            mismatches.append((case, go, got))
    assert not mismatches, mismatches[:5]
    assert any(go["active"] for go in answers) and not all(go["active"] for go in answers)


def _seconds(text: str) -> int:
    units = {"s": 1, "m": 60, "h": 3600}
    return int(text[:-1]) * units[text[-1]]


def test_schedules_robfig_refuses_are_refused_here_too(gocron: Path) -> None:
    answers = _ask(gocron, [{"schedule": s, "at": "2026-06-01T00:00:00Z"} for s in BAD])
    for schedule, go in zip(BAD, answers, strict=True):
        assert go["error"], schedule
        with pytest.raises(windows.ScheduleError):
            windows.parse_schedule(schedule)


def _windows(kind: str, *entries: tuple[str, str]) -> dict[str, Any]:
    return {"kind": kind, "windows": [{"schedule": s, "duration": d} for s, d in entries]}


def _spec(**fields: Any) -> ExternalSecretSpec:
    raw = {"secretStoreRef": {"name": "s"}, "data": [{"secretKey": "k", "remoteRef": {"key": "k"}}]}
    return parse(ExternalSecretSpec, {**raw, **fields}, "spec")


META = ObjectMeta(name="es", namespace="ns", generation=3)
SATURDAY_3AM = datetime.datetime(2026, 6, 6, 3, 0, tzinfo=UTC)  # inside "0 2 * * 6" for 2h
DENY_SATURDAY = _windows("deny", ("0 2 * * 6", "2h"))


def _synced(at: datetime.datetime) -> refresh.SyncState:
    return refresh.SyncState(refresh_time=at, synced_resource_version=refresh.synced_version(META))


def test_a_deny_window_holds_a_due_refresh_until_it_closes() -> None:
    spec = _spec(refreshInterval="30m", syncWindows=DENY_SATURDAY)
    state = _synced(SATURDAY_3AM - datetime.timedelta(hours=1))  # due since 02:30
    assert not refresh.should_refresh(spec, META, state, SATURDAY_3AM)
    # It wakes one second after the inclusive end, 04:00:00, and then refreshes.
    assert refresh.seconds_until_due(spec, state, SATURDAY_3AM, uid=None) == 3601
    opened = SATURDAY_3AM + datetime.timedelta(seconds=3601)
    assert refresh.should_refresh(spec, META, state, opened)
    assert not refresh.should_refresh(spec, META, state, opened - datetime.timedelta(seconds=1))


def test_windows_gate_only_the_periodic_refresh() -> None:
    spec = _spec(refreshInterval="30m", syncWindows=DENY_SATURDAY)
    never = refresh.SyncState()
    assert refresh.should_refresh(spec, META, never, SATURDAY_3AM)  # the first sync
    stale = refresh.SyncState(
        refresh_time=SATURDAY_3AM - datetime.timedelta(hours=1), synced_resource_version="2-x"
    )
    assert refresh.should_refresh(spec, META, stale, SATURDAY_3AM)  # a spec change
    fresh = _synced(SATURDAY_3AM - datetime.timedelta(minutes=5))
    assert not refresh.should_refresh(spec, META, fresh, SATURDAY_3AM)  # simply not due
    assert refresh.seconds_until_due(spec, fresh, SATURDAY_3AM, uid=None) == 25 * 60
    for policy in ("CreatedOnce", "OnChange"):
        other = _spec(refreshPolicy=policy, syncWindows=DENY_SATURDAY)
        assert refresh.should_refresh(other, META, never, SATURDAY_3AM)
        synced = _synced(SATURDAY_3AM)
        assert refresh.seconds_until_due(other, synced, SATURDAY_3AM, uid=None) is None


def test_an_allow_window_lets_refreshes_run_only_inside_it() -> None:
    business = _windows("allow", ("0 9 * * 1-5", "8h"))
    spec = _spec(refreshInterval="1h", syncWindows=business)
    friday_evening = datetime.datetime(2026, 6, 5, 18, 0, tzinfo=UTC)
    state = _synced(friday_evening - datetime.timedelta(hours=2))
    assert not refresh.should_refresh(spec, META, state, friday_evening)
    monday_nine = datetime.datetime(2026, 6, 8, 9, 0, tzinfo=UTC)
    assert (
        refresh.seconds_until_due(spec, state, friday_evening, uid=None)
        == (monday_nine - friday_evening).total_seconds()
    )
    assert refresh.should_refresh(spec, META, state, monday_nine)
    assert refresh.should_refresh(spec, META, state, monday_nine + datetime.timedelta(hours=8))
    late = monday_nine + datetime.timedelta(hours=8, seconds=1)
    assert not refresh.should_refresh(spec, META, state, late)


def test_overlapping_deny_windows_release_after_the_last_closes() -> None:
    spec = _spec(
        refreshInterval="1m",
        syncWindows=_windows(
            "deny", ("0 2 * * *", "1h"), ("30 2 * * *", "1h"), ("@every 5m", "1s")
        ),
    )
    at = datetime.datetime(2026, 6, 6, 2, 10, tzinfo=UTC)
    state = _synced(at - datetime.timedelta(minutes=5))
    release = datetime.datetime(2026, 6, 6, 3, 30, 1, tzinfo=UTC)
    assert refresh.seconds_until_due(spec, state, at, uid=None) == (release - at).total_seconds()
    assert windows.allowed(spec.sync_windows, release)


def test_an_unparsable_schedule_is_ignored_as_eso_does() -> None:
    deny = _spec(refreshInterval="1m", syncWindows=_windows("deny", ("61 * * * *", "1h")))
    allow = _spec(refreshInterval="1m", syncWindows=_windows("allow", ("61 * * * *", "1h")))
    state = _synced(SATURDAY_3AM - datetime.timedelta(hours=1))
    assert refresh.should_refresh(deny, META, state, SATURDAY_3AM)
    assert not refresh.should_refresh(allow, META, state, SATURDAY_3AM)
    # An allow list that can never open leaves nothing to schedule (a spec change still syncs).
    assert refresh.seconds_until_due(allow, state, SATURDAY_3AM, uid=None) is None


def test_the_schedule_pattern_is_eso_s() -> None:
    import re  # noqa: PLC0415

    from secretsync.api.externalsecret import SYNC_WINDOW_SCHEDULE  # noqa: PLC0415

    accepted = ["0 22 * * 1-5", "@daily", "@every 1h", "@every 1h foo"]
    refused = ["0 22 * *", "TZ=UTC 0 22 * * *", "@sometimes", "0  22 * * *"]
    assert all(re.match(SYNC_WINDOW_SCHEDULE, s) for s in accepted)
    assert not any(re.match(SYNC_WINDOW_SCHEDULE, s) for s in refused)


def test_a_git_push_inside_a_deny_window_waits_like_a_periodic_refresh() -> None:
    spec = _spec(refreshInterval="1h", syncWindows=DENY_SATURDAY)
    state = _synced(SATURDAY_3AM - datetime.timedelta(minutes=10))
    assert not refresh.should_refresh(spec, META, state, SATURDAY_3AM, source_moved=True)
    later = SATURDAY_3AM + datetime.timedelta(hours=2)
    assert refresh.should_refresh(spec, META, state, later, source_moved=True)
