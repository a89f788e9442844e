"""The connector fleet from the registry: profile selection, desired-state overrides, the
image policy, and clear errors for bad registry inputs."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pulumi
import pytest
import yaml

from components.fleet.registry import RegistryError, apply_desired_state, load_registry
from tests.fleet.fleethelp import REGISTRY, connectors, container, labels, mounted_config, registry_names
from tools import mockrun

STAGING_CONNECTORS = {
    "caddy-mcp",
    "container-manager-mcp",
    "openbao-mcp",
    "technitium-dns-mcp",
    "vector-mcp",
    "pulselink-mcp",
    "freshrss-mcp",
}


def _doc() -> dict[str, Any]:
    return yaml.safe_load(REGISTRY.read_text())


def _write(tmp_path: Path, doc: Any, name: str = "registry.yml") -> Path:
    p = tmp_path / name
    p.write_text(doc if isinstance(doc, str) else yaml.safe_dump(doc, sort_keys=False))
    return p


def test_enterprise_deploys_all_59_connectors(enterprise: mockrun.Run) -> None:
    names = connectors(enterprise)
    assert len(names) == 59
    assert names == sorted(registry_names("enterprise"))


def test_staging_deploys_the_7_single_node_prod_connectors(staging: mockrun.Run) -> None:
    assert set(connectors(staging)) == STAGING_CONNECTORS == set(registry_names("single-node-prod"))


@pytest.mark.parametrize("stack", ["staging", "enterprise"])
def test_connectors_are_streamable_http_with_keycloak_jwt_and_no_ports(stack: str) -> None:
    from tests.conftest import evaluate

    run = evaluate(stack)
    zone = {"staging": "staging.agents.arpa", "enterprise": "agents.arpa"}[stack]
    issuer = f"https://sso.{zone}/realms/agents"
    for name in connectors(run):
        spec = run.services()[name].plain
        assert spec["name"] == name  # exactly the registry name: no stack prefix
        assert not spec["endpointSpec"].get("ports"), name
        env = spec["taskSpec"]["containerSpec"]["env"]
        assert env["TRANSPORT"] == "streamable-http" and env["PORT"] == "8000" and env["HOST"] == "0.0.0.0"
        assert env["AUTH_TYPE"] == "jwt"
        assert env["FASTMCP_SERVER_AUTH_JWT_ISSUER"] == issuer
        assert (
            env["FASTMCP_SERVER_AUTH_JWT_JWKS_URI"]
            == "http://keycloak:8080/realms/agents/protocol/openid-connect/certs"
        )
        assert env["FASTMCP_SERVER_AUTH_JWT_AUDIENCE"] == "agent-utilities"
        cs = spec["taskSpec"]["containerSpec"]
        assert cs["args"] == [name] and "commands" not in cs and cs["hostname"] == name
        nets = [n["id"] for n in spec["taskSpec"]["networksAdvanceds"]]
        assert nets == ["net-fleet-id"]
    assert labels(run, "caddy-mcp")["agent-os.kind"] == "connector"
    assert container(run, "caddy-mcp")["image"] == "docker.io/knucklessg1/caddy-mcp:latest"
    assert container(run, "graph-os")["env"]  # graph-os joins the fleet overlay:
    gnets = [n["id"] for n in run.services()["graph-os"].plain["taskSpec"]["networksAdvanceds"]]
    assert "net-fleet-id" in gnets


def test_graph_os_reaches_connectors_through_the_url_template(staging: mockrun.Run) -> None:
    import json

    doc = json.loads(mounted_config(staging, "graph-os", "/etc/agent-utilities/config.json"))
    assert doc["fleet_mcp_url_template"].format(name="caddy-mcp") == "http://caddy-mcp:8000/mcp"
    registry = yaml.safe_load(
        mounted_config(staging, "kg-daemon", "/etc/agent-utilities/mcp-fleet.registry.yml")
    )
    assert {s["name"] for s in registry["services"]} == STAGING_CONNECTORS


def test_latest_connector_images_need_the_switch(run_with: Callable[..., mockrun.Run]) -> None:
    with pytest.raises(
        pulumi.RunError, match=r"mcp-fleet\.registry\.yml: 7 connector image\(s\) are ':latest'"
    ):
        run_with("staging", overrides={"agent-os:images": {"allowLatestConnectors": False}})


def test_mirror_applies_to_connectors(run_with: Callable[..., mockrun.Run]) -> None:
    run = run_with(
        "staging",
        overrides={"agent-os:images": {"mirror": "mirror.local:5000", "allowLatestConnectors": True}},
    )
    assert container(run, "vector-mcp")["image"] == "mirror.local:5000/knucklessg1/vector-mcp:latest"


def test_desired_state_overrides_replicas_stop_scaling_and_version(
    tmp_path: Path, run_with: Callable[..., mockrun.Run]
) -> None:
    desired = {
        "services": [
            {"name": "caddy-mcp", "desired": "stopped"},
            {"name": "vector-mcp", "replicas": 3},
            {
                "name": "openbao-mcp",
                "replicas": 1,
                "scaling": {"min": 2, "max": 4, "signal": "cpu", "target": 0.7},
            },
            {"name": "freshrss-mcp", "version": "1.4.2"},
        ]
    }
    path = _write(tmp_path, desired, "desired.yml")
    # All pinned except the stopped/:latest ones is not required: keep the switch on.
    run = run_with(
        "staging",
        overrides={"agent-os:fleet": {"profile": "single-node-prod", "desiredStatePath": str(path)}},
    )
    replicas = {n: run.services()[n].plain["mode"]["replicated"]["replicas"] for n in STAGING_CONNECTORS}
    assert replicas["caddy-mcp"] == 0
    assert replicas["vector-mcp"] == 3
    assert replicas["openbao-mcp"] == 2  # clamped into [min, max]
    assert replicas["pulselink-mcp"] == 1
    image = next(s["image"] for s in _doc()["services"] if s["name"] == "freshrss-mcp")
    assert image.endswith(":latest")
    assert container(run, "freshrss-mcp")["image"] == f"docker.io/{image.rsplit(':', 1)[0]}:1.4.2"
    # The app reads the same file (FLEET_DESIRED_STATE_PATH via config.json).
    assert (
        yaml.safe_load(mounted_config(run, "kg-daemon", "/etc/agent-utilities/mcp-fleet.desired.yml"))
        == desired
    )


def test_pinning_every_connector_lifts_the_latest_switch(
    tmp_path: Path, run_with: Callable[..., mockrun.Run]
) -> None:
    desired = {"services": [{"name": n, "version": "2.0.0"} for n in sorted(STAGING_CONNECTORS)]}
    path = _write(tmp_path, desired, "desired.yml")
    run = run_with(
        "staging",
        overrides={
            "agent-os:images": {"allowLatestConnectors": False},
            "agent-os:fleet": {"profile": "single-node-prod", "desiredStatePath": str(path)},
        },
    )
    assert all(container(run, n)["image"].endswith(":2.0.0") for n in STAGING_CONNECTORS)


# ---- bad inputs: one clear error naming the file and the entry ----


def test_missing_registry(tmp_path: Path) -> None:
    with pytest.raises(RegistryError, match=r"nope\.yml: registry file not found"):
        load_registry(tmp_path / "nope.yml")


def test_malformed_yaml(tmp_path: Path) -> None:
    p = _write(tmp_path, "version: 1\nservices:\n  - name: a\n    image: [unclosed\n")
    with pytest.raises(RegistryError, match=r"registry\.yml: malformed YAML at line \d+"):
        load_registry(p)


def test_duplicate_name(tmp_path: Path) -> None:
    doc = _doc()
    dup = dict(doc["services"][3], host_port=9999)
    doc["services"].append(dup)
    with pytest.raises(
        RegistryError, match=rf"services\[59\] \({dup['name']}\): duplicate name .* \(also services\[3\]\)"
    ):
        load_registry(_write(tmp_path, doc))


def test_duplicate_host_port(tmp_path: Path) -> None:
    doc = _doc()
    doc["services"][5]["host_port"] = doc["services"][0]["host_port"]
    name5, name0 = doc["services"][5]["name"], doc["services"][0]["name"]
    with pytest.raises(
        RegistryError, match=rf"services\[5\] \({name5}\): duplicate host_port 8200 \(also {name0}\)"
    ):
        load_registry(_write(tmp_path, doc))


def test_missing_field_and_bad_name(tmp_path: Path) -> None:
    doc = _doc()
    del doc["services"][2]["image"]
    with pytest.raises(
        RegistryError, match=r"services\[2\] \(archivebox-mcp\): missing field\(s\) \['image'\]"
    ):
        load_registry(_write(tmp_path, doc))
    doc = _doc()
    doc["services"][1]["name"] = "Bad_Name"
    with pytest.raises(RegistryError, match="not a valid Swarm service"):
        load_registry(_write(tmp_path, doc))


def test_unknown_profile(tmp_path: Path) -> None:
    reg = load_registry(REGISTRY)
    with pytest.raises(
        RegistryError,
        match=r"unknown profile 'prod' \(profiles in the file: \['enterprise', 'single-node-prod'\]\)",
    ):
        reg.select("prod")


def test_desired_state_errors(tmp_path: Path) -> None:
    reg = load_registry(REGISTRY)
    for body, match in [
        (
            {"services": [{"name": "no-such-mcp", "replicas": 2}]},
            r"services\[0\] \(no-such-mcp\): no service",
        ),
        (
            {"services": [{"name": "caddy-mcp", "desired": "paused"}]},
            "desired must be 'running' or 'stopped'",
        ),
        ({"services": [{"name": "caddy-mcp", "scaling": {"max": 3}}]}, r"scaling\.signal is required"),
        (
            {
                "services": [
                    {"name": "caddy-mcp", "scaling": {"max": 1, "min": 2, "signal": "cpu", "target": 1}}
                ]
            },
            "below",
        ),
        ({"services": [{"name": "caddy-mcp", "replicas": -1}]}, "replicas must be an integer"),
    ]:
        with pytest.raises(RegistryError, match=match):
            apply_desired_state(reg, _write(tmp_path, body, "desired.yml"))


@pytest.mark.parametrize(
    ("fleet", "match"),
    [
        (
            {"registryPath": "/nonexistent/mcp-fleet.registry.yml"},
            r"/nonexistent/mcp-fleet\.registry\.yml: registry file not found",
        ),
        ({"profile": "prod"}, "unknown profile 'prod'"),
    ],
)
def test_bad_registry_config_is_one_run_error(
    fleet: dict[str, str], match: str, run_with: Callable[..., mockrun.Run]
) -> None:
    with pytest.raises(pulumi.RunError, match=match):
        run_with("staging", overrides={"agent-os:fleet": fleet})


def test_malformed_registry_through_the_program(tmp_path: Path, run_with: Callable[..., mockrun.Run]) -> None:
    p = _write(tmp_path, "version: 1\nservices: [ {name: a\n")
    with pytest.raises(pulumi.RunError, match=rf"{p}: malformed YAML"):
        run_with("staging", overrides={"agent-os:fleet": {"registryPath": str(p)}})
