"""Edge layer settings: the internal zone, ingress addresses, Caddy and Technitium."""

from __future__ import annotations

import ipaddress
from typing import Annotated

from pydantic import Field, field_validator

from .base import ConfigModel, DnsZone, HttpUrl
from .resources import Resources


class CaddyConfig(ConfigModel):
    resources: Resources = Resources(memory="256m", cpus=0.5)
    http_port: Annotated[int, Field(ge=1, le=65535)] = 80
    https_port: Annotated[int, Field(ge=1, le=65535)] = 443


class DnsConfig(ConfigModel):
    resources: Resources = Resources(memory="512m", cpus=0.5)
    forwarders: list[str] = Field(default_factory=lambda: ["1.1.1.1", "9.9.9.9"])
    ttl: Annotated[int, Field(ge=30, le=86400)] = 300
    # How the operator's machine reaches the Technitium API (README: "Admin access").
    api_url: HttpUrl | None = None


class EdgeConfig(ConfigModel):
    zone: Annotated[DnsZone, Field(pattern=r"^([a-z0-9-]+\.)+arpa$")] = "agents.arpa"
    # Addresses of the edge nodes; every routed hostname gets an A record for each.
    ingress_addresses: Annotated[list[str], Field(min_length=1)] = Field(
        default_factory=lambda: ["127.0.0.1"]
    )
    caddy: CaddyConfig = CaddyConfig()
    dns: DnsConfig = DnsConfig()
    # Operators' addresses (IPs or CIDRs) that reach the admin surfaces through Caddy:
    # Keycloak's admin console and API and the master realm, OpenBao's UI and /v1/sys,
    # Portainer, Technitium's console. Empty: nobody.
    admin_allowlist: list[str] = Field(default_factory=list[str])

    @field_validator("admin_allowlist")
    @classmethod
    def _cidrs(cls, v: list[str]) -> list[str]:
        for a in v:
            try:
                ipaddress.ip_network(a, strict=False)
            except ValueError as e:
                raise ValueError(f"{a!r} is not an IP address or CIDR ({e})") from None
        return v

    @field_validator("ingress_addresses")
    @classmethod
    def _ips(cls, v: list[str]) -> list[str]:
        for a in v:
            try:
                ipaddress.IPv4Address(a)
            except ValueError as e:
                raise ValueError(f"{a!r} is not an IPv4 address ({e})") from None
        if len(set(v)) != len(v):
            raise ValueError("duplicate ingress address")
        return v

    def host(self, name: str) -> str:
        return f"{name}.{self.zone}"
