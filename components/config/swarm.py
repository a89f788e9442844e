"""Cluster-wide settings: namespace, endpoint mode, Docker host, overlay networks."""

from __future__ import annotations

import ipaddress
from enum import StrEnum
from typing import Annotated

from pydantic import Field, field_validator

from .base import ConfigModel


class EndpointMode(StrEnum):
    VIP = "vip"
    DNSRR = "dnsrr"


class Layer(StrEnum):
    """The overlay network layers, bottom-up."""

    EDGE = "edge"
    DATA = "data"
    CORE = "core"
    AGENTS = "agents"
    FLEET = "fleet"


class NetworkConfig(ConfigModel):
    subnet: str | None = None
    mtu: Annotated[int, Field(ge=576, le=9000)] | None = None
    # Attachable only where a design reason exists (see README: admin tunnel on data).
    attachable: bool = False

    @field_validator("subnet")
    @classmethod
    def _cidr(cls, v: str | None) -> str | None:
        if v is not None:
            ipaddress.ip_network(v, strict=True)
        return v


NAME = r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$"


class SwarmConfig(ConfigModel):
    namespace: Annotated[str, Field(pattern=NAME)] = "agent-os"
    endpoint_mode: EndpointMode = EndpointMode.VIP
    docker_host: str = "unix:///var/run/docker.sock"
    ssh_opts: list[str] = Field(default_factory=list)
    converge_timeout: Annotated[str, Field(pattern=r"^[0-9]+[smh]$")] = "5m"
    networks: dict[Layer, NetworkConfig] = Field(default_factory=dict)

    @field_validator("networks")
    @classmethod
    def _disjoint(cls, v: dict[Layer, NetworkConfig]) -> dict[Layer, NetworkConfig]:
        nets = [(k, ipaddress.ip_network(n.subnet)) for k, n in v.items() if n.subnet]
        for i, (a, na) in enumerate(nets):
            for b, nb in nets[i + 1 :]:
                if na.overlaps(nb):
                    raise ValueError(f"subnets of {a} and {b} overlap ({na} / {nb})")
        return v
