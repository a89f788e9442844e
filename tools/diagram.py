"""The bootstrap graph, drawn: resources grouped by layer, as Graphviz (SVG) and Mermaid.

Nodes are the custom resources of a captured run, providers included (an explicit
provider waits for what it is configured from, e.g. the docker provider for day 0, or
the Keycloak provider for its readiness gate). Edges point from a resource to the ones
that wait for it, reduced transitively: an edge implied by a longer path is not drawn, so
what is left is the ordering, not every data reference. `collapse=N` merges more than N
resources of one type under the same kind of parent in one layer (e.g. 59 connector
services) into one node `Service ×59`, which keeps the Mermaid text readable.
"""

from __future__ import annotations

import shutil
import subprocess
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from . import mockrun
from .graph import Dag, layer_of
from .mockrun import Registered, Run

LAYER_ORDER = ("foundation", "day0", "edge", "data", "core", "agents", "fleet", "shards")

# Fill colours by what a resource is (Graphviz X11 names).
KIND_COLOURS = {
    "service": "lightskyblue",
    "network": "palegreen",
    "object": "khaki",  # Swarm configs and secrets
    "gate": "salmon",  # readiness gates (components/swarm/gate.py)
    "command": "lightsalmon",  # other one-shot commands
    "api": "plum",  # objects created through a service's API (Keycloak, Vault, Postgres)
    "provider": "lightgrey",
    "other": "white",
}


GATE_MARKER = "not ready at"  # the failure message gate_script embeds


def kind_of(type_: str, inputs: dict[str, Any] | None = None) -> str:
    if type_.startswith("command:"):
        create = mockrun.unwrap((inputs or {}).get("create"))
        return "gate" if isinstance(create, str) and GATE_MARKER in create else "command"
    if type_ == "docker:index/service:Service":
        return "service"
    if type_ == "docker:index/network:Network":
        return "network"
    if type_ in ("docker:index/serviceConfig:ServiceConfig", "docker:index/secret:Secret"):
        return "object"
    if type_.startswith("pulumi:providers:"):
        return "provider"
    if type_.split(":", 1)[0] in ("keycloak", "vault", "postgresql"):
        return "api"
    return "other"


def short_type(type_: str) -> str:
    return "provider" if type_.startswith("pulumi:providers:") else type_.rsplit(":", 1)[-1]


@dataclass
class Node:
    id: str
    layer: str
    type: str
    label: str
    kind: str
    members: list[str] = field(default_factory=list[str])  # URNs


@dataclass
class Graph:
    nodes: dict[str, Node]  # by id
    edges: set[tuple[str, str]]  # (before, after)

    def by_layer(self) -> list[tuple[str, list[Node]]]:
        groups: dict[str, list[Node]] = defaultdict(list)
        for n in self.nodes.values():
            groups[n.layer].append(n)
        order = [x for x in LAYER_ORDER if x in groups] + sorted(set(groups) - set(LAYER_ORDER))
        return [(layer, sorted(groups[layer], key=lambda n: (n.type, n.label))) for layer in order]


def _reduce(edges: set[tuple[str, str]]) -> set[tuple[str, str]]:
    """Transitive reduction of a DAG: drop (a, c) when c is reachable from a another way."""
    succ: dict[str, set[str]] = defaultdict(set)
    for a, b in edges:
        succ[a].add(b)
    reach: dict[str, set[str]] = {}

    def reachable(u: str) -> set[str]:
        if u not in reach:
            out: set[str] = set()
            for v in succ[u]:
                out.add(v)
                out |= reachable(v)
            reach[u] = out
        return reach[u]

    kept: set[tuple[str, str]] = set()
    for a, b in edges:
        if not any(b in reachable(c) for c in succ[a] if c != b):
            kept.add((a, b))
    return kept


