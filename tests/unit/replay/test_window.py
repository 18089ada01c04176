"""The replay window: RFC 3339 bounds to record timestamps (both included), offsets, grace."""

from __future__ import annotations

import re

import pytest

from auditor.replay import Window, WindowError, make_window
from auditor.replay.window import duration_ms

T1 = "2026-03-02T08:00:00Z"
T1_MS = 1_772_438_400_000


def test_bounds_are_whole_milliseconds_with_both_ends_included() -> None:
    w = make_window("2026-03-02T08:00:00.0005Z", "2026-03-02T09:00:00.9999+01:00")
    # A start between two milliseconds begins at the next one; an end at the last one.
    assert w.start_ms == T1_MS + 1
    assert w.end_ms == T1_MS + 999
    assert not w.contains(T1_MS)
    assert w.contains(T1_MS + 1)
    assert w.contains(T1_MS + 999)
    assert not w.contains(T1_MS + 1000)


def test_exact_bounds_are_inside() -> None:
    w = make_window(T1, T1)
    assert (w.start_ms, w.end_ms) == (T1_MS, T1_MS)
    assert w.contains(T1_MS)
    assert not w.contains(T1_MS - 1)
    assert not w.contains(T1_MS + 1)


def test_open_sides_and_records_without_timestamp() -> None:
    assert make_window(T1).contains(10**15)
    assert make_window(None, T1).contains(0)
    assert not make_window(T1).contains(None)  # cannot be placed in a time window
    assert Window().contains(None)


def test_grace_seeks_back_without_widening_the_window() -> None:
    w = make_window(T1, None, grace="15m")
    assert w.seek_ms == T1_MS - 15 * 60_000
    assert not w.contains(T1_MS - 1)
    assert make_window(T1).seek_ms == T1_MS
    assert make_window().seek_ms is None


@pytest.mark.parametrize(
    ("text", "ms"), [("90", 90_000), ("1.5s", 1500), ("15m", 900_000), ("2h", 7_200_000),
                     ("1d", 86_400_000), ("250ms", 250)]
)
def test_durations(text: str, ms: int) -> None:
    assert duration_ms(text) == ms


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"start": "2026-03-02"}, "--from: '2026-03-02' is not an RFC 3339 date-time"),
        ({"end": "2026-03-02T08:00:00"}, "--to: '2026-03-02T08:00:00' is not an RFC 3339"),
        ({"start": "2026-03-02T09:00:00Z", "end": T1}, "is after --to"),
        ({"start_offset": 9, "end_offset": 3}, "--start-offset 9 is after --end-offset 3"),
        ({"start_offset": -1}, "--start-offset: -1 is negative"),
        ({"partitions": (-2,)}, "--partition: partition numbers start at 0"),
        ({"start": T1, "grace": "soon"}, "--grace: 'soon' is not a duration"),
        ({"grace": "5m"}, "--grace only applies with --from"),
    ],
)
def test_bad_options_name_the_option(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(WindowError, match=re.escape(message)):
        make_window(**kwargs)  # type: ignore[arg-type]


def test_partitions_are_sorted_and_unique() -> None:
    assert make_window(partitions=(3, 1, 3)).partitions == (1, 3)
