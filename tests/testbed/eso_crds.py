"""ESO's own CRDs, the yardstick for ours: read at test time from the Go module cache, never
committed. `go mod download` fetches ESO's module (the release the test bed runs, versions.ESO)
from the Go module proxy; `python -m tests.testbed build` (make bootstrap) does it ahead of time.
"""

from __future__ import annotations

import copy
import functools
from pathlib import Path
from typing import Any

from secretsync.sops.yamlplain import load_documents
from tests.testbed import binaries, versions
from tests.testbed.procs import TestbedError

MODULE = "github.com/external-secrets/external-secrets"
BUNDLE = Path("deploy/crds/bundle.yaml")
YARDSTICK_GROUPS = {
    "external-secrets.io": "yardstick.eso.test",
    "generators.external-secrets.io": "generators.yardstick.eso.test",
}
"""ESO's groups renamed, so its CRDs can sit beside ours on one apiserver."""


def module_dir() -> Path:
    """ESO's module source in the Go module cache, downloaded if it is not there yet."""
    return binaries.module_source(MODULE, versions.ESO)


def download() -> None:
    """For `python -m tests.testbed build`: have the module in the cache before tests need it."""
    module_dir()


@functools.cache
def _bundle() -> tuple[dict[str, Any], ...]:
    path = module_dir() / BUNDLE
    if not path.exists():
        raise TestbedError(f"{path} is missing from ESO's module; run: {binaries.INSTALL_HINT}")
    documents = load_documents(path.read_text(), str(path))
    return tuple(d for d in documents if isinstance(d, dict) and d.get("kind"))


def crds() -> list[dict[str, Any]]:
    """ESO's CustomResourceDefinitions, as its release ships them (a fresh copy each call)."""
    return copy.deepcopy(list(_bundle()))


def renamed(crd: dict[str, Any], owner: str = "") -> dict[str, Any]:
    """`crd` moved into a throwaway group (same kinds, schemas and versions), with no conversion
    webhook: ESO's schema, judged by the apiserver, without replacing the shared CRDs.

    `owner` (a DNS label, such as the xdist worker's name) prefixes the group, so that parallel
    runs each install and delete their own copies instead of pulling them from under another."""
    moved = copy.deepcopy(crd)
    group = YARDSTICK_GROUPS[moved["spec"]["group"]]
    if owner:
        group = f"{owner}.{group}"
    moved["spec"]["group"] = group
    moved["metadata"] = {"name": f"{moved['spec']['names']['plural']}.{group}"}
    moved["spec"]["conversion"] = {"strategy": "None"}
    return moved
