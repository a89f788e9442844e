"""Tuning of the Python runtime the program is evaluated in.

Evaluating the program builds a large object graph that lives until the end: every
resource's Args, Outputs and futures. CPython's default cyclic-GC thresholds (700, 10, 10)
make the collector re-scan that growing graph again and again, so its cost grows faster
than the stack. Under mocks, the enterprise stack with a 10x connector fleet spent about a
third of its evaluation in the collector, and time per resource grew with the fleet.

Fewer young-generation collections remove most of that; peak memory does not change
measurably (see bench/, and tests/test_runtime.py for the collection count).
"""

from __future__ import annotations

import gc

# (young, middle, old): a young collection every 10,000 net allocations instead of 700.
GC_THRESHOLDS = (10_000, 10, 10)


def tune_gc() -> None:
    """Raise the collector's thresholds for the evaluation (never lowers a higher setting)."""
    young, middle, old = gc.get_threshold()
    if young < GC_THRESHOLDS[0]:
        gc.set_threshold(GC_THRESHOLDS[0], max(middle, GC_THRESHOLDS[1]), max(old, GC_THRESHOLDS[2]))
