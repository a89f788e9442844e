"""Under CI=true a skip fails the run (tools/pytest_ci.py); outside CI it stays a skip."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

SKIPPING = """
import pytest

def test_needs_something():
    pytest.skip("no docker here")
"""


def test_a_skip_fails_under_ci(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CI", "true")
    pytester.makepyfile(SKIPPING)
    result = pytester.runpytest("-p", "tools.pytest_ci")
    result.assert_outcomes(failed=1)
    result.stdout.fnmatch_lines(["*skipped under CI=true*no docker here*"])


def test_a_skip_stays_a_skip_outside_ci(pytester: pytest.Pytester, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("CI", raising=False)
    pytester.makepyfile(SKIPPING)
    pytester.runpytest("-p", "tools.pytest_ci").assert_outcomes(skipped=1)


def test_two_workers_keep_each_module_in_one_work_unit() -> None:
    """`./dev test`'s layout (tests/conftest.py): every test's node id carries its group, the
    module path (tests/stack: "stack"), which only happens when the conftest adds the groups
    before xdist reads them. Without it the whole-stack suite was split across both workers,
    and the second deployment failed at once (seen: CI's first parallel run)."""
    argv = [sys.executable, "-m", "pytest", "-n", "2", "--dist", "loadgroup", "--no-loadscope-reorder"]
    modules = ["tests/shards/test_shards_plan.py", "tests/config/test_config_declarations.py"]
    done = subprocess.run(
        [*argv, "-v", "-p", "no:cacheprovider", *modules],
        cwd=Path(__file__).resolve().parents[2],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout[-3000:]
    ran = [line.split(" PASSED ", 1)[1].strip() for line in done.stdout.splitlines() if " PASSED " in line]
    assert len(ran) > 3
    for nodeid in ran:
        test, _, group = nodeid.rpartition("@")
        assert group == test.split("::", 1)[0], nodeid
