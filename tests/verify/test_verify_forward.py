"""The captured-inputs -> Engine API mapping and the stand-in image rule (no engine needed)."""

from __future__ import annotations

import base64
import copy

import pytest

from tests.conftest import STACKS, evaluate
from tools import mockrun
from verify import engine, forward, standin


def _ids(mock_id: str) -> str:
    return f"real-{mock_id}"


def test_duration_and_labels() -> None:
    assert forward.duration_ns("10s") == 10 * 10**9
    assert forward.duration_ns("1m30s") == 90 * 10**9
    assert forward.duration_ns("250ms") == 250 * 10**6
    assert forward.duration_ns("0s") == 0
    with pytest.raises(ValueError):
        forward.duration_ns("10 seconds")
    assert forward.labels([{"label": "a", "value": "1"}]) == {"a": "1"}


def test_caddy_service_maps_to_the_engine_spec_as_declared(staging: mockrun.Run) -> None:
    caddy = staging.services()["caddy"].plain
    call = forward.service(caddy, _ids, standin.image_for)
    kw = call.kwargs
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
    assert cs["Image"] == standin.CADDY_IMAGE  # the only substitution
    assert cs["Args"][:2] == ["caddy", "run"]
    assert cs["CapabilityDrop"] == ["ALL"] and cs["CapabilityAdd"] == ["NET_BIND_SERVICE"]
    assert cs["Healthcheck"]["Interval"] == 15 * 10**9 and cs["Healthcheck"]["Test"][0] == "CMD-SHELL"
    (cfg,) = cs["Configs"]
    assert cfg["ConfigID"].startswith("real-") and cfg["File"] == {
        "Name": "/etc/caddy/Caddyfile",
        "UID": "0",
        "GID": "0",
        "Mode": 0o444,
    }
    assert {m["Target"] for m in cs["Mounts"] if m["Type"] == "volume"} == {"/data", "/config"}
    assert all(m["VolumeOptions"]["DriverConfig"] == {"Name": "local"} for m in cs["Mounts"])
    assert ts["Placement"]["Constraints"] == ["node.labels.edge==true"]
    assert all(n["Target"].startswith("real-") for n in ts["Networks"])
    assert ts["RestartPolicy"] == {
        "Condition": "any",
        "Delay": 5 * 10**9,
        "MaxAttempts": 0,
        "Window": 120 * 10**9,
    }
    assert ts["Resources"]["Limits"]["MemoryBytes"] > ts["Resources"]["Reservations"]["MemoryBytes"] > 0
    assert ts["LogDriver"]["Name"] == "json-file"
    # Global: no replica target to converge on; the edge's readiness gate probes Caddy.
    assert call.converge_timeout_ns is None


def test_secret_files_keep_owner_and_mode(staging: mockrun.Run) -> None:
    svc = staging.services()["technitium"].plain
    cs = forward.service(svc, _ids, standin.image_for).kwargs["task_template"]["ContainerSpec"]
    (s,) = cs["Secrets"]
    assert s["File"] == {
        "Name": "/run/secrets/technitium_admin_password",
        "UID": "0",
        "GID": "0",
        "Mode": 0o400,
    }
    assert s["SecretID"] == "real-technitium-admin-password-id"
    assert "DNS_SERVER_ADMIN_PASSWORD_FILE=/run/secrets/technitium_admin_password" in cs["Env"]


@pytest.mark.parametrize("stack", STACKS)
def test_every_docker_resource_of_both_stacks_maps_without_loss(stack: str) -> None:
    run = evaluate(stack)
    n = 0
    for r in run.resources:
        inputs = r.plain
        if r.type == forward.SERVICE:
            forward.service(inputs, _ids, standin.image_for)
        elif r.type == forward.NETWORK:
            assert forward.network(inputs)["driver"] == "overlay"
        elif r.type == forward.CONFIG:
            assert forward.config(inputs)["data"] == base64.b64decode(inputs["data"])
        elif r.type == forward.SECRET:
            assert forward.secret(inputs)["name"] == inputs["name"]
        elif r.type == forward.VOLUME:
            forward.volume(inputs)
        elif r.type == forward.CONTAINER:
            forward.container(inputs, "x")
        else:
            continue
        n += 1
    assert n >= 10


