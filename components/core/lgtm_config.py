"""Pure renderers for every LGTM config file (Prometheus, rules, Alertmanager, Loki, Tempo,
Grafana provisioning). Inputs are plain data; outputs are YAML strings, content-hashed by
the caller. Tested by parsing them back."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import yaml

from ..config.core import LgtmConfig
from ..config.swarm import Layer
from ..observability import (
    METRICS_JOB_LABEL,
    METRICS_PATH_LABEL,
    METRICS_PORT_LABEL,
    AlertRule,
    ScrapeTarget,
    Telemetry,
)
from .plan import (
    ALERTMANAGER_PORT,
    ALERTMANAGER_SERVICE,
    CADVISOR_PORT,
    CADVISOR_SERVICE,
    LOKI_PORT,
    LOKI_SERVICE,
    NODE_EXPORTER_PORT,
    NODE_EXPORTER_SERVICE,
    PROMETHEUS_PORT,
    PROMETHEUS_SERVICE,
    TEMPO_HTTP_PORT,
    TEMPO_OTLP_GRPC_PORT,
    TEMPO_SERVICE,
)

RULES_FILE = "/etc/prometheus/rules/agent-os.rules.yml"
EVENTS_TOKEN_FILE = "/run/secrets/fleet_events_token"
CLIENT_SECRET_FILE = "/run/secrets/alertmanager_client_secret"
# agent-utilities 0.52.0 (gateway/fleet_events.py RATE_CAP_PER_MINUTE) accepts at most this
# many events per source per minute in each process and refuses a request over it whole (429).
FLEET_EVENTS_PER_MINUTE = 120
DOCKER_SOCKET = "/var/run/docker.sock"


def _meta(label: str) -> str:
    """Prometheus' name for a Swarm service label in dockerswarm SD."""
    return "__meta_dockerswarm_service_label_" + "".join(c if c.isalnum() else "_" for c in label)


def _dump(doc: Any, header: str) -> str:
    return f"# {header}\n" + yaml.safe_dump(doc, sort_keys=False, default_flow_style=False)


def _static_job(t: ScrapeTarget) -> dict[str, Any]:
    job: dict[str, Any] = {
        "job_name": t.job,
        "metrics_path": t.metrics_path,
        "static_configs": [{"targets": list(t.targets), **({"labels": dict(t.labels)} if t.labels else {})}],
    }
    if t.bearer_token_file:
        path = (
            t.bearer_token_file
            if t.bearer_token_file.startswith("/")
            else f"/run/secrets/{t.bearer_token_file}"
        )
        job["authorization"] = {"type": "Bearer", "credentials_file": path}
    return job


def _dns_job(job: str, service: str, port: int) -> dict[str, Any]:
    """`tasks.<service>` resolves to every task IP: one target per node for global services."""
    return {
        "job_name": job,
        "dns_sd_configs": [{"names": [f"tasks.{service}"], "type": "A", "port": port}],
    }


def swarm_sd_job(namespace: str, network: str) -> dict[str, Any]:
    """Every running task of a service labelled `agent-os.metrics.job`, on one overlay."""
    return {
        "job_name": f"swarm-{network}",
        "dockerswarm_sd_configs": [
            {
                "host": f"unix://{DOCKER_SOCKET}",
                "role": "tasks",
                "refresh_interval": "30s",
                "filters": [{"name": "desired-state", "values": ["running"]}],
            }
        ],
        "relabel_configs": [
            {
                "source_labels": ["__meta_dockerswarm_task_desired_state"],
                "regex": "running",
                "action": "keep",
            },
            {"source_labels": [_meta(METRICS_JOB_LABEL)], "regex": ".+", "action": "keep"},
            # The tasks role yields one target per network attachment: keep one overlay.
            {
                "source_labels": ["__meta_dockerswarm_network_name"],
                "regex": f"{namespace}-{network}",
                "action": "keep",
            },
            {
                "source_labels": ["__address__", _meta(METRICS_PORT_LABEL)],
                "regex": r"([^:]+)(?::\d+)?;(\d+)",
                "replacement": "$1:$2",
                "target_label": "__address__",
            },
            {
                "source_labels": [_meta(METRICS_PATH_LABEL)],
                "regex": "(.+)",
                "target_label": "__metrics_path__",
            },
            {"source_labels": [_meta(METRICS_JOB_LABEL)], "target_label": "job"},
            {"source_labels": ["__meta_dockerswarm_service_name"], "target_label": "service"},
            {"source_labels": ["__meta_dockerswarm_task_slot"], "target_label": "slot"},
            {"source_labels": ["__meta_dockerswarm_node_hostname"], "target_label": "node"},
        ],
    }


