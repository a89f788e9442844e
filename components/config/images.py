"""Image references, pinned by tag, with an optional registry-mirror override."""

from __future__ import annotations

from pydantic import Field, field_validator

from .base import ConfigModel, ImageReference, RegistryHost

# Pinned defaults. `latest` is never a default; see policy `image-pinned`.
DEFAULT_IMAGES: dict[str, str] = {
    "caddy": "docker.io/library/caddy:2.10.2-alpine",
    "technitium": "docker.io/technitium/dns-server:13.6.0",
    # Built from images/ (images/build.sh): nobody publishes these. Build them on each node,
    # or push them to your registry and set agent-os:images.mirror.
    "postgres": "agent-os/postgres-age-pgvector:17-age1.5.0-pgvector0.8.0",
    "kafka": "docker.io/apache/kafka:4.1.0",
    "socat": "docker.io/alpine/socat:1.8.0.3",
    "keycloak": "quay.io/keycloak/keycloak:26.4.2",
    "openbao": "docker.io/openbao/openbao:2.4.3",
    "portainer": "docker.io/portainer/portainer-ce:2.33.2-alpine",
    "portainer-agent": "docker.io/portainer/agent:2.33.2-alpine",
    "prometheus": "docker.io/prom/prometheus:v3.7.3",
    "alertmanager": "docker.io/prom/alertmanager:v0.29.0",
    "loki": "docker.io/grafana/loki:3.5.7",
    "tempo": "docker.io/grafana/tempo:2.9.0",
    "grafana": "docker.io/grafana/grafana:12.2.1",
    "alloy": "docker.io/grafana/alloy:v1.11.3",
    "cadvisor": "gcr.io/cadvisor/cadvisor:v0.53.0",
    "node-exporter": "docker.io/prom/node-exporter:v1.10.2",
    "agent-utilities": "agent-os/agent-utilities:0.52.0",
    "epistemic-graph": "agent-os/epistemic-graph:1.0.0",
    "agent-webui": "agent-os/agent-webui:0.43.0",
    "agent-terminal-ui": "agent-os/agent-terminal-ui:0.16.0",
}


def split_registry(ref: str) -> tuple[str, str]:
    """Split `registry/path:tag` into (registry, rest); Docker Hub when no host part."""
    first, _, rest = ref.partition("/")
    if rest and ("." in first or ":" in first or first == "localhost"):
        return first, rest
    return "docker.io", ref if "/" in ref else f"library/{ref}"


class ImagesConfig(ConfigModel):
    # e.g. "registry.internal:5000": every image is pulled from there instead.
    mirror: RegistryHost | None = None
    overrides: dict[str, ImageReference] = Field(default_factory=dict)
    # Connectors come from the registry file with `:latest`; allow it only explicitly.
    allow_latest_connectors: bool = False

    @field_validator("overrides")
    @classmethod
    def _known(cls, v: dict[str, str]) -> dict[str, str]:
        unknown = sorted(set(v) - set(DEFAULT_IMAGES))
        if unknown:
            raise ValueError(f"unknown image key(s) {unknown}; known: {sorted(DEFAULT_IMAGES)}")
        for key, ref in v.items():
            if ref.endswith(":latest") or (":" not in ref.rsplit("/", 1)[-1] and "@" not in ref):
                raise ValueError(f"image {key}={ref!r} must be pinned by tag or digest, not latest")
        return v

    def ref(self, key: str) -> str:
        return self.resolve(self.overrides.get(key, DEFAULT_IMAGES[key]))

    def resolve(self, ref: str) -> str:
        if not self.mirror:
            return ref
        _, rest = split_registry(ref)
        return f"{self.mirror.rstrip('/')}/{rest}"
