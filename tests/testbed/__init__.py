"""The local test bed: real Kubernetes, KWOK, OpenBao, moto, sops/age and Git, all on loopback.

Used three ways: `python -m tests.testbed up|down|build` (behind `make testbed-up` and friends),
the pytest fixtures in tests/conftest.py, and `make demo`.
"""
