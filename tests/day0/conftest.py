"""Day-0 fixtures: a stack's parsed config without evaluating the program."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest

from components.config import StackConfig
from components.model import Placement
from components.plan import stack_plan
from tools import mockrun


def config_of(stack: str, overrides: Mapping[str, Any] | None = None) -> StackConfig:
    """Parse Pulumi.<stack>.yaml (+ overrides, full `agent-os:key` names) as the loader does."""
    cfg: StackConfig = mockrun.stack_model(stack, overrides)
    return cfg


@pytest.fixture
def cfg_of() -> Callable[..., StackConfig]:
    return config_of


@pytest.fixture
def plan_of() -> Callable[..., tuple[Placement, ...]]:
    return lambda stack, overrides=None: stack_plan(config_of(stack, overrides)).placements
