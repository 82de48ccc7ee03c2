"""The operator's --label-selector: which ExternalSecrets it looks at (pure)."""

from __future__ import annotations

from collections.abc import Mapping

Term = tuple[str, str, str | None]
"""(label key, operator, value): operators `=`, `!=`, `!` (absent) and `exists`."""


def parse_selector(text: str) -> list[Term]:
    """Equality-based label selector terms: `k=v`, `k==v`, `k!=v`, `k`, `!k`."""
    terms: list[Term] = []
    for raw in filter(None, (t.strip() for t in text.split(","))):
        if "!=" in raw:
            key, value = raw.split("!=", 1)
            terms.append((key.strip(), "!=", value.strip()))
        elif "=" in raw:
            key, value = raw.replace("==", "=").split("=", 1)
            terms.append((key.strip(), "=", value.strip()))
        elif raw.startswith("!"):
            terms.append((raw[1:].strip(), "!", None))
        else:
            terms.append((raw, "exists", None))
    return terms


def _term_holds(labels: Mapping[str, str], key: str, op: str, value: str | None) -> bool:
    if op == "=":
        return labels.get(key) == value
    if op == "!=":
        return labels.get(key) != value
    if op == "!":
        return key not in labels
    return key in labels


def selected(labels: Mapping[str, str], terms: list[Term]) -> bool:
    """Whether every term holds for these labels (no terms: everything is selected)."""
    return all(_term_holds(labels, key, op, value) for key, op, value in terms)
