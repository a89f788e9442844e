"""The docker provider's refresh compares the live Engine object with the declared one."""

from __future__ import annotations

from verify.providers.docker import _subset  # pyright: ignore[reportPrivateUsage]


def test_a_declared_zero_matches_the_field_the_engine_omits() -> None:
    # A service declared with rollback delay 0s reads back without Delay (Go omitempty):
    # every service showed rollbackConfig drift at `pulumi refresh` before (found on the
    # deployed staging stack).
    declared = {"Parallelism": 1, "Delay": 0, "FailureAction": "pause", "Order": "start-first"}
    live = {"Parallelism": 1, "FailureAction": "pause", "Monitor": 30_000_000_000, "Order": "start-first"}
    assert _subset(declared, live)


def test_a_changed_value_is_still_drift() -> None:
    declared = {"Parallelism": 1, "Delay": 0, "Order": "start-first"}
    assert not _subset(declared, {"Parallelism": 2, "Order": "start-first"})
    assert not _subset({"Delay": 5}, {})
