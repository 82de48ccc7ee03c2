"""The operator image, built once per run by the code path of `make image` (scripts/image.sh):
a no-op when it is up to date, a rebuild when the code, the lock or the recipe changed."""

from __future__ import annotations

import pytest

from tests.testbed import podman


@pytest.fixture(scope="session")
def image() -> str:
    return podman.build()
