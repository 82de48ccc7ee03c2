"""Every fuzz target runs clean for a bounded budget (CI), and every input the fuzzer ever
caught still passes (regressions/<target>/<input>). `make fuzz` runs the long budget."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.fuzz.harness import TIME_LIMIT_S, bounded, check
from tests.fuzz.runner import fuzz
from tests.fuzz.targets import TARGETS

pytestmark = pytest.mark.unit

CI_RUNS = 2000
"""Per target, a few seconds each on one core; `make fuzz` runs 100,000 (docs/benchmarks.md)."""
CI_RUNS_BY_TARGET = {"sops_yaml": 1000}
"""YAML that the fast reader declines (anchors, comments) goes through ruamel: 10-20 ms each."""

REGRESSIONS = Path(__file__).parent / "regressions"
CASES = sorted(p for p in REGRESSIONS.glob("*/*") if p.is_file())


# The slowest target first, so that two workers finish together.
@pytest.mark.parametrize("target", list(TARGETS))
def test_target_runs_clean_for_the_ci_budget(target: str, tmp_path: Path) -> None:
    runs = CI_RUNS_BY_TARGET.get(target, CI_RUNS)
    result = fuzz(target, runs, tmp_path)
    found = "".join(f"\n{a.name}: {a.read_bytes()[:200]!r}" for a in result.artifacts)
    assert not result.crashed, f"{result.output[-3000:]}{found}"
    assert result.runs == runs


@pytest.mark.parametrize("path", CASES, ids=[f"{p.parent.name}/{p.name}" for p in CASES])
def test_a_caught_input_stays_fixed(path: Path) -> None:
    with bounded(TIME_LIMIT_S):
        check(TARGETS[path.parent.name], path.read_bytes())


def test_every_regression_belongs_to_a_target() -> None:
    assert CASES, "the fuzzer's finds are kept here; an empty folder means they were lost"
    assert {p.parent.name for p in CASES} <= set(TARGETS)
