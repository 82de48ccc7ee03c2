"""deploy/Dockerfile (for machines with a registry) builds what `make image` builds."""

from __future__ import annotations

from tests.testbed import paths

DEPLOY = paths.REPO_ROOT / "deploy"


def _from_label_down(path: str) -> list[str]:
    lines = (DEPLOY / path).read_text().splitlines()
    return lines[next(i for i, line in enumerate(lines) if line.startswith("LABEL")) :]


def test_both_recipes_end_in_the_same_image_configuration() -> None:
    # Labels, environment, user, entrypoint and command: what a pod sees of the image.
    assert _from_label_down("Dockerfile") == _from_label_down("image/Containerfile")


def test_both_recipes_install_the_same_locked_wheels_and_finish_the_same_way() -> None:
    for recipe in ("Dockerfile", "image/Containerfile"):
        text = (DEPLOY / recipe).read_text()
        assert "--require-hashes" in text, recipe
        assert "requirements.lock" in text, recipe
        assert "sh /build/finalize.sh" in text, recipe
        assert "FROM scratch" in text, recipe
