"""The plan drawn: graph by layer (transitively reduced, optionally collapsed), Mermaid and SVG."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from pathlib import Path

import pytest

from tests.conftest import evaluate
from tools import diagram, plan
from tools.mockrun import Registered, Run

SVC = "docker:index/service:Service"
NET = "docker:index/network:Network"
GATE = "command:local:Command"
PROV = "pulumi:providers:docker"


def reg(
    type_: str,
    name: str,
    deps: list[str] = [],  # noqa: B006
    parent: str = "",
    provider: str = "",
    **inputs: object,
) -> Registered:
    return Registered(
        urn=f"urn:{type_}::{name}",
        type=type_,
        name=name,
        custom=not type_.startswith("agent-os:"),
        parent=parent,
        provider=provider,
        dependencies=deps,
        inputs=dict(inputs),
    )


def toy_run(connectors: int = 3) -> Run:
    """provider -> net -> db -> gate -> app, plus a direct net -> app edge (implied by the
    chain), and `connectors` fleet services under Connector components that wait for the net."""
    prov = reg(PROV, "docker")
    p = f"{prov.urn}::docker-id"
    data = reg("agent-os:data:DataLayer", "data")
    fleet = reg("agent-os:fleet:FleetLayer", "fleet")
    net = reg(NET, "net-data", provider=p)
    db = reg(SVC, "db", [net.urn], parent=data.urn, provider=p)
    gate = reg(GATE, "db-ready", [db.urn], parent=data.urn, create="... agent-os: db not ready at x ...")
    init = reg(GATE, "db-init", [gate.urn], parent=data.urn, create="psql -f init.sql")
    app = reg(SVC, "app", [gate.urn, net.urn], parent=data.urn, provider=p)
    res = [prov, data, fleet, net, db, gate, init, app]
    for i in range(connectors):
        comp = reg("agent-os:fleet:Connector", f"c{i}", parent=fleet.urn)
        res += [comp, reg(SVC, f"mcp-{i}", [net.urn], parent=comp.urn, provider=p)]
    return Run(stack="toy", preview=False, resources=res)


def labels(g: diagram.Graph) -> dict[str, str]:
    return {n.label: n.id for n in g.nodes.values()}


def test_graph_groups_by_layer_keeps_providers_and_drops_implied_edges() -> None:
    g = diagram.build(toy_run())
    ids = labels(g)
    layers = {layer: {n.label for n in nodes} for layer, nodes in g.by_layer()}
    assert [layer for layer, _ in g.by_layer()] == ["foundation", "data", "fleet"]
    assert layers["foundation"] == {"provider: docker", "Network: net-data"}
    assert layers["data"] == {"Service: db", "Command: db-ready", "Command: db-init", "Service: app"}
    assert layers["fleet"] == {"Service: mcp-0", "Service: mcp-1", "Service: mcp-2"}
    net, db, gate, app = (
        ids[x] for x in ("Network: net-data", "Service: db", "Command: db-ready", "Service: app")
    )
    prov = ids["provider: docker"]
    assert {(prov, net), (net, db), (db, gate), (gate, app)} <= g.edges
    assert (net, app) not in g.edges  # implied by net -> db -> gate -> app
    assert (prov, db) not in g.edges  # implied by provider -> net -> db
    assert (net, app) in diagram.build(toy_run(), reduce=False).edges


def test_collapse_merges_more_than_n_like_siblings() -> None:
    g = diagram.build(toy_run(connectors=5), collapse=4)
    ids = labels(g)
    merged = ids["Service ×5 (Connector)"]
    assert len(g.nodes[merged].members) == 5
    assert (ids["Network: net-data"], merged) in g.edges
    # Groups at or under the threshold stay as they are.
    assert "Service: mcp-0" in labels(diagram.build(toy_run(connectors=4), collapse=4))


def test_mermaid_has_a_subgraph_per_layer_gates_as_hexagons_and_edges() -> None:
    g = diagram.build(toy_run())
    text = diagram.to_mermaid(g)
    assert text.startswith("flowchart LR\n")
    for layer in ("foundation", "data", "fleet"):
        assert f'  subgraph {layer}["{layer}"]' in text
    ids = labels(g)
    assert f'{ids["Command: db-ready"]}{{{{"Command: db-ready"}}}}' in text  # a readiness gate
    assert f'{ids["Command: db-init"]}["Command: db-init"]' in text  # any other command
    assert f"  {ids['Service: db']} --> {ids['Command: db-ready']}" in text
    assert text.count("-->") == len(g.edges)
    assert text.count("  end") == 3


def test_svg_is_rendered_by_graphviz_with_clusters_and_nodes(tmp_path: Path) -> None:
    out = tmp_path / "toy.svg"
    diagram.render_svg(diagram.to_dot(diagram.build(toy_run()), "toy"), out)
    root = ET.parse(out).getroot()
    assert root.tag.endswith("svg")
    texts = {t.text for t in root.iter() if t.tag.endswith("text")}
    assert {"data", "fleet", "foundation", "Service: db", "Command: db-ready"} <= texts
    classes = [g.get("class") for g in root.iter() if g.tag.endswith("g")]
    assert classes.count("cluster") == 3
    assert classes.count("edge") == len(diagram.build(toy_run()).edges)


def test_plan_writes_svg_and_mermaid_and_prints_waves(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    svg, mmd = tmp_path / "out" / "staging.svg", tmp_path / "staging.mmd"
    assert plan.main(["staging", "--svg", str(svg), "--mermaid", str(mmd)]) == 0
    printed = capsys.readouterr().out
    assert "bootstrap waves:" in printed and "longest dependency chain:" in printed
    text = mmd.read_text()
    for name in evaluate("staging").services():
        assert f'"Service: {name}"' in text, name
    assert ET.parse(svg).getroot().tag.endswith("svg")


def test_plan_collapse_applies_to_the_diagram(tmp_path: Path) -> None:
    mmd = tmp_path / "staging.mmd"
    assert plan.main(["staging", "--mermaid", str(mmd), "--collapse", "3"]) == 0
    full = diagram.build(evaluate("staging"))
    assert mmd.read_text().count("\n    n") < len(full.nodes)
    assert "×" in mmd.read_text()
