"""The shards layer, declared (pure): N engine shards, each pinned by its own node label
(`<nodeLabel>-N=true`, so one node can carry several shards), at the endpoints every client
hashes, with their telemetry."""

from __future__ import annotations

from dataclasses import dataclass

from components.config.shards import ShardsConfig, Sizing
from components.config.swarm import Layer
from components.model import Placement, on_label
from components.observability import Telemetry
from shards.endpoints import ShardMode, endpoints, metrics_port, shard_mode
from shards.telemetry import ShardAddress, shard_telemetry


def host_and_port(endpoint: str) -> tuple[str, int]:
    """`tcp://host:port` split at the last ':' (as the app does)."""
    if not endpoint.startswith("tcp://"):
        raise ValueError(f"shard endpoint {endpoint!r} is not tcp://host:port")
    host, _, port = endpoint.removeprefix("tcp://").rpartition(":")
    return host, int(port)


def shard_label(node_label: str, n: int) -> str:
    """Shard N's node label key: a node carrying `<label>-N=true` hosts shard N (one key per
    shard, not one `<label>=N` value, so a single node can hold several shards)."""
    return f"{node_label}-{n}"


@dataclass(frozen=True)
class ShardPlan:
    address: ShardAddress
    placement: Placement


@dataclass(frozen=True)
class ShardsPlan:
    # THE endpoint list, in shard order: clients hash these exact strings (HRW).
    endpoints: tuple[str, ...]
    shards: tuple[ShardPlan, ...]
    sizing: Sizing
    telemetry: Telemetry

    @property
    def mode(self) -> ShardMode:
        return shard_mode(len(self.endpoints))

    @property
    def placements(self) -> tuple[Placement, ...]:
        return tuple(s.placement for s in self.shards)


def shards_plan(s: ShardsConfig, sizing: Sizing) -> ShardsPlan:
    eps = tuple(endpoints(sizing.shard_count, s.base_port, s.host_template))
    shards = []
    for n, ep in enumerate(eps, start=1):
        service = host_and_port(ep)[0]
        address = ShardAddress(
            n=n, endpoint=ep, service=service, metrics_port=metrics_port(n, s.metrics_base_port)
        )
        placement = Placement(service, Layer.AGENTS, (on_label(shard_label(s.node_label, n)),), pinned=True)
        shards.append(ShardPlan(address=address, placement=placement))
    return ShardsPlan(
        endpoints=eps,
        shards=tuple(shards),
        sizing=sizing,
        telemetry=shard_telemetry([p.address for p in shards]),
    )
