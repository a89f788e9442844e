"""The shards' declaration, purely (no mocks): endpoints, pins and metrics ports."""

from __future__ import annotations

from components.day0.plan import placement_table
from components.plan import stack_plan
from shards.plan import shards_plan
from tests.day0.conftest import config_of, staging_at_two_shards


def test_enterprise_has_three_shards_each_pinned_by_its_number() -> None:
    cfg = config_of("enterprise")
    p = shards_plan(cfg.shards, cfg.sizing())
    assert p.endpoints == ("tcp://kg-shard-1:9101", "tcp://kg-shard-2:9102", "tcp://kg-shard-3:9103")
    assert [(s.placement.service, s.placement.constraints) for s in p.shards] == [
        (f"kg-shard-{n}", (f"node.labels.kg-shard-{n}==true",)) for n in (1, 2, 3)
    ]
    assert [s.address.metrics_port for s in p.shards] == [9111, 9112, 9113]
    assert p.mode == "sharded"


def test_one_shard_is_single_mode() -> None:
    cfg = config_of("staging")
    p = shards_plan(cfg.shards, cfg.sizing())
    assert p.endpoints == ("tcp://kg-shard-1:9101",) and p.mode == "single"


def test_one_node_can_hold_two_shards() -> None:
    """Staging's single node carries both shards of a 1 -> 2 re-shard (one label key per shard;
    a `kg-shard=N` value would allow only one shard per node)."""
    cfg = config_of("staging", staging_at_two_shards())
    table = placement_table(stack_plan(cfg).placements, cfg.inventory.hosts)
    assert table["services"]["kg-shard-1"]["hosts"] == ["local"]
    assert table["services"]["kg-shard-2"]["hosts"] == ["local"]
