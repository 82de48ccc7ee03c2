"""SOPS engine benchmark: whole-process encrypt/decrypt, secretsync against the real sops binary.

    python bench/sops_bench.py [--runs N] [--no-write]

Both tools run in the same session on the same files (YAML with 10, 1,000 and 10,000 values) and
the same age key; each figure is the median wall time of N runs of the complete process, Python
start-up included. Also measured: in-process decrypt of the 1,000-value file (target < 50 ms).
The results replace the "## SOPS engine" section of docs/benchmarks.md.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench import docs_section  # noqa: E402
from secretsync.sops import engine, keys  # noqa: E402 - after the path tweak
from secretsync.sops.formats import store_for  # noqa: E402

SIZES = (10, 1_000, 10_000)
SECTION = "## SOPS engine"


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


def median_seconds(argv: list[str], env: dict[str, str], runs: int) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run(argv, env=env, check=True, stdout=subprocess.DEVNULL)
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


Row = tuple[int, str, float, float, float]


def measure(sops: Path, work: Path, runs: int) -> list[Row]:
    identity, recipient = keys.generate()
    key_file = work / "keys.txt"
    key_file.write_text(identity + "\n")
    env = {**os.environ, "SOPS_AGE_KEY_FILE": str(key_file), "SOPS_AGE_RECIPIENTS": recipient}
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
        rows += [
            (size, "encrypt", ours_enc, lean_enc, theirs_enc),
            (size, "decrypt", ours_dec, lean_dec, theirs_dec),
        ]
    return rows


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


def render(rows: list[Row], inproc: float, sops: Path, runs: int) -> str:
    version = subprocess.run(
        [str(sops), "--version"], capture_output=True, text=True, check=False
    ).stdout
    lines = [
        SECTION,
        "",
        f"Measured by `python bench/sops_bench.py` on {time.strftime('%Y-%m-%d')}, against "
        f"`{version.split()[1] if version else 'sops'}`, median of {runs} runs of the whole "
        f"process (Python start-up included), {os.cpu_count()} CPUs.",
        "",
        "`secretsync` is `python -m secretsync`; `SOPS-only CLI` is bench/sops_cli_only.py, the",
        "same handlers without the start-up imports of the other subcommand modules.",
        "Target: ratio ≤ 1.0 at 1,000 and 10,000 values.",
        "",
        "| values | operation | secretsync | SOPS-only CLI | sops | ratio | ratio, SOPS-only |",
        "|---:|---|---:|---:|---:|---:|---:|",
    ]
    for size, op, ours, lean, theirs in rows:
        lines.append(
            f"| {size:,} | {op} | {ours * 1000:.0f} ms | {lean * 1000:.0f} ms "
            f"| {theirs * 1000:.0f} ms | {ours / theirs:.2f} | {lean / theirs:.2f} |"
        )
    lines += [
        "",
        f"In-process decrypt of a 1,000-value YAML file: {inproc * 1000:.1f} ms (target < 50 ms).",
        "",
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
    with tempfile.TemporaryDirectory() as folder:
        rows = measure(sops, Path(folder), args.runs)
        inproc = in_process_decrypt(Path(folder), max(args.runs, 10))
    text = render(rows, inproc, sops, args.runs)
    print(text)
    if not args.no_write:
        write_section(text)


if __name__ == "__main__":
    main()
