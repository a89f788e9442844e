"""The seam between layers that expose metrics/alerts and the LGTM component that
consumes them. Producers hand over plain data; the core layer renders it."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, kw_only=True)
class ScrapeTarget:
    job: str
    targets: tuple[str, ...]  # "host:port" on an overlay Prometheus joins
    labels: dict[str, str] = field(default_factory=dict[str, str])
    metrics_path: str = "/metrics"
    # Name of a Docker secret file with a bearer token, when the endpoint needs auth.
    bearer_token_file: str | None = None


@dataclass(frozen=True, kw_only=True)
class AlertRule:
    group: str
    alert: str
    expr: str
    for_: str = "1m"
    severity: str = "warning"
    summary: str = ""
    labels: dict[str, str] = field(default_factory=dict[str, str])


@dataclass(frozen=True, kw_only=True)
class Telemetry:
    """What one layer contributes to Prometheus."""

    scrape: tuple[ScrapeTarget, ...] = ()
    rules: tuple[AlertRule, ...] = ()
    webhook: str | None = None  # where Alertmanager posts every alert (one layer sets it)


# Swarm service labels that opt a service into Prometheus' dockerswarm service discovery:
# every running task of a labelled service is scraped (so every gateway replica is).
# The LGTM renderer (components/core/lgtm_config.py) keeps tasks with METRICS_JOB_LABEL.
METRICS_JOB_LABEL = "agent-os.metrics.job"
METRICS_PORT_LABEL = "agent-os.metrics.port"
METRICS_PATH_LABEL = "agent-os.metrics.path"


METRICS_PATH = "/metrics"  # where every process of ours serves Prometheus metrics


def metrics_labels(job: str, port: int, path: str = METRICS_PATH) -> dict[str, str]:
    """The service labels that make Prometheus scrape every task of a service."""
    return {METRICS_JOB_LABEL: job, METRICS_PORT_LABEL: str(port), METRICS_PATH_LABEL: path}
