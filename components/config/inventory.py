"""Day 0: the hosts of the swarm, how to reach them, and whether the program provisions them.

`provision: true` turns bare hosts (Docker + SSH) into the swarm: init, joins, node labels,
a final check; the SSH private key is the secret `agent-os:sshPrivateKey` (never generated).
`provision: false` attaches to the existing swarm at `agent-os:swarm.dockerHost`; the hosts
(optional) then document the labels the nodes must carry.
"""

from __future__ import annotations

import ipaddress
import re
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, field_validator, model_validator

from .base import LABEL_KEY, MANAGED_LABELS, ConfigModel, HttpUrl, Loc, label_key_problem, raise_all

__all__ = [
    "LABEL_KEY",
    "LABEL_VALUE",
    "MANAGED_LABELS",
    "HostConfig",
    "InventoryConfig",
    "Role",
    "TopologyConfig",
]

LABEL_VALUE = r"^[A-Za-z0-9]([A-Za-z0-9._-]{0,62})?$"
HOST_NAME = r"^[a-z]([a-z0-9-]{0,30}[a-z0-9])?$"
ADDRESS = r"^[A-Za-z0-9]([A-Za-z0-9.:-]{0,252}[A-Za-z0-9])?$"


class Role(StrEnum):
    MANAGER = "manager"
    WORKER = "worker"


class HostConfig(ConfigModel):
    name: Annotated[str, Field(pattern=HOST_NAME)]
    address: Annotated[str, Field(pattern=ADDRESS)]  # IP (advertise address) or DNS name
    ssh_user: Annotated[str, Field(pattern=r"^[a-z_][a-z0-9_-]{0,31}$")] = "root"
    port: Annotated[int, Field(ge=1, le=65535)] = 22
    role: Role = Role.WORKER
    # Tier labels (edge, core, data, agents, fleet = "true") and per-member labels
    # (postgres=true, kafka-broker=2, ...). Written as YAML scalars; stored as strings.
    labels: dict[str, str] = Field(default_factory=dict)

    @field_validator("labels", mode="before")
    @classmethod
    def _scalars(cls, v: Any) -> Any:
        if isinstance(v, dict):
            return {k: (str(x).lower() if isinstance(x, bool) else str(x)) for k, x in v.items()}
        return v

    @field_validator("labels")
    @classmethod
    def _label_syntax(cls, v: dict[str, str]) -> dict[str, str]:
        found: list[tuple[Loc, str]] = []
        for k, x in v.items():
            if why := label_key_problem(k):
                found.append(((k,), why))
            elif not re.fullmatch(LABEL_VALUE, x):
                found.append(((k,), f"label {k}={x!r}: value must match {LABEL_VALUE}"))
        raise_all(found, v)
        return v

    @property
    def ip(self) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
        try:
            return ipaddress.ip_address(self.address)
        except ValueError:
            return None

    def has(self, label: str, value: str) -> bool:
        return self.labels.get(label) == value


class TopologyConfig(ConfigModel):
    """The topology manifest (recipe step 9). Always a stack output; `post` also sends it."""

    post: bool = False
    url: HttpUrl | None = None  # graph-os endpoint


class InventoryConfig(ConfigModel):
    provision: bool = False
    hosts: list[HostConfig] = Field(default_factory=list)
    # Final check: every host Ready with its labels, bounded retries.
    check_retries: Annotated[int, Field(ge=1, le=120)] = 24
    check_interval_seconds: Annotated[int, Field(ge=1, le=60)] = 5
    topology: TopologyConfig = TopologyConfig()

    @model_validator(mode="after")
    def _hosts(self) -> InventoryConfig:
        names: set[str] = set()
        addresses: dict[str, str] = {}
        for h in self.hosts:
            if h.name in names:
                raise ValueError(f"host {h.name}: duplicate name")
            names.add(h.name)
            addr = str(h.ip) if h.ip else h.address.lower()
            if addr in addresses:
                raise ValueError(f"host {h.name}: address {h.address} is also host {addresses[addr]}'s")
            addresses[addr] = h.name
        if self.provision and not self.hosts:
            raise ValueError("provision is true but no hosts are listed")
        for h in self.hosts:
            if self.provision and h.ip is None:
                raise ValueError(
                    f"host {h.name}: address {h.address!r} must be an IP when provisioning "
                    "(it is the swarm advertise and data-path address)"
                )
        if self.hosts:
            managers = [h.name for h in self.managers]
            if not 1 <= len(managers) <= 7 or len(managers) % 2 == 0:
                raise ValueError(
                    f"needs an odd number of managers from 1 to 7 for Raft quorum; "
                    f"got {len(managers)} ({', '.join(managers) or 'none'})"
                )
        return self

    @property
    def managers(self) -> list[HostConfig]:
        return [h for h in self.hosts if h.role is Role.MANAGER]

    @property
    def workers(self) -> list[HostConfig]:
        return [h for h in self.hosts if h.role is Role.WORKER]

    @property
    def leader(self) -> HostConfig:
        """The first manager: swarm init runs here, and the Docker provider dials it."""
        return self.managers[0]
