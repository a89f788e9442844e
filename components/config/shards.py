"""Engine shards: count, ports, known tenants and the re-shard acknowledgement."""

from __future__ import annotations

from typing import Annotated

from pydantic import Field

from .base import ConfigModel
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
    node_label: str = "kg-shard"
    base_graph: str = "__commons__"
    tenants: list[str] = Field(default_factory=list)
    tenants_file: str | None = None
    acknowledge_reshard: ReshardAck | None = None


class CapacityConfig(ConfigModel):
    """Derive counts from a target number of residents (platform.md §13). Explicit wins."""

    residents: Annotated[int, Field(ge=1, le=10**9)] | None = None