def render_prometheus(
    cfg: LgtmConfig, namespace: str, sd_networks: Sequence[str], telemetry: Sequence[Telemetry]
) -> str:
    jobs: list[dict[str, Any]] = [
        {"job_name": "prometheus", "static_configs": [{"targets": [f"127.0.0.1:{PROMETHEUS_PORT}"]}]},
        _dns_job("cadvisor", CADVISOR_SERVICE, CADVISOR_PORT),
        _dns_job("node-exporter", NODE_EXPORTER_SERVICE, NODE_EXPORTER_PORT),
        {
            "job_name": "alertmanager",
            "static_configs": [{"targets": [f"{ALERTMANAGER_SERVICE}:{ALERTMANAGER_PORT}"]}],
        },
        {"job_name": "loki", "static_configs": [{"targets": [f"{LOKI_SERVICE}:{LOKI_PORT}"]}]},
        {"job_name": "tempo", "static_configs": [{"targets": [f"{TEMPO_SERVICE}:{TEMPO_HTTP_PORT}"]}]},
    ]
    jobs += [swarm_sd_job(namespace, n) for n in sd_networks]
    seen = {j["job_name"] for j in jobs}
    for t in (t for tel in telemetry for t in tel.scrape):
        if t.job in seen:
            raise ValueError(f"scrape job {t.job!r} registered twice")
        seen.add(t.job)
        jobs.append(_static_job(t))
    doc = {
        "global": {
            "scrape_interval": cfg.scrape_interval,
            "evaluation_interval": cfg.scrape_interval,
            "external_labels": {"stack": namespace},
        },
        "rule_files": [RULES_FILE],
        "alerting": {
            "alertmanagers": [
                {"static_configs": [{"targets": [f"{ALERTMANAGER_SERVICE}:{ALERTMANAGER_PORT}"]}]}
            ]
        },
        "scrape_configs": jobs,
    }
    return _dump(doc, "Generated by agent-os (components/core/lgtm_config.py). Do not edit.")


def core_rules(cfg: LgtmConfig) -> list[AlertRule]:
    th = cfg.thresholds
    return [
        AlertRule(
            group="agent-utilities",
            alert="EngineShardDown",
            expr="agent_utilities_engine_shard_up == 0",
            for_="2m",
            severity="critical",
            summary="Engine shard {{ $labels.endpoint }} is down (gateway view)",
        ),
        AlertRule(
            group="agent-utilities",
            alert="GatewayBreakerOpen",
            # The per-shard breaker short-circuits calls while open.
            expr='sum by (endpoint) (rate(agent_utilities_engine_shard_requests_total{outcome="short_circuited"}[5m])) > 0',
            for_="1m",
            severity="error",
            summary="Gateway circuit breaker open for shard {{ $labels.endpoint }}",
        ),
        AlertRule(
            group="agent-utilities",
            alert="DispatchQueueDepthHigh",
            expr=f"sum({th.dispatch_queue_metric}) > {th.dispatch_queue_depth}",
            for_="10m",
            severity="warning",
            summary=f"Queue depth above {th.dispatch_queue_depth} for 10m",
        ),
        AlertRule(
            group="agent-utilities",
            alert="IngestConsumerLagHigh",
            expr=f"sum(agent_utilities_kg_ingest_consumer_lag) > {th.ingest_consumer_lag}",
            for_="10m",
            severity="warning",
            summary=f"kg-ingest consumer lag above {th.ingest_consumer_lag} for 10m",
        ),
        AlertRule(
            group="platform",
            alert="ScrapeTargetDown",
            expr="up == 0",
            for_="5m",
            severity="warning",
            summary="{{ $labels.job }} target {{ $labels.instance }} is down",
        ),
    ]


def render_rules(rules: Sequence[AlertRule]) -> str:
    groups: dict[str, list[dict[str, Any]]] = {}
    seen: set[str] = set()
    for r in rules:
        if r.alert in seen:
            raise ValueError(f"alert {r.alert!r} defined twice")
        seen.add(r.alert)
        rule: dict[str, Any] = {
            "alert": r.alert,
            "expr": r.expr,
            "for": r.for_,
            "labels": {"severity": r.severity, **r.labels},
        }
        if r.summary:
            rule["annotations"] = {"summary": r.summary}
        groups.setdefault(r.group, []).append(rule)
    doc = {"groups": [{"name": g, "rules": rs} for g, rs in groups.items()]}
    return _dump(doc, "Generated by agent-os. Do not edit.")


@dataclass(frozen=True)
class TokenClient:
    """An OAuth2 client-credentials client; its secret is read from CLIENT_SECRET_FILE."""

    client_id: str
    token_url: str


