"""Shared fixtures: whole-program runs under mocks, cached per (stack, preview)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from tools import mockrun

STACKS = ("staging", "enterprise")
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
