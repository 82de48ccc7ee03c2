"""Run a fuzz target under atheris (libFuzzer, coverage-guided) with a bounded budget.

`fuzz()` starts one process per target (`python -m tests.fuzz run ...`), because libFuzzer owns
the process it runs in and exits it on the first crash. The run is deterministic for a given
seed corpus and `-seed`; new inputs go to a scratch corpus, so the committed seeds never change;
a crashing or hanging input is written to the artifacts directory and reported.
"""

from __future__ import annotations

import argparse
import importlib
import os
import re
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from tests.fuzz.harness import TIME_LIMIT_S, check

ROOT = Path(__file__).resolve().parents[2]
CORPUS = Path(__file__).parent / "corpus"
DICTS = Path(__file__).parent / "dicts"
TARGETS_MODULE = "tests.fuzz.targets"
FOUND = ROOT / "build" / "fuzz-found"
"""Where `campaign` keeps crashing inputs (ignored by git): fix, then move them to regressions/."""
ARTIFACT_PREFIXES = ("crash-", "timeout-", "oom-", "leak-", "slow-unit-")


@dataclass(frozen=True)
class Result:
    target: str
    runs: int
    seconds: float
    artifacts: tuple[Path, ...]
    returncode: int
    output: str

    @property
    def crashed(self) -> bool:
        return self.returncode != 0 or bool(self.artifacts)

    @property
    def per_second(self) -> float:
        return self.runs / self.seconds if self.seconds else 0.0


def fuzz(
    target: str,
    runs: int,
    workdir: Path,
    *,
    seed: int = 1,
    timeout_s: int = TIME_LIMIT_S,
    module: str = TARGETS_MODULE,
) -> Result:
    """Fuzz `target` for `runs` inputs in a child process; its crashes land in workdir/artifacts."""
    scratch, artifacts = workdir / "corpus", workdir / "artifacts"
    scratch.mkdir(parents=True, exist_ok=True)
    artifacts.mkdir(parents=True, exist_ok=True)
    argv = [
        sys.executable,
        "-m",
        "tests.fuzz",
        "run",
        "--module",
        module,
        target,
        "--",
        f"-runs={runs}",
        f"-seed={seed}",
        f"-timeout={timeout_s}",
        f"-artifact_prefix={artifacts}/",
        "-print_final_stats=1",
        str(scratch),
    ]
    # Tokens of the target's grammar (tags, escapes, sops keys), which byte mutations rarely hit.
    tokens = DICTS / f"{target}.dict"
    if tokens.is_file():
        argv.insert(argv.index("-print_final_stats=1"), f"-dict={tokens}")
    seeds = CORPUS / target
    if seeds.is_dir():
        argv.append(str(seeds))
    started = time.monotonic()
    proc = subprocess.run(
        argv,
        cwd=ROOT,
        capture_output=True,
        text=True,
        errors="replace",
        check=False,
        env={**os.environ, "PYTHONHASHSEED": "0"},
    )
    seconds = time.monotonic() - started
    output = proc.stdout + proc.stderr
    executed = re.findall(r"stat::number_of_executed_units:\s*(\d+)", output)
    found = tuple(sorted(p for p in artifacts.iterdir() if p.name.startswith(ARTIFACT_PREFIXES)))
    return Result(
        target, int(executed[-1]) if executed else 0, seconds, found, proc.returncode, output
    )


def _run_in_process(target: str, module: str, libfuzzer_args: list[str]) -> None:
    import atheris  # type: ignore[import-untyped]  # noqa: PLC0415 - only the child needs it

    with atheris.instrument_imports(include=["secretsync", "tests.fuzz"]):
        targets = importlib.import_module(module).TARGETS
    function = targets[target]

    def one_input(data: bytes) -> None:
        check(function, data)

    atheris.Setup([sys.argv[0], *libfuzzer_args], one_input)
    atheris.Fuzz()


def _campaign(targets: list[str], runs: int) -> int:
    """Every target in turn (one core each, so the figures compare), then a table."""
    from tests.fuzz.targets import TARGETS  # noqa: PLC0415 - the child instruments it, not us

    names = targets or list(TARGETS)
    rows, failed = [], []
    with tempfile.TemporaryDirectory(prefix="secretsync-fuzz-") as tmp:
        for name in names:
            result = fuzz(name, runs, Path(tmp) / name)
            rows.append(
                f"| {name} | {result.runs} | {result.seconds:.0f} | {result.per_second:.0f} "
                f"| {len(result.artifacts)} |"
            )
            print(rows[-1], flush=True)
            if result.crashed:
                failed.append(name)
                keep = FOUND / name
                keep.mkdir(parents=True, exist_ok=True)
                for artifact in result.artifacts:
                    (keep / artifact.name).write_bytes(artifact.read_bytes())
                print(result.output[-4000:], file=sys.stderr)
    print("| target | inputs | seconds | inputs/s | crashes |")
    print("\n".join(rows))
    if failed:
        print(f"crashed: {', '.join(failed)}; the inputs are in {FOUND}", file=sys.stderr)
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m tests.fuzz")
    commands = parser.add_subparsers(dest="command", required=True)
    run = commands.add_parser("run", help="fuzz one target in this process (libFuzzer flags)")
    run.add_argument("target")
    run.add_argument("--module", default=TARGETS_MODULE)
    run.add_argument("libfuzzer", nargs=argparse.REMAINDER)
    campaign = commands.add_parser("campaign", help="fuzz every target, print the figures")
    campaign.add_argument("--runs", type=int, default=100_000)
    campaign.add_argument("targets", nargs="*")
    args = parser.parse_args(argv)
    if args.command == "run":
        flags = [a for a in args.libfuzzer if a != "--"]
        _run_in_process(args.target, args.module, flags)
        return 0
    return _campaign(args.targets, args.runs)
