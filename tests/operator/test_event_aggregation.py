"""The recorder's decisions, as client-go's EventCorrelator makes them: one Event object per
(object, type, reason, message), similar messages combined, a token bucket per object."""

from __future__ import annotations

import datetime
import re

from secretsync.kube.event_cache import COMBINED, Correlator, Occurrence, Write, event_name

T0 = datetime.datetime(2026, 12, 6, 8, 0, tzinfo=datetime.UTC)


def _at(seconds: float) -> datetime.datetime:
    return T0 + datetime.timedelta(seconds=seconds)


def _failed(
    message: str = "vault: connection refused", name: str = "db", uid: str = "u1"
) -> Occurrence:
    return Occurrence(
        "ns",
        "ExternalSecret",
        name,
        uid,
        "external-secrets.io/v1",
        "Warning",
        "UpdateFailed",
        message,
    )


def _written(correlator: Correlator, occurrence: Occurrence, at: float) -> Write:
    write = correlator.observe(occurrence, _at(at))
    assert write is not None
    return write


def test_repeats_update_one_event_whose_count_and_last_timestamp_rise() -> None:
    correlator = Correlator()
    writes = [_written(correlator, _failed(), 30.0 * i) for i in range(12)]
    assert {w.name for w in writes} == {writes[0].name}
    assert [w.count for w in writes] == list(range(1, 13))
    assert all(w.first == T0 for w in writes)
    assert writes[-1].last == _at(330)
    assert {w.message for w in writes} == {"vault: connection refused"}


def test_another_reason_message_type_or_object_is_another_event() -> None:
    correlator = Correlator()
    base = _written(correlator, _failed(), 0)
    others = [
        _failed("vault: permission denied"),
        _failed(uid="u2"),  # the same name, recreated: another object
        _failed(name="web"),
        Occurrence(
            "ns", "ExternalSecret", "db", "u1", "external-secrets.io/v1", "Normal", "Updated", "ok"
        ),
    ]
    names = {_written(correlator, o, 1).name for o in others}
    assert base.name not in names and len(names) == len(others)


def test_the_name_is_stable_across_processes_and_a_valid_object_name() -> None:
    one = _written(Correlator(), _failed(), 0)
    other = _written(Correlator(), _failed(), 100)
    assert one.name == other.name, "a restarted operator finds the same Event"
    long = _written(Correlator(), _failed(name="a" * 240 + "-b" * 6), 0)
    assert len(long.name) <= 253
    assert re.fullmatch(
        r"[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*", long.name
    )
    assert event_name("x-" * 200, ("k",)).count("-.") == 0


def test_ten_different_messages_in_ten_minutes_go_to_one_combined_event() -> None:
    correlator = Correlator()
    writes = [_written(correlator, _failed(f"timeout after {i}ms"), 10.0 * i) for i in range(25)]
    assert len({w.name for w in writes[:9]}) == 9
    combined = writes[9:]
    assert {w.name for w in combined} == {combined[0].name}
    assert [w.count for w in combined] == list(range(1, 17))
    assert combined[-1].message == COMBINED + "timeout after 24ms"
    # Ten minutes of quiet: the grouping starts afresh.
    fresh = _written(correlator, _failed("timeout after 99ms"), 250 + 601)
    assert not fresh.message.startswith(COMBINED)


def test_the_spam_filter_holds_a_flood_but_keeps_counting() -> None:
    correlator = Correlator()
    writes = [correlator.observe(_failed(), _at(0.1 * i)) for i in range(40)]
    sent = [w for w in writes if w is not None]
    assert len(sent) == 25, "a burst of 25 per object"
    assert sent[-1].count == 25
    # One token every five minutes: the next write carries every occurrence since.
    assert correlator.observe(_failed(), _at(100)) is None
    later = _written(correlator, _failed(), 4 + 300)
    assert later.count == 42
    # Other objects have buckets of their own.
    assert _written(correlator, _failed(name="web"), 5).count == 1


def test_adopting_an_existing_event_continues_its_count() -> None:
    correlator = Correlator()
    first = _written(correlator, _failed(), 0)
    adopted = correlator.adopt(first, 38, _at(-3600))
    assert (adopted.count, adopted.first) == (38, _at(-3600))
    assert _written(correlator, _failed(), 60).count == 39


def test_the_caches_are_bounded() -> None:
    correlator = Correlator(entries=100)
    for i in range(1000):
        _written(correlator, _failed(name=f"es-{i}"), 0)
    assert correlator.sizes() == (100, 100, 100)
