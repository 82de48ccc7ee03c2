"""Keeping every path inside the checkout.

A path from a spec is checked lexically first (no `..`, not absolute), then resolved on disk so
that a symlink committed to the repository cannot lead to the operator's own files.
"""

from __future__ import annotations

import os
from pathlib import Path, PurePosixPath

from secretsync import goregexp
from secretsync.errors import ConfigError, NotFound


def relative_parts(path: str, field: str) -> tuple[str, ...]:
    """A repository path as its segments; "" and "." mean the top."""
    if "\x00" in path or "\\" in path:
        raise ConfigError("must be a plain forward-slash path", field=field)
    if path.startswith("/"):
        raise ConfigError("must be relative to the repository", field=field)
    parts = tuple(p for p in path.split("/") if p not in {"", "."})
    if ".." in parts:
        raise ConfigError("must not contain '..'", field=field)
    return parts


def inside(root: Path, parts: tuple[str, ...], field: str) -> Path:
    """The real location of `parts` below `root`, refusing anything that resolves outside."""
    real_root = root.resolve()
    candidate = real_root.joinpath(*parts)
    resolved = candidate.resolve()
    if not resolved.is_relative_to(real_root):
        raise ConfigError("leads outside the repository (through a symlink)", field=field)
    return resolved


def regular_file(root: Path, parts: tuple[str, ...], field: str) -> Path:
    path = inside(root, parts, field)
    if not path.exists():
        raise NotFound(f"{'/'.join(parts)} does not exist in the repository")
    if not path.is_file():
        raise ConfigError("is not a file", field=field)
    return path


def files_below(root: Path, parts: tuple[str, ...], field: str) -> list[str]:
    """Every regular file below `parts`, as a path relative to it, sorted; hidden files (such as
    .sops.yaml) and symlinks that lead outside the repository are left out."""
    real_root = root.resolve()
    top = inside(root, parts, field)
    if not top.is_dir():
        return []
    found = []
    for folder, dirs, names in os.walk(top):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        for name in names:
            full = Path(folder) / name
            if name.startswith(".") or not full.resolve().is_relative_to(real_root):
                continue
            if full.is_file():
                found.append(full.relative_to(top).as_posix())
    return sorted(found)


def glob_pattern(pattern: str) -> goregexp.Regexp:
    """A path glob: `*` and `?` stay within one segment, `**/` spans any number of them.

    The glob is user input and so are the file names, so the regexp runs on RE2: `*a*a*a*b` on
    a long name is exponential on a backtracking engine."""
    out = []
    index = 0
    while index < len(pattern):
        if pattern.startswith("**/", index):
            out.append("(?:[^/]+/)*")
            index += 3
        elif pattern.startswith("**", index):
            out.append(".*")
            index += 2
        elif pattern[index] == "*":
            out.append("[^/]*")
            index += 1
        elif pattern[index] == "?":
            out.append("[^/]")
            index += 1
        else:
            out.append(goregexp.quote_meta(pattern[index]))
            index += 1
    return goregexp.compile("^" + "".join(out) + r"\z", field="find.path")


def is_glob(pattern: str) -> bool:
    return any(char in pattern for char in "*?")


def matches_path(relative: str, pattern: str) -> bool:
    """find.path: a glob over the whole relative path, or a folder prefix without wildcards."""
    if is_glob(pattern):
        return glob_pattern(pattern).match_string(relative)
    prefix = PurePosixPath(*relative_parts(pattern, "find.path")).as_posix()
    return prefix in {".", relative} or relative.startswith(prefix + "/")
