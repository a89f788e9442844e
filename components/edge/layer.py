"""Edge layer: Caddy (HTTPS ingress) and Technitium (authoritative .arpa DNS)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_command as command
import pulumi_docker as docker

from ..model import Route
from ..swarm import Platform
from ..swarm.secretvalues import StackSecrets
from .caddy import caddy, root_ca, root_ca_file, root_certificate, root_pem
from .plan import EdgePlan
from .technitium import dns_records, technitium


@dataclass(frozen=True)
class EdgeOutputs:
    zone: str
    urls: dict[str, str]  # route host -> https URL
    login_origins: dict[str, list[str]]  # Keycloak client id -> origins of its routes
    root_ca_pem: pulumi.Output[str]  # the stack's Caddy root certificate (admin clients trust it)
    caddy: docker.Service
    dns_ready: command.local.Command  # passes once Caddy routes and Technitium answers


def login_origins(routes: list[Route], zone: str) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for r in routes:
        if r.login_client:
            out.setdefault(r.login_client, []).append(f"https://{r.fqdn(zone)}")
    return out


class EdgeLayer(pulumi.ComponentResource):
    def __init__(
        self,
        platform: Platform,
        secrets: StackSecrets,
        plan: EdgePlan,
        routes: list[Route],
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("agent-os:edge:Edge", "edge", None, opts)
        all_routes = [plan.dns_route, *routes]
        password = secrets.value("technitiumAdminPassword")
        self.technitium = technitium(platform, plan.technitium, password, self)
        self.root_ca = root_ca(platform, self)
        pem = root_pem(self.root_ca)
        self.root_cert = root_certificate(pem)
        self.root_ca_file = root_ca_file(platform, self.root_cert, self)
        self.caddy = caddy(platform, plan.caddy, all_routes, pem, self)
        self.dns_gate, self.dns_records = dns_records(
            platform, all_routes, password, [self.caddy, self.technitium, self.root_ca_file], self
        )
        zone = platform.edge.zone
        self.outputs = EdgeOutputs(
            zone=zone,
            urls={r.host: f"https://{r.fqdn(zone)}" for r in all_routes},
            login_origins=login_origins(all_routes, zone),
            root_ca_pem=self.root_cert,
            caddy=self.caddy,
            dns_ready=self.dns_gate,
        )
        self.register_outputs({"zone": zone, "urls": self.outputs.urls})
