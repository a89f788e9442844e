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


def staging_at_two_shards() -> dict[str, Any]:
    """The overrides that raise staging from 1 to 2 shards on its one node, as journey c's
    re-shard does: the node also carries `kg-shard-2`, and the change is acknowledged."""
    values, _ = mockrun.stack_config("staging")
    inv = values["agent-os:inventory"]
    host = {**inv["hosts"][0], "labels": {**inv["hosts"][0]["labels"], "kg-shard-2": True}}
    return {
        "agent-os:inventory": {**inv, "hosts": [host]},
        "agent-os:shards": {"count": 2, "acknowledgeReshard": {"from": 1, "to": 2}},
    }


@pytest.fixture
def cfg_of() -> Callable[..., StackConfig]:
    return config_of


@pytest.fixture
def plan_of() -> Callable[..., tuple[Placement, ...]]:
    return lambda stack, overrides=None: stack_plan(config_of(stack, overrides)).placements
