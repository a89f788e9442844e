"""The fleet's declaration, purely (no mocks): the tier's services, the connectors the
registry selects, routes, and the webhook Alertmanager posts to."""

from __future__ import annotations

import pytest

from components.config.model import ConfigError
from components.fleet.plan import fleet_plan
from tests.day0.conftest import config_of


def test_staging_tier_and_its_seven_connectors() -> None:
    p = fleet_plan(config_of("staging"))
    assert [x.service for x in p.processes] == [
        "agent-gateway",
        "kg-daemon",
        "graph-os",
        "kg-ingest-worker",
        "agent-dispatch-worker",
    ]
    assert len(p.connectors.selected) == 7
    assert all(x.constraints == ("node.labels.fleet==true",) for x in p.connectors.placements.values())
    assert p.kg_daemon.pinned and p.kg_daemon.max_replicas_per_node == 1


def test_routes_keep_metrics_private_and_the_webui_needs_keycloak() -> None:
    p = fleet_plan(config_of("staging"))
    routes = {r.host: r for r in p.routes}
    assert routes["gateway"].upstreams == ("agent-gateway:9000",)
    assert routes["gateway"].private_paths == ("/metrics",) == routes["graph-os"].private_paths
    assert "fleet" not in routes  # the webui is off by default
    on = fleet_plan(
        config_of(
            "staging",
            {
                "agent-os:fleet": {"profile": "single-node-prod", "webui": {"enabled": True}},
                "agent-os:images": {
                    "allowLatestConnectors": True,
                    "overrides": {"agent-webui": "r.internal/webui:1"},
                },
            },
        )
    )
    webui = {r.host: r for r in on.routes}["fleet"]
    assert webui.login_client == "agent-webui" and webui.upstreams[0].startswith("agent-webui:")


def test_alertmanager_posts_to_the_gateways_fleet_events_webhook() -> None:
    hook = fleet_plan(config_of("staging")).telemetry.webhook
    assert hook == "http://agent-gateway:9000/api/fleet/events?source=alertmanager"


def test_credentials_for_a_connector_the_stack_does_not_run_are_refused() -> None:
    cfg = config_of("staging")
    bad = cfg.model_copy(
        update={"fleet": cfg.fleet.model_copy(update={"connector_secrets": {"nope-mcp": ["TOKEN"]}})}
    )
    with pytest.raises(ConfigError, match=r"agent-os:fleet.connectorSecrets: nope-mcp not deployed"):
        fleet_plan(bad)
