"""Day 0's view of the stack plan (pure): which labels and tiers the inventory must carry,
and the host -> services table (recipe step 3, `deployment-planner`). Day 0 receives the
placements from the stack plan (components/plan.py); it imports no layer."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

from ..config.inventory import HostConfig
from ..config.swarm import Layer
from ..model import TRUE, Placement


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


def placement_table(plan: Sequence[Placement], hosts: Sequence[HostConfig]) -> dict[str, Any]:
    """The plan against the inventory, as JSON-ready data (stack output `placement`)."""
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


def placement_markdown(plan: Sequence[Placement], hosts: Sequence[HostConfig]) -> str:
    """Host -> services (pinned/tier-placed by name; connectors and spread-anywhere services
    summarised), then service -> placement with the connector fleet as one row."""
    t = placement_table(plan, hosts)
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
        on = ", ".join(s["hosts"]) if t["hosts"] else "-"
        lines.append(
            f"| {name} | {s['tier']} | {s['replicas']} | {s['maxReplicasPerNode'] or '-'} "
            f"| {s['placement']} | {cons} | {on or '**none**'} |"
        )
    return "\n".join(lines) + "\n"
