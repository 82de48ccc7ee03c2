"""What every peer operator run out of cluster (ESO, Reloader, VSO) offers its tests: its log and
its metrics."""

from __future__ import annotations

import urllib.request
from pathlib import Path


def log(folder: Path, name: str) -> str:
    """The log procs.start wrote for the component, or "" before it wrote one."""
    path = folder / "logs" / f"{name}.log"
    return path.read_text(errors="replace") if path.exists() else ""


def metrics(url: str) -> str:
    """The Prometheus text the component serves at `url`/metrics."""
    with urllib.request.urlopen(f"{url}/metrics", timeout=5) as resp:  # noqa: S310
        return str(resp.read().decode())
