"""Keycloak: Postgres-backed, behind Caddy; realm `agents`, roles and clients as code."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pulumi
import pulumi_docker as docker
import pulumi_keycloak as keycloak
import pulumi_postgresql as postgresql

from ..config.swarm import Layer
from ..data.layer import DataOutputs
from ..model import Placement
from ..swarm import HealthCheck, Probe, ServiceSpec, readiness_gate, swarm_service
from ..swarm.adminpassword import admin_password_step
from ..swarm.adminscript import admin_script
from ..swarm.context import CorePlatform
from ..swarm.entrypoint import SecretEnv, secrets_entrypoint
from .lgtm_config import TokenClient
from .outputs import KeycloakOutputs
from .plan import (
    ALERTMANAGER_CLIENT,
    API_CLIENT,
    DESKTOP_CLIENT,
    GRAFANA_CLIENT,
    GRAFANA_HOST,
    KEYCLOAK_HTTP_PORT,
    KEYCLOAK_MANAGEMENT_PORT,
    KEYCLOAK_SERVICE,
    PORTAINER_CLIENT,
    PORTAINER_HOST,
    SSO_HOST,
    WEBUI_CLIENT,
    WEBUI_SVC_CLIENT,
)

KEYCLOAK_UID = "1000"  # the image's `keycloak` user
KEYCLOAK_GID = "0"
KC_SH = "/opt/keycloak/bin/kc.sh"
KEYCLOAKCTL = admin_script(__file__, "keycloakctl.py")

# Realm roles (platform.md §7). Composites: kg:admin > kg:write > kg:read.
ROLES = ("kg:read", "kg:write", "kg:admin", "admin:cluster-read", "webui:admin")
COMPOSITES = {"kg:write": ("kg:read",), "kg:admin": ("kg:write",)}
DESKTOP_REDIRECTS = ("http://127.0.0.1/*", "http://[::1]/*")
PLATFORM_ADMIN_ROLES = ("kg:admin", "webui:admin")
# Service-account role mappings.
SERVICE_ACCOUNT_ROLES = {API_CLIENT: ("kg:admin",), WEBUI_SVC_CLIENT: ("kg:write", "admin:cluster-read")}
# (ALERTMANAGER_CLIENT has none: POST /api/fleet/events checks no role, only a valid JWT.)
# Clients whose access tokens carry `aud: agent-utilities` (REST/MCP JWT audience).
AUDIENCE_CLIENTS = (API_CLIENT, WEBUI_CLIENT, WEBUI_SVC_CLIENT, DESKTOP_CLIENT, ALERTMANAGER_CLIENT)


def _slug(role: str) -> str:
    return role.replace(":", "-")


def public_url(platform: CorePlatform) -> str:
    return f"https://{platform.edge.host(SSO_HOST)}"


def issuer(platform: CorePlatform) -> str:
    return f"{public_url(platform)}/realms/{platform.core.keycloak.realm}"


def internal_url() -> str:
    """In-cluster (core overlay) base URL, for back-channel calls (token, userinfo)."""
    return f"http://{KEYCLOAK_SERVICE}:{KEYCLOAK_HTTP_PORT}"


def internal_oidc_url(platform: CorePlatform) -> str:
    """The realm's OpenID Connect endpoints in-cluster (`/token`, `/userinfo`, `/certs`)."""
    return f"{internal_url()}/realms/{platform.core.keycloak.realm}/protocol/openid-connect"


def token_client(platform: CorePlatform, client_id: str) -> TokenClient:
    """`client_id` fetching client-credentials tokens from the realm, in-cluster."""
    return TokenClient(client_id, f"{internal_oidc_url(platform)}/token")


def keycloak_database(
    platform: CorePlatform, data: DataOutputs, password: pulumi.Output[str], parent: pulumi.Resource
) -> postgresql.Database:
    kc = platform.core.keycloak
    opts = pulumi.ResourceOptions(parent=parent, provider=data.postgres_provider)
    role = postgresql.Role("role-keycloak", name=kc.db_role, login=True, password=password, opts=opts)
    # From template1 with AGE already in it (data layer): Keycloak's migrations drop things.
    db_opts = pulumi.ResourceOptions.merge(
        opts, pulumi.ResourceOptions(depends_on=[data.databases.age_template])
    )
    return postgresql.Database(
        "db-keycloak",
        name=kc.database,
        owner=role.name,
        template=data.databases.age_template.database,
        opts=db_opts,
    )


