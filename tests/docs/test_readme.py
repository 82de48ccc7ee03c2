"""The README's install instructions name what the repository builds: the version from
pyproject.toml, the image reference deploy/ and the chart use, the archive `make image` writes,
and Makefile targets that exist."""

from __future__ import annotations

import re
import tomllib

from tests.docs.pages import ROOT

README = (ROOT / "README.md").read_text()
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
IMAGE = "ghcr.io/secretsync/secretsync"


def _make_targets() -> set[str]:
    return set(re.findall(r"^([\w-]+):", (ROOT / "Makefile").read_text(), re.MULTILINE))


def test_the_image_the_readme_names_is_the_one_deploy_and_the_chart_run() -> None:
    assert f"{IMAGE}:{VERSION}" in README
    assert f"image: {IMAGE}:{VERSION}" in (ROOT / "deploy" / "deployment.yaml").read_text()
    values = (ROOT / "deploy" / "chart" / "secretsync" / "values.yaml").read_text()
    assert f"repository: {IMAGE}\n" in values


def test_the_archive_the_readme_loads_is_the_one_make_image_writes() -> None:
    archive = f"dist/secretsync-{VERSION}.oci.tar"
    assert f"podman load -i {archive}" in README
    assert f"skopeo copy oci-archive:{archive} docker://" in README
    assert "image" in _make_targets()


def test_the_install_commands_are_the_documented_ones() -> None:
    assert (
        "helm install secretsync deploy/chart/secretsync -n secretsync-system --create-namespace"
        in README
    )
    assert "kubectl apply -k deploy/" in README
    assert "--set image.repository=" in README


def test_every_make_target_the_readme_and_development_page_name_exists() -> None:
    text = README + (ROOT / "docs" / "development.md").read_text()
    named = set(re.findall(r"(?:^|`)make ([a-z][\w-]*)", text, re.MULTILINE))
    assert {"demo", "test", "bootstrap", "image"} <= named
    assert named - _make_targets() == set()
