"""Where the test bed keeps binaries (a per-user cache) and run state (a per-checkout folder)."""

from __future__ import annotations

import os
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]
GO_MODULE_DIR = Path(__file__).resolve().parent / "go"
ARGO_MODULE_DIR = Path(__file__).resolve().parent / "go-argo"
ESO_MODULE_DIR = Path(__file__).resolve().parent / "go-eso"
RELOADER_MODULE_DIR = Path(__file__).resolve().parent / "go-reloader"
VSO_MODULE_DIR = Path(__file__).resolve().parent / "go-vso"
DEFAULT_STATE_DIR = REPO_ROOT / ".testbed"


def cache_dir() -> Path:
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "secretsync"


def bin_dir(name: str, version: str) -> Path:
    return cache_dir() / "bin" / f"{name}-{version}"
