"""pytest plugin (pyproject addopts `-p tools.pytest_ci`): under CI=true a skipped test is a
failure, so a missing prerequisite (no Docker, no toolchain, no browser) never passes
silently. Outside CI a skip stays a skip, with its reason."""

from __future__ import annotations

import os

import pytest


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]):  # type: ignore[no-untyped-def]
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    if os.environ.get("CI") == "true" and report.skipped and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped under CI=true (a missing prerequisite fails the run): {reason}"
