"""Engine shards: count, ports, known tenants, the re-shard acknowledgement, and the
capacity model that can derive the counts (explicit config always wins)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated, Any

from pydantic import Field, field_validator

from shards.capacity import Capacity, derive, explain
from shards.endpoints import MAX_SHARDS

from .base import ConfigModel
from .data import KafkaConfig, KafkaPartitions
from .resources import Resources


class ReshardAck(ConfigModel):
    """Explicit acknowledgement of exactly one from->to shard-count change."""

    from_count: Annotated[int, Field(ge=1, le=64, alias="from")]
    to_count: Annotated[int, Field(ge=1, le=64, alias="to")]


class ShardsConfig(ConfigModel):
    count: Annotated[int, Field(ge=1, le=64)] | None = None
    base_port: Annotated[int, Field(ge=1024, le=65000)] = 9101
    metrics_base_port: Annotated[int, Field(ge=1024, le=65000)] = 9111
    host_template: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]*\{n\}[a-z0-9-]*$")] = "kg-shard-{n}"
    resources: Resources = Resources(memory="2g", cpus=1.0)
    # Shard N runs on the node labelled `<nodeLabel>-N=true` (one key per shard).
    node_label: str = "kg-shard"
    base_graph: str = "__commons__"
    # Known tenants (checked on a re-shard). `tenantsFile` is relative to the project dir,
    # one tenant per line, `#` comments; both may be given (union).
    tenants: list[str] = Field(default_factory=list)
    tenants_file: str | None = None
    acknowledge_reshard: ReshardAck | None = None
    # Stack whose `shardCount`/`shardEndpoints` outputs are "what was last deployed".
    # Default: this stack itself, `<organization>/<project>/<stack>`.
    state_ref: Annotated[str, Field(pattern=r"^[^/\s]+/[^/\s]+/[^/\s]+$")] | None = None

    @field_validator("tenants")
    @classmethod
    def _tenants(cls, v: list[str]) -> list[str]:
        for t in v:
            if not t.strip():
                raise ValueError("a tenant must not be empty")
        return v


class CapacityConfig(ConfigModel):
    """Derive counts from a target number of residents (platform.md §13). Explicit wins."""

    residents: Annotated[int, Field(ge=1, le=10**9)] | None = None


@dataclass(frozen=True)
class Sizing:
    """Counts the layers use, with where each came from. Explicit config always wins."""

    shard_count: int
    shard_count_source: str  # the config key (or "default") the count came from
    capacity: Capacity | None  # the §13 derivation, when agent-os:capacity.residents is set

    @property
    def workers(self) -> int | None:
        """Derived worker count (ceil(active/25)); None without a resident target."""
        return self.capacity.workers if self.capacity else None

    @property
    def kafka_partitions(self) -> int | None:
        """Derived partitions for the high-volume topics; None without a resident target."""
        return self.capacity.kafka_partitions if self.capacity else None

    def workers_for(self, explicit: int | None, default: int = 1) -> int:
        """A worker count: the explicit config value, else the derived one, else `default`."""
        if explicit is not None:
            return explicit
        return self.workers if self.workers is not None else default

    def partitions_for(self, kafka: KafkaConfig) -> KafkaPartitions:
        """Topic partitions: explicit `agent-os:data.kafka.partitions` wins, else the derived
        count for kg_tasks and agent_turns (kg_staging stays as configured), else defaults."""
        if "partitions" in kafka.model_fields_set or self.kafka_partitions is None:
            return kafka.partitions
        n = self.kafka_partitions
        return kafka.partitions.model_copy(update={"kg_tasks": n, "agent_turns": n})

    def plan(self) -> dict[str, Any]:
        """The `capacityPlan` stack output: values, their source and the derivation."""
        out: dict[str, Any] = {
            "shardCount": self.shard_count,
            "shardCountSource": self.shard_count_source,
        }
        if self.capacity is not None:
            c = self.capacity
            out |= {
                "residents": c.residents,
                "derived": {
                    "engineShards": c.engine_shards,
                    "workers": c.workers,
                    "nodes": c.nodes,
                    "kafkaPartitions": c.kafka_partitions,
                    "pgShards": c.pg_shards,
                    "active": c.active,
                    "eventsPerSec": c.events_per_sec,
                },
                "derivation": explain(c.residents),
            }
        return out


def resolve_sizing(shards: ShardsConfig, capacity: CapacityConfig) -> Sizing:
    """Shard count: `agent-os:shards.count`, else derived from residents, else 1."""
    cap = derive(capacity.residents) if capacity.residents is not None else None
    if shards.count is not None:
        return Sizing(shards.count, "agent-os:shards.count", cap)
    if cap is not None:
        return Sizing(max(1, cap.engine_shards), "agent-os:capacity.residents", cap)
    return Sizing(1, "default", None)


def shards_problem(shards: ShardsConfig, capacity: CapacityConfig) -> tuple[str, str] | None:
    """A (key path, reason) the config loader turns into a ConfigError, or None."""
    if shards.count is None and capacity.residents is not None:
        derived = derive(capacity.residents).engine_shards
        if derived > MAX_SHARDS:
            return (
                "agent-os:capacity.residents",
                f"derives {derived} engine shards (ceil({capacity.residents}/50000)), more than "
                f"{MAX_SHARDS}; set agent-os:shards.count explicitly",
            )
    if shards.base_port == shards.metrics_base_port:
        return (
            "agent-os:shards.metricsBasePort",
            f"equals agent-os:shards.basePort ({shards.base_port}); RPC and metrics need their own ports",
        )
    return None
