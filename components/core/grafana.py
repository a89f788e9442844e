"""Grafana: provisioned Prometheus/Loki/Tempo datasources, Keycloak SSO when on."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_docker as docker

from ..config.core import LgtmConfig
from ..config.swarm import Layer
from ..model import Placement
from ..swarm import ConfigFile, HealthCheck, Platform, SecretFile, ServiceSpec, VolumeMount
from .lgtm_config import GRAFANA_UID
from .plan import GRAFANA_HOST, GRAFANA_PORT


@dataclass(frozen=True)
class GrafanaSso:
    """Public settings for Grafana's generic OAuth against Keycloak."""

    client_id: str
    auth_url: str  # public (browser)
    token_url: str  # internal (core overlay)
    api_url: str  # internal userinfo
    client_secret: pulumi.Output[str]


def grafana_spec(
    platform: Platform,
    lg: LgtmConfig,
    datasources: docker.ServiceConfig,
    admin_password: docker.Secret,
    sso: GrafanaSso | None,
    placement: Placement,
    parent: pulumi.Resource,
) -> ServiceSpec:
    secrets = [
        SecretFile(secret=admin_password, target="/run/secrets/grafana_admin_password", uid=GRAFANA_UID)
    ]
    env: dict[str, pulumi.Input[str]] = {
        "GF_SERVER_ROOT_URL": f"https://{platform.cfg.edge.host(GRAFANA_HOST)}/",
        "GF_SECURITY_ADMIN_USER": "admin",
        "GF_SECURITY_ADMIN_PASSWORD__FILE": "/run/secrets/grafana_admin_password",
        "GF_ANALYTICS_REPORTING_ENABLED": "false",
        "GF_USERS_ALLOW_SIGN_UP": "false",
    }
    if sso is not None:
        oidc = platform.secret("grafana-oidc-secret", sso.client_secret, parent)
        secrets.append(SecretFile(secret=oidc, target="/run/secrets/grafana_oidc_secret", uid=GRAFANA_UID))
        env |= {
            "GF_AUTH_GENERIC_OAUTH_ENABLED": "true",
            "GF_AUTH_GENERIC_OAUTH_NAME": "Keycloak",
            "GF_AUTH_GENERIC_OAUTH_ALLOW_SIGN_UP": "true",
            "GF_AUTH_GENERIC_OAUTH_CLIENT_ID": sso.client_id,
            "GF_AUTH_GENERIC_OAUTH_CLIENT_SECRET__FILE": "/run/secrets/grafana_oidc_secret",
            "GF_AUTH_GENERIC_OAUTH_SCOPES": "openid profile email",
            "GF_AUTH_GENERIC_OAUTH_AUTH_URL": sso.auth_url,
            "GF_AUTH_GENERIC_OAUTH_TOKEN_URL": sso.token_url,
            "GF_AUTH_GENERIC_OAUTH_API_URL": sso.api_url,
            "GF_AUTH_GENERIC_OAUTH_USE_PKCE": "true",
            "GF_AUTH_GENERIC_OAUTH_ROLE_ATTRIBUTE_PATH": (
                "contains(roles[*], 'webui:admin') && 'Admin' || "
                "contains(roles[*], 'admin:cluster-read') && 'Editor' || 'Viewer'"
            ),
        }
    return ServiceSpec(
        placement=placement,
        image=platform.image("grafana"),
        env=env,
        configs=(
            ConfigFile(
                config=datasources,
                target="/etc/grafana/provisioning/datasources/agent-os.yaml",
                uid=GRAFANA_UID,
            ),
        ),
        secrets=tuple(secrets),
        volumes=(VolumeMount(source=f"{platform.namespace}-grafana-data", target="/var/lib/grafana"),),
        resources=lg.grafana,
        networks=(Layer.CORE, Layer.EDGE),
        # Grafana 12's search index holds a file lock: never two tasks (stop-first).
        stateful=True,
        health=HealthCheck.wget(GRAFANA_PORT, "/api/health"),
    )
