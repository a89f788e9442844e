"""Edge layer settings: the internal zone, ingress addresses, Caddy and Technitium."""

from __future__ import annotations

import ipaddress
from typing import Annotated

from pydantic import Field, field_validator, model_validator

from .base import ConfigModel, DnsZone, HttpUrl, Loc, host_or_address, raise_all
from .resources import Resources


class CaddyConfig(ConfigModel):
    resources: Resources = Resources(memory="256m", cpus=0.5)
    http_port: Annotated[int, Field(ge=1, le=65535)] = 80
    https_port: Annotated[int, Field(ge=1, le=65535)] = 443

    @model_validator(mode="after")
    def _two_ports(self) -> CaddyConfig:
        found: list[tuple[Loc, str]] = []
        if self.http_port == self.https_port:
            found.append(
                (("httpsPort",), f"equals httpPort ({self.http_port}); HTTP and HTTPS need their own ports")
            )
        raise_all(found, self.model_dump(by_alias=True))
        return self


def forwarder_problem(v: str) -> str | None:
    """Technitium takes the forwarders as one comma-separated value: each an IP address or a
    hostname, with an optional :port (IPv6 as [address]:port)."""
    host, port = v, None
    if v.startswith("["):
        host, sep, rest = v[1:].partition("]")
        if not sep or (rest and not rest.startswith(":")):
            return "is not [IPv6 address]:port"
        port = rest[1:] if rest else None
    elif v.count(":") == 1:
        host, port = v.split(":")
    if port is not None and not (port.isdigit() and 1 <= int(port) <= 65535):
        return "has a port outside 1-65535"
    try:
        host_or_address(host)
    except ValueError:
        return "must be an IP address or a hostname, with an optional :port"
    return None


class DnsConfig(ConfigModel):
    resources: Resources = Resources(memory="512m", cpus=0.5)
    forwarders: list[str] = Field(default_factory=lambda: ["1.1.1.1", "9.9.9.9"])
    ttl: Annotated[int, Field(ge=30, le=86400)] = 300
    # How the operator's machine reaches the Technitium API (README: "Admin access").
    api_url: HttpUrl | None = None

    @field_validator("forwarders")
    @classmethod
    def _forwarders(cls, v: list[str]) -> list[str]:
        raise_all([((i,), why) for i, f in enumerate(v) if (why := forwarder_problem(f))], v)
        return v


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
