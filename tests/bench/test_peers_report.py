"""The side-by-side benchmark's pure parts: which ESO row a figure is divided by, how writes
and OpenBao requests are summed, and how the kernel's and the apiserver's counters are read."""

from __future__ import annotations

import collections

from bench.peers import measure, report
from bench.peers.report import Result


def result(operator: str, setting: str, seconds: float, **extra: object) -> Result:
    fields: dict[str, object] = {
        "scenario": "sync",
        "count": 1000,
        "operator": operator,
        "setting": setting,
        "label": f"{operator} {setting}",
        "seconds": seconds,
        "rss_mb": 100.0,
        "cpu_s": 4.0,
        "writes": {"secrets": 1000, "externalsecrets/status": 1000, "events": 1000},
        "provider": {"reads": 1000, "logins": 1000, "other": 0},
        "load": "1.00 / 1.00 / 1.00",
        **extra,
    }
    return Result(**fields)  # type: ignore[arg-type]


def test_each_row_is_divided_by_esos_row_of_the_same_settings_class() -> None:
    eso_default = result("eso", "default", 40.0)
    eso_16 = result("eso", "16", 10.0)
    ours_default = result("secretsync", "default", 20.0)
    ours_16 = result("secretsync", "16", 8.0)
    floor = result("floor", "floor", 5.0)
    rows = [eso_default, eso_16, ours_default, ours_16, floor]

    assert report.reference(ours_default, rows) is eso_default
    assert report.reference(ours_16, rows) is eso_16
    assert report.reference(floor, rows) is eso_16
    assert report.reference(result("eso", "16-qps50", 41.0), rows) is eso_16
    assert report.reference(result("eso", "16", 1.0, count=10000), rows) is None


def test_a_row_shows_each_figure_with_its_ratio_to_eso() -> None:
    eso = result("eso", "16", 10.0)
    ours = result(
        "secretsync",
        "16",
        8.0,
        rss_mb=50.0,
        writes={"secrets": 1000, "externalsecrets/status": 2000, "selfsubjectaccessreviews": 3},
        provider={"reads": 1000, "logins": 1, "other": 2},
    )
    line = report.row(ours, [eso, ours])
    x = report.TIMES
    assert f"8.0 s (0.80{x})" in line
    assert f"50 MB (0.50{x})" in line
    assert f"1,000 / 2,000 / 0 / 3 = 3,003 (1.00{x})" in line
    assert f"1,000 / 1 / 2 = 1,003 (0.50{x})" in line


def test_without_an_eso_row_no_ratio_is_shown() -> None:
    line = report.row(result("vso", "16", 8.0), [])
    assert report.TIMES not in line
    assert report.ratio(3.0, 0.0) == ""
    assert report.ratio(None, 2.0) == ""


def test_a_new_result_replaces_the_old_one_of_the_same_key() -> None:
    old = [result("eso", "16", 10.0), result("secretsync", "16", 8.0)]
    merged = report.merge(old, [result("secretsync", "16", 7.0)])
    assert [(r.operator, r.seconds) for r in merged] == [("eso", 10.0), ("secretsync", 7.0)]
    assert report.from_json(report.to_json(merged)) == merged


def test_apiserver_writes_are_read_by_resource_subresource_and_verb() -> None:
    metrics = "\n".join(
        [
            "# HELP apiserver_request_total Counter of apiserver requests",
            'apiserver_request_total{code="201",component="apiserver",dry_run="",group="",'
            'resource="secrets",scope="resource",subresource="",verb="POST",version="v1"} 7',
            'apiserver_request_total{code="409",component="apiserver",dry_run="",group="",'
            'resource="secrets",scope="resource",subresource="",verb="POST",version="v1"} 2',
            'apiserver_request_total{code="200",component="apiserver",dry_run="",'
            'group="external-secrets.io",resource="externalsecrets",scope="resource",'
            'subresource="status",verb="PATCH",version="v1"} 5',
            'apiserver_request_total{code="200",component="apiserver",dry_run="",group="",'
            'resource="secrets",scope="namespace",subresource="",verb="LIST",version="v1"} 99',
        ]
    )
    writes = measure.parse_writes(metrics)
    assert writes == {("secrets", "", "POST"): 9, ("externalsecrets", "status", "PATCH"): 5}


def test_the_operators_writes_leave_out_the_benchmarks_own_and_the_beds() -> None:
    before = collections.Counter({("secrets", "", "POST"): 2, ("leases", "", "PUT"): 10})
    after = collections.Counter(
        {
            ("secrets", "", "POST"): 1002,
            ("leases", "", "PUT"): 40,
            ("externalsecrets", "", "POST"): 1000,
            ("externalsecrets", "status", "PUT"): 1000,
        }
    )
    own = collections.Counter({("externalsecrets", "", "POST"): 1000})
    assert measure.operator_writes(before, after, own) == {
        "externalsecrets/status": 1000,
        "secrets": 1000,
    }


def test_openbao_requests_are_counted_from_its_audit_log_without_the_root_tokens() -> None:
    lines = [
        '{"type":"request","auth":{},"request":{"path":"auth/approle/login"}}',
        '{"type":"response","auth":{},"request":{"path":"auth/approle/login"}}',
        '{"type":"request","auth":{"policies":["bench"]},"request":{"path":"secret/data/b/1"}}',
        '{"type":"request","auth":{"policies":["bench"]},"request":{"path":"auth/token/revoke-self"}}',
        '{"type":"request","auth":{"policies":["root"]},"request":{"path":"secret/data/b/1"}}',
        "",
    ]
    assert measure.count_requests(lines) == {"logins": 1, "reads": 1, "other": 1}


def test_cpu_seconds_sum_the_process_and_its_reaped_children() -> None:
    # Fields 14-17 are utime, stime, cutime, cstime; the name may hold spaces and parentheses.
    stat = "42 (a (b) c) S 1 42 42 0 -1 4194560 100 0 0 0 250 50 20 30 20 0 9 0 1 2 3"
    assert measure.parse_cpu_seconds(stat, ticks=100) == 3.5
