"""sprig's date functions, table-driven; expected outputs from Go's sprig with Local = UTC."""

# ruff: noqa: E501 - table rows are whole templates; wrapping them would hide what is tested

from __future__ import annotations

import re

import pytest

from secretsync.errors import TemplateError
from secretsync.template import render_string

DATES_CASES: list[tuple[str, dict[str, str], str]] = [
    (
        '{{ toDate "2006-01-02" "2017-12-31" | date "02/01/2006" }}|{{ unixEpoch (toDate "2006-01-02" "2017-12-31") }}|{{ dateInZone "2006-01-02 15:04" (toDate "2006-01-02" "2017-12-31") "UTC" }}|{{ duration 95 }}|{{ durationRound "2h10m5s" }}',
        {},
        "31/12/2017|1514678400|2017-12-31 00:00|0s|2h",
    ),
    (
        '{{ htmlDateInZone (toDate "2006-01-02" "2017-12-31") "UTC" }}|{{ toDate "2006-01-02" "2017-12-31" }}|{{ (toDate "2006-01-02T15:04:05Z07:00" "2017-12-31T10:20:30+02:00") | date "Jan 2 15:04:05 MST 2006 -0700" }}|{{ dateModify "-1.5h" (toDate "2006-01-02" "2017-12-31") | date "2006-01-02 15:04" }}',
        {},
        "2017-12-31|2017-12-31 00:00:00 +0000 UTC|Dec 31 08:20:30 UTC 2017 +0000|2017-12-30 22:30",
    ),
    (
        '{{ duration "95" }}|{{ duration "3600" }}|{{ duration "86461" }}|{{ durationRound "400h" }}|{{ durationRound "1000h" }}|{{ durationRound "9000h" }}|{{ durationRound "45s" }}|{{ durationRound "bad" }}',
        {},
        "1m35s|1h0m0s|24h1m1s|16d|1mo|1y|45s|0s",
    ),
    (
        '{{ date "Monday, 02-Jan-06 15:04:05 MST" 1514678400 }}|{{ date "3:04PM .000 .999 Z07:00 -07 002" 1514678400 }}|{{ dateInZone "2006-01-02 15:04 MST" 1514678400 "America/New_York" }}|{{ dateInZone "15:04 MST" 1514678400 "Nowhere/Land" }}',
        {},
        "Sunday, 31-Dec-17 00:00:00 UTC|12:00AM .000  Z +00 365|2017-12-30 19:00 EST|00:00 UTC",
    ),
    (
        '{{ toDate "2006-01-02 15:04:05.000" "2020-02-29 23:59:58.123" }}|{{ toDate "02 Jan 06 15:04 MST" "05 Mar 21 10:00 UTC" }}|{{ toDate "2006-01-02" "garbage" }}|{{ (toDate "2006-01-02" "2019-06-01").Year }}|{{ toDate "Jan 2, 2006 at 3:04pm" "Feb 3, 2013 at 7:54pm" | unixEpoch }}',
        {},
        "2020-02-29 23:59:58.123 +0000 UTC|2021-03-05 10:00:00 +0000 UTC|0001-01-01 00:00:00 +0000 UTC|2019|1359921240",
    ),
    (
        '{{ toDate "2006-01-02T15:04:05Z07:00" "2017-12-31T10:20:30+02:00" | toJson }}|{{ dateModify "bad" (toDate "2006-01-02" "2017-12-31") }}|{{ dateModify "90m" (toDate "2006-01-02" "2017-12-31") }}\n',
        {},
        '"2017-12-31T10:20:30+02:00"|2017-12-31 00:00:00 +0000 UTC|2017-12-31 01:30:00 +0000 UTC\n',
    ),
]
DATES_ERRORS: list[tuple[str, dict[str, str], str]] = [
    (
        '{{ mustToDate "2006-01-02" "nope" }}',
        {},
        'error calling mustToDate: parsing time "nope" as "2006-01-02": cannot parse',
    ),
]


@pytest.mark.parametrize(("template", "data", "expected"), DATES_CASES)
def test_dates_render_like_go(template: str, data: dict[str, str], expected: str) -> None:
    assert render_string("key", template, data) == expected


@pytest.mark.parametrize(("template", "data", "message"), DATES_ERRORS)
def test_dates_fail_like_go(template: str, data: dict[str, str], message: str) -> None:
    with pytest.raises(TemplateError) as info:
        render_string("key", template, data)
    assert message in str(info.value)


def test_now_prints_as_go_time() -> None:
    out = render_string("key", '{{ now }}|{{ now | date "2006" }}|{{ ago now }}', {})
    assert re.fullmatch(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d(\.\d+)? \+0000 UTC\|\d{4}\|0s", out)
