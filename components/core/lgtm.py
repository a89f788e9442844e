"""LGTM: Prometheus (+ cAdvisor, node-exporter), Alertmanager, Loki, Tempo, Grafana.
Every config file comes from a pure renderer in lgtm_config.py and is content-hashed;
each service is defined in its own file."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_docker as docker

from ..observability import Telemetry
from ..swarm import ServiceSpec, swarm_service
from ..swarm.context import CorePlatform
from .alertmanager import AlertmanagerOAuth, alertmanager_spec
from .cadvisor import cadvisor_spec
from .grafana import GrafanaSso, grafana_spec
from .lgtm_config import (
    SCRAPED_LAYERS,
    SD_LAYER,
    core_rules,
    render_alertmanager,
    render_grafana_datasources,
    render_loki,
    render_prometheus,
    render_rules,
    render_tempo,
)
from .loki import loki_spec
from .node_exporter import node_exporter_spec
from .outputs import LgtmOutputs
from .plan import (
    ALERTMANAGER_PORT,
    LOKI_PORT,
    PROMETHEUS_PORT,
    TEMPO_HTTP_PORT,
    TEMPO_OTLP_HTTP_PORT,
    LgtmPlan,
)
from .prometheus import prometheus_spec
from .tempo import tempo_spec


class Lgtm:
    def __init__(
        self,
        platform: CorePlatform,
        plan: LgtmPlan,
        telemetry: Sequence[Telemetry],
        events_token: pulumi.Output[str],
        grafana_admin_password: pulumi.Output[str],
        sso: GrafanaSso | None,
        alertmanager_oauth: AlertmanagerOAuth | None,
        parent: pulumi.Resource,
    ) -> None:
        """`alertmanager_oauth`: with Keycloak, the client whose token the webhook posts carry."""
        lg = platform.core.lgtm
        webhooks = [t.webhook for t in telemetry if t.webhook]
        if len(webhooks) != 1:
            raise ValueError(f"Alertmanager needs exactly one webhook among the telemetry, got {webhooks}")
        self.services: dict[str, docker.Service] = {}

        def add(spec: ServiceSpec) -> None:
            self.services[spec.name] = swarm_service(platform, spec, parent)

        def config(logical: str, content: str) -> docker.ServiceConfig:
            return platform.config_file(logical, content, parent)

        # Exporters: one per node.
        add(node_exporter_spec(platform, lg, plan.node_exporter))
        add(cadvisor_spec(platform, lg, plan.cadvisor))

        rules = [*core_rules(lg), *(r for t in telemetry for r in t.rules)]
        self.prometheus_yml = render_prometheus(lg, platform.namespace, [SD_LAYER.value], telemetry)
        self.rules_yml = render_rules(rules)
        add(
            prometheus_spec(
                platform,
                lg,
                config("prometheus-yml", self.prometheus_yml),
                config("prometheus-rules", self.rules_yml),
                plan.prometheus,
            )
        )

        oauth = alertmanager_oauth
        self.alertmanager_yml = render_alertmanager(webhooks[0], oauth.client if oauth else None)
        token = platform.secret("fleet-events-token-am", events_token, parent)
        client_secret = (
            platform.secret("alertmanager-client-secret", oauth.client_secret, parent) if oauth else None
        )
        add(
            alertmanager_spec(
                platform,
                lg,
                config("alertmanager-yml", self.alertmanager_yml),
                token,
                client_secret,
                plan.alertmanager,
            )
        )

        self.loki_yml = render_loki()
        add(loki_spec(platform, lg, config("loki-yml", self.loki_yml), plan.loki))

        self.tempo_yml = render_tempo()
        add(tempo_spec(platform, lg, config("tempo-yml", self.tempo_yml), plan.tempo))

        self.datasources_yml = render_grafana_datasources()
        admin = platform.secret("grafana-admin-password", grafana_admin_password, parent)
        add(
            grafana_spec(
                platform,
                lg,
                config("grafana-datasources", self.datasources_yml),
                admin,
                sso,
                plan.grafana,
                parent,
            )
        )

        self.outputs = LgtmOutputs(
            prometheus_url=f"http://{plan.prometheus.at(PROMETHEUS_PORT)}",
            otlp_traces_endpoint=f"http://{plan.tempo.at(TEMPO_OTLP_HTTP_PORT)}/v1/traces",
            alertmanager_url=f"http://{plan.alertmanager.at(ALERTMANAGER_PORT)}",
        )


__all__ = ["LOKI_PORT", "SCRAPED_LAYERS", "TEMPO_HTTP_PORT", "AlertmanagerOAuth", "GrafanaSso", "Lgtm"]
