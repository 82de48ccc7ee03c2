"""SOPS engine benchmark: whole-process encrypt/decrypt, secretsync against the real sops binary.

    python bench/sops_bench.py [--runs N] [--no-write]

Both tools run in the same session on the same files (YAML with 10, 1,000 and 10,000 values) and
the same age key; each figure is the median wall time of N runs of the complete process, Python
start-up included. secretsync runs byte-compiled, as `pip install` leaves it: the modules are
compiled once into a private cache (PYTHONPYCACHEPREFIX), whatever PYTHONDONTWRITEBYTECODE says;
one column runs it from source, compiling every module at every start (what a checkout with
PYTHONDONTWRITEBYTECODE=1 does). Also measured: in-process decrypt of the 1,000-value file
(target < 50 ms), and where `secretsync decrypt`'s start-up goes (`python -X importtime`).
The results replace the "## SOPS engine" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import re
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import NamedTuple

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import docs_section  # noqa: E402
from secretsync.sops import engine, keys  # noqa: E402 - after the path tweak
from secretsync.sops.formats import store_for  # noqa: E402

SIZES = (10, 1_000, 10_000)
SECTION = "## SOPS engine"
PROFILE_SIZE = 1_000
PROFILE_TOP = 10

# Measured once, when issue 15 §4 made the CLI import only what a decrypt uses; kept here so a
# re-run of this benchmark does not drop the record of what changed.
STARTUP_HISTORY = """\
Issue 15 §4 (2026-12-06) cut `secretsync decrypt`'s start-up. `python -X importtime` showed no
Kubernetes, kopf, boto3, botocore or hvac on the decrypt path (they were already imported on
first use in their homes); the cost was our own modules, and every one was compiled from source
at every start because the benchmark inherited PYTHONDONTWRITEBYTECODE=1. Changes: the CLI
imports only the running subcommand's module (not the operator's, render's, edit's, rotate's);
the engine imports RE2/goregexp only for a regex rule, the post-quantum age code, bech32,
X25519/HKDF (our age writer), Shamir, JSON/dotenv stores, treepath, json, subprocess and
tempfile only where used. tests/cli/test_startup_imports.py fails if any of them comes back.
Before → after, one interleaved run of both trees on this machine (1,000 values, median of 15;
load average ≈ 20 on 2 CPUs, so absolute figures are inflated: compare the pairs): CPU time of
the whole `secretsync decrypt` process 221 → 181 ms byte-compiled and 375 → 298 ms from source
(sops: 95 ms); `-X importtime` total 639 → 497 ms byte-compiled; modules loaded 197 → 154;
`secretsync.cli.main` with the subcommand modules 174 → 9 ms, `secretsync.sops.keys` 114 → 61
ms, `secretsync.sops.rules` with goregexp and RE2 28 → 14 ms. Compiling secretsync's modules
at every start cost more than everything cut (375 → 221 ms before the change), hence the
byte-compiled columns above.

On a quiet machine (the table above, load below 1), 1,000 values decrypt in 162 ms against
sops' 86 ms: 1.88x in wall time, 1.43x in CPU (sops spreads its work over both cores). Where
those 162 ms go: the interpreter's start (`python -c pass`) about 20 ms, imports about 70 ms
(the profile above, byte-compiled), and the decrypt itself 71 ms (the in-process figure). A
cProfile of the in-process decrypt puts a third of it in writing the YAML back out
(sops/yamlemit.py), a fifth in splitting and checking the `ENC[...]` fields
(sops/cipher.py parse), and the rest in parsing and walking the tree, spread over many small
functions with no single one to cut. At 10,000 values secretsync is faster than sops (0.66x
and 0.75x).
"""


def find_sops() -> Path:
    try:
        from tests.testbed import binaries  # noqa: PLC0415 - the test bed knows the pinned build

        return binaries.require(binaries.SOPS)
    except Exception:  # fall back to whatever sops is on PATH
        found = shutil.which("sops")
        if found is None:
            raise SystemExit("sops not found: run `make bootstrap` or put sops on PATH") from None
        return Path(found)


def make_plain(path: Path, values: int) -> None:
    lines = ["apiVersion: v1", "kind: Secret", "metadata:", "    name: bench", "data:"]
    lines += [f"    key{i:05d}: value-{i}-some-secret-text" for i in range(values)]
    path.write_text("\n".join(lines) + "\n")


class Timing(NamedTuple):
    wall: float
    cpu: float  # user + system of the process and its threads: less sensitive to the load


def median_seconds(argv: list[str], env: dict[str, str], runs: int) -> Timing:
    # One untimed run first: it fills the byte-code cache and the page cache for every tool.
    subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
    walls, cpus = [], []
    for _ in range(runs):
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        started = time.perf_counter()
        subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
        walls.append(time.perf_counter() - started)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpus.append(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime)
    return Timing(statistics.median(walls), statistics.median(cpus))


# values, operation, secretsync, SOPS-only CLI, secretsync from source, sops
Row = tuple[int, str, Timing, Timing, Timing, Timing]


def compiled(env: dict[str, str], work: Path) -> dict[str, str]:
    """An environment whose Pythons read byte code from a private cache (PYTHONPYCACHEPREFIX),
    secretsync compiled into it up front and the rest written by the first run of each tool."""
    out = {k: v for k, v in env.items() if k != "PYTHONDONTWRITEBYTECODE"}
    out["PYTHONPYCACHEPREFIX"] = str(work / "pycache")
    subprocess.run(
        [sys.executable, "-m", "compileall", "-q", str(ROOT / "secretsync")], env=out, check=True
    )
    return out


def from_source(env: dict[str, str], work: Path) -> dict[str, str]:
    """An environment that compiles secretsync's modules at every start and nothing else: a
    copy of the warmed cache without secretsync's tree, never written to (the prefix hides the
    checkout's own __pycache__, if any)."""
    copy = work / "pycache-without-secretsync"
    if not copy.exists():
        shutil.copytree(env["PYTHONPYCACHEPREFIX"], copy)
        shutil.rmtree(copy / ROOT.relative_to(ROOT.anchor) / "secretsync", ignore_errors=True)
    return {**env, "PYTHONPYCACHEPREFIX": str(copy), "PYTHONDONTWRITEBYTECODE": "1"}


