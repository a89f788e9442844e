"""LGTM: Prometheus (+ cAdvisor, node-exporter), Alertmanager, Loki, Tempo, Grafana.
Every config file comes from a pure renderer in lgtm_config.py and is content-hashed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_docker as docker

from ..config.swarm import Layer
from ..swarm import (
    BindMount,
    ConfigFile,
    HealthCheck,
    Platform,
    SecretFile,
    ServiceSpec,
    VolumeMount,
    swarm_service,
)
from ..swarm.names import (
    ALERTMANAGER_SERVICE,
    LOKI_SERVICE,
    PROMETHEUS_PORT,
    PROMETHEUS_SERVICE,
    TEMPO_OTLP_HTTP_PORT,
    TEMPO_SERVICE,
)
from ..swarm.observability import Telemetry
from .lgtm_config import (
    ALERTMANAGER_PORT,
    CADVISOR_PORT,
    CADVISOR_SERVICE,
    DOCKER_SOCKET,
    EVENTS_TOKEN_FILE,
    LOKI_PORT,
    NODE_EXPORTER_PORT,
    NODE_EXPORTER_SERVICE,
    RULES_FILE,
    TEMPO_HTTP_PORT,
    core_rules,
    render_alertmanager,
    render_grafana_datasources,
    render_loki,
    render_prometheus,
    render_rules,
    render_tempo,
)
from .outputs import LgtmOutputs
from .routes import GRAFANA_HOST, GRAFANA_PORT, GRAFANA_SERVICE

# Overlays Prometheus joins to scrape static targets (engine shards on agents, connectors
# on fleet). Swarm service discovery keeps one attachment per task: the core overlay, which
# every SD-labelled service joins (one target per task, never one per network).
SCRAPED_LAYERS = (Layer.AGENTS, Layer.FLEET)
SD_LAYER = Layer.CORE
GRAFANA_UID = "472"
NOBODY = "65534"


def _wget(port: int, path: str) -> HealthCheck:
    return HealthCheck.shell(f"wget -q -O /dev/null http://127.0.0.1:{port}{path} || exit 1")


@dataclass(frozen=True)
class GrafanaSso:
    """Public settings for Grafana's generic OAuth against Keycloak."""

    client_id: str
    auth_url: str  # public (browser)
    token_url: str  # internal (core overlay)
    api_url: str  # internal userinfo
    client_secret: pulumi.Output[str]


