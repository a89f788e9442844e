"""LGTM: Prometheus (+ cAdvisor, node-exporter), Alertmanager, Loki, Tempo, Grafana.
Every config file comes from a pure renderer in lgtm_config.py and is content-hashed;
each service is defined in its own file."""

from __future__ import annotations

from collections.abc import Sequence

import pulumi
import pulumi_docker as docker

from ..swarm import Platform, ServiceSpec, swarm_service
from ..swarm.names import (
    ALERTMANAGER_SERVICE,
    PROMETHEUS_PORT,
    PROMETHEUS_SERVICE,
    TEMPO_OTLP_HTTP_PORT,
    TEMPO_SERVICE,
)
from ..swarm.observability import Telemetry
from .alertmanager import alertmanager_spec
from .cadvisor import cadvisor_spec
from .grafana import GrafanaSso, grafana_spec
from .lgtm_config import (
    ALERTMANAGER_PORT,
    LOKI_PORT,
    SCRAPED_LAYERS,
    SD_LAYER,
    TEMPO_HTTP_PORT,
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
from .prometheus import prometheus_spec
from .tempo import tempo_spec


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
        lg = platform.cfg.core.lgtm
        pin = f"node.labels.{lg.node_label}==true"
        self.services: dict[str, docker.Service] = {}

        def add(spec: ServiceSpec) -> None:
            self.services[spec.name] = swarm_service(platform, spec, parent)

        def config(logical: str, content: str) -> docker.ServiceConfig:
            return platform.config_file(logical, content, parent)

        # Exporters: one per node.
        add(node_exporter_spec(platform, lg))
        add(cadvisor_spec(platform, lg))

        rules = [*core_rules(lg), *(r for t in telemetry for r in t.rules)]
        self.prometheus_yml = render_prometheus(lg, platform.namespace, [SD_LAYER.value], telemetry)
        self.rules_yml = render_rules(rules)
        add(
            prometheus_spec(
                platform,
                lg,
                config("prometheus-yml", self.prometheus_yml),
                config("prometheus-rules", self.rules_yml),
                pin,
            )
        )

        self.alertmanager_yml = render_alertmanager()
        token = platform.secret("fleet-events-token-am", events_token, parent)
        add(alertmanager_spec(platform, lg, config("alertmanager-yml", self.alertmanager_yml), token, pin))

        self.loki_yml = render_loki()
        add(loki_spec(platform, lg, config("loki-yml", self.loki_yml), pin))

        self.tempo_yml = render_tempo()
        add(tempo_spec(platform, lg, config("tempo-yml", self.tempo_yml), pin))

        self.datasources_yml = render_grafana_datasources()
        admin = platform.secret("grafana-admin-password", grafana_admin_password, parent)
        add(
            grafana_spec(
                platform, lg, config("grafana-datasources", self.datasources_yml), admin, sso, pin, parent
            )
        )

        self.outputs = LgtmOutputs(
            prometheus_url=f"http://{PROMETHEUS_SERVICE}:{PROMETHEUS_PORT}",
            otlp_traces_endpoint=f"http://{TEMPO_SERVICE}:{TEMPO_OTLP_HTTP_PORT}/v1/traces",
            alertmanager_url=f"http://{ALERTMANAGER_SERVICE}:{ALERTMANAGER_PORT}",
        )


__all__ = ["LOKI_PORT", "SCRAPED_LAYERS", "TEMPO_HTTP_PORT", "GrafanaSso", "Lgtm"]
