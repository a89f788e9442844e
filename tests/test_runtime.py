"""The program tunes the garbage collector for its evaluation (components/runtime.py)."""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest

from components.runtime import GC_THRESHOLDS, tune_gc
from tools import mockrun

CPYTHON_DEFAULT = (700, 10, 10)


@pytest.fixture
def default_gc() -> Iterator[Counter[int]]:
    """CPython's default thresholds, as a fresh language host starts with; counts the
    collections per generation while the test runs."""
    before = gc.get_threshold()
    counts: Counter[int] = Counter()

    def count(phase: str, info: dict[str, Any]) -> None:
        if phase == "start":
            counts[info["generation"]] += 1

    gc.collect()
    gc.set_threshold(*CPYTHON_DEFAULT)
    gc.callbacks.append(count)
    try:
        yield counts
    finally:
        gc.callbacks.remove(count)
        gc.set_threshold(*before)


def test_evaluation_runs_with_raised_thresholds(default_gc: Counter[int]) -> None:
    mockrun.run("enterprise")
    assert gc.get_threshold() == GC_THRESHOLDS


def test_enterprise_evaluation_collects_rarely(default_gc: Counter[int]) -> None:
    # With CPython's defaults this evaluation runs ~250 young, ~23 middle and 2 full collections.
    mockrun.run("enterprise")
    assert default_gc[2] <= 1, default_gc
    assert sum(default_gc.values()) < 60, default_gc


def test_tune_never_lowers_a_higher_setting(default_gc: Counter[int]) -> None:
    gc.set_threshold(50_000, 20, 30)
    tune_gc()
    assert gc.get_threshold() == (50_000, 20, 30)
    gc.set_threshold(*CPYTHON_DEFAULT)
    tune_gc()
    assert gc.get_threshold() == GC_THRESHOLDS
