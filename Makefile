# The two commands of the README are `make demo` and `make test`; everything else supports them.
VENV ?= .venv
PY := $(VENV)/bin/python
PYTEST_ARGS ?= -n 2 --dist loadgroup --timeout 600

.PHONY: bootstrap demo test faults unit lint image fuzz testbed-up testbed-down testbed-status

## Install everything (Debian packages, virtualenv, test bed binaries); fast when warm.
bootstrap:
	@bash scripts/bootstrap.sh

## Bring up the local stack, run the operator on it, and print what it synced.
demo: bootstrap
	@$(PY) -m tests.testbed.demo

## The whole suite: lint, types, layer contracts, then every test against the real test bed,
## the fault tests included (tests/faults: a private bed whose components they stop, all on one
## xdist worker; 6 to 9 minutes). `make faults` runs those alone.
test: bootstrap lint
	$(PY) -m pytest $(PYTEST_ARGS)

faults: bootstrap
	$(PY) -m pytest $(PYTEST_ARGS) tests/faults

## Only the fast tests that need no test bed component.
unit: bootstrap
	$(PY) -m pytest -m unit $(PYTEST_ARGS)

## The operator image, built from Debian packages with no registry (scripts/image.sh): writes
## dist/secretsync-<version>.oci.tar and loads it into podman as ghcr.io/secretsync/secretsync:<version>.
image: bootstrap
	@bash scripts/image.sh

## Fuzz every parser for 100,000 inputs each (atheris); `make test` runs a short budget of the same.
fuzz: bootstrap
	$(PY) -m tests.fuzz campaign --runs 100000

lint:
	$(VENV)/bin/ruff check secretsync tests bench
	$(VENV)/bin/mypy
	$(VENV)/bin/lint-imports

testbed-up: bootstrap
	@$(PY) -m tests.testbed up

testbed-down:
	@$(PY) -m tests.testbed down

testbed-status:
	@$(PY) -m tests.testbed status
