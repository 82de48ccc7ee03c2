"""Template caps on the test bed, with the operator as its own process: a store value that grows
makes a template write too much, or the Secret it renders pass 1 MiB. The sync fails with a
message naming the ExternalSecret and the limit, in its status and its Event, with no value in
either, and the Secret written last stays. (A Secret over 1 MiB read straight from the store,
and a find over its cap: test_fairness.py.)"""

from __future__ import annotations

import uuid
from collections.abc import Callable
from typing import Any

from secretsync import limits
from tests.operator.harness import Cluster, Operator, eventually
from tests.operator.manifests import (
    condition,
    external_secret,
    vault,
    vault_store,
    visible_text,
)
from tests.testbed import stack

REPEAT = 20_000
"""Times the templates below repeat the store's value: a 40-character value renders 800,000
characters, a 60-character one 1,200,000, over the 1 MiB caps."""


def value(length: int) -> str:
    """A value no message could contain by chance."""
    return (uuid.uuid4().hex * 2)[:length]


def templated(name: str, key: str, template_data: dict[str, str]) -> dict[str, Any]:
    return external_secret(
        name,
        key,
        properties=("password",),
        refreshInterval="1s",
        target={"template": {"engineVersion": "v2", "data": template_data}},
    )


def grow(
    kube: Cluster,
    testbed: stack.Testbed,
    start_operator: Callable[..., Operator],
    template_data: dict[str, str],
    small: int,
    large: int,
) -> str:
    """Sync the ExternalSecret `caps` with a `small` value, then grow the value to `large`;
    the failed condition's message."""
    key = f"caps/{kube.namespace}"
    bao = vault(testbed)
    good, bad = value(small), value(large)
    bao.secrets.kv.v2.create_or_update_secret(key, secret={"password": good})
    vault_store(kube, testbed)
    kube.apply("externalsecrets", templated("caps", key, template_data))
    start_operator()
    condition(kube, "caps", "True", "SecretSynced", timeout=60)
    written = kube.data("caps-secret")
    assert written and all(v == good.encode() * REPEAT for v in written.values())

    bao.secrets.kv.v2.create_or_update_secret(key, secret={"password": bad})
    failed = condition(kube, "caps", "False", "SecretSyncedError", timeout=60)
    message: str = failed["message"]
    assert f"ExternalSecret {kube.namespace}/caps" in message
    assert kube.data("caps-secret") == written
    warned = eventually(
        lambda: [
            e for e in kube.events("caps") if e.type == "Warning" and "limit" in (e.message or "")
        ],
        timeout=30,
        what="the Warning Event",
    )
    assert f"ExternalSecret {kube.namespace}/caps" in warned[0].message
    seen = " ".join(visible_text(kube, "caps"))
    assert good not in seen and bad not in seen
    return message


def test_a_template_that_writes_too_much_fails_and_the_last_good_secret_stays(
    kube: Cluster, testbed: stack.Testbed, start_operator: Callable[..., Operator]
) -> None:
    message = grow(
        kube,
        testbed,
        start_operator,
        {"out": f"{{{{ repeat {REPEAT} .password }}}}"},
        small=40,
        large=60,
    )
    assert f"output exceeded {limits.TEMPLATE_MAX_OUTPUT_BYTES} characters" in message
    assert "limit for one template" in message


def test_a_rendered_secret_over_1_mib_fails_and_the_last_good_secret_stays(
    kube: Cluster, testbed: stack.Testbed, start_operator: Callable[..., Operator]
) -> None:
    """Two keys, each well under the template cap, together over what a Secret may hold."""
    each = f"{{{{ repeat {REPEAT} .password }}}}"
    message = grow(kube, testbed, start_operator, {"a": each, "b": each}, small=20, large=30)
    size = 2 * (1 + 30 * REPEAT)
    assert f"the Secret would hold {size} bytes" in message
    assert f"over the {limits.SECRET_MAX_BYTES}-byte (1 MiB) limit" in message
