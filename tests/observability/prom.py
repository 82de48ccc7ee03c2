"""A real Prometheus for the tests: its own port, data folder and config, scraping one target
every second and evaluating the rule file every second; and its HTTP API."""

from __future__ import annotations

import dataclasses
import json
import re
import subprocess
import time
import urllib.parse
import urllib.request
from collections.abc import Callable
from pathlib import Path
from typing import Any

import yaml

from tests.testbed import binaries, paths, procs

RULES = paths.REPO_ROOT / "deploy/chart/secretsync/files/prometheus-rules.yaml"
DASHBOARD = paths.REPO_ROOT / "deploy/chart/secretsync/files/grafana-dashboard.json"
SCRAPE_SECONDS = 1


def prometheus_bin() -> Path:
    return binaries.require(binaries.PROMETHEUS)


def promtool_bin() -> Path:
    return binaries.require(binaries.PROMTOOL)


def fast_rules(text: str, window: str = "30s") -> str:
    """The rule file as a test can wait for it: every `for:` 0s, and every range and offset
    `window`. The file's own durations (10 minutes of not Ready, an hour of drift) are what
    production wants and what promtool's unit tests check; on the test bed they would make a
    firing alert take 15 minutes and a resolved one an hour. Only durations change: the
    expressions, labels and thresholds are the file's."""
    text = re.sub(r"(?m)^(\s*for:\s*)\S+$", r"\g<1>0s", text)
    text = re.sub(r"\[\d+[smhd]\]", f"[{window}]", text)
    return re.sub(r"\boffset \d+[smhd]\b", f"offset {window}", text)


@dataclasses.dataclass
class Prometheus:
    url: str
    process: subprocess.Popen[bytes]
    log_path: Path

    def _get(self, path: str, **params: str | float) -> Any:
        query = urllib.parse.urlencode({k: str(v) for k, v in params.items()})
        with urllib.request.urlopen(f"{self.url}{path}?{query}", timeout=10) as response:  # noqa: S310
            body = json.loads(response.read())
        assert body["status"] == "success", body
        return body["data"]

    def query(self, expr: str) -> list[dict[str, Any]]:
        """An instant query (what Grafana sends for a stat or table panel)."""
        data = self._get("/api/v1/query", query=expr)
        result: list[dict[str, Any]] = data["result"]
        return result

    def query_range(self, expr: str, start: float, end: float, step: float) -> list[dict[str, Any]]:
        """A range query (what Grafana sends for a time series panel)."""
        data = self._get("/api/v1/query_range", query=expr, start=start, end=end, step=step)
        result: list[dict[str, Any]] = data["result"]
        return result

    def label_values(self, label: str, match: str) -> list[str]:
        """What Grafana's label_values(match, label) variable query asks."""
        found: list[str] = self._get(f"/api/v1/label/{label}/values", **{"match[]": match})
        return found

    def firing(self, alert: str) -> list[dict[str, str]]:
        """The label sets of `alert` that fire now."""
        alerts = self._get("/api/v1/alerts")["alerts"]
        return [
            a["labels"]
            for a in alerts
            if a["labels"].get("alertname") == alert and a["state"] == "firing"
        ]

    def rule_health(self) -> dict[str, str]:
        """Every rule's name and its last evaluation's health (ok, err, unknown)."""
        groups = self._get("/api/v1/rules")["groups"]
        return {r["name"]: r["health"] for g in groups for r in g["rules"]}

    def scraped(self) -> bool:
        return bool(self.query('up{job="secretsync"} == 1'))

    def logs(self) -> str:
        return self.log_path.read_text(errors="replace")

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def start(target: str, folder: Path, rules_text: str | None) -> Prometheus:
    """Prometheus scraping `target` (host:port) as job `secretsync`, with `rules_text` as
    its one rule file; its data and log stay in `folder`."""
    folder.mkdir(parents=True, exist_ok=True)
    config: dict[str, Any] = {
        "global": {
            "scrape_interval": f"{SCRAPE_SECONDS}s",
            "scrape_timeout": f"{SCRAPE_SECONDS}s",
            "evaluation_interval": "1s",
        },
        "scrape_configs": [
            {
                "job_name": "secretsync",
                # As the chart's ServiceMonitor (honorLabels): `namespace` is the object's.
                "honor_labels": True,
                "static_configs": [{"targets": [target]}],
            }
        ],
    }
    if rules_text is not None:
        (folder / "rules.yaml").write_text(rules_text)
        config["rule_files"] = [str(folder / "rules.yaml")]
    (folder / "prometheus.yml").write_text(yaml.safe_dump(config))
    port = procs.free_port()
    log_path = folder / "prometheus.log"
    with log_path.open("ab") as log:
        process = subprocess.Popen(
            [
                str(prometheus_bin()),
                f"--config.file={folder / 'prometheus.yml'}",
                f"--storage.tsdb.path={folder / 'data'}",
                f"--web.listen-address=127.0.0.1:{port}",
                "--log.level=warn",
            ],
            stdout=log,
            stderr=subprocess.STDOUT,
        )
    server = Prometheus(f"http://127.0.0.1:{port}", process, log_path)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise AssertionError(f"prometheus exited early:\n{server.logs()[-3000:]}")
        try:
            with urllib.request.urlopen(f"{server.url}/-/ready", timeout=1):  # noqa: S310
                return server
        except OSError:
            time.sleep(0.2)
    server.stop()
    raise AssertionError(f"prometheus did not become ready:\n{server.logs()[-3000:]}")


def until(check: Callable[[], Any], what: str, timeout: float = 90.0) -> Any:
    """Poll `check` until it returns something truthy (scrapes and rule evaluations are
    periodic, so the answer comes within a few of their intervals)."""
    deadline = time.monotonic() + timeout
    last: Any = None
    while time.monotonic() < deadline:
        last = check()
        if last:
            return last
        time.sleep(0.5)
    raise AssertionError(f"timed out waiting for {what}; last answer: {last!r}")
