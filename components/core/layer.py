"""Core layer: OpenBao (secrets), Keycloak (SSO), Portainer (GitOps), LGTM (observability),
wired to each other. Each integration can be switched off; dependants then degrade with a
warning and every reference to the missing piece is simply absent."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_docker as docker

from ..config import NAMESPACE
from ..config.core import CoreConfig
from ..config.integrations import Integrations
from ..data.layer import DataOutputs
from ..edge.layer import EdgeOutputs
from ..observability import Telemetry
from ..swarm import Platform
from ..swarm.context import CorePlatform
from ..swarm.secretvalues import StackSecrets
from .keycloak import (
    GRAFANA_CLIENT,
    PORTAINER_CLIENT,
    WEBUI_CLIENT,
    ClientSecrets,
    KeycloakRealm,
    internal_oidc_url,
    internal_url,
    keycloak_database,
    keycloak_outputs,
    keycloak_provider,
    keycloak_service,
    public_url,
    token_client,
)
from .lgtm import AlertmanagerOAuth, GrafanaSso, Lgtm
from .openbao import (
    AdminLogin,
    KvEntry,
    OpenBaoConfig,
    admin_url,
    openbao_admin,
    openbao_cluster,
    vault_provider,
    vault_ref,
)
from .openbao import internal_url as openbao_internal_url
from .outputs import CoreOutputs, KeycloakOutputs, LgtmOutputs, OpenBaoOutputs
from .plan import ALERTMANAGER_CLIENT, PORTAINER_HOST, CorePlan
from .portainer import portainer, portainer_sso_settings

__all__ = ["CoreLayer", "CoreOutputs"]


class CoreLayer(pulumi.ComponentResource):
    def __init__(
        self,
        shared: Platform,
        config: CoreConfig,
        integrations: Integrations,
        secrets: StackSecrets,
        plan: CorePlan,
        edge: EdgeOutputs,
        data: DataOutputs,
        telemetry: Sequence[Telemetry] = (),
        opts: pulumi.ResourceOptions | None = None,
        connectors: Sequence[tuple[str, str]] = (),
    ) -> None:
        """`connectors`: (name, image) of the fleet's connectors, which GitOps must not rerun."""
        super().__init__("agent-os:core:Core", "core", None, opts)
        platform = CorePlatform.on(shared, config, integrations)
        on = platform.integrations
        kc_cfg = platform.core.keycloak
        # Admin endpoints are reached through Caddy: every gate also waits for the edge.
        edge_ready: list[pulumi.Resource] = [edge.caddy, edge.dns_ready]

        # --- OIDC client secrets: generated up front, so services (Grafana) and OpenBao get
        # them without waiting for Keycloak, and Keycloak's clients are set to the same value.
        client_secrets = ClientSecrets(
            api=secrets.value("agentUtilitiesClientSecret"),
            webui_svc=secrets.value("webuiSvcClientSecret"),
            grafana=secrets.value("grafanaOidcSecret") if on.lgtm else None,
            portainer=secrets.value("portainerOidcSecret") if on.portainer else None,
            alertmanager=secrets.value("alertmanagerClientSecret") if on.lgtm else None,
        )

        # --- Keycloak
        keycloak_out: KeycloakOutputs | None = None
        self.keycloak = None
        if plan.keycloak is not None:
            db_password = secrets.value("keycloakDbPassword")
            admin_password = secrets.value("keycloakAdminPassword")
            database = keycloak_database(platform, data, db_password, self)
            self.keycloak = keycloak_service(
                platform, plan.keycloak, data, database, db_password, admin_password, self
            )
            provider, self.keycloak_gate = keycloak_provider(
                platform, admin_password, [self.keycloak, *edge_ready], edge.root_ca_pem, self
            )
            self.realm = KeycloakRealm(
                platform,
                provider,
                client_secrets,
                edge.login_origins.get(WEBUI_CLIENT, []),
                secrets.value("platformAdminPassword"),
                self,
            )
            keycloak_out = keycloak_outputs(platform, self.realm, client_secrets)
        else:
            pulumi.log.warn(
                "agent-os: integrations.keycloak is off: no SSO. agent-utilities JWT settings "
                "(AUTH_JWT_ISSUER/JWKS) are omitted, Grafana and Portainer use local admin logins.",
                self,
            )

        # --- OpenBao
        openbao_out: OpenBaoOutputs | None = None
        docker_secrets: dict[str, docker.Secret] = {}
        if plan.openbao:
            b = platform.core.openbao
            adopt = pulumi.Config(NAMESPACE).get_secret("openbaoRootToken")
            self.openbao = openbao_cluster(
                platform, plan.openbao, secrets.value("openbaoSealSecret"), adopt, edge_ready, self
            )
            # The program's own admin login replaces the root token, which is then revoked.
            login = AdminLogin(secrets.value("openbaoAdminRoleId"), secrets.value("openbaoAdminSecretId"))
            self.openbao_admin = openbao_admin(platform, self.openbao, adopt, login, self)
            provider = vault_provider(platform, self.openbao, self.openbao_admin, self)
            entries = self._kv_entries(secrets, data, client_secrets, keycloak_out is not None)
            role_id = secrets.value("openbaoAgentRoleId")
            secret_id = secrets.value("openbaoAgentSecretId")
            self.openbao_config = OpenBaoConfig(platform, provider, entries, role_id, secret_id, self)
            docker_secrets = {
                "openbao-role-id": platform.secret("openbao-role-id", role_id, self),
                "openbao-secret-id": platform.secret("openbao-secret-id", secret_id, self),
            }
            openbao_out = OpenBaoOutputs(
                url=admin_url(platform),
                internal_url=openbao_internal_url(),
                kv_mount=b.kv_mount,
                approle_role_id=role_id,
                approle_secret_id=secret_id,
                refs={k: vault_ref(f"{b.path_prefix}/{e.path}", e.field) for k, e in entries.items()},
                ready=self.openbao_config,
                # No root token: openbao-admin revokes it.
                admin_login=pulumi.Output.secret(
                    pulumi.Output.all(role_id=login.role_id, secret_id=login.secret_id)
                ),
                recovery_keys=self.openbao.recovery_keys,
            )
        else:
            pulumi.log.warn(
                "agent-os: integrations.openbao is off: secrets reach services only as Docker "
                "secret files; no vault:// refs, no AppRole for agent-utilities.",
                self,
            )

        # --- Portainer
        portainer_url: str | None = None
        if plan.portainer is not None and plan.portainer_agent is not None:
            sso = None
            if keycloak_out is not None:
                sso = portainer_sso_settings(
                    platform, public_url(platform), internal_url(), kc_cfg.realm, PORTAINER_CLIENT
                )
            # The portainer client must exist before SSO is switched on (and only then).
            sso_after = [keycloak_out.ready] if keycloak_out is not None else []
            self.portainer = portainer(
                platform,
                (plan.portainer_agent, plan.portainer),
                secrets.value("portainerAdminPassword"),
                sso,
                client_secrets.portainer if sso else None,
                secrets.optional("gitToken") if on.gitops else None,
                list(edge_ready),
                sso_after,
                self,
                secrets.value("portainerAgentSecret"),
                connectors,
            )
            portainer_url = f"https://{platform.edge.host(PORTAINER_HOST)}"
        else:
            pulumi.log.warn(
                "agent-os: integrations.portainer is off: no Portainer UI or GitOps stacks.", self
            )

        # --- LGTM
        lgtm_out: LgtmOutputs | None = None
        if plan.lgtm is not None:
            grafana_sso = None
            am_oauth = None
            oidc_int = internal_oidc_url(platform)
            if keycloak_out is not None and client_secrets.grafana is not None:
                oidc_pub = f"{public_url(platform)}/realms/{kc_cfg.realm}/protocol/openid-connect"
                grafana_sso = GrafanaSso(
                    client_id=GRAFANA_CLIENT,
                    auth_url=f"{oidc_pub}/auth",
                    token_url=f"{oidc_int}/token",
                    api_url=f"{oidc_int}/userinfo",
                    client_secret=client_secrets.grafana,
                )
            if keycloak_out is not None and client_secrets.alertmanager is not None:
                am_oauth = AlertmanagerOAuth(
                    token_client(platform, ALERTMANAGER_CLIENT), client_secrets.alertmanager
                )
            self.lgtm = Lgtm(
                platform,
                plan.lgtm,
                telemetry,
                secrets.value("fleetEventsToken"),
                secrets.value("grafanaAdminPassword"),
                grafana_sso,
                am_oauth,
                self,
            )
            lgtm_out = self.lgtm.outputs
        else:
            pulumi.log.warn(
                "agent-os: integrations.lgtm is off: no metrics, alerts or traces; Alertmanager "
                "will not post to the fleet events webhook.",
                self,
            )

        self.outputs = CoreOutputs(
            keycloak=keycloak_out,
            openbao=openbao_out,
            lgtm=lgtm_out,
            portainer_url=portainer_url,
            docker_secrets=docker_secrets,
        )
        self.register_outputs(
            {
                "issuer": keycloak_out.issuer if keycloak_out else None,
                "jwksUri": keycloak_out.jwks_uri if keycloak_out else None,
                "vaultRefs": openbao_out.refs if openbao_out else None,
            }
        )

    @staticmethod
    def _kv_entries(
        secrets: StackSecrets, data: DataOutputs, cs: ClientSecrets, keycloak_on: bool
    ) -> dict[str, KvEntry]:
        """What goes into KV (under <prefix>/), by logical name."""
        cfg_entries: dict[str, KvEntry] = {
            "agentDbPassword": KvEntry("postgres", "agent_password", data.app_password),
            "graphServiceAuthSecret": KvEntry(
                "graph", "service_auth_secret", secrets.value("graphServiceAuthSecret")
            ),
            "fleetEventsToken": KvEntry("fleet-events", "token", secrets.value("fleetEventsToken")),
        }
        if keycloak_on:
            cfg_entries |= {
                "keycloakDbPassword": KvEntry(
                    "postgres", "keycloak_password", secrets.value("keycloakDbPassword")
                ),
                "agentUtilitiesClientSecret": KvEntry("oidc/agent-utilities", "client_secret", cs.api),
                "webuiSvcClientSecret": KvEntry("oidc/agent-webui-svc", "client_secret", cs.webui_svc),
            }
            if cs.grafana is not None:
                cfg_entries["grafanaOidcSecret"] = KvEntry("oidc/grafana", "client_secret", cs.grafana)
            if cs.portainer is not None:
                cfg_entries["portainerOidcSecret"] = KvEntry("oidc/portainer", "client_secret", cs.portainer)
        return cfg_entries
