"""Well-known service names and ports shared across layers (one definition each)."""

from __future__ import annotations

# agent-utilities tier (fleet layer)
GATEWAY_SERVICE = "agent-gateway"
GATEWAY_PORT = 9000
GRAPH_OS_SERVICE = "graph-os"
GRAPH_OS_PORT = 8004
KG_DAEMON_SERVICE = "kg-daemon"
KG_DAEMON_METRICS_PORT = 9110
FLEET_EVENTS_PATH = "/api/fleet/events"

# core layer
KEYCLOAK_SERVICE = "keycloak"
KEYCLOAK_HTTP_PORT = 8080
KEYCLOAK_MANAGEMENT_PORT = 9000
OPENBAO_PORT = 8200
PROMETHEUS_SERVICE = "prometheus"
PROMETHEUS_PORT = 9090
TEMPO_SERVICE = "tempo"
TEMPO_OTLP_HTTP_PORT = 4318
LOKI_SERVICE = "loki"
ALERTMANAGER_SERVICE = "alertmanager"
