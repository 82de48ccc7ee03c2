"""Fuzzing the pure parsers (docs/benchmarks.md, "Fuzzing"): targets, the atheris runner, and the
regression inputs the fuzzer found."""
