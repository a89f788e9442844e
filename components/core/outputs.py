"""The typed contract the core layer hands to the layers above it (fleet, UIs).

Every field a toggled-off integration owns is None; consumers must degrade cleanly.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import pulumi
import pulumi_docker as docker


@dataclass(frozen=True)
class KeycloakOutputs:
    issuer: str  # https://sso.<zone>/realms/agents (public, as agent-utilities expects)
    jwks_uri: str  # <issuer>/protocol/openid-connect/certs
    # The same keys over the overlay (http://keycloak:8080/...): what in-cluster verifiers
    # fetch. Containers neither trust Caddy's `tls internal` root nor resolve the zone
    # unless the hosts forward it; the issuer string stays the public one tokens carry.
    internal_jwks_uri: str
    realm: str
    api_client_id: str  # "agent-utilities": audience of REST/MCP JWTs
    webui_client_id: str  # "agent-webui": public, auth code + PKCE
    webui_svc_client_id: str  # "agent-webui-svc": confidential, service account
    webui_svc_client_secret: pulumi.Output[str]  # secret
    desktop_client_id: str  # "geniusbot": public, loopback redirect (RFC 8252)
    ready: pulumi.Resource  # realm/clients exist once this is created
    # The realm itself: its JWKS endpoint answers once this exists (all a JWT verifier needs).
    jwks_ready: pulumi.Resource | None = None


@dataclass(frozen=True)
class OpenBaoOutputs:
    url: str  # https://openbao.<zone> (in-cluster: http://openbao:8200, every member)
    internal_url: str
    kv_mount: str
    approle_role_id: pulumi.Output[str]  # secret
    approle_secret_id: pulumi.Output[str]  # secret
    refs: dict[str, str]  # logical name -> vault://path#field
    ready: pulumi.Resource
    # For the operator (stack outputs, secret): the program's admin login, which replaces
    # the revoked root token (`bao write auth/approle-admin/login -` reads it), and the
    # recovery keys (generate-root). See README "OpenBao: root token and recovery".
    admin_login: pulumi.Output[dict[str, str]]
    recovery_keys: pulumi.Output[list[str]]


@dataclass(frozen=True)
class LgtmOutputs:
    prometheus_url: str  # in-cluster, for SCALING_PROMETHEUS_URL
    otlp_traces_endpoint: str  # full .../v1/traces URL (Tempo)
    alertmanager_url: str


@dataclass(frozen=True)
class CoreOutputs:
    keycloak: KeycloakOutputs | None = None
    openbao: OpenBaoOutputs | None = None
    lgtm: LgtmOutputs | None = None
    portainer_url: str | None = None
    # Docker secrets other layers mount (e.g. AppRole secret_id), by logical name.
    docker_secrets: dict[str, docker.Secret] = field(default_factory=dict[str, docker.Secret])
