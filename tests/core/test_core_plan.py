"""The core layer's declaration, purely (no mocks): each integration brings its services
and routes, and only those."""

from __future__ import annotations

from components.config.integrations import Integrations
from components.core.plan import core_plan
from tests.day0.conftest import config_of


def test_enterprise_core_services_and_pins() -> None:
    cfg = config_of("enterprise")
    p = core_plan(cfg.core, cfg.integrations)
    by = {x.service: x for x in p.placements}
    assert [m.service for m in p.openbao] == ["bao-1", "bao-2", "bao-3"]
    assert by["bao-2"].constraints == ("node.labels.openbao==2",)
    assert by["portainer"].constraints == ("node.role==manager", "node.labels.portainer==true")
    assert by["portainer-agent"].replicas is None and by["node-exporter"].replicas is None
    assert by["prometheus"].constraints == ("node.role==manager", "node.labels.observability==true")
    assert {h.host for h in p.routes} == {"sso", "openbao", "portainer", "grafana"}
    openbao = next(r for r in p.routes if r.host == "openbao")
    assert openbao.upstreams == ("bao-1:8200", "bao-2:8200", "bao-3:8200")


def test_switching_an_integration_off_removes_its_services_and_route() -> None:
    cfg = config_of("staging")
    off = Integrations.model_validate(
        {"keycloak": False, "portainer": False, "lgtm": False, "allowUnauthenticated": True}
    )
    p = core_plan(cfg.core, off)
    assert [x.service for x in p.placements] == ["bao-1"]
    assert [r.host for r in p.routes] == ["openbao"]
    assert p.keycloak is None and p.portainer is None and p.lgtm is None


def test_admin_surfaces_are_declared_on_the_routes() -> None:
    cfg = config_of("staging")
    routes = {r.host: r for r in core_plan(cfg.core, cfg.integrations).routes}
    assert routes["sso"].admin_paths == ("/admin", "/realms/master")
    assert routes["sso"].public_paths == ("/realms/", "/resources/", "/js/", "/.well-known/")
    assert routes["openbao"].admin_paths == ("/ui", "/v1/sys")
    assert routes["portainer"].public_paths == ()
    assert not routes["grafana"].has_admin_surface
