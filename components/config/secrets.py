"""Secret stack-config keys. Each is set with `pulumi config set --secret`, or generated.

Values never pass through the pydantic model: they are read as Pulumi secret Outputs.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class SecretKey:
    key: str
    description: str
    length: int = 32
    special: bool = False


SECRET_KEYS: dict[str, SecretKey] = {
    s.key: s
    for s in (
        SecretKey("postgresPassword", "Postgres superuser password"),
        SecretKey("agentDbPassword", "password of the app's Postgres role"),
        SecretKey("keycloakDbPassword", "password of Keycloak's Postgres role"),
        SecretKey("technitiumAdminPassword", "Technitium DNS admin password"),
        SecretKey("graphServiceAuthSecret", "GRAPH_SERVICE_AUTH_SECRET shared by shards+clients", 48),
        SecretKey("keycloakAdminPassword", "Keycloak bootstrap admin password"),
        SecretKey("portainerAdminPassword", "Portainer admin password"),
        SecretKey("grafanaAdminPassword", "Grafana admin password"),
        SecretKey("fleetEventsToken", "X-Fleet-Events-Token for POST /api/fleet/events", 40),
        SecretKey("langfusePublicKey", "Langfuse public key"),
        SecretKey("langfuseSecretKey", "Langfuse secret key"),
        SecretKey("gitToken", "token Portainer uses to read the GitOps repository"),
    )
}
