"""The repository's documentation as the tests read it: which pages, their links, their
code references and their fenced blocks."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = ROOT / "examples"

LINK = re.compile(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)")
CODE_SPAN = re.compile(r"`([^`\n]+)`")
FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)
REPO_DIRS = (
    "docs/",
    "examples/",
    "deploy/",
    "crds/",
    "tests/",
    "secretsync/",
    "scripts/",
    "bench/",
)
"""A code span starting with one of these names a file or folder of the repository."""


def pages() -> list[Path]:
    return [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md")), EXAMPLES / "README.md"]


def examples() -> list[Path]:
    return sorted(EXAMPLES.rglob("*.yaml"))


def links(page: Path) -> Iterator[str]:
    yield from LINK.findall(page.read_text())


def repo_paths(page: Path) -> Iterator[str]:
    """Code spans that name a repository path, e.g. `docs/rotation.md` or `deploy/rbac`; spans
    with a placeholder, a glob, an option or a space are commands or patterns, not paths."""
    for span in CODE_SPAN.findall(page.read_text()):
        if span.startswith(REPO_DIRS) and not re.search(r"[\s<>*$…{]|\.\.\.", span):
            yield span.split("::")[0].split("#")[0].rstrip(".,:")


def fenced(page: Path) -> Iterator[tuple[str, str]]:
    """(language, body) of every fenced block."""
    for match in FENCE.finditer(page.read_text()):
        yield match.group(1), match.group(2)


def slug(heading: str) -> str:
    """GitHub's anchor for a heading: lower case, punctuation dropped, spaces to hyphens."""
    text = re.sub(r"[`*_]", "", heading.strip().lower())
    text = re.sub(r"[^\w\- ]", "", text)
    return text.replace(" ", "-")


def anchors(page: Path) -> set[str]:
    body = FENCE.sub("", page.read_text())
    return {slug(h) for h in re.findall(r"^#{1,6} (.+)$", body, re.MULTILINE)}
