"""The docker provider's inputs -> Engine API mapping (verify/providers/docker_api.py), on the
program's own captured inputs; pure, no engine needed."""

from __future__ import annotations

import base64
import copy

import pytest

from tests.conftest import STACKS, evaluate
from tools import mockrun
from verify.providers import docker, docker_api

TYPES = (docker.Network, docker.ServiceConfig, docker.Secret, docker.Service, docker.Container)


def test_duration_and_labels() -> None:
    assert docker_api.duration_ns("10s") == 10 * 10**9
    assert docker_api.duration_ns("1m30s") == 90 * 10**9
    assert docker_api.duration_ns("250ms") == 250 * 10**6
    assert docker_api.duration_ns("0s") == 0
    with pytest.raises(ValueError):
        docker_api.duration_ns("10 seconds")
    assert docker_api.labels([{"label": "a", "value": "1"}]) == {"a": "1"}


def test_caddy_service_maps_to_the_engine_spec_as_declared(staging: mockrun.Run) -> None:
    caddy = staging.services()["caddy"].plain
    kw = docker_api.service(caddy)
    ts = kw["task_template"]
    cs = ts["ContainerSpec"]
    assert kw["name"] == "caddy"
    assert kw["mode"] == {"Global": {}}  # one per edge node
    assert kw["endpoint_spec"]["Mode"] == "dnsrr"
    assert {(p["TargetPort"], p["Protocol"], p["PublishMode"]) for p in kw["endpoint_spec"]["Ports"]} == {
        (80, "tcp", "host"),
        (443, "tcp", "host"),
        (443, "udp", "host"),
    }
    assert kw["update_config"]["FailureAction"] == "rollback"
    assert kw["update_config"]["Monitor"] == 30 * 10**9
    assert kw["update_config"]["MaxFailureRatio"] == 0.0
    assert cs["Image"] == caddy["taskSpec"]["containerSpec"]["image"]
    assert cs["Args"][:2] == ["caddy", "run"]
    assert cs["CapabilityDrop"] == ["ALL"] and cs["CapabilityAdd"] == ["NET_BIND_SERVICE"]
    assert cs["Healthcheck"]["Interval"] == 15 * 10**9 and cs["Healthcheck"]["Test"][0] == "CMD-SHELL"
    (cfg,) = cs["Configs"]
    assert cfg["ConfigID"] == caddy["taskSpec"]["containerSpec"]["configs"][0]["configId"]
    assert cfg["File"] == {"Name": "/etc/caddy/Caddyfile", "UID": "0", "GID": "0", "Mode": 0o444}
    assert {m["Target"] for m in cs["Mounts"] if m["Type"] == "volume"} == {"/data", "/config"}
    assert all(m["VolumeOptions"]["DriverConfig"] == {"Name": "local"} for m in cs["Mounts"])
    assert ts["Placement"]["Constraints"] == ["node.labels.edge==true"]
    assert [n["Target"] for n in ts["Networks"]] == [
        str(n.get("id") or n.get("name")) for n in caddy["taskSpec"]["networksAdvanceds"]
    ]
    assert ts["RestartPolicy"] == {
        "Condition": "any",
        "Delay": 5 * 10**9,
        "MaxAttempts": 0,
        "Window": 120 * 10**9,
    }
    assert ts["Resources"]["Limits"]["MemoryBytes"] > ts["Resources"]["Reservations"]["MemoryBytes"] > 0
    assert ts["LogDriver"]["Name"] == "json-file"
    assert "_converge" not in kw and "convergeConfig" not in kw  # the provider waits, not the engine


def test_secret_files_keep_owner_and_mode(staging: mockrun.Run) -> None:
    svc = staging.services()["technitium"].plain
    cs = docker_api.service(svc)["task_template"]["ContainerSpec"]
    (s,) = cs["Secrets"]
    assert s["File"] == {
        "Name": "/run/secrets/technitium_admin_password",
        "UID": "0",
        "GID": "0",
        "Mode": 0o400,
    }
    assert s["SecretID"] == svc["taskSpec"]["containerSpec"]["secrets"][0]["secretId"]
    assert "DNS_SERVER_ADMIN_PASSWORD_FILE=/run/secrets/technitium_admin_password" in cs["Env"]


@pytest.mark.parametrize("stack", STACKS)
def test_every_docker_resource_of_both_stacks_maps_without_loss(stack: str) -> None:
    """Every docker resource is of a type the provider deploys, and maps without an
    UnmappedError (a property the program starts to use fails here first)."""
    run = evaluate(stack)
    known = {t.type_token for t in TYPES}
    n = 0
    for r in run.resources:
        if not r.type.startswith("docker:"):
            continue
        assert r.type in known, f"{r.name}: the docker provider has no resource {r.type}"
        inputs = r.plain
        if r.type == docker.Service.type_token:
            docker_api.service(inputs)
        elif r.type == docker.Network.type_token:
            assert docker_api.network(inputs)["driver"] == "overlay"
        elif r.type == docker.ServiceConfig.type_token:
            assert docker_api.config(inputs)["data"] == base64.b64decode(inputs["data"])
        elif r.type == docker.Secret.type_token:
            assert docker_api.secret(inputs)["name"] == inputs["name"]
        else:
            assert docker_api.container(inputs)["image"] == inputs["image"]
        n += 1
    assert n >= 10


def test_an_unknown_property_is_refused_not_dropped(staging: mockrun.Run) -> None:
    svc = copy.deepcopy(staging.services()["caddy"].plain)
    svc["taskSpec"]["containerSpec"]["privileges"] = {"seLinuxContext": {"disable": True}}
    with pytest.raises(docker_api.UnmappedError, match=r"taskSpec\.containerSpec\.privileges"):
        docker_api.service(svc)


@pytest.mark.parametrize("stack", STACKS)
def test_networks_a_standalone_container_joins_are_attachable(stack: str) -> None:
    """The engine refuses to start a container on a swarm overlay that is not attachable
    ("network agent-os-data not manually attachable"), seen on the real engine."""
    run = evaluate(stack)
    nets = {r.plain["name"]: r.plain for r in run.by_type(docker.Network.type_token)}
    for c in run.by_type(docker.Container.type_token):
        for n in c.plain.get("networksAdvanced") or []:
            assert nets[n["name"]].get("attachable") is True, (c.name, n["name"])