def render_alertmanager(webhook_url: str, client: TokenClient | None) -> str:
    """Every alert goes to the agent-utilities fleet events webhook. The token header is
    read from a Swarm secret file (`http_headers.<name>.files`, Alertmanager >= 0.28). With
    `client` (Keycloak on), each post also carries a bearer token fetched with that client's
    credentials (`oauth2`): the app refuses any request without a valid JWT
    (kg_auth_required) before it checks the token header."""
    http_config: dict[str, Any] = {"http_headers": {"X-Fleet-Events-Token": {"files": [EVENTS_TOKEN_FILE]}}}
    if client is not None:
        http_config["oauth2"] = {
            "client_id": client.client_id,
            "client_secret_file": CLIENT_SECRET_FILE,
            "token_url": client.token_url,
        }
    doc = {
        "route": {
            "receiver": "fleet-events",
            "group_by": ["alertname", "job"],
            "group_wait": "30s",
            "group_interval": "5m",
            "repeat_interval": "4h",
        },
        "receivers": [
            {
                "name": "fleet-events",
                "webhook_configs": [
                    {
                        "url": webhook_url,
                        "send_resolved": True,
                        # One message never exceeds the app's per-minute cap by itself
                        # (the alerts over it are left out of that message).
                        "max_alerts": FLEET_EVENTS_PER_MINUTE,
                        "http_config": http_config,
                    }
                ],
            }
        ],
    }
    return _dump(doc, "Generated by agent-os. Do not edit.")


def render_loki() -> str:
    doc = {
        "auth_enabled": False,
        "server": {"http_listen_port": LOKI_PORT},
        "common": {
            "path_prefix": "/loki",
            "replication_factor": 1,
            "ring": {"kvstore": {"store": "inmemory"}},
            "storage": {"filesystem": {"chunks_directory": "/loki/chunks", "rules_directory": "/loki/rules"}},
        },
        # OTLP log ingestion needs schema v13 + tsdb.
        "schema_config": {
            "configs": [
                {
                    "from": "2025-01-01",
                    "store": "tsdb",
                    "object_store": "filesystem",
                    "schema": "v13",
                    "index": {"prefix": "index_", "period": "24h"},
                }
            ]
        },
        "limits_config": {"allow_structured_metadata": True, "retention_period": "360h"},
        "compactor": {
            "working_directory": "/loki/compactor",
            "retention_enabled": True,
            "delete_request_store": "filesystem",
        },
        "analytics": {"reporting_enabled": False},
    }
    return _dump(doc, "Generated by agent-os. Do not edit.")


def render_tempo() -> str:
    doc = {
        "stream_over_http_enabled": True,
        "server": {"http_listen_port": TEMPO_HTTP_PORT},
        "distributor": {
            "receivers": {
                "otlp": {
                    "protocols": {
                        "grpc": {"endpoint": f"0.0.0.0:{TEMPO_OTLP_GRPC_PORT}"},
                        "http": {"endpoint": "0.0.0.0:4318"},
                    }
                }
            }
        },
        "storage": {
            "trace": {
                "backend": "local",
                "wal": {"path": "/var/tempo/wal"},
                "local": {"path": "/var/tempo/blocks"},
            }
        },
        "compactor": {"compaction": {"block_retention": "336h"}},
        "usage_report": {"reporting_enabled": False},
    }
    return _dump(doc, "Generated by agent-os. Do not edit.")


@dataclass(frozen=True)
class Datasource:
    name: str
    type: str
    uid: str
    url: str
    default: bool = False


def datasources() -> list[Datasource]:
    return [
        Datasource(
            "Prometheus", "prometheus", "prometheus", f"http://{PROMETHEUS_SERVICE}:{PROMETHEUS_PORT}", True
        ),
        Datasource("Loki", "loki", "loki", f"http://{LOKI_SERVICE}:{LOKI_PORT}"),
        Datasource("Tempo", "tempo", "tempo", f"http://{TEMPO_SERVICE}:{TEMPO_HTTP_PORT}"),
        Datasource(
            "Alertmanager",
            "alertmanager",
            "alertmanager",
            f"http://{ALERTMANAGER_SERVICE}:{ALERTMANAGER_PORT}",
        ),
    ]


def render_grafana_datasources() -> str:
    items: list[dict[str, Any]] = []
    for d in datasources():
        item: dict[str, Any] = {
            "name": d.name,
            "type": d.type,
            "uid": d.uid,
            "access": "proxy",
            "url": d.url,
            "isDefault": d.default,
            "editable": False,
        }
        if d.type == "alertmanager":
            item["jsonData"] = {"implementation": "prometheus"}
        if d.type == "tempo":
            item["jsonData"] = {
                "tracesToLogsV2": {"datasourceUid": "loki"},
                "serviceMap": {"datasourceUid": "prometheus"},
            }
        items.append(item)
    doc = {"apiVersion": 1, "datasources": items}
    return _dump(doc, "Generated by agent-os. Do not edit.")


# Overlays Prometheus joins to scrape static targets (engine shards on agents, connectors
# on fleet). Swarm service discovery keeps one attachment per task: the core overlay, which
# every SD-labelled service joins (one target per task, never one per network).
SCRAPED_LAYERS = (Layer.AGENTS, Layer.FLEET)
SD_LAYER = Layer.CORE
GRAFANA_UID = "472"
NOBODY = "65534"
