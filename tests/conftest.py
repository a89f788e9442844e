"""Shared fixtures: whole-program runs under mocks, cached per (stack, preview). And how a
parallel run (`./dev test` uses pytest-xdist, 2 workers) is laid out: the whole-stack suite
(tests/stack, one deployment per session) stays on one worker, and the figures its worker
prints (times, the critical path) reach the run's log in the terminal summary."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tools import mockrun
from verify import engine

STACKS = ("staging", "enterprise")
FIGURES = "AGENT_OS_FIGURES"  # tests/stack/stackhelp.report appends here on an xdist worker
STACK_SUITE = Path(__file__).parent / "stack"
# The stack suite's modules in the order they run: the engine's own checks and changes first
# (while the other worker is busiest, they only wait on the swarm), the journeys after, the
# re-shard and journey c last (they leave the stack at 2 shards).
STACK_ORDER = [
    "test_stack_engine.py",
    "test_journey_browser.py",
    "test_journeys_access.py",
    "test_journeys_events.py",
    "test_journeys_shards.py",
]
_own_figures: list[str] = []  # the figures file this process made (a nested pytest run's is not its own)


def pytest_configure(config: pytest.Config) -> None:
    if hasattr(config, "workerinput"):
        return
    # The controller.
    if FIGURES not in os.environ:
        fd, path = tempfile.mkstemp(prefix="agent-os-figures-", suffix=".log")
        os.close(fd)
        os.environ[FIGURES] = path  # the workers start after this and inherit it
        _own_figures.append(path)
    if getattr(config.option, "numprocesses", None):
        # With workers, the controller starts the Docker Engine when none runs (CI's fresh
        # machine) and stops it when it exits, after every worker: a worker that started it
        # would stop it under the other one. Without an engine the tests that need one say so.
        with contextlib.suppress(engine.EngineUnavailableError):
            engine.start_engine()


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the groups into the node ids
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Work units for `--dist loadgroup --no-loadscope-reorder`: the whole-stack suite is one
    unit and comes first (it is the longest: one worker starts it at once), every other
    module is a unit of its own (its module fixtures, such as a provider test's server,
    start once)."""
    stack = sorted(
        (i for i in items if STACK_SUITE in i.path.parents),
        key=lambda i: STACK_ORDER.index(i.path.name) if i.path.name in STACK_ORDER else len(STACK_ORDER),
    )  # stable: a module's tests keep their order
    rest = [i for i in items if STACK_SUITE not in i.path.parents]
    for item in stack:
        item.add_marker(pytest.mark.xdist_group("stack"))
    for item in rest:
        item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::", 1)[0]))
    items[:] = stack + rest


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    path = _own_figures[0] if _own_figures else None
    if hasattr(config, "workerinput") or not path or not Path(path).is_file():
        return
    lines = Path(path).read_text().splitlines()
    Path(path).unlink()
    if lines:
        terminalreporter.section("figures (tests/stack)")
        for line in lines:
            terminalreporter.write_line(line)


_cache: dict[tuple[str, bool], mockrun.Run] = {}


# The Fleet Supervisor is off by default (the pinned release cannot run as a service): the
# tests of its wiring turn it on with an image override, as a user would.
WEBUI_IMAGE = "registry.internal:5000/agent-webui:verified"
_webui_cache: dict[str, mockrun.Run] = {}


def evaluate_with_webui(stack: str) -> mockrun.Run:
    if stack not in _webui_cache:
        values, _ = mockrun.stack_config(stack)
        fleet = {**values["agent-os:fleet"], "webui": {"enabled": True}}
        images = {**values.get("agent-os:images", {}), "overrides": {"agent-webui": WEBUI_IMAGE}}
        overrides = {"agent-os:fleet": fleet, "agent-os:images": images}
        _webui_cache[stack] = mockrun.run(stack, overrides=overrides)
    return _webui_cache[stack]


def evaluate(stack: str, preview: bool = False) -> mockrun.Run:
    key = (stack, preview)
    if key not in _cache:
        _cache[key] = mockrun.run(stack, preview=preview)
    return _cache[key]


@pytest.fixture(params=STACKS)
def stack_run(request: pytest.FixtureRequest) -> mockrun.Run:
    return evaluate(request.param)


@pytest.fixture
def staging() -> mockrun.Run:
    return evaluate("staging")


@pytest.fixture
def enterprise() -> mockrun.Run:
    return evaluate("enterprise")


@pytest.fixture
def run_with() -> Callable[..., mockrun.Run]:
    """Evaluate a stack with config overrides (uncached)."""

    def _run(stack: str = "staging", preview: bool = False, **kw: Any) -> mockrun.Run:
        return mockrun.run(stack, preview=preview, **kw)

    return _run
