"""sprig's semver and semverCompare, following Masterminds/semver v3 (version.go,
constraints.go): loose versions ("v1.2"), x-ranges, ~ and ^, hyphen ranges, "," / space for AND
and "||" for OR, and prereleases only matching constraints that name one.

Its regexps are Go's, so they run on RE2 (goregexp): a constraint is template input, and
_VALID's nested whitespace runs take quadratic time on a backtracking engine (16,000 spaces:
5 s of CPU)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from secretsync import goregexp
from secretsync.template.callables import FuncError, GoFunc, make

_NUM = r"(?:0|[1-9]\d*)"
_IDENT = r"(?:0|[1-9]\d*|\d*[a-zA-Z-][0-9a-zA-Z-]*)"
_VERSION = goregexp.compile(
    rf"^v?({_NUM})(?:\.({_NUM}))?(?:\.({_NUM}))?"
    rf"(?:-({_IDENT}(?:\.{_IDENT})*))?(?:\+([0-9a-zA-Z-]+(?:\.[0-9a-zA-Z-]+)*))?$"
)
_CV = (
    r"v?([0-9|x|X|\*]+)(\.[0-9|x|X|\*]+)?(\.[0-9|x|X|\*]+)?"
    r"(-([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?(\+([0-9A-Za-z\-]+(\.[0-9A-Za-z\-]+)*))?"
)
_OPS = r"=||!=|>|<|>=|=>|<=|=<|~|~>|\^"
_CONSTRAINT = goregexp.compile(rf"^\s*({_OPS})\s*({_CV})\s*$")
_RANGE = goregexp.compile(rf"\s*({_CV})\s+-\s+({_CV})\s*")
_FIND = goregexp.compile(rf"({_OPS})\s*({_CV})")
_VALID = goregexp.compile(rf"^(\s*({_OPS})\s*({_CV})\s*)((?:\s+|,\s*)({_OPS})\s*({_CV})\s*)*$")


@dataclass(frozen=True)
class Version:
    major: int
    minor: int
    patch: int
    pre: str
    metadata: str
    original: str
    go_type = "*semver.Version"

    def go_string(self) -> str:
        text = f"{self.major}.{self.minor}.{self.patch}"
        return (
            text
            + (f"-{self.pre}" if self.pre else "")
            + (f"+{self.metadata}" if self.metadata else "")
        )

    def go_json(self) -> str:
        return self.go_string()

    def go_method(self, name: str, args: list[Any]) -> Any:
        fields = {"Major": self.major, "Minor": self.minor, "Patch": self.patch,
                  "Prerelease": self.pre, "Metadata": self.metadata, "Original": self.original,
                  "String": self.go_string()}  # fmt: skip
        if name in fields and not args:
            return fields[name]
        compare: dict[str, Callable[[int], Any]] = {
            "Compare": lambda d: d, "LessThan": lambda d: d < 0, "GreaterThan": lambda d: d > 0,
            "Equal": lambda d: d == 0,
        }  # fmt: skip
        if name in compare and len(args) == 1 and isinstance(args[0], Version):
            return compare[name](self.compare(args[0]))
        raise FuncError(f"can't evaluate field {name} in type *semver.Version")

    def compare(self, other: Version) -> int:
        for a, b in (
            (self.major, other.major),
            (self.minor, other.minor),
            (self.patch, other.patch),
        ):
            if a != b:
                return 1 if a > b else -1
        if self.pre == other.pre == "":
            return 0
        if not self.pre or not other.pre:
            return 1 if not self.pre else -1
        return _compare_prerelease(self.pre, other.pre)


def _compare_prerelease(a: str, b: str) -> int:
    left, right = a.split("."), b.split(".")
    for i in range(max(len(left), len(right))):
        d = _compare_part(left[i] if i < len(left) else "", right[i] if i < len(right) else "")
        if d:
            return d
    return 0


def _compare_part(s: str, o: str) -> int:
    if s == o:
        return 0
    if not s or not o:
        return -1 if not s else 1
    s_num, o_num = s.isdigit(), o.isdigit()
    if s_num and o_num:
        return 1 if int(s) > int(o) else -1
    if s_num != o_num:
        return -1 if s_num else 1
    return 1 if s > o else -1


def parse_version(text: str) -> Version:
    match = _VERSION.find_string_submatch(text)
    if match is None:
        raise FuncError("invalid semantic version")
    major, minor, patch, pre, meta = match[1:]
    return Version(int(major), int(minor or 0), int(patch or 0), pre or "", meta or "", text)


@dataclass(frozen=True)
class _Constraint:
    op: str
    con: Version
    dirty: bool
    minor_dirty: bool
    patch_dirty: bool


def _is_x(part: str) -> bool:
    return part in {"x", "X", "*"}


def _parse_constraint(text: str) -> _Constraint:
    match = _CONSTRAINT.find_string_submatch(text)
    if match is None:
        raise FuncError(f"improper constraint: {text}")
    op, major, minor, patch, pre = match[1], match[3], match[4], match[5], match[6]
    pre = pre or ""
    minor_s, patch_s = (minor or "").lstrip("."), (patch or "").lstrip(".")
    if _is_x(major):
        return _Constraint(op, parse_version("0.0.0" + pre), True, False, False)
    if _is_x(minor_s) or not minor:
        return _Constraint(op, parse_version(f"{major}.0.0{pre}"), True, True, False)
    if _is_x(patch_s) or not patch:
        return _Constraint(op, parse_version(f"{major}{minor}.0{pre}"), True, False, True)
    return _Constraint(op, parse_version(match[2]), False, False, False)


def _check(v: Version, c: _Constraint) -> bool:  # noqa: PLR0911 - one per operator
    d, con = v.compare(c.con), c.con
    if c.op in {"", "="}:
        return _tilde(v, c) if c.dirty else d == 0
    if c.op == "!=":
        if c.dirty:
            return v.major != con.major or (
                v.minor != con.minor and not c.minor_dirty and not c.patch_dirty
            )
        return d != 0
    if c.op == ">":
        if not c.dirty or (v.major == con.major and not c.minor_dirty and not c.patch_dirty):
            return d > 0
        if v.major != con.major:
            return v.major > con.major
        return not c.minor_dirty and v.minor > con.minor
    if c.op == "<":
        return d < 0
    if c.op in {">=", "=>"}:
        return d >= 0
    if c.op in {"<=", "=<"}:
        if not c.dirty:
            return d <= 0
        return not (
            v.major > con.major
            or (v.major == con.major and v.minor > con.minor and not c.minor_dirty)
        )
    if c.op in {"~", "~>"}:
        return _tilde(v, c)
    return _caret(v, c)


def _tilde(v: Version, c: _Constraint) -> bool:
    con = c.con
    if v.compare(con) < 0:
        return False
    if (con.major, con.minor, con.patch) == (0, 0, 0) and not c.minor_dirty and not c.patch_dirty:
        return True
    return v.major == con.major and (v.minor == con.minor or c.minor_dirty)


def _caret(v: Version, c: _Constraint) -> bool:
    con = c.con
    if v.compare(con) < 0:
        return False
    if con.major > 0 or c.minor_dirty:
        return v.major == con.major
    if v.major > 0:
        return False
    if con.minor > 0 or c.patch_dirty:
        return v.minor == con.minor
    return v.minor == 0 and v.patch == con.patch


def semver_compare(constraint: str, version: str) -> bool:
    for match in _RANGE.find_all_string_submatch(constraint, -1):
        constraint = constraint.replace(match[0], f">= {match[1]}, <= {match[11]} ", 1)
    groups: list[list[_Constraint]] = []
    for part in constraint.split("||"):
        if not _VALID.match_string(part):
            raise FuncError(f"improper constraint: {part}")
        found = _FIND.find_all_string(part, -1) or [part]
        groups.append([_parse_constraint(c) for c in found])
    v = parse_version(version)
    for group in groups:
        include_pre = any(c.con.pre for c in group)
        if v.pre and not include_pre:
            continue
        if all(_check(v, c) for c in group):
            return True
    return False


FUNCS: dict[str, GoFunc] = {
    "semver": make(parse_version, "s"),
    "semverCompare": make(semver_compare, "ss"),
}
