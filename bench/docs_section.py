"""Each benchmark owns one `## ` section of docs/benchmarks.md and rewrites only that."""

from __future__ import annotations

import re
from pathlib import Path

DOCS = Path(__file__).resolve().parents[1] / "docs" / "benchmarks.md"


def write_section(heading: str, body: str) -> None:
    write(f"{heading}\n\n{body.strip()}\n")


def write(text: str) -> None:
    """Replace the section whose `## ` heading is the first line of `text`, or append it."""
    heading = text.splitlines()[0]
    current = DOCS.read_text() if DOCS.exists() else "# Benchmarks\n"
    pattern = re.compile(rf"^{re.escape(heading)}\n.*?(?=^## |\Z)", re.S | re.M)
    if pattern.search(current):
        updated = pattern.sub(lambda _: text + "\n", current, count=1)
    else:
        updated = current.rstrip("\n") + "\n\n" + text
    DOCS.write_text(updated.rstrip("\n") + "\n")
