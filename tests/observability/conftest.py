"""The operator fixtures of tests/operator (the operator run for real with its own
ServiceAccount), shared with the observability tests that scrape it."""

from tests.operator.conftest import (  # noqa: F401 - pytest finds fixtures by name here
    installed,
    kube,
    operator_kubeconfig,
    start_operator,
)
