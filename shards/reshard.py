# pyright: strict
"""Resharding plans: which tenant graphs change shard when the endpoint list changes.

HRW moves no data (platform.md §9, "Resharding caveat"): a graph whose shard
changes comes back empty on the new shard until it is migrated.  This module
computes the affected graphs and an operator runbook for moving them.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from shards.routing import DEFAULT_GRAPH, Router, tenant_graph_name

__all__ = [
    "Move",
    "ReshardPlan",
    "TenantsFileError",
    "load_tenants",
    "migration_steps",
    "plan_reshard",
]


class TenantsFileError(ValueError):
    """The tenants file cannot be read or decoded."""


@dataclass(frozen=True, slots=True)
class Move:
    """One graph whose HRW shard changes."""

    tenant: str
    graph: str
    from_endpoint: str
    to_endpoint: str


@dataclass(frozen=True, slots=True)
class ReshardPlan:
    """Graphs that move between ``old_endpoints`` and ``new_endpoints``.

    ``total`` counts distinct graphs considered (tenants mapping to the same
    graph name are counted once); ``moved_fraction`` is ``len(moved) / total``
    (``0.0`` when there are no graphs).
    """

    moved: list[Move]
    total: int
    moved_fraction: float
    old_endpoints: tuple[str, ...] = field(default=())
    new_endpoints: tuple[str, ...] = field(default=())


def plan_reshard(
    old: Sequence[str],
    new: Sequence[str],
    tenants: Iterable[str],
    base: str = DEFAULT_GRAPH,
) -> ReshardPlan:
    """Route every tenant graph with ``old`` and ``new`` endpoints and list the moves.

    Each tenant's graph is ``tenant_graph_name(tenant, base)``.  Duplicate
    graph names are considered once (first tenant wins).  Raises
    :class:`ValueError` if either endpoint list has no non-empty endpoint.
    """
    old_router = Router(old)
    new_router = Router(new)
    seen: set[str] = set()
    moved: list[Move] = []
    for tenant in tenants:
        graph = tenant_graph_name(tenant, base)
        if graph in seen:
            continue
        seen.add(graph)
        src = old_router.route(graph)
        dst = new_router.route(graph)
        if src != dst:
            moved.append(Move(tenant=tenant, graph=graph, from_endpoint=src, to_endpoint=dst))
    total = len(seen)
    return ReshardPlan(
        moved=moved,
        total=total,
        moved_fraction=(len(moved) / total) if total else 0.0,
        old_endpoints=old_router.endpoints,
        new_endpoints=new_router.endpoints,
    )


def migration_steps(plan: ReshardPlan) -> list[str]:
    """Operator runbook for ``plan`` (platform.md §9 resharding caveat), one line per action."""
    old_list = ",".join(plan.old_endpoints) or "<current list>"
    new_list = ",".join(plan.new_endpoints) or "<new list>"
    if not plan.moved:
        return [
            f"No graph changes shard ({plan.total} checked); no data to migrate.",
            (
                "1. Switch the endpoint list everywhere (GRAPH_SERVICE_ENDPOINTS, "
                f"restart required) from {old_list} to {new_list}."
            ),
        ]
    graphs = ", ".join(m.graph for m in plan.moved)
    steps: list[str] = [
        (
            f"{len(plan.moved)} of {plan.total} graph(s) change shard "
            f"({plan.moved_fraction:.2%}); HRW moves no data, so migrate them as follows."
        ),
        f"1. Quiesce writers (at least every writer to the moved graphs: {graphs}).",
    ]
    steps.extend(
        f"2. Export graph {m.graph} (tenant {m.tenant!r}) from {m.from_endpoint} "
        f"with to_msgpack (or copy that shard's --persist-dir)."
        for m in plan.moved
    )
    steps.append(
        f"3. Switch the endpoint list everywhere (GRAPH_SERVICE_ENDPOINTS on every client and "
        f"worker, byte-identical strings, restart required) from {old_list} to {new_list}."
    )
    steps.extend(f"4. Import graph {m.graph} on {m.to_endpoint} with from_msgpack." for m in plan.moved)
    steps.extend(f"5. Delete the stale copy of graph {m.graph} on {m.from_endpoint}." for m in plan.moved)
    kept = set(plan.new_endpoints)
    removed = [e for e in plan.old_endpoints if e not in kept]
    if removed:
        steps.append(f"6. Decommission removed shard(s) once empty: {', '.join(removed)}.")
    steps.append(f"{7 if removed else 6}. Resume writers.")
    return steps


def load_tenants(path: str | os.PathLike[str]) -> list[str]:
    """Read tenants, one per line.

    Lines are stripped; blank lines and lines starting with ``#`` are skipped;
    duplicates are dropped keeping first-seen order.  Raises
    :class:`TenantsFileError` (a :class:`ValueError`) if the file cannot be
    read or is not UTF-8.
    """
    try:
        with open(path, encoding="utf-8") as fh:
            text = fh.read()
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
        raise TenantsFileError(f"cannot read tenants file {os.fspath(path)!r}: {reason}") from exc
    tenants: list[str] = []
    seen: set[str] = set()
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or line in seen:
            continue
        seen.add(line)
        tenants.append(line)
    return tenants
