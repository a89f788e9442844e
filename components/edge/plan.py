"""The edge layer, declared (pure): Caddy on every edge node, Technitium pinned with its
zone, and the DNS console's route."""

from __future__ import annotations

from dataclasses import dataclass

from ..config.edge import EdgeConfig
from ..config.swarm import Layer
from ..model import HostPort, Placement, Route, on_label, tier_label

DNS_LABEL = "dns"  # the one node that keeps the authoritative zone
DNS_API_PORT = 5380
DNS_HOST = "dns"
DNS_PORT = 53


@dataclass(frozen=True)
class EdgePlan:
    caddy: Placement
    technitium: Placement
    dns_route: Route  # Technitium's console, routed like every layer's routes

    @property
    def placements(self) -> tuple[Placement, ...]:
        return (self.caddy, self.technitium)


def edge_plan(edge: EdgeConfig) -> EdgePlan:
    c = edge.caddy
    dns = (HostPort(DNS_PORT, "udp"), HostPort(DNS_PORT))
    technitium = Placement("technitium", Layer.EDGE, (on_label(DNS_LABEL),), pinned=True, host_ports=dns)
    web = (HostPort(c.http_port), HostPort(c.https_port), HostPort(c.https_port, "udp"))  # udp: HTTP/3
    return EdgePlan(
        # Host-mode 80/443 on every edge-labelled node (the ingress addresses).
        caddy=Placement(
            "caddy", Layer.EDGE, (on_label(tier_label(Layer.EDGE)),), replicas=None, host_ports=web
        ),
        # Pinned with its zone (the volume is node-local): a move would start an empty zone.
        technitium=technitium,
        # The DNS console and its API administer the zone: admin only.
        dns_route=Route(
            host=DNS_HOST, upstreams=(technitium.at(DNS_API_PORT),), layer=Layer.EDGE, public_paths=()
        ),
    )
