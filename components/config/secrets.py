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
    generate: bool = True  # False: must be configured when used (no RandomPassword fallback)


SECRET_KEYS: dict[str, SecretKey] = {
    s.key: s
    for s in (
        SecretKey("postgresPassword", "Postgres superuser password"),
        SecretKey("agentDbPassword", "password of the app's Postgres role"),
        SecretKey("keycloakDbPassword", "password of Keycloak's Postgres role"),
        SecretKey("technitiumAdminPassword", "Technitium DNS admin password"),
        SecretKey("graphServiceAuthSecret", "GRAPH_SERVICE_AUTH_SECRET shared by shards+clients", 48),
        SecretKey("keycloakAdminPassword", "Keycloak bootstrap admin password"),
        SecretKey("platformAdminPassword", "password of the realm's first platform administrator"),
        SecretKey("portainerAdminPassword", "Portainer admin password"),
        SecretKey("portainerAgentSecret", "AGENT_SECRET shared by the Portainer server and its agents", 48),
        SecretKey("grafanaAdminPassword", "Grafana admin password"),
        SecretKey("fleetEventsToken", "X-Fleet-Events-Token for POST /api/fleet/events", 40),
        # External credentials: issued by a system outside this stack, so never generated.
        SecretKey("langfusePublicKey", "Langfuse public key", generate=False),
        SecretKey("langfuseSecretKey", "Langfuse secret key", generate=False),
        SecretKey("gitToken", "token Portainer reads a private GitOps repository with", generate=False),
        SecretKey(
            "connectorCredentials", "connectors' own credentials {connector: {VAR: value}}", generate=False
        ),
        # Day 0 (components/day0/): SSH key for provisioning; never generated.
        SecretKey("sshPrivateKey", "SSH private key day 0 uses to reach the inventory hosts", generate=False),
        # Core layer (components/core/). The seal key is derived (sha256) from this value.
        SecretKey("openbaoSealSecret", "seed of OpenBao's static auto-unseal key", 48),
        SecretKey(
            "openbaoRootToken",
            "OpenBao root token for one run: to adopt an initialised cluster or change the admin login",
        ),
        SecretKey("openbaoAdminRoleId", "AppRole role_id of the program's own OpenBao admin login", 36),
        SecretKey("openbaoAdminSecretId", "AppRole secret_id of the program's own OpenBao admin login", 40),
        SecretKey("openbaoAgentRoleId", "AppRole role_id of agent-utilities", 36),
        SecretKey("openbaoAgentSecretId", "AppRole secret_id of agent-utilities", 40),
        SecretKey("agentUtilitiesClientSecret", "Keycloak secret of client agent-utilities", 40),
        SecretKey("webuiSvcClientSecret", "Keycloak secret of client agent-webui-svc", 40),
        SecretKey("grafanaOidcSecret", "Keycloak secret of client grafana", 40),
        SecretKey("portainerOidcSecret", "Keycloak secret of client portainer", 40),
        SecretKey("alertmanagerClientSecret", "Keycloak secret of client alertmanager", 40),
    )
}