def test_an_unknown_property_is_refused_not_dropped(staging: mockrun.Run) -> None:
    svc = copy.deepcopy(staging.services()["caddy"].plain)
    svc["taskSpec"]["containerSpec"]["privileges"] = {"seLinuxContext": {"disable": True}}
    with pytest.raises(forward.UnmappedError, match=r"taskSpec\.containerSpec\.privileges"):
        forward.service(svc, _ids, standin.image_for)


def test_image_mapping() -> None:
    assert standin.image_for("caddy", "docker.io/library/caddy:2.10.2-alpine") == standin.CADDY_IMAGE
    assert standin.image_for("pg-age", "docker.io/apache/age:release_PG17_1.6.0") == (
        "agent-os-verify/standin-pg-age:v1"
    )


def test_standin_ports_rule(staging: mockrun.Run) -> None:
    texts = standin.stack_texts(staging)
    svcs = staging.services()
    # Technitium: published 53 + its health check's 5380 (also the Caddyfile's upstream).
    assert standin.ports_for("technitium", svcs["technitium"].plain, texts) == (53, 5380)
    # pg-age: `port=5432` in args and `pg-age:5432` in the admin tunnel's command.
    assert 5432 in standin.ports_for("pg-age", svcs["pg-age"].plain, texts)
    # An image tag (`kafka:4.1.0`) is not a port.
    assert 4 not in standin.ports_for("kafka-1", svcs["kafka-1"].plain, texts)


def test_standin_stubs_and_main_program(staging: mockrun.Run) -> None:
    known = standin.applets()
    pg = staging.services()["pg-age"].plain
    assert "/standin/bin/pg_isready" in standin.stubs_for(pg, [], known)
    assert standin.main_program(pg, known) is None  # args go to the image entrypoint
    svc = copy.deepcopy(pg)
    svc["taskSpec"]["containerSpec"]["commands"] = ["/bin/sh", "/usr/local/bin/with-secrets"]
    svc["taskSpec"]["containerSpec"]["args"] = ["my-server", "--flag"]
    assert standin.main_program(svc, known) == "/standin/bin/my-server"


def test_node_labels_for_constraints() -> None:
    assert engine.labels_for_constraints(["node.labels.edge==true", "node.role==manager"]) == {"edge": "true"}
    with pytest.raises(ValueError, match="kafka-broker"):
        engine.labels_for_constraints(["node.labels.kafka-broker==1", "node.labels.kafka-broker==2"])


def test_selection_rule_keeps_edge_and_data_and_fits_the_node(staging: mockrun.Run) -> None:
    chosen = engine.select_services(staging, 2 * 10**9)
    layers = {
        n: engine.labels(s.plain["labels"]).get("agent-os.layer") for n, s in staging.services().items()
    }
    assert {n for n, lay in layers.items() if lay in ("edge", "data")} <= set(chosen)
    total = sum(engine._reservation(staging.services()[n].plain) for n in chosen)
    assert total <= 0.9 * 2 * 10**9


@pytest.mark.parametrize("stack", STACKS)
def test_networks_a_standalone_container_joins_are_attachable(stack: str) -> None:
    """The engine refuses to start a container on a swarm overlay that is not attachable
    ("network agent-os-data not manually attachable"), seen on the real engine."""
    run = evaluate(stack)
    nets = {r.plain["name"]: r.plain for r in run.by_type(forward.NETWORK)}
    containers = run.by_type(forward.CONTAINER)
    for c in containers:
        for n in c.plain.get("networksAdvanced") or []:
            assert nets[n["name"]].get("attachable") is True, (c.name, n["name"])
