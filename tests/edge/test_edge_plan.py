"""The edge's declaration, purely (no mocks): where Caddy and Technitium run, and the DNS
console's route."""

from __future__ import annotations

from components.config.swarm import Layer
from components.edge.plan import edge_plan


def test_caddy_runs_on_every_edge_node_and_technitium_with_its_zone() -> None:
    p = edge_plan()
    assert (p.caddy.service, p.caddy.replicas, p.caddy.constraints) == (
        "caddy",
        None,
        ("node.labels.edge==true",),
    )
    assert p.technitium.service == "technitium" and p.technitium.pinned
    assert p.technitium.constraints == ("node.labels.dns==true",) and p.technitium.replicas == 1
    assert {x.tier for x in p.placements} == {Layer.EDGE}


def test_the_dns_console_is_routed_to_technitium_and_is_admin_only() -> None:
    r = edge_plan().dns_route
    assert (r.host, r.upstreams) == ("dns", ("technitium:5380",))
    assert r.public_paths == () and r.has_admin_surface
