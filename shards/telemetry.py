"""Per-shard health as plain data for the LGTM component (components/observability.py).

* One scrape target per shard metrics port (`kg-shard-N:911N`), labelled with the shard's
  endpoint string, so engine metrics join the clients' `agent_utilities_engine_shard_up`.
* One alert per shard on its own scrape failing, `up{job="<service>"} == 0`, named
  `EngineShard<N>Down` and labelled with the endpoint and shard number. Not on the clients'
  `agent_utilities_engine_shard_up` (platform.md §9): in 0.52.0 that gauge changes only when
  a client opens a connection or the shard status route is called, so a stopped shard read
  1 for minutes and the alert never fired (found by journey g on the deployed stack).

The endpoint strings come in as the one list the shards layer derives; nothing here
rebuilds them.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

from components.observability import AlertRule, ScrapeTarget, Telemetry

GROUP = "engine-shards"


@dataclass(frozen=True)
class ShardAddress:
    """One shard as telemetry sees it."""

    n: int  # 1-based shard number
    endpoint: str  # exactly as in the endpoint list (hashed by clients)
    service: str  # Swarm service / DNS name
    metrics_port: int


def _promql_string(s: str) -> str:
    # PromQL double-quoted strings take Go escapes; JSON's are a compatible subset.
    return json.dumps(s)


def shard_telemetry(shards: Sequence[ShardAddress]) -> Telemetry:
    scrape: list[ScrapeTarget] = []
    rules: list[AlertRule] = []
    for s in shards:
        labels = {"endpoint": s.endpoint, "shard": str(s.n)}
        # Job names must be unique per Prometheus scrape config: one job per shard service.
        scrape.append(
            ScrapeTarget(
                job=s.service,
                targets=(f"{s.service}:{s.metrics_port}",),
                labels={**labels, "component": "engine-shard"},
            )
        )
        rules.append(
            AlertRule(
                group=GROUP,
                # Alert names are unique per rules file (the LGTM renderer enforces it).
                alert=f"EngineShard{s.n}Down",
                expr=f"up{{job={_promql_string(s.service)}}} == 0",
                for_="2m",
                severity="critical",
                summary=(
                    f"agent-utilities cannot reach engine shard {s.endpoint}; its tenants' graph "
                    "calls fail (ConnectionError) until it is back"
                ),
                labels=labels,
            )
        )
    return Telemetry(scrape=tuple(scrape), rules=tuple(rules))
