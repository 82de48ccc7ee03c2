"""Every condition reason and Event reason the operator can put on an object, read from the
code (not from a list kept by hand), so a new reason without a troubleshooting entry fails."""

from __future__ import annotations

import ast
from collections.abc import Iterator
from pathlib import Path

PACKAGE = Path(__file__).resolve().parents[2] / "secretsync"

ENUMS = {"Reason", "Phase"}
"""StrEnums whose values are reasons: reconcile/status.py's Ready reasons and rollout/record.py's
phases (an ended rollout's Event reason)."""

RECEIVER_ARG = {"events": 2, "_events": 2, "report": 3}
"""`<receiver>.record(...)`: the position of the reason among its arguments
(EventRecorder.record(involved, kind, reason, ...), Reporter.record(raw, es, outcome, event))."""

POSITIONAL = {"Verdict": 1, "Outcome": 2, "_status": 3}
"""Calls that carry a reason at this position: a failed rollout health verdict and a failed
rollout's outcome (the RolloutFailed condition's reason), and a store's Ready condition."""

FAILED_ONLY = {"Verdict", "Outcome"}
"""A verdict or outcome surfaces only when it failed (its first argument is State.FAILED); a
waiting or successful one is never shown to anybody."""

NAMES = {"reason", "event"}
"""Variables and keyword arguments that hold a reason."""


def _strings(node: ast.AST | None, constants: dict[str, str]) -> Iterator[str]:
    """String constants a reason expression can evaluate to (through `or`, `if`-`else`)."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        yield node.value
    elif isinstance(node, ast.Name) and node.id in constants:
        yield constants[node.id]
    elif isinstance(node, ast.BoolOp):
        for value in node.values:
            yield from _strings(value, constants)
    elif isinstance(node, ast.IfExp):
        yield from _strings(node.body, constants)
        yield from _strings(node.orelse, constants)


def _receiver(func: ast.expr) -> str | None:
    if isinstance(func, ast.Attribute) and func.attr == "record":
        target = func.value
        if isinstance(target, ast.Attribute):
            return target.attr
        if isinstance(target, ast.Name):
            return target.id
    return None


def _callee(func: ast.expr) -> str | None:
    if isinstance(func, ast.Name):
        return func.id
    if isinstance(func, ast.Attribute):
        return func.attr
    return None


def _from_call(node: ast.Call, constants: dict[str, str]) -> Iterator[str]:
    position = RECEIVER_ARG.get(_receiver(node.func) or "")
    callee = _callee(node.func) or ""
    if position is None:
        position = POSITIONAL.get(callee)
        if callee in FAILED_ONLY and not _failed(node):
            position = None
    if position is not None and len(node.args) > position:
        yield from _strings(node.args[position], constants)
    for keyword in node.keywords:
        if keyword.arg in NAMES:
            yield from _strings(keyword.value, constants)


def _failed(node: ast.Call) -> bool:
    first = node.args[0] if node.args else None
    return isinstance(first, ast.Attribute) and first.attr == "FAILED"


def _from_assign(node: ast.Assign, constants: dict[str, str]) -> Iterator[str]:
    for target in node.targets:
        name = target.id if isinstance(target, ast.Name) else None
        if name in NAMES:
            yield from _strings(node.value, constants)
        if name == "_EVENTS" and isinstance(node.value, ast.Dict):
            for value in node.value.values:
                yield from _strings(value, constants)


def _module_constants(tree: ast.Module) -> dict[str, str]:
    found = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and isinstance(node.value, ast.Constant):
            for target in node.targets:
                if isinstance(target, ast.Name) and isinstance(node.value.value, str):
                    found[target.id] = node.value.value
    return found


def _enum_values(node: ast.ClassDef) -> Iterator[str]:
    for item in node.body:
        if isinstance(item, ast.Assign):
            yield from _strings(item.value, {})


def reasons_in(source: str, constants: dict[str, str] | None = None) -> set[str]:
    tree = ast.parse(source)
    known = {**(constants or {}), **_module_constants(tree)}
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ClassDef) and node.name in ENUMS:
            found.update(_enum_values(node))
        elif isinstance(node, ast.Call):
            found.update(_from_call(node, known))
        elif isinstance(node, ast.Assign):
            found.update(_from_assign(node, known))
    return {r for r in found if r[:1].isupper() and r.isalnum()}


def all_reasons() -> set[str]:
    """Module constants are shared across the package (flight.py uses health.DEADLINE), so they
    are collected first; only identifier-like strings count (a message is not a reason)."""
    files = sorted(PACKAGE.rglob("*.py"))
    constants: dict[str, str] = {}
    for path in files:
        constants.update(_module_constants(ast.parse(path.read_text())))
    found: set[str] = set()
    for path in files:
        found |= reasons_in(path.read_text(), constants)
    return found
