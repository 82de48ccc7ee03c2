"""One tenant's pathological regexp does not hold up anyone else (issue 11 §4).

Every user regexp runs on RE2, in linear time and without the GIL while it matches. Under
Python's backtracking `re`, `regexMatch "^(a+)+$"` on this value would never return, holding the
GIL: every other ExternalSecret and the health probe would stall with it.
"""

from __future__ import annotations

import time
import urllib.request
from collections.abc import Callable

from tests.operator.harness import Cluster, Operator, eventually
from tests.operator.manifests import external_secret, vault, vault_store
from tests.testbed import stack

BIG = "a" * 300_000 + "!"
HEAVY_TEMPLATE = {
    "catastrophic": '{{ regexMatch "^(a+)+$" .big }}',
    "alternation": '{{ regexFindAll "(a|aa)*b" .big -1 | len }}',
    "nested": '{{ regexReplaceAll "(x+x+)+y|^(a|a?)+$" .big "-" | len }}',
    "many": '{{ regexReplaceAll "a" .big "bb" | len }}',  # 300,000 matches: work, but linear
}
OTHERS = 12


def test_an_expensive_regex_template_does_not_hold_up_other_external_secrets(
    kube: Cluster, testbed: stack.Testbed, start_operator: Callable[..., Operator]
) -> None:
    key = f"regex/{kube.namespace}"
    vault(testbed).secrets.kv.v2.create_or_update_secret(key, secret={"big": BIG, "name": "svc"})
    vault_store(kube, testbed)
    heavy = external_secret("heavy", key, target={"template": {"data": HEAVY_TEMPLATE}})
    kube.apply("externalsecrets", heavy)  # first, so the operator meets it first
    for i in range(OTHERS):
        light = {"template": {"data": {"name": "{{ .name }}-" + str(i)}}}
        kube.apply("externalsecrets", external_secret(f"light-{i}", key, target=light))
    operator = start_operator()

    for i in range(OTHERS):
        data = eventually(lambda i=i: kube.data(f"light-{i}-secret"), what=f"light-{i}")
        assert data == {"name": f"svc-{i}".encode()}
    with urllib.request.urlopen(f"{operator.metrics_url}/healthz", timeout=5) as probe:  # noqa: S310
        assert probe.status == 200

    started = time.monotonic()
    assert eventually(lambda: kube.data("heavy-secret"), what="the heavy one") == {
        "catastrophic": b"false",
        "alternation": b"0",
        "nested": b"300001",  # no match: the text, unchanged
        "many": b"600001",
    }
    assert time.monotonic() - started < 30
    assert (kube.ready("heavy") or {}).get("status") == "True"