def keycloak_service(
    platform: CorePlatform,
    placement: Placement,
    data: DataOutputs,
    database: postgresql.Database,
    db_password: pulumi.Output[str],
    admin_password: pulumi.Output[str],
    parent: pulumi.Resource,
) -> docker.Service:
    kc = platform.core.keycloak
    # Keycloak reads no *_FILE variables: the with-secrets entrypoint exports the files.
    entry = secrets_entrypoint(platform, "keycloak", parent)
    wrapped = entry.wrap(
        [
            SecretEnv(
                env="KC_DB_PASSWORD",
                secret=platform.secret("keycloak-db-password", db_password, parent),
                file_name="keycloak_db_password",
            ),
            # Used only while the master realm has no admin (first start); a rotated
            # password is set through the admin API (`keycloak-admin-password`).
            SecretEnv(
                env="KC_BOOTSTRAP_ADMIN_PASSWORD",
                secret=platform.secret("keycloak-admin-password", admin_password, parent),
                file_name="keycloak_admin_password",
            ),
        ],
        uid=KEYCLOAK_UID,
        gid=KEYCLOAK_GID,
    )
    clustered = kc.replicas > 1
    env: dict[str, pulumi.Input[str]] = {
        "KC_DB": "postgres",
        "KC_DB_URL_HOST": data.postgres_host,
        "KC_DB_URL_PORT": str(data.postgres_port),
        "KC_DB_URL_DATABASE": kc.database,
        "KC_DB_USERNAME": kc.db_role,
        "KC_BOOTSTRAP_ADMIN_USERNAME": kc.admin_user,
        # TLS ends at Caddy; hostname v2 takes the full public URL.
        "KC_HTTP_ENABLED": "true",
        "KC_HTTP_PORT": str(KEYCLOAK_HTTP_PORT),
        "KC_PROXY_HEADERS": "xforwarded",
        "KC_HOSTNAME": public_url(platform),
        "KC_HOSTNAME_BACKCHANNEL_DYNAMIC": "true",
        "KC_HEALTH_ENABLED": "true",
        "KC_METRICS_ENABLED": "true",
        # jdbc-ping (26.x default stack) clusters over the DB; a single replica stays local.
        "KC_CACHE": "ispn" if clustered else "local",
        **wrapped.env,
    }
    probe = (
        f"exec 3<>/dev/tcp/127.0.0.1/{KEYCLOAK_MANAGEMENT_PORT} && "
        "printf 'GET /health/ready HTTP/1.0\\r\\nHost: localhost\\r\\n\\r\\n' >&3 && "
        "read -r status <&3 && [[ $status == *' 200'* ]]"
    )
    spec = ServiceSpec(
        placement=placement,
        image=platform.image("keycloak"),
        command=(*wrapped.command, KC_SH),
        args=("start",),
        env=env,
        secrets=wrapped.secrets,
        configs=wrapped.configs,
        resources=kc.resources,
        # One backend overlay (data, for Postgres) + core + edge (Caddy).
        # fleet: the connectors fetch the realm's JWKS in-cluster (internal_jwks_uri).
        networks=(Layer.CORE, Layer.EDGE, Layer.DATA, Layer.FLEET),
        spread=("node.id",) if clustered else (),
        # The image has no curl: bash /dev/tcp against the management port.
        health=HealthCheck(
            test=("CMD", "bash", "-c", probe),
            interval="15s",
            timeout="5s",
            retries=10,
            start_period=kc.start_period,
        ),
        stop_grace_period="60s",
        depends_on=(database,),
    )
    return swarm_service(platform, spec, parent)


def keycloak_provider(
    platform: CorePlatform,
    admin_password: pulumi.Output[str],
    after: list[pulumi.Resource],
    root_ca_pem: pulumi.Output[str],
    parent: pulumi.Resource,
) -> tuple[keycloak.Provider, pulumi.Resource]:
    """Gate on the realm discovery document through Caddy, bring the master admin's password
    to the configured one (a rotation: keycloakctl.py), then a provider configured from
    preview-known config (URL) and the admin password secret; no login at configure time."""
    kc = platform.core.keycloak
    acc = platform.access
    url = (kc.admin_url or public_url(platform)).rstrip("/")
    resolve = None
    if not kc.admin_url:
        resolve = f"{platform.edge.host(SSO_HOST)}:443:{platform.edge.ingress_addresses[0]}"
    gate = readiness_gate(
        "keycloak-ready",
        "Keycloak",
        Probe.http(f"{url}/realms/master/.well-known/openid-configuration", platform.trust, resolve),
        acc,
        after,
        parent,
    )
    rotate = admin_password_step(
        "keycloak-admin-password",
        f"{KEYCLOAKCTL} password",
        {
            "KC_ADMIN_URL": url,
            "KC_ADMIN_CONNECT": "" if kc.admin_url else platform.edge.ingress_addresses[0],
            "KC_ADMIN_INSECURE": "1" if platform.trust.insecure else "0",
            "KC_ADMIN_CA_FILE": platform.trust.ca_file,
            "KC_ADMIN_USER": kc.admin_user,
            "KC_ADMIN_PASSWORD": admin_password,
        },
        [gate],
        parent,
    )
    provider = keycloak.Provider(
        "keycloak",
        url=url,
        base_path="",
        realm="master",
        client_id="admin-cli",
        username=kc.admin_user,
        password=admin_password,
        initial_login=False,
        client_timeout=kc.client_timeout_seconds,
        tls_insecure_skip_verify=platform.trust.insecure,
        # Your own root (access.caFile), else the stack's Caddy root itself.
        root_ca_certificate=Path(acc.ca_file).read_text() if acc.ca_file else root_ca_pem,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[gate, rotate]),
    )
    return provider, gate


