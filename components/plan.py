"""The stack plan: every layer's declaration (its `plan.py`), composed from config before
any resource exists and handed downward. Day 0 receives the placements, the edge the
routes, each layer its own plan. Pure: no Pulumi."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from shards.plan import ShardsPlan, shards_plan

from .config import StackConfig
from .config.inventory import HostConfig
from .config.model import ConfigError
from .core.plan import OPENBAO_HOST, PORTAINER_HOST, SSO_HOST, CorePlan, core_plan
from .data.plan import DataPlan, data_plan
from .day0.inventory import check_inventory
from .edge.plan import EdgePlan, edge_plan
from .fleet.plan import FleetPlan, fleet_plan
from .model import HostPort, Placement, Route, check_unique
from .observability import Telemetry


@dataclass(frozen=True)
class StackPlan:
    edge: EdgePlan
    data: DataPlan
    core: CorePlan
    shards: ShardsPlan
    fleet: FleetPlan

    @property
    def placements(self) -> tuple[Placement, ...]:
        """Every Swarm service of the stack, in layer order."""
        return (
            *self.edge.placements,
            *self.data.placements,
            *self.core.placements,
            *self.shards.placements,
            *self.fleet.placements,
        )

    @property
    def routes(self) -> tuple[Route, ...]:
        """What the layers above the edge route through it (the edge adds its own)."""
        return (*self.core.routes, *self.fleet.routes)

    @property
    def telemetry(self) -> tuple[Telemetry, ...]:
        """What the layers hand Prometheus and Alertmanager (the core renders it)."""
        return (self.shards.telemetry, self.fleet.telemetry)


def stack_plan(cfg: StackConfig) -> StackPlan:
    """Raises ConfigError naming the key when config cannot be planned (e.g. the registry)."""
    plan = StackPlan(
        edge=edge_plan(cfg.edge),
        data=data_plan(cfg.data, cfg.integrations.kafka),
        core=core_plan(cfg.core, cfg.integrations),
        shards=shards_plan(cfg.shards, cfg.sizing()),
        fleet=fleet_plan(cfg),
    )
    names = [p.service for p in plan.placements]
    dup = sorted({n for n in names if names.count(n) > 1})
    if dup:
        raise ConfigError("agent-os:fleet.registryPath", f"service name(s) {dup} are planned twice")
    try:
        check_unique([plan.edge.dns_route, *plan.routes])
    except ValueError as e:
        raise ConfigError("agent-os:edge", str(e)) from None
    return plan


def admin_hosts_through_caddy(cfg: StackConfig, plan: StackPlan) -> list[str]:
    """Admin surfaces the program's own steps reach through Caddy (their admin URL is not
    set elsewhere), from the machine that runs `pulumi up`."""
    core = cfg.core
    reached = [
        (plan.edge.dns_route.host, cfg.edge.dns.api_url),
        *([(SSO_HOST, core.keycloak.admin_url)] if plan.core.keycloak else []),
        *([(OPENBAO_HOST, core.openbao.admin_url)] if plan.core.openbao else []),
        *([(PORTAINER_HOST, core.portainer.admin_url)] if plan.core.portainer else []),
    ]
    return [host for host, url in reached if url is None]


def host_port_clashes(placements: Sequence[Placement], hosts: Sequence[HostConfig]) -> list[str]:
    """Two services publishing the same host-mode port and protocol on one node: the second
    task would never start there (`port already allocated`)."""
    claims: dict[tuple[str, HostPort], list[str]] = {}
    for p in placements:
        for h in hosts:
            if p.eligible(h):
                for port in p.host_ports:
                    claims.setdefault((h.name, port), []).append(p.service)
    return [f"{port} on {host}: {' and '.join(s)}" for (host, port), s in claims.items() if len(s) > 1]


def check(cfg: StackConfig, plan: StackPlan) -> None:
    """Rules that need the whole plan. Raises ConfigError."""
    check_inventory(cfg, plan.placements)  # the inventory can run the placements
    clashes = host_port_clashes(plan.placements, cfg.inventory.hosts)
    if clashes:
        raise ConfigError(
            "agent-os:edge.caddy",
            f"host-mode ports claimed twice ({'; '.join(clashes)}); change httpPort/httpsPort "
            "or keep those services on different nodes",
        )
    hosts = admin_hosts_through_caddy(cfg, plan)
    if hosts and not cfg.edge.admin_allowlist:
        raise ConfigError(
            "agent-os:edge.adminAllowlist",
            "is empty, so nobody reaches the admin surfaces, yet this stack's own admin steps "
            f"call {', '.join(f'{h}.{cfg.edge.zone}' for h in hosts)} through Caddy from the machine "
            "running `pulumi up`: list that machine's address (IP or CIDR), or set the admin URLs "
            "(edge.dns.apiUrl, core.<service>.adminUrl) to a path that does not cross the ingress",
        )