def bench_env(work: Path) -> tuple[dict[str, str], str]:
    identity, recipient = keys.generate()
    key_file = work / "keys.txt"
    key_file.write_text(identity + "\n")
    env = {**os.environ, "SOPS_AGE_KEY_FILE": str(key_file), "SOPS_AGE_RECIPIENTS": recipient}
    return compiled(env, work), recipient


def measure(sops: Path, work: Path, runs: int) -> list[Row]:
    env, recipient = bench_env(work)
    ours = [sys.executable, "-m", "secretsync"]
    lean = [sys.executable, str(ROOT / "bench" / "sops_cli_only.py")]
    rows = []
    for size in SIZES:
        plain, encrypted = work / f"plain{size}.yaml", work / f"enc{size}.yaml"
        make_plain(plain, size)
        encrypted.write_bytes(
            subprocess.run(
                [str(sops), "encrypt", str(plain)], env=env, check=True, capture_output=True
            ).stdout
        )
        theirs_enc = median_seconds([str(sops), "encrypt", str(plain)], env, runs)
        ours_enc = median_seconds([*ours, "encrypt", "--age", recipient, str(plain)], env, runs)
        lean_enc = median_seconds([*lean, "encrypt", "--age", recipient, str(plain)], env, runs)
        theirs_dec = median_seconds([str(sops), "decrypt", str(encrypted)], env, runs)
        ours_dec = median_seconds([*ours, "decrypt", str(encrypted)], env, runs)
        lean_dec = median_seconds([*lean, "decrypt", str(encrypted)], env, runs)
        source_env = from_source(env, work)  # after the runs above warmed the cache
        src_enc = median_seconds(
            [*ours, "encrypt", "--age", recipient, str(plain)], source_env, runs
        )
        src_dec = median_seconds([*ours, "decrypt", str(encrypted)], source_env, runs)
        rows += [
            (size, "encrypt", ours_enc, lean_enc, src_enc, theirs_enc),
            (size, "decrypt", ours_dec, lean_dec, src_dec, theirs_dec),
        ]
    return rows


IMPORT_LINE = re.compile(r"^import time:\s+\d+ \|\s+(\d+) \| (\s*)(\S+)$", re.M)


def import_profile(
    argv: list[str], env: dict[str, str], runs: int
) -> tuple[float, dict[str, float]]:
    """`python -X importtime`: the median total (the sum of what the process imported at top
    level) and each top-level module's median cumulative time, in seconds."""
    totals: list[float] = []
    per_module: dict[str, list[float]] = {}
    subprocess.run([sys.executable, *argv], env=env, check=True, stdout=subprocess.DEVNULL)
    for _ in range(runs):
        err = subprocess.run(
            [sys.executable, "-X", "importtime", *argv],
            env=env,
            check=True,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        ).stderr
        total = 0.0
        for cumulative, indent, module in IMPORT_LINE.findall(err):
            if not indent:
                total += int(cumulative) / 1e6
                per_module.setdefault(module, []).append(int(cumulative) / 1e6)
        totals.append(total)
    return statistics.median(totals), {m: statistics.median(v) for m, v in per_module.items()}


Profile = tuple[float, float, float, list[tuple[str, float]]]