class Lgtm:
    def __init__(
        self,
        platform: Platform,
        telemetry: Sequence[Telemetry],
        events_token: pulumi.Output[str],
        grafana_admin_password: pulumi.Output[str],
        sso: GrafanaSso | None,
        parent: pulumi.Resource,
    ) -> None:
        cfg = platform.cfg
        lg = cfg.core.lgtm
        ns = platform.namespace
        pin = f"node.labels.{lg.node_label}==true"
        self.services: dict[str, docker.Service] = {}

        def add(spec: ServiceSpec) -> None:
            self.services[spec.name] = swarm_service(platform, spec, parent)

        # Exporters: one per node.
        add(
            ServiceSpec(
                name=NODE_EXPORTER_SERVICE,
                layer=Layer.CORE,
                image=platform.image("node-exporter"),
                args=(
                    "--path.rootfs=/host",
                    "--collector.filesystem.mount-points-exclude=^/(dev|proc|sys|run|var/lib/docker/.+)($|/)",
                ),
                binds=(BindMount(source="/", target="/host"),),
                resources=lg.exporters,
                networks=(Layer.CORE,),
                replicas=None,
                health=_wget(NODE_EXPORTER_PORT, "/metrics"),
            )
        )
        add(
            ServiceSpec(
                name=CADVISOR_SERVICE,
                layer=Layer.CORE,
                image=platform.image("cadvisor"),
                # Container labels stay on (the autoscaler keys on
                # container_label_com_docker_swarm_service_name).
                args=("--docker_only=true", "--housekeeping_interval=15s", "--store_container_labels=true"),
                binds=(
                    BindMount(source="/", target="/rootfs"),
                    BindMount(source="/var/run", target="/var/run"),
                    BindMount(source="/sys", target="/sys"),
                    BindMount(source="/var/lib/docker", target="/var/lib/docker"),
                    BindMount(source="/dev/disk", target="/dev/disk"),
                ),
                resources=lg.exporters,
                networks=(Layer.CORE,),
                replicas=None,
                health=_wget(CADVISOR_PORT, "/healthz"),
            )
        )

        rules = [*core_rules(lg), *(r for t in telemetry for r in t.rules)]
        self.prometheus_yml = render_prometheus(lg, ns, [SD_LAYER.value], telemetry)
        self.rules_yml = render_rules(rules)
        prom_cfg = platform.config_file("prometheus-yml", self.prometheus_yml, parent)
        rules_cfg = platform.config_file("prometheus-rules", self.rules_yml, parent)
        add(
            ServiceSpec(
                name=PROMETHEUS_SERVICE,
                layer=Layer.CORE,
                image=platform.image("prometheus"),
                args=(
                    "--config.file=/etc/prometheus/prometheus.yml",
                    "--storage.tsdb.path=/prometheus",
                    f"--storage.tsdb.retention.time={lg.retention}",
                    f"--web.listen-address=:{PROMETHEUS_PORT}",
                ),
                configs=(
                    ConfigFile(config=prom_cfg, target="/etc/prometheus/prometheus.yml"),
                    ConfigFile(config=rules_cfg, target=RULES_FILE),
                ),
                volumes=(VolumeMount(source=f"{ns}-prometheus-data", target="/prometheus"),),
                # Swarm SD reads a manager's Docker API; reading the socket needs root (no caps).
                binds=(BindMount(source=DOCKER_SOCKET, target=DOCKER_SOCKET),),
                user="0:0",
                resources=lg.prometheus,
                networks=(Layer.CORE, *SCRAPED_LAYERS),
                replicas=1,
                stateful=True,
                constraints=("node.role==manager", pin),
                health=_wget(PROMETHEUS_PORT, "/-/ready"),
                stop_grace_period="60s",
            )
        )

        self.alertmanager_yml = render_alertmanager()
        am_cfg = platform.config_file("alertmanager-yml", self.alertmanager_yml, parent)
        token = platform.secret("fleet-events-token-am", events_token, parent)
        add(
            ServiceSpec(
                name=ALERTMANAGER_SERVICE,
                layer=Layer.CORE,
                image=platform.image("alertmanager"),
                args=(
                    "--config.file=/etc/alertmanager/alertmanager.yml",
                    "--storage.path=/alertmanager",
                    f"--web.listen-address=:{ALERTMANAGER_PORT}",
                ),
                configs=(ConfigFile(config=am_cfg, target="/etc/alertmanager/alertmanager.yml"),),
                secrets=(SecretFile(secret=token, target=EVENTS_TOKEN_FILE, uid=NOBODY, gid=NOBODY),),
                volumes=(VolumeMount(source=f"{ns}-alertmanager-data", target="/alertmanager"),),
                resources=lg.alertmanager,
                # The webhook target (agent-gateway) is reachable on the core overlay.
                networks=(Layer.CORE,),
                replicas=1,
                stateful=True,
                constraints=(pin,),
                health=_wget(ALERTMANAGER_PORT, "/-/ready"),
            )
        )

        self.loki_yml = render_loki()
        loki_cfg = platform.config_file("loki-yml", self.loki_yml, parent)
        add(
            ServiceSpec(
                name=LOKI_SERVICE,
                layer=Layer.CORE,
                image=platform.image("loki"),
                args=("-config.file=/etc/loki/loki.yml",),
                configs=(ConfigFile(config=loki_cfg, target="/etc/loki/loki.yml"),),
                volumes=(VolumeMount(source=f"{ns}-loki-data", target="/loki"),),
                resources=lg.loki,
                networks=(Layer.CORE, *SCRAPED_LAYERS),
                replicas=1,
                stateful=True,
                constraints=(pin,),
                # Minimal image: a binary self-check; Grafana's datasource shows real health.
                health=HealthCheck(test=("CMD", "/usr/bin/loki", "-version")),
            )
        )

        self.tempo_yml = render_tempo()
        tempo_cfg = platform.config_file("tempo-yml", self.tempo_yml, parent)
        add(
            ServiceSpec(
                name=TEMPO_SERVICE,
                layer=Layer.CORE,
                image=platform.image("tempo"),
                args=("-config.file=/etc/tempo/tempo.yml",),
                configs=(ConfigFile(config=tempo_cfg, target="/etc/tempo/tempo.yml"),),
                volumes=(VolumeMount(source=f"{ns}-tempo-data", target="/var/tempo"),),
                resources=lg.tempo,
                # OTLP senders (gateway, graph-os) sit on the agents/fleet overlays.
                networks=(Layer.CORE, *SCRAPED_LAYERS),
                replicas=1,
                stateful=True,
                constraints=(pin,),
                health=HealthCheck(test=("CMD", "/tempo", "-version")),
            )
        )

        self.datasources_yml = render_grafana_datasources()
        ds_cfg = platform.config_file("grafana-datasources", self.datasources_yml, parent)
        admin = platform.secret("grafana-admin-password", grafana_admin_password, parent)
        secrets = [SecretFile(secret=admin, target="/run/secrets/grafana_admin_password", uid=GRAFANA_UID)]
        env: dict[str, pulumi.Input[str]] = {
            "GF_SERVER_ROOT_URL": f"https://{cfg.edge.host(GRAFANA_HOST)}/",
            "GF_SECURITY_ADMIN_USER": "admin",
            "GF_SECURITY_ADMIN_PASSWORD__FILE": "/run/secrets/grafana_admin_password",
            "GF_ANALYTICS_REPORTING_ENABLED": "false",
            "GF_USERS_ALLOW_SIGN_UP": "false",
        }
        if sso is not None:
            oidc = platform.secret("grafana-oidc-secret", sso.client_secret, parent)
            secrets.append(
                SecretFile(secret=oidc, target="/run/secrets/grafana_oidc_secret", uid=GRAFANA_UID)
            )
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
        add(
            ServiceSpec(
                name=GRAFANA_SERVICE,
                layer=Layer.CORE,
                image=platform.image("grafana"),
                env=env,
                configs=(
                    ConfigFile(
                        config=ds_cfg,
                        target="/etc/grafana/provisioning/datasources/agent-os.yaml",
                        uid=GRAFANA_UID,
                    ),
                ),
                secrets=tuple(secrets),
                volumes=(VolumeMount(source=f"{ns}-grafana-data", target="/var/lib/grafana"),),
                resources=lg.grafana,
                networks=(Layer.CORE, Layer.EDGE),
                replicas=1,
                # Grafana 12's search index holds a file lock: never two tasks (stop-first).
                stateful=True,
                constraints=(pin,),
                health=_wget(GRAFANA_PORT, "/api/health"),
            )
        )

        self.outputs = LgtmOutputs(
            prometheus_url=f"http://{PROMETHEUS_SERVICE}:{PROMETHEUS_PORT}",
            otlp_traces_endpoint=f"http://{TEMPO_SERVICE}:{TEMPO_OTLP_HTTP_PORT}/v1/traces",
            alertmanager_url=f"http://{ALERTMANAGER_SERVICE}:{ALERTMANAGER_PORT}",
        )


__all__ = ["LOKI_PORT", "SCRAPED_LAYERS", "TEMPO_HTTP_PORT", "GrafanaSso", "Lgtm"]
