"""The alert rules as promtool sees them: the file is valid, every alert has what an on-call
engineer needs, and each fires on the series that should fire it and not on the others
(tests/observability/rules_test.yaml)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path
from typing import Any

import yaml

from tests.observability import prom

HERE = Path(__file__).resolve().parent
DOCS = prom.RULES.parents[4] / "docs/metrics.md"
REQUIRED = {
    "SecretSyncExternalSecretNotReady",
    "SecretSyncErrorsRising",
    "SecretSyncDriftHealedRepeatedly",
    "SecretSyncRolloutFailed",
    "SecretSyncNoLeader",
    "SecretSyncProviderErrors",
    "SecretSyncProviderThrottled",
}


def _rules() -> list[dict[str, Any]]:
    groups = yaml.safe_load(prom.RULES.read_text())["groups"]
    return [rule for group in groups for rule in group["rules"]]


def _promtool(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(prom.promtool_bin()), *args], capture_output=True, text=True, check=False
    )


def test_promtool_checks_the_rule_file() -> None:
    done = _promtool("check", "rules", str(prom.RULES))
    assert done.returncode == 0, done.stdout + done.stderr
    assert f"SUCCESS: {len(_rules())} rules found" in done.stdout


def test_promtool_unit_tests_fire_each_alert_and_only_where_they_should() -> None:
    tests = yaml.safe_load((HERE / "rules_test.yaml").read_text())
    tested = {
        case["alertname"]
        for test in tests["tests"]
        for case in test["alert_rule_test"]
        if case["exp_alerts"]
    }
    quiet = {
        case["alertname"]
        for test in tests["tests"]
        for case in test["alert_rule_test"]
        if not case["exp_alerts"]
    }
    alerts = {rule["alert"] for rule in _rules()}
    assert tested == alerts, "every alert has a case where it fires"
    assert quiet == alerts, "every alert has a case where it stays quiet"
    done = _promtool("test", "rules", str(HERE / "rules_test.yaml"))
    assert done.returncode == 0, done.stdout + done.stderr


def test_every_alert_says_how_bad_what_and_where_to_look() -> None:
    rules = _rules()
    assert {rule["alert"] for rule in rules} >= REQUIRED
    anchors = {
        re.sub(r"[^a-z0-9-]", "", line[4:].strip().lower().replace(" ", "-"))
        for line in DOCS.read_text().splitlines()
        if line.startswith("### ")
    }
    for rule in rules:
        name = rule["alert"]
        assert "for" in rule, f"{name}: no `for:`, so one bad scrape pages"
        assert rule["labels"]["severity"] in {"warning", "critical"}, name
        annotations = rule["annotations"]
        assert annotations["summary"] and annotations["description"], name
        runbook = annotations["runbook_url"]
        assert runbook.endswith(f"docs/metrics.md#{name.lower()}"), runbook
        assert name.lower() in anchors, f"docs/metrics.md has no section for {name}"
