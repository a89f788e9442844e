"""Day-0 fixtures: a stack's parsed config without evaluating the program."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import pytest

from components.config import NAMESPACE, StackConfig, parse
from components.config.secrets import SECRET_KEYS
from components.day0 import placement
from tools import mockrun


def config_of(stack: str, overrides: Mapping[str, Any] | None = None) -> StackConfig:
    """Parse Pulumi.<stack>.yaml (+ overrides, full `agent-os:key` names) as the loader does."""
    values, secret = mockrun.stack_config(stack)
    values.update(overrides or {})
    prefix = f"{NAMESPACE}:"
    raw = {k[len(prefix) :]: v for k, v in values.items() if k.startswith(prefix) and v is not None}
    raw = {k: (None if k in SECRET_KEYS else v) for k, v in raw.items()}
    return parse(raw, stack, {k[len(prefix) :] for k in secret if k.startswith(prefix)})


@pytest.fixture
def cfg_of() -> Callable[..., StackConfig]:
    return config_of


@pytest.fixture
def plan_of() -> Callable[..., tuple[placement.Placement, ...]]:
    return lambda stack, overrides=None: placement.placement_plan(config_of(stack, overrides))
