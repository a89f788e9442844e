"""The creation DAG of a captured run: waves Pulumi can run in parallel, longest chain."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass

from .mockrun import Registered, Run

LAYER_OF_TYPE_PREFIX = {
    "agent-os:edge:": "edge",
    "agent-os:data:": "data",
    "agent-os:core:": "core",
    "agent-os:fleet:": "fleet",
    "agent-os:shards:": "shards",
    "agent-os:swarm:": "foundation",
    "agent-os:day0:": "day0",
}


@dataclass(frozen=True)
class Dag:
    nodes: dict[str, Registered]  # custom resources (incl. providers) by URN
    deps: dict[str, set[str]]  # urn -> urns it waits for

    @staticmethod
    def of(run: Run) -> Dag:
        nodes = {r.urn: r for r in run.resources if r.custom}
        deps: dict[str, set[str]] = {}
        for urn, r in nodes.items():
            d = {u for u in r.dependencies if u in nodes}
            if r.provider:
                prov = r.provider.rsplit("::", 1)[0]
                if prov in nodes:
                    d.add(prov)
            d.discard(urn)
            deps[urn] = d
        return Dag(nodes, deps)

    def waves(self) -> list[list[str]]:
        level: dict[str, int] = {}

        def depth(u: str, stack: frozenset[str] = frozenset()) -> int:
            if u in level:
                return level[u]
            if u in stack:
                raise ValueError(f"dependency cycle through {u}")
            level[u] = 1 + max((depth(d, stack | {u}) for d in self.deps[u]), default=-1)
            return level[u]

        for u in self.nodes:
            depth(u)
        out: dict[int, list[str]] = defaultdict(list)
        for u, lv in level.items():
            out[lv].append(u)
        return [sorted(out[i]) for i in range(len(out))]

    def longest_chain(self) -> list[str]:
        waves = self.waves()
        level = {u: i for i, w in enumerate(waves) for u in w}
        if not waves:
            return []
        cur = waves[-1][0]
        chain = [cur]
        while self.deps[cur]:
            cur = max(self.deps[cur], key=lambda d: (level[d], d))
            chain.append(cur)
        return list(reversed(chain))

    def reaches(self, src: str, dst: str) -> bool:
        """True when `dst` (transitively) waits for `src`."""
        seen: set[str] = set()
        todo = [dst]
        while todo:
            u = todo.pop()
            for d in self.deps[u]:
                if d == src:
                    return True
                if d not in seen:
                    seen.add(d)
                    todo.append(d)
        return False


def layer_of(run: Run, r: Registered) -> str:
    """The layer a resource belongs to: its nearest agent-os component ancestor."""
    by_urn = {x.urn: x for x in run.resources}
    cur: Registered | None = r
    while cur is not None:
        for prefix, layer in LAYER_OF_TYPE_PREFIX.items():
            if cur.type.startswith(prefix):
                return layer
        cur = by_urn.get(cur.parent)
    return "foundation"


def label(r: Registered) -> str:
    short = r.type.split(":")[-1]
    return f"{short}:{r.name}"
