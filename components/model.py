"""The shared plan model (pure: no Pulumi). Every layer's `plan.py` declares its services
with these; builders, day 0 and the edge read them from the stack plan (`plan.py`)."""

from __future__ import annotations

import re
from dataclasses import dataclass

from .config.inventory import HostConfig, Role
from .config.swarm import Layer

TRUE = "true"
_LABEL = re.compile(r"^node\.labels\.([A-Za-z0-9._-]+)\s*(==|!=)\s*(\S+)$")
_ROLE = re.compile(r"^node\.role\s*(==|!=)\s*(manager|worker)$")
MANAGER = "node.role==manager"


def on_label(label: str, value: str = TRUE) -> str:
    """The placement constraint `node.labels.<label>==<value>`."""
    return f"node.labels.{label}=={value}"


def tier_label(tier: Layer) -> str:
    """Tier labels are the layer names: a host in the data tier carries `data=true`."""
    return tier.value


@dataclass(frozen=True)
class HostPort:
    """A port a service publishes in host mode on every node it runs on (no IPVS here)."""

    port: int
    protocol: str = "tcp"

    def __str__(self) -> str:
        return f"{self.port}/{self.protocol}"


@dataclass(frozen=True)
class Placement:
    """Where one Swarm service runs: its name (also its DNS name on the overlays), tier,
    constraints, replica count and per-node cap. The one statement of these facts."""

    service: str
    tier: Layer
    constraints: tuple[str, ...] = ()
    replicas: int | None = 1  # None: global (one task per eligible node)
    max_replicas_per_node: int | None = None
    pinned: bool = False  # a stateful member pinned by a node label
    host_ports: tuple[HostPort, ...] = ()  # published on each node it runs on

    def labels(self) -> list[tuple[str, str]]:
        """The (label, value) pairs a node must carry to run this service."""
        out = []
        for c in self.constraints:
            m = _LABEL.match(c)
            if m and m.group(2) == "==":
                out.append((m.group(1), m.group(3)))
        return out

    def role(self) -> Role | None:
        """The node role a `node.role==<role>` constraint requires, if any."""
        for c in self.constraints:
            m = _ROLE.match(c)
            if m and m.group(1) == "==":
                return Role(m.group(2))
        return None

    def eligible(self, host: HostConfig) -> bool:
        for c in self.constraints:
            if m := _LABEL.match(c):
                key, op, value = m.groups()
                if (host.labels.get(key) == value) != (op == "=="):
                    return False
            elif m := _ROLE.match(c):
                op, role = m.groups()
                if (host.role is Role(role)) != (op == "=="):
                    return False
        return True

    @property
    def kind(self) -> str:
        """pinned (its own label), global (every node), tier (a label/role constraint), any."""
        if self.pinned:
            return "pinned"
        if self.replicas is None:
            return "global"
        return "tier" if self.labels() or self.role() else "any"

    def at(self, port: int) -> str:
        """`service:port`, the address other services dial on a shared overlay."""
        return f"{self.service}:{port}"


@dataclass(frozen=True, kw_only=True)
class Route:
    """One HTTPS route a layer registers with the edge."""

    host: str  # short name; the FQDN is <host>.<zone>
    upstreams: tuple[str, ...]  # "service:port", resolved on the edge overlay
    layer: Layer
    health_uri: str | None = None
    health_port: int | None = None
    # The Keycloak client whose browser logins come back to this host (its redirect URIs
    # and web origins are this route's origin: one place for the host both sides use).
    login_client: str | None = None
    # Paths the world never reaches through this route (Caddy answers 404), e.g. /metrics,
    # which Prometheus scrapes in-cluster. Each also covers everything below it.
    private_paths: tuple[str, ...] = ()
    # Admin surfaces: reachable only from the operators' allow-list (edge.adminAllowlist;
    # empty: from nowhere). `admin_paths` are restricted (each covers everything below it);
    # with `public_paths` set, every path outside them is restricted too, and an empty
    # `public_paths` makes the whole host an admin surface.
    admin_paths: tuple[str, ...] = ()
    public_paths: tuple[str, ...] | None = None

    @property
    def has_admin_surface(self) -> bool:
        return bool(self.admin_paths) or self.public_paths is not None

    def fqdn(self, zone: str) -> str:
        return f"{self.host}.{zone}"


def check_unique(routes: list[Route]) -> None:
    seen: dict[str, Route] = {}
    for r in routes:
        if r.host in seen:
            raise ValueError(f"route host {r.host!r} registered twice ({seen[r.host].layer}, {r.layer})")
        seen[r.host] = r
