"""The placement plan (recipe step 3, `deployment-planner`): a pure function of config.

For every Swarm service the program registers: its tier, its placement constraints, its
replica count and per-node cap. Stateful members are pinned by a node label; stateless
services spread. From the plan follow the labels the inventory must carry
(`required_labels`), the tiers it must cover, and the host -> services table.

The layers set their own constraints; tests/day0/test_placement.py compares this plan with
the constraints registered on every docker.Service of both stacks, so drift fails a test.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

from shards.deploy import host_and_port
from shards.endpoints import endpoints

from ..config import StackConfig
from ..config.inventory import HostConfig, Role
from ..config.swarm import Layer
from ..core.lgtm_config import CADVISOR_SERVICE, NODE_EXPORTER_SERVICE
from ..core.portainer import AGENT_SERVICE
from ..core.routes import GRAFANA_SERVICE, PORTAINER_SERVICE
from ..data.kafka import broker_name
from ..data.postgres import SERVICE as POSTGRES
from ..fleet import plan_connectors
from ..fleet.autonomy import uses_docker_socket
from ..fleet.dispatch_worker import SERVICE as DISPATCH
from ..fleet.ingest_worker import SERVICE as INGEST
from ..fleet.terminal_ui import SERVICE as TERMINAL_UI
from ..fleet.webui import SERVICE as WEBUI
from ..swarm import names

TRUE = "true"
_LABEL = re.compile(r"^node\.labels\.([A-Za-z0-9._-]+)\s*(==|!=)\s*(\S+)$")
_ROLE = re.compile(r"^node\.role\s*(==|!=)\s*(manager|worker)$")


def on_label(label: str, value: str = TRUE) -> str:
    return f"node.labels.{label}=={value}"


def tier_label(tier: Layer) -> str:
    """Tier labels are the layer names: a host in the data tier carries `data=true`."""
    return tier.value


@dataclass(frozen=True)
class Placement:
    service: str
    tier: Layer
    constraints: tuple[str, ...] = ()
    replicas: int | None = 1  # None: global (one task per eligible node)
    max_replicas_per_node: int | None = None
    pinned: bool = False  # a stateful member pinned by a node label

    def labels(self) -> list[tuple[str, str]]:
        """The (label, value) pairs a node must carry to run this service."""
        out = []
        for c in self.constraints:
            m = _LABEL.match(c)
            if m and m.group(2) == "==":
                out.append((m.group(1), m.group(3)))
        return out

    def role(self) -> Role | None:
        """The node role a `node.role==<role>` constraint requires, if any."""
        for c in self.constraints:
            m = _ROLE.match(c)
            if m and m.group(1) == "==":
                return Role(m.group(2))
        return None

    def eligible(self, host: HostConfig) -> bool:
        for c in self.constraints:
            if m := _LABEL.match(c):
                key, op, value = m.groups()
                if (host.labels.get(key) == value) != (op == "=="):
                    return False
            elif m := _ROLE.match(c):
                op, role = m.groups()
                if (host.role is Role(role)) != (op == "=="):
                    return False
        return True

    @property
    def kind(self) -> str:
        """pinned (its own label), global (every node), tier (a label/role constraint), any."""
        if self.pinned:
            return "pinned"
        if self.replicas is None:
            return "global"
        return "tier" if self.labels() or self.role() else "any"


def _edge(cfg: StackConfig) -> list[Placement]:
    edge = on_label(tier_label(Layer.EDGE))
    # Host-mode 80/443 on every edge-labelled node (the ingress addresses); DNS pinned with
    # its zone to the node labelled dns.
    return [
        Placement("caddy", Layer.EDGE, (edge,), replicas=None),
        Placement("technitium", Layer.EDGE, (on_label("dns"),), pinned=True),
    ]


def _data(cfg: StackConfig) -> list[Placement]:

    out = [Placement(POSTGRES, Layer.DATA, (on_label(cfg.data.postgres.node_label),), pinned=True)]
    if cfg.integrations.kafka:
        out += [
            Placement(broker_name(n), Layer.DATA, (on_label("kafka-broker", str(n)),), pinned=True)
            for n in range(1, cfg.data.kafka.brokers + 1)
        ]
        out.append(Placement("kafka-init", Layer.DATA))
    return out


def _core(cfg: StackConfig) -> list[Placement]:

    on, core = cfg.integrations, cfg.core
    manager = "node.role==manager"
    out: list[Placement] = []
    if on.keycloak:
        # Stateless (JDBC_PING cluster), spread over nodes by the service's spread preference.
        out.append(Placement(names.KEYCLOAK_SERVICE, Layer.CORE, replicas=core.keycloak.replicas))
    if on.openbao:
        b = core.openbao
        out += [
            Placement(name, Layer.CORE, (on_label(b.node_label, str(n)),), pinned=True)
            for n, name in enumerate(b.member_names, start=1)
        ]
    if on.portainer:
        out += [
            Placement(AGENT_SERVICE, Layer.CORE, ("node.platform.os==linux",), replicas=None),
            Placement(
                PORTAINER_SERVICE, Layer.CORE, (manager, on_label(core.portainer.node_label)), pinned=True
            ),
        ]
    if on.lgtm:
        pin = on_label(core.lgtm.node_label)
        out += [
            Placement(NODE_EXPORTER_SERVICE, Layer.CORE, replicas=None),
            Placement(CADVISOR_SERVICE, Layer.CORE, replicas=None),
            # Swarm service discovery needs a manager's Docker API.
            Placement(names.PROMETHEUS_SERVICE, Layer.CORE, (manager, pin), pinned=True),
            Placement(names.ALERTMANAGER_SERVICE, Layer.CORE, (pin,), pinned=True),
            Placement(names.LOKI_SERVICE, Layer.CORE, (pin,), pinned=True),
            Placement(names.TEMPO_SERVICE, Layer.CORE, (pin,), pinned=True),
            Placement(GRAFANA_SERVICE, Layer.CORE, (pin,), pinned=True),
        ]
    return out


def _fleet(cfg: StackConfig) -> list[Placement]:

    f, sizing = cfg.fleet, cfg.sizing()
    daemon = [on_label(f.kg_daemon_node_label)]
    if uses_docker_socket(f.autonomy):
        daemon.append("node.role==manager")  # `docker service` needs a manager's API
    # Stateless processes spread over nodes (spread=node.id); the KG host daemon is the
    # singleton holding the host lock on its volume: pinned, at most one per node.
    out = [
        Placement(names.GATEWAY_SERVICE, Layer.AGENTS, replicas=f.gateway_replicas),
        Placement(names.KG_DAEMON_SERVICE, Layer.AGENTS, tuple(daemon), max_replicas_per_node=1, pinned=True),
        Placement(names.GRAPH_OS_SERVICE, Layer.AGENTS, replicas=f.graph_os_replicas),
    ]
    if cfg.app.task_queue_backend.value == "kafka":
        out.append(Placement(INGEST, Layer.AGENTS, replicas=sizing.workers_for(f.ingest_workers.replicas)))
    if cfg.app.agent_dispatch_backend.value == "queue":
        out.append(
            Placement(DISPATCH, Layer.AGENTS, replicas=sizing.workers_for(f.dispatch_workers.replicas))
        )
    if f.webui.enabled:
        out.append(Placement(WEBUI, Layer.AGENTS, replicas=f.webui.replicas))
    if f.terminal_ui.enabled:
        out.append(Placement(TERMINAL_UI, Layer.AGENTS, replicas=f.terminal_ui.replicas))
    label = (on_label(f.connector_node_label),) if f.connector_node_label else ()
    _, connectors, _ = plan_connectors(cfg)
    out += [Placement(c.name, Layer.FLEET, label, replicas=c.deployed_replicas) for c in connectors]
    return out


def _shards(cfg: StackConfig) -> list[Placement]:

    s = cfg.shards
    eps = endpoints(cfg.sizing().shard_count, s.base_port, s.host_template)
    return [
        Placement(host_and_port(ep)[0], Layer.AGENTS, (on_label(s.node_label, str(n)),), pinned=True)
        for n, ep in enumerate(eps, start=1)
    ]


PLANNERS = (_edge, _data, _core, _shards, _fleet)


_last: list[tuple[StackConfig, tuple[Placement, ...]]] = []  # config is frozen: reuse per config


def placement_plan(cfg: StackConfig) -> tuple[Placement, ...]:
    """Every Swarm service of the stack, in layer order."""
    if _last and _last[0][0] is cfg:
        return _last[0][1]
    plan = tuple(p for planner in PLANNERS for p in planner(cfg))
    names = [p.service for p in plan]
    dup = {n for n in names if names.count(n) > 1}
    if dup:
        raise ValueError(f"placement plan names services twice: {sorted(dup)}")
    _last[:] = [(cfg, plan)]
    return plan


def required_labels(plan: Iterable[Placement]) -> dict[tuple[str, str], list[str]]:
    """(label, value) -> the services that need a node carrying it."""
    out: dict[tuple[str, str], list[str]] = {}
    for p in plan:
        for lv in p.labels():
            out.setdefault(lv, []).append(p.service)
    return dict(sorted(out.items()))


def required_tiers(plan: Iterable[Placement]) -> dict[Layer, list[str]]:
    """Tier -> services of the enabled layers in it; each tier needs a host labelled for it."""
    out: dict[Layer, list[str]] = {}
    for p in plan:
        out.setdefault(p.tier, []).append(p.service)
    return {t: out[t] for t in Layer if t in out}


def hosts_for(p: Placement, hosts: Sequence[HostConfig]) -> list[str]:
    return [h.name for h in hosts if p.eligible(h)]


def placement_table(cfg: StackConfig) -> dict[str, Any]:
    """The plan against the inventory, as JSON-ready data (stack output `placement`)."""
    plan = placement_plan(cfg)
    hosts = cfg.inventory.hosts
    services: dict[str, Any] = {}
    by_host: dict[str, list[str]] = {h.name: [] for h in hosts}
    for p in plan:
        eligible = hosts_for(p, hosts)
        services[p.service] = {
            "tier": p.tier.value,
            "replicas": "global" if p.replicas is None else p.replicas,
            "constraints": list(p.constraints),
            "maxReplicasPerNode": p.max_replicas_per_node,
            "placement": p.kind,
            "hosts": eligible,
        }
        for h in eligible:
            by_host[h].append(p.service)
    return {
        "hosts": {
            h.name: {
                "address": h.address,
                "role": h.role.value,
                "labels": dict(sorted(h.labels.items())),
                "services": by_host[h.name],
            }
            for h in hosts
        },
        "services": services,
    }


def _labels_cell(labels: dict[str, str]) -> str:
    return ", ".join(k if v == TRUE else f"{k}={v}" for k, v in sorted(labels.items())) or "-"


def _count(s: dict[str, Any]) -> str:
    r = s["replicas"]
    return "" if r in (1, "global") else f" ×{r}"


def placement_markdown(cfg: StackConfig) -> str:
    """Host -> services (pinned/tier-placed by name; connectors and spread-anywhere services
    summarised), then service -> placement with the connector fleet as one row."""
    t = placement_table(cfg)
    svcs: dict[str, Any] = t["services"]
    fleet = [n for n, s in svcs.items() if s["tier"] == Layer.FLEET.value]
    anywhere = [n for n, s in svcs.items() if s["placement"] == "any" and n not in fleet]
    everywhere = [n for n, s in svcs.items() if s["placement"] == "global"]
    lines = ["| host | address | role | labels | services placed by label or role |", "|---|---|---|---|---|"]
    for name, h in t["hosts"].items():
        here = [s for s in h["services"] if s not in fleet and s not in anywhere and s not in everywhere]
        cell = ", ".join(f"**{s}**" if svcs[s]["placement"] == "pinned" else s for s in here)
        n_fleet = sum(1 for s in h["services"] if s in fleet)
        if n_fleet:
            cell += f"{', ' if cell else ''}{n_fleet} connectors"
        lines.append(
            f"| {name} | {h['address']} | {h['role']} | {_labels_cell(h['labels'])} | {cell or '-'} |"
        )
    lines += [
        "",
        "**Bold**: a stateful member pinned by its own label. "
        f"On every node (global): {', '.join(everywhere) or '-'}. "
        f"Anywhere (stateless, spread): {', '.join(f'{n}{_count(svcs[n])}' for n in anywhere) or '-'}.",
        "",
        "| service | tier | replicas | max/node | placement | constraints | eligible hosts |",
        "|---|---|---|---|---|---|---|",
    ]
    rows = [(n, svcs[n]) for n in svcs if n not in fleet]
    if fleet:
        reps = sorted({svcs[n]["replicas"] for n in fleet}, key=str)
        first = svcs[fleet[0]]
        rows.append(
            (
                f"{len(fleet)} `*-mcp` connectors",
                {**first, "replicas": "/".join(map(str, reps)), "maxReplicasPerNode": None},
            )
        )
    for name, s in rows:
        cons = ", ".join(f"`{c}`" for c in s["constraints"]) or "any node"
        hosts = ", ".join(s["hosts"]) if t["hosts"] else "-"
        lines.append(
            f"| {name} | {s['tier']} | {s['replicas']} | {s['maxReplicasPerNode'] or '-'} "
            f"| {s['placement']} | {cons} | {hosts or '**none**'} |"
        )
    return "\n".join(lines) + "\n"