def build(run: Run, collapse: int = 0, reduce: bool = True) -> Graph:
    dag = Dag.of(run)
    by_urn = {r.urn: r for r in run.resources}
    shown = dict(dag.nodes)

    def group_key(r: Registered) -> tuple[str, str, str]:
        parent = by_urn.get(r.parent)
        return (layer_of(run, r), r.type, parent.type if parent is not None else "")

    groups: dict[tuple[str, str, str], list[Registered]] = defaultdict(list)
    for r in shown.values():
        groups[group_key(r)].append(r)

    nodes: dict[str, Node] = {}
    node_of: dict[str, str] = {}
    for (layer, type_, parent_type), members in sorted(groups.items()):
        if collapse and len(members) > collapse:
            nid = f"n{len(nodes)}"
            owner = short_type(parent_type) if parent_type else layer
            label = f"{short_type(type_)} ×{len(members)} ({owner})"
            kinds = {kind_of(m.type, m.inputs) for m in members}
            kind = kinds.pop() if len(kinds) == 1 else kind_of(type_)
            nodes[nid] = Node(nid, layer, type_, label, kind, [m.urn for m in members])
            for m in members:
                node_of[m.urn] = nid
        else:
            for m in sorted(members, key=lambda m: m.name):
                nid = f"n{len(nodes)}"
                label = f"{short_type(type_)}: {m.name}"
                nodes[nid] = Node(nid, layer, type_, label, kind_of(type_, m.inputs), [m.urn])
                node_of[m.urn] = nid

    # Reduce on the resource DAG itself (collapsing can close cycles), then map.
    raw = {(dep, urn) for urn in shown for dep in dag.deps[urn] if dep in shown}
    edges = {
        (node_of[a], node_of[b]) for a, b in (_reduce(raw) if reduce else raw) if node_of[a] != node_of[b]
    }
    return Graph(nodes, edges)


def _dot_quote(s: str) -> str:
    return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'


def to_dot(g: Graph, title: str = "agent-os") -> str:
    lines = [
        "digraph plan {",
        f"  label={_dot_quote(title)}; labelloc=t; fontname=Helvetica; rankdir=LR; newrank=true;",
        '  node [shape=box, style="rounded,filled", fontname=Helvetica, fontsize=10];',
        "  edge [color=gray40, arrowsize=0.6];",
    ]
    for layer, nodes in g.by_layer():
        lines.append(f"  subgraph cluster_{layer} {{")
        lines.append(f'    label={_dot_quote(layer)}; style="rounded,dashed"; color=gray50; fontsize=12;')
        for n in nodes:
            colour = KIND_COLOURS[n.kind]
            lines.append(f"    {n.id} [label={_dot_quote(n.label)}, fillcolor={colour}];")
        lines.append("  }")
    for a, b in sorted(g.edges):
        lines.append(f"  {a} -> {b};")
    lines.append("}")
    return "\n".join(lines) + "\n"


def _mermaid_label(s: str) -> str:
    return '"' + s.replace('"', "#quot;") + '"'


def to_mermaid(g: Graph) -> str:
    lines = ["flowchart LR"]
    for layer, nodes in g.by_layer():
        lines.append(f"  subgraph {layer}[{_mermaid_label(layer)}]")
        for n in nodes:
            shape = ("{{", "}}") if n.kind == "gate" else ("[", "]")
            lines.append(f"    {n.id}{shape[0]}{_mermaid_label(n.label)}{shape[1]}")
        lines.append("  end")
    for a, b in sorted(g.edges):
        lines.append(f"  {a} --> {b}")
    return "\n".join(lines) + "\n"


class GraphvizMissingError(RuntimeError):
    pass


def render_svg(dot_source: str, path: Path) -> None:
    """`dot -Tsvg` (Debian package `graphviz`; `tools/ci-setup.sh` installs it)."""
    exe = shutil.which("dot")
    if exe is None:
        raise GraphvizMissingError("Graphviz `dot` not found: apt-get install graphviz")
    res = subprocess.run(
        [exe, "-Tsvg", "-o", str(path)], input=dot_source, capture_output=True, text=True, timeout=300
    )
    if res.returncode != 0:
        raise RuntimeError(f"dot failed: {res.stderr.strip()}")


def write(run: Run, svg: Path | None = None, mermaid: Path | None = None, collapse: int = 0) -> Graph:
    g = build(run, collapse=collapse)
    if mermaid is not None:
        mermaid.parent.mkdir(parents=True, exist_ok=True)
        mermaid.write_text(to_mermaid(g))
    if svg is not None:
        svg.parent.mkdir(parents=True, exist_ok=True)
        render_svg(to_dot(g, f"agent-os: stack {run.stack}"), svg)
    return g