def startup(sops: Path, work: Path, runs: int) -> Profile:
    """Where `secretsync decrypt` of the 1,000-value file spends its imports: the interpreter's
    own (site, .pth files), the total byte-compiled and from source, the top modules."""
    env, _ = bench_env(work)
    plain, encrypted = work / "profile.yaml", work / "profile.enc.yaml"
    make_plain(plain, PROFILE_SIZE)
    encrypted.write_bytes(
        subprocess.run(
            [str(sops), "encrypt", str(plain)], env=env, check=True, capture_output=True
        ).stdout
    )
    decrypt = ["-m", "secretsync", "decrypt", str(encrypted)]
    bare, _ = import_profile(["-c", "pass"], env, runs)
    total, modules = import_profile(decrypt, env, runs)
    source_total, _ = import_profile(decrypt, from_source(env, work), runs)
    top = sorted(modules.items(), key=lambda item: -item[1])[:PROFILE_TOP]
    return bare, total, source_total, top


def in_process_decrypt(work: Path, runs: int) -> float:
    identity, recipient = keys.generate()
    store = store_for("yaml")
    plain = work / "inproc.yaml"
    make_plain(plain, 1_000)
    data = engine.encrypt(plain.read_bytes(), store, engine.Recipients(((recipient,),)))
    identities = keys.parse_identities(identity)
    engine.decrypt(data, store, identities)  # warm imports and caches
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        engine.decrypt(data, store, identities)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def render(
    rows: list[Row], inproc: float, profile: Profile, sops: Path, *, runs: int, load: str
) -> str:
    version = subprocess.run(
        [str(sops), "--version"], capture_output=True, text=True, check=False
    ).stdout
    lines = [
        SECTION,
        "",
        f"Measured by `python bench/sops_bench.py` on {time.strftime('%Y-%m-%d')}, against "
        f"`{version.split()[1] if version else 'sops'}`, median of {runs} runs of the whole "
        f"process (Python start-up included), {os.cpu_count()} CPUs, load average {load}.",
        "",
        "`secretsync` is `python -m secretsync`, byte-compiled as an installed package is;",
        "`SOPS-only CLI` is bench/sops_cli_only.py, the same handlers registered alone (the CLI",
        "now imports only the running subcommand's module, so the two should match); `from",
        "source` is `python -m secretsync` compiling every module at every start.",
        "Target: ratio ≤ 1.0 at 1,000 and 10,000 values.",
        "",
        "CPU is the median user + system time of the same runs, which a loaded machine",
        "distorts less than the wall time.",
        "",
        "| values | operation | secretsync | SOPS-only CLI | from source | sops "
        "| ratio | ratio, from source | CPU, secretsync | CPU, sops | CPU ratio |",
        "|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for size, op, ours, lean, src, theirs in rows:
        lines.append(
            f"| {size:,} | {op} | {ours.wall * 1000:.0f} ms | {lean.wall * 1000:.0f} ms "
            f"| {src.wall * 1000:.0f} ms | {theirs.wall * 1000:.0f} ms "
            f"| {ours.wall / theirs.wall:.2f} | {src.wall / theirs.wall:.2f} "
            f"| {ours.cpu * 1000:.0f} ms | {theirs.cpu * 1000:.0f} ms "
            f"| {ours.cpu / theirs.cpu:.2f} |"
        )
    bare, total, source_total, top = profile
    lines += [
        "",
        f"In-process decrypt of a 1,000-value YAML file: {inproc * 1000:.1f} ms (target < 50 ms).",
        "",
        f"Start-up of `secretsync decrypt` ({PROFILE_SIZE:,} values), `python -X importtime`, "
        f"median of {runs}: imports total {total * 1000:.1f} ms byte-compiled "
        f"({source_total * 1000:.1f} ms from source), of which the interpreter's own "
        f"(`python -c pass`: site and .pth files) {bare * 1000:.1f} ms. The profiler's overhead "
        "inflates these figures; compare them with each other, not with the wall times above.",
        "Top-level imports by cumulative time:",
        "",
        "| module | cumulative |",
        "|---|---:|",
        *(f"| `{module}` | {seconds * 1000:.1f} ms |" for module, seconds in top),
        "",
        STARTUP_HISTORY,
    ]
    return "\n".join(lines)


def write_section(text: str) -> None:
    docs_section.write(text)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    sops = find_sops()
    before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as folder:
        rows = measure(sops, Path(folder), args.runs)
        inproc = in_process_decrypt(Path(folder), max(args.runs, 10))
        profile = startup(sops, Path(folder), args.runs)
    load = f"{before:.1f} → {os.getloadavg()[0]:.1f}"
    text = render(rows, inproc, profile, sops, runs=args.runs, load=load)
    print(text)
    if not args.no_write:
        write_section(text)


if __name__ == "__main__":
    main()
