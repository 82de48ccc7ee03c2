"""Plain-data YAML for manifests and generated files (no comments or ordering to keep).

The SOPS formats in yamlfmt.py need ruamel's event API; manifests only need safe loading and a
readable block-style dump, so this is the small face of the same library for everyone else.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from secretsync.errors import ConfigError


def load_documents(text: str, source: str) -> list[Any]:
    """Every non-empty document in `text`; a syntax error names the source and the line."""
    loader = YAML(typ="safe", pure=True)
    try:
        return [doc for doc in loader.load_all(text) if doc is not None]
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark is not None else ""
        # The problem text can quote the offending line, which may hold a secret value.
        raise ConfigError(f"{source}: not valid YAML{where}") from None


def dump_documents(documents: Iterable[Any]) -> str:
    dumper = YAML(typ="safe", pure=True)
    dumper.default_flow_style = False
    dumper.sort_base_mapping_type_on_output = False  # type: ignore[assignment]
    dumper.width = 4096  # never fold long values (hashes, base64) onto a second line
    # Generated files are read by people: repeat shared sub-trees instead of using &anchors.
    dumper.representer.ignore_aliases = lambda *_: True
    out = io.StringIO()
    dumper.explicit_start = True
    dumper.dump_all(list(documents), out)
    return out.getvalue()
