"""Every link and every repository path the README and docs/ name exists inside the
repository, and no relative link leads out of it (to a sibling folder a reader does not have).
Web links to public references are allowed."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from tests.docs.pages import ROOT, anchors, links, pages, repo_paths


def _broken_links(page: Path, root: Path = ROOT) -> list[str]:
    broken = []
    for link in links(page):
        if link.startswith(("http://", "https://", "mailto:")):
            continue
        path, _, anchor = link.partition("#")
        target = (page.parent / path) if path else page
        if not target.resolve().is_relative_to(root):
            broken.append(f"{link}: leads outside the repository")
        elif not target.exists():
            broken.append(f"{link}: no such file")
        elif anchor and target.suffix == ".md" and anchor not in anchors(target):
            broken.append(f"{link}: no heading #{anchor} in {target.relative_to(root)}")
    return broken


@pytest.mark.parametrize("page", pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_link_resolves_inside_the_repository(page: Path) -> None:
    assert _broken_links(page) == []


@pytest.mark.parametrize("page", pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_every_repository_path_named_in_code_exists(page: Path) -> None:
    missing = sorted({p for p in repo_paths(page) if not (ROOT / p).exists()})
    assert missing == []


@pytest.mark.parametrize("page", pages(), ids=lambda p: str(p.relative_to(ROOT)))
def test_nothing_points_at_the_shared_folder_outside_the_repository(page: Path) -> None:
    text = page.read_text()
    assert "../shared" not in text
    assert "/work/shared" not in text
    assert "DESIGN.md" not in text, "the design is docs/design.md"


def test_the_link_checker_sees_a_missing_file_an_escape_and_a_missing_anchor_not_the_web(
    tmp_path: Path,
) -> None:
    docs = tmp_path / "repo" / "docs"
    docs.mkdir(parents=True)
    (docs / "rotation.md").write_text("# Rotation\n\n## When rolling back helps\n")
    (tmp_path / "outside.md").write_text("# Outside\n")
    page = docs / "probe.md"
    page.write_text(
        "[a](nowhere.md) [b](../../outside.md) [c](rotation.md#no-such-heading) "
        "[d](rotation.md#when-rolling-back-helps) [e](https://example.com/x) [f](#probe)\n"
        "# Probe\n"
    )
    assert _broken_links(page, tmp_path / "repo") == [
        "nowhere.md: no such file",
        "../../outside.md: leads outside the repository",
        "rotation.md#no-such-heading: no heading #no-such-heading in docs/rotation.md",
    ]


def test_every_module_the_design_names_exists() -> None:
    """design.md names modules relative to secretsync/ (`operator/drift.py`, `sops/`), beside
    repository paths (`crds/`)."""
    text = (ROOT / "docs" / "design.md").read_text()
    named = set(re.findall(r"`((?:[a-z_]+/)+(?:[a-z_]+\.py)?)\*?`", text))
    assert len(named) > 20, "the design names the modules it describes"
    missing = sorted(
        n for n in named if not (ROOT / "secretsync" / n).exists() and not (ROOT / n).exists()
    )
    assert missing == []
