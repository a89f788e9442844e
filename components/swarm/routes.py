"""HTTPS routes every layer registers with the edge. Computed from config alone, so the
edge never depends on an upper layer's resources (layers depend downward only)."""

from __future__ import annotations

from dataclasses import dataclass

from ..config.swarm import Layer


@dataclass(frozen=True, kw_only=True)
class Route:
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

    def fqdn(self, zone: str) -> str:
        return f"{self.host}.{zone}"


def check_unique(routes: list[Route]) -> None:
    seen: dict[str, Route] = {}
    for r in routes:
        if r.host in seen:
            raise ValueError(f"route host {r.host!r} registered twice ({seen[r.host].layer}, {r.layer})")
        seen[r.host] = r
