# pyright: strict
"""Engine-shard helpers for agent-os: HRW routing, endpoint lists, resharding, capacity.

Pure Python (no Pulumi imports) so it can be used from the Pulumi program,
from tests and from the ``python -m shards`` CLI alike.
"""

from __future__ import annotations

from shards.capacity import Capacity, derive, explain
from shards.endpoints import endpoints, metrics_port, shard_mode
from shards.reshard import (
    Move,
    ReshardPlan,
    TenantsFileError,
    load_tenants,
    migration_steps,
    plan_reshard,
)
from shards.routing import (
    DEFAULT_GRAPH,
    Router,
    choose_shard,
    hrw_score,
    routing_key,
    tenant_graph_name,
)

__all__ = [
    "DEFAULT_GRAPH",
    "Capacity",
    "Move",
    "ReshardPlan",
    "Router",
    "TenantsFileError",
    "choose_shard",
    "derive",
    "endpoints",
    "explain",
    "hrw_score",
    "load_tenants",
    "metrics_port",
    "migration_steps",
    "plan_reshard",
    "routing_key",
    "shard_mode",
    "tenant_graph_name",
]
