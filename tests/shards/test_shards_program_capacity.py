"""Capacity model in the program: agent-os:capacity.residents derives the shard count (and
the worker/Kafka-partition counts the other layers read); explicit config always wins."""

from __future__ import annotations

from typing import Any

import pulumi
import pytest

from components.config import parse
from components.config.data import KafkaConfig
from components.config.loader import load
from components.foundation import foundation
from components.plan import stack_plan
from shards.deploy import ShardsLayer
from tools import mockrun

NO_INVENTORY: dict[str, Any] = {"agent-os:inventory": None}  # see test_shards_program_services


def shards_only() -> None:
    cfg = load()
    plan = stack_plan(cfg)
    base = foundation(cfg, plan.placements)
    layer = ShardsLayer(base.platform, cfg.shards, base.secrets, plan.shards, base.opts)
    for name, value in layer.outputs.stack_outputs().items():  # as __main__.py exports them
        pulumi.export(name, value)


def run(shards: dict[str, Any], residents: int | None) -> mockrun.Run:
    return mockrun.run(
        "staging",
        overrides={
            "agent-os:shards": shards,
            "agent-os:capacity": {"residents": residents} if residents is not None else None,
            **NO_INVENTORY,
        },
        program=shards_only,
    )


def shard_count(r: mockrun.Run) -> int:
    return len([n for n in r.services() if n.startswith("kg-shard-")])


# platform.md §13 table rows: residents -> (engine shards, workers, kafka partitions).
@pytest.mark.parametrize(
    ("residents", "shards", "workers", "partitions"), [(100_000, 2, 80, 3), (1_000_000, 20, 800, 8)]
)
def test_residents_derive_the_shard_count_and_the_plan_shows_it(
    residents: int, shards: int, workers: int, partitions: int
) -> None:
    r = run({}, residents)
    assert shard_count(r) == shards == r.outputs["shardCount"]
    plan = r.outputs["capacityPlan"]
    assert plan["shardCount"] == shards
    assert plan["shardCountSource"] == "agent-os:capacity.residents"
    assert plan["residents"] == residents
    assert plan["derived"]["engineShards"] == shards
    assert plan["derived"]["workers"] == workers
    assert plan["derived"]["kafkaPartitions"] == partitions
    assert f"engine shards = ceil({residents}/50000) = {shards}" in plan["derivation"]


def test_explicit_count_wins_over_residents() -> None:
    r = run({"count": 3}, 1_000_000)
    assert shard_count(r) == 3
    plan = r.outputs["capacityPlan"]
    assert (plan["shardCount"], plan["shardCountSource"]) == (3, "agent-os:shards.count")
    assert plan["derived"]["engineShards"] == 20  # still shown, not used


def test_no_count_and_no_residents_is_one_shard() -> None:
    r = run({}, None)
    assert shard_count(r) == 1
    assert r.outputs["capacityPlan"] == {"shardCount": 1, "shardCountSource": "default"}


def test_more_than_64_derived_shards_is_a_config_error_unless_count_is_explicit() -> None:
    with pytest.raises(pulumi.RunError) as exc:
        run({}, 10_000_000)
    assert "agent-os:capacity.residents" in str(exc.value) and "200 engine shards" in str(exc.value)
    cfg = parse({"shards": {"count": 4}, "capacity": {"residents": 10_000_000}}, "t")
    assert cfg.sizing().shard_count == 4


def test_equal_rpc_and_metrics_base_port_is_a_config_error() -> None:
    with pytest.raises(pulumi.RunError, match=r"agent-os:shards\.metricsBasePort"):
        run({"count": 1, "basePort": 9200, "metricsBasePort": 9200}, None)


def test_kafka_partitions_and_workers_explicit_wins() -> None:
    derived = parse({"capacity": {"residents": 1_000_000}}, "t").sizing()
    # Not set in config: the derived 8 for the high-volume topics.
    p = derived.partitions_for(KafkaConfig())
    assert (p.kg_tasks, p.agent_turns, p.kg_staging) == (8, 8, 1)
    # Set in config: config wins.
    explicit = KafkaConfig.model_validate({"partitions": {"kgTasks": 4, "kgStaging": 1, "agentTurns": 2}})
    p = derived.partitions_for(explicit)
    assert (p.kg_tasks, p.agent_turns) == (4, 2)
    assert (derived.workers_for(None), derived.workers_for(5)) == (800, 5)
    plain = parse({}, "t").sizing()
    assert plain.partitions_for(KafkaConfig()) == KafkaConfig().partitions
    assert plain.workers_for(None, default=2) == 2
