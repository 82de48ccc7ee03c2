"""operator.scope: which namespaces and cluster kinds the operator serves, from RBAC's answers."""

from __future__ import annotations

import pytest

from secretsync.operator import scope


def _answers(
    granted_namespaces: set[str | None], cluster_kinds: set[str], asked: tuple[str, ...]
) -> dict[scope.Access, bool]:
    answers: dict[scope.Access, bool] = {}
    for question in scope.needs(asked):
        resource = question.resource
        if any(resource == r for _, r in scope.CLUSTER_KINDS.values()):
            answers[question] = any(scope.CLUSTER_KINDS[k][1] == resource for k in cluster_kinds)
        else:
            answers[question] = question.namespace in granted_namespaces
    return answers


def test_namespaces_without_a_role_are_named_and_the_others_served() -> None:
    asked = ("team-a", "team-b", "team-c")
    decided = scope.decide(asked, _answers({"team-a", "team-b"}, set(), asked))
    assert decided.namespaces == ("team-a", "team-b")
    (refused,) = decided.refused
    assert refused.namespace == "team-c"
    message = refused.message()
    for part in (
        "namespace team-c",
        "list, watch externalsecrets.external-secrets.io;",
        "--namespace",
        "namespaces",
    ):
        assert part in message
    assert decided.cluster_kinds == frozenset()
    assert "clustersecretstores" in decided.skipped_cluster_kinds()


def test_one_missing_verb_is_enough_to_refuse_and_is_the_one_named() -> None:
    asked = ("team-a",)
    answers = dict.fromkeys(scope.needs(asked), True)
    answers[scope.Access("watch", "", "secrets", "team-a")] = False
    answers[scope.Access("list", "", "secrets", "team-a")] = False
    asked2 = ("team-a", "team-b")
    answers |= {q: True for q in scope.needs(asked2) if q.namespace == "team-b"}
    decided = scope.decide(asked2, answers)
    assert decided.namespaces == ("team-b",)
    assert [a.describe() for a in decided.refused[0].missing] == ["list secrets", "watch secrets"]
    assert "may not list, watch secrets there" in decided.refused[0].message()


def test_cluster_kinds_are_served_only_when_listable_and_watchable() -> None:
    asked = ("team-a",)
    answers = _answers({"team-a"}, {"clustersecretstores", "namespaces"}, asked)
    answers[scope.Access("watch", "", "namespaces")] = False
    decided = scope.decide(asked, answers)
    assert decided.cluster_kinds == frozenset({"clustersecretstores"})


def test_cluster_wide_with_full_rights_serves_everything() -> None:
    decided = scope.decide((), _answers({None}, set(scope.CLUSTER_KINDS), ()))
    assert decided.namespaces == () and not decided.refused
    assert decided.cluster_kinds == frozenset(scope.CLUSTER_KINDS)


def test_cluster_wide_without_a_cluster_role_says_which_setting_to_change() -> None:
    with pytest.raises(scope.NothingToServe) as caught:
        scope.decide((), _answers(set(), set(), ()))
    message = str(caught.value)
    assert "across the cluster" in message and "rbac.scope" in message and "--namespace" in message


def test_no_usable_namespace_at_all_stops_with_every_namespace_named() -> None:
    asked = ("team-a", "team-b")
    with pytest.raises(scope.NothingToServe) as caught:
        scope.decide(asked, _answers(set(), set(), asked))
    assert "namespace team-a" in str(caught.value) and "namespace team-b" in str(caught.value)


def test_an_unanswered_question_counts_as_refused() -> None:
    decided = scope.decide(("team-a", "team-b"), _answers({"team-a"}, set(), ("team-a",)))
    assert decided.namespaces == ("team-a",)
