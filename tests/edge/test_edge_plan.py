"""The edge's declaration, purely (no mocks): where Caddy and Technitium run, and the DNS
console's route."""

from __future__ import annotations

import pulumi
import pytest

from components.config.edge import EdgeConfig
from components.config.inventory import HostConfig
from components.config.swarm import Layer
from components.edge.plan import edge_plan
from components.plan import host_port_clashes
from tools import mockrun


def test_caddy_runs_on_every_edge_node_and_technitium_with_its_zone() -> None:
    p = edge_plan(EdgeConfig())
    assert (p.caddy.service, p.caddy.replicas, p.caddy.constraints) == (
        "caddy",
        None,
        ("node.labels.edge==true",),
    )
    assert p.technitium.service == "technitium" and p.technitium.pinned
    assert p.technitium.constraints == ("node.labels.dns==true",) and p.technitium.replicas == 1
    assert {x.tier for x in p.placements} == {Layer.EDGE}


def test_the_dns_console_is_routed_to_technitium_and_is_admin_only() -> None:
    r = edge_plan(EdgeConfig()).dns_route
    assert (r.host, r.upstreams) == ("dns", ("technitium:5380",))
    assert r.public_paths == () and r.has_admin_surface


def test_caddy_and_technitium_publish_their_host_ports() -> None:
    p = edge_plan(EdgeConfig.model_validate({"caddy": {"httpPort": 8080, "httpsPort": 8443}}))
    assert [str(x) for x in p.caddy.host_ports] == ["8080/tcp", "8443/tcp", "8443/udp"]
    assert sorted(str(x) for x in p.technitium.host_ports) == ["53/tcp", "53/udp"]


def test_a_host_port_claimed_twice_on_one_node_is_a_config_error() -> None:
    """Staging's one node is edge and dns: Caddy on 53 would collide with Technitium."""
    over = {
        "agent-os:edge": {**mockrun.stack_config("staging")[0]["agent-os:edge"], "caddy": {"httpPort": 53}}
    }
    with pytest.raises(pulumi.RunError) as e:
        mockrun.run("staging", overrides=over)
    assert (
        "agent-os:edge.caddy: host-mode ports claimed twice (53/tcp on local: caddy and technitium)"
        in str(e.value)
    )


def test_the_same_ports_on_different_nodes_do_not_clash() -> None:
    hosts = [
        HostConfig.model_validate(
            {"name": "a", "address": "10.0.0.1", "role": "manager", "labels": {"edge": True}}
        ),
        HostConfig.model_validate(
            {"name": "b", "address": "10.0.0.2", "role": "worker", "labels": {"dns": True}}
        ),
    ]
    p = edge_plan(EdgeConfig.model_validate({"caddy": {"httpPort": 53}}))
    assert host_port_clashes(p.placements, hosts) == []
    both = [h.model_copy(update={"labels": {"edge": "true", "dns": "true"}}) for h in hosts[:1]]
    assert host_port_clashes(p.placements, both) == ["53/tcp on a: caddy and technitium"]
