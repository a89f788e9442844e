"""Technitium DNS: authoritative for the stack's .arpa zone; records synced via its API."""

from __future__ import annotations

import json

import pulumi
import pulumi_command as command
import pulumi_docker as docker

from ..config.swarm import Layer
from ..model import Placement, Route
from ..swarm import (
    HealthCheck,
    Platform,
    Probe,
    SecretFile,
    ServiceSpec,
    VolumeMount,
    readiness_gate,
    swarm_service,
)
from ..swarm.adminpassword import admin_password_step
from ..swarm.adminscript import admin_script
from .plan import DNS_API_PORT, DNS_HOST

DNSCTL = admin_script(__file__, "dnsctl.py")


def technitium(
    platform: Platform, placement: Placement, password: pulumi.Output[str], parent: pulumi.Resource
) -> docker.Service:
    d = platform.edge.dns
    secret = platform.secret("technitium-admin-password", password, parent)
    spec = ServiceSpec(
        placement=placement,
        image=platform.image("technitium"),
        resources=d.resources,
        networks=(Layer.EDGE,),
        stateful=True,
        env={
            # Read on first start only; later changes go through the API (the admin
            # password: the `technitium-admin-password` step, components/swarm/adminpassword.py).
            "DNS_SERVER_DOMAIN": platform.edge.host(DNS_HOST),
            "DNS_SERVER_ADMIN_PASSWORD_FILE": "/run/secrets/technitium_admin_password",
            "DNS_SERVER_RECURSION": "AllowOnlyForPrivateNetworks",
            "DNS_SERVER_FORWARDERS": ",".join(d.forwarders),
        },
        secrets=(SecretFile(secret=secret, target="/run/secrets/technitium_admin_password"),),
        volumes=(VolumeMount(source=f"{platform.namespace}-technitium-data", target="/etc/dns"),),
        cap_add=("NET_BIND_SERVICE",),
        health=HealthCheck.tcp(DNS_API_PORT, start_period="30s"),
    )
    return swarm_service(platform, spec, parent)


def desired_records(platform: Platform, routes: list[Route]) -> list[dict[str, str]]:
    zone = platform.edge.zone
    return [
        {"name": r.fqdn(zone), "ip": ip}
        for r in sorted(routes, key=lambda r: r.host)
        for ip in platform.edge.ingress_addresses
    ]


def dns_records(
    platform: Platform,
    routes: list[Route],
    password: pulumi.Output[str],
    after: list[pulumi.Resource],
    parent: pulumi.Resource,
) -> tuple[command.local.Command, command.local.Command]:
    """Gate on the API through Caddy, bring the admin password to the configured one (a
    rotation), then sync one A record per routed host and address."""
    api_url = platform.edge.dns.api_url or f"https://{platform.edge.host(DNS_HOST)}"
    ingress = platform.edge.ingress_addresses[0]
    host = api_url.split("://", 1)[1].split("/", 1)[0]
    gate = readiness_gate(
        "dns-api-ready",
        "Technitium API",
        Probe.http(f"{api_url}/api/user/session/get", platform.trust, resolve=f"{host}:443:{ingress}"),
        platform.access,
        after,
        parent,
    )
    records = json.dumps(desired_records(platform, routes), sort_keys=True)
    api: dict[str, pulumi.Input[str]] = {
        "DNS_API_URL": api_url,
        "DNS_API_CONNECT": "" if platform.edge.dns.api_url else ingress,
        "DNS_API_USER": "admin",
        "DNS_API_PASSWORD": password,
        "DNS_API_INSECURE": "1" if platform.trust.insecure else "0",
        "DNS_API_CA_FILE": platform.trust.ca_file,
    }
    rotate = admin_password_step("technitium-admin-password", f"{DNSCTL} password", api, [gate], parent)
    env: dict[str, pulumi.Input[str]] = {
        **api,
        "DNS_ZONE": platform.edge.zone,
        "DNS_RECORDS": records,
        "DNS_TTL": str(platform.edge.dns.ttl),
    }
    sync = command.local.Command(
        "dns-records",
        create=f"python3 {DNSCTL} sync",
        update=f"python3 {DNSCTL} sync",
        delete=f"python3 {DNSCTL} prune",
        environment=env,
        triggers=[records],
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[gate, rotate]),
    )
    return gate, sync