@dataclass(frozen=True)
class ClientSecrets:
    api: pulumi.Output[str]
    webui_svc: pulumi.Output[str]
    grafana: pulumi.Output[str] | None
    portainer: pulumi.Output[str] | None
    alertmanager: pulumi.Output[str] | None  # with LGTM: its fleet events webhook posts


class KeycloakRealm(pulumi.ComponentResource):
    """Realm `agents` with roles, clients, audience mappers and service-account roles.
    Depending on this component waits for every one of them."""

    def __init__(
        self,
        platform: CorePlatform,
        provider: keycloak.Provider,
        secrets: ClientSecrets,
        webui_origins: list[str],
        platform_admin_password: pulumi.Output[str],
        parent: pulumi.Resource,
    ) -> None:
        """`webui_origins`: where the edge serves agent-webui (routes naming WEBUI_CLIENT)."""
        super().__init__(
            "agent-os:core:KeycloakRealm", "keycloak-realm", None, pulumi.ResourceOptions(parent=parent)
        )
        kc = platform.core.keycloak
        opts = pulumi.ResourceOptions(parent=self, provider=provider)
        self.realm = keycloak.Realm(
            f"realm-{kc.realm}",
            realm=kc.realm,
            enabled=True,
            display_name="agent-utilities",
            ssl_required="external",
            access_token_lifespan="5m",
            # Keycloak leaves brute-force detection off: on, with the provider's documented
            # defaults (a growing wait after 30 failures, reset after 12 h; two failures
            # within 1 s wait 60 s).
            security_defenses=keycloak.RealmSecurityDefensesArgs(
                brute_force_detection=keycloak.RealmSecurityDefensesBruteForceDetectionArgs()
            ),
            opts=opts,
        )
        rid = self.realm.id
        self.roles: dict[str, keycloak.Role] = {}
        for role in ROLES:  # in order, so composites reference existing roles
            self.roles[role] = keycloak.Role(
                f"role-{_slug(role)}",
                realm_id=rid,
                name=role,
                composite_roles=[self.roles[c].id for c in COMPOSITES.get(role, ())] or None,
                opts=opts,
            )

        def origin(host: str) -> str:
            return f"https://{platform.edge.host(host)}"

        self.clients: dict[str, keycloak.openid.Client] = {}

        def service_client(client_id: str, name: str, secret: pulumi.Output[str]) -> keycloak.openid.Client:
            """A confidential client with a service account: client credentials, nothing else."""
            return keycloak.openid.Client(
                f"client-{client_id}",
                realm_id=rid,
                client_id=client_id,
                name=name,
                access_type="CONFIDENTIAL",
                client_secret=secret,
                service_accounts_enabled=True,
                standard_flow_enabled=False,
                direct_access_grants_enabled=False,
                opts=opts,
            )

        self.clients[API_CLIENT] = service_client(
            API_CLIENT, "agent-utilities REST/MCP (audience, client credentials)", secrets.api
        )

        def public_client(client_id: str, name: str, **redirects: Any) -> keycloak.openid.Client:
            """A public client: authorization code + PKCE (S256), nothing else."""
            return keycloak.openid.Client(
                f"client-{client_id}",
                realm_id=rid,
                client_id=client_id,
                name=name,
                access_type="PUBLIC",
                standard_flow_enabled=True,
                implicit_flow_enabled=False,
                direct_access_grants_enabled=False,
                pkce_code_challenge_method="S256",
                opts=opts,
                **redirects,
            )

        if webui_origins:  # no route serves the webui (off): no client to come back to
            self.clients[WEBUI_CLIENT] = public_client(
                WEBUI_CLIENT,
                "agent-webui (browser)",
                valid_redirect_uris=[f"{o}/*" for o in webui_origins],
                valid_post_logout_redirect_uris=[f"{o}/*" for o in webui_origins],
                web_origins=list(webui_origins),
            )
        self.clients[DESKTOP_CLIENT] = public_client(
            DESKTOP_CLIENT,
            "geniusbot (desktop, loopback redirect)",
            valid_redirect_uris=list(DESKTOP_REDIRECTS),
        )
        self.clients[WEBUI_SVC_CLIENT] = service_client(
            WEBUI_SVC_CLIENT, "agent-webui API (service account)", secrets.webui_svc
        )
        if secrets.alertmanager is not None:
            self.clients[ALERTMANAGER_CLIENT] = service_client(
                ALERTMANAGER_CLIENT,
                "Alertmanager (fleet events webhook, client credentials)",
                secrets.alertmanager,
            )
        for client_id, host, redirect, secret in (
            (GRAFANA_CLIENT, GRAFANA_HOST, "/login/generic_oauth", secrets.grafana),
            (PORTAINER_CLIENT, PORTAINER_HOST, "/", secrets.portainer),
        ):
            if secret is None:
                continue
            self.clients[client_id] = keycloak.openid.Client(
                f"client-{client_id}",
                realm_id=rid,
                client_id=client_id,
                name=f"{client_id} SSO",
                access_type="CONFIDENTIAL",
                client_secret=secret,
                standard_flow_enabled=True,
                direct_access_grants_enabled=False,
                valid_redirect_uris=[f"{origin(host)}{redirect}"],
                web_origins=[origin(host)],
                root_url=origin(host),
                opts=opts,
            )
            # Realm roles as a flat `roles` claim in ID token and userinfo (Grafana role mapping).
            keycloak.openid.UserRealmRoleProtocolMapper(
                f"roles-{client_id}",
                realm_id=rid,
                client_id=self.clients[client_id].id,
                name="realm-roles",
                claim_name="roles",
                multivalued=True,
                add_to_id_token=True,
                add_to_userinfo=True,
                add_to_access_token=True,
                opts=opts,
            )
        self.audience = [
            keycloak.openid.AudienceProtocolMapper(
                f"aud-{c}",
                realm_id=rid,
                client_id=self.clients[c].id,
                name=f"audience-{API_CLIENT}",
                included_client_audience=API_CLIENT,
                add_to_access_token=True,
                add_to_id_token=False,
                opts=pulumi.ResourceOptions(
                    parent=self, provider=provider, depends_on=[self.clients[API_CLIENT]]
                ),
            )
            for c in AUDIENCE_CLIENTS
            if c in self.clients
        ]
        self.service_account_roles = [
            keycloak.openid.ClientServiceAccountRealmRole(
                f"sa-{c}-{_slug(role)}",
                realm_id=rid,
                service_account_user_id=self.clients[c].service_account_user_id,
                role=self.roles[role].name,
                opts=opts,
            )
            for c, roles in SERVICE_ACCOUNT_ROLES.items()
            for role in roles
        ]
        # The first person who can use a fresh stack (password: a Pulumi secret).
        self.platform_admin = keycloak.User(
            "platform-admin",
            realm_id=rid,
            username=kc.platform_admin,
            enabled=True,
            # Keycloak's user profile requires these; without them the first login stops at
            # "Update Account Information" instead of returning to the app.
            email=kc.platform_admin_email or f"{kc.platform_admin}@{platform.edge.zone}",
            email_verified=True,
            first_name="Platform",
            last_name="Administrator",
            initial_password=keycloak.UserInitialPasswordArgs(value=platform_admin_password, temporary=False),
            opts=opts,
        )
        self.platform_admin_roles = keycloak.UserRoles(
            "platform-admin-roles",
            realm_id=rid,
            user_id=self.platform_admin.id,
            role_ids=[self.roles[r].id for r in PLATFORM_ADMIN_ROLES],
            exhaustive=False,
            opts=opts,
        )
        self.register_outputs({"realm": kc.realm})


def keycloak_outputs(platform: CorePlatform, realm: KeycloakRealm, secrets: ClientSecrets) -> KeycloakOutputs:
    iss = issuer(platform)
    return KeycloakOutputs(
        issuer=iss,
        jwks_uri=f"{iss}/protocol/openid-connect/certs",
        internal_jwks_uri=f"{internal_oidc_url(platform)}/certs",
        realm=platform.core.keycloak.realm,
        api_client_id=API_CLIENT,
        webui_client_id=WEBUI_CLIENT,
        webui_svc_client_id=WEBUI_SVC_CLIENT,
        webui_svc_client_secret=secrets.webui_svc,
        desktop_client_id=DESKTOP_CLIENT,
        ready=realm,
        jwks_ready=realm.realm,
    )
