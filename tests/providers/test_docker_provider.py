"""verify/providers/docker.py through the real Pulumi CLI and engine, on the local Docker Engine.

One throwaway project declares what the program does on Swarm: an overlay network, a
content-named secret, a config, and a replicated dnsrr service with a healthcheck,
converge waiting, the secret and the config mounted. Every step is checked from outside
on the engine (docker SDK) and through the engine's own step summary (`--json`): a second
`up` changes nothing, an env/image change updates only the service, a new secret value
replaces the secret and updates the service, a killed task is healed by Swarm and refresh
sees no change, destroy leaves nothing with the test's prefix. Everything created carries
the unique prefix `pvd-<hex>`; on failure exactly those objects are removed."""

from __future__ import annotations

import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import docker
import pytest
from docker import errors as docker_errors

from tests.engine.enginehelp import Workspace, build_toolchain, changes, mini_project
from verify.engine import start_engine

pytestmark = pytest.mark.engine

IMAGE = "agent-os-test/caddy:2.10.2"
IMAGE_ALIAS = "agent-os-test/caddy:e3fdaef8f10ef009"  # another tag the image carries here
PROGRAM = """
import base64
import hashlib

import pulumi
import pulumi_docker as docker

cfg = pulumi.Config()
prefix = cfg.require("prefix")
value = cfg.require_secret("secretValue")
provider = docker.Provider("docker", host="unix:///var/run/docker.sock")
opts = pulumi.ResourceOptions(provider=provider)
net = docker.Network(
    "net",
    name=f"{prefix}-net",
    driver="overlay",
    attachable=False,
    options={"encrypted": "true"},
    labels=[docker.NetworkLabelArgs(label="pvd.prefix", value=prefix)],
    opts=opts,
)
sec = docker.Secret(
    "sec",
    name=value.apply(lambda v: f"{prefix}-sec-{hashlib.sha256(v.encode()).hexdigest()[:12]}"),
    data=value.apply(lambda v: base64.b64encode(v.encode()).decode()),
    labels=[docker.SecretLabelArgs(label="pvd.prefix", value=prefix)],
    opts=opts,
)
caddyfile = ":8080 {\\n\\trespond \\"ok\\"\\n}\\n"
conf = docker.ServiceConfig(
    "conf",
    name=f"{prefix}-caddyfile-{hashlib.sha256(caddyfile.encode()).hexdigest()[:12]}",
    data=base64.b64encode(caddyfile.encode()).decode(),
    labels=[docker.ServiceConfigLabelArgs(label="pvd.prefix", value=prefix)],
    opts=opts,
)
svc = docker.Service(
    "svc",
    name=f"{prefix}-svc",
    labels=[docker.ServiceLabelArgs(label="pvd.prefix", value=prefix)],
    mode=docker.ServiceModeArgs(replicated=docker.ServiceModeReplicatedArgs(replicas=1)),
    endpoint_spec=docker.ServiceEndpointSpecArgs(mode="dnsrr"),
    converge_config=docker.ServiceConvergeConfigArgs(timeout="2m", delay="2s"),
    update_config=docker.ServiceUpdateConfigArgs(parallelism=1, order="stop-first", failure_action="rollback"),
    task_spec=docker.ServiceTaskSpecArgs(
        container_spec=docker.ServiceTaskSpecContainerSpecArgs(
            image=cfg.require("image"),
            env={"PVD_MARK": cfg.require("mark")},
            stop_grace_period="2s",
            healthcheck=docker.ServiceTaskSpecContainerSpecHealthcheckArgs(
                tests=["CMD", "caddy", "version"], interval="2s", timeout="2s", retries=3, start_period="1s"
            ),
            secrets=[
                docker.ServiceTaskSpecContainerSpecSecretArgs(
                    secret_id=sec.id, secret_name=sec.name, file_name="/run/secrets/pvd", file_mode=0o400
                )
            ],
            configs=[
                docker.ServiceTaskSpecContainerSpecConfigArgs(
                    config_id=conf.id, config_name=conf.name, file_name="/etc/caddy/Caddyfile"
                )
            ],
        ),
        networks_advanceds=[docker.ServiceTaskSpecNetworksAdvancedArgs(id=net.id, aliases=["pvd"])],
        restart_policy=docker.ServiceTaskSpecRestartPolicyArgs(condition="any", delay="1s"),
    ),
    opts=opts,
)
pulumi.export("netId", net.id)
pulumi.export("netScope", net.scope)
pulumi.export("secId", sec.id)
pulumi.export("confId", conf.id)
pulumi.export("confName", conf.name)
pulumi.export("svcId", svc.id)
pulumi.export("svcName", svc.name)
"""


def _engine() -> docker.APIClient:
    """The process's shared engine (started here when none runs, as on CI's fresh machine)."""
    return start_engine().api


def _ours(api: docker.APIClient, prefix: str) -> dict[str, list[str]]:
    """Every Swarm object whose name starts with the prefix, by kind."""
    return {
        "services": [s["Spec"]["Name"] for s in api.services() if s["Spec"]["Name"].startswith(prefix)],
        "secrets": [s["Spec"]["Name"] for s in api.secrets() if s["Spec"]["Name"].startswith(prefix)],
        "configs": [c["Spec"]["Name"] for c in api.configs() if c["Spec"]["Name"].startswith(prefix)],
        "networks": [n["Name"] for n in api.networks() if n["Name"].startswith(prefix)],
    }


def _cleanup(api: docker.APIClient, prefix: str) -> None:
    for s in api.services():
        if s["Spec"]["Name"].startswith(prefix):
            api.remove_service(s["ID"])
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        left = [
            c for c in api.containers(all=True) if c["Names"] and c["Names"][0].lstrip("/").startswith(prefix)
        ]
        if not left:
            break
        time.sleep(1)
    for s in api.secrets():
        if s["Spec"]["Name"].startswith(prefix):
            api.remove_secret(s["ID"])
    for c in api.configs():
        if c["Spec"]["Name"].startswith(prefix):
            api.remove_config(c["ID"])
    for n in api.networks():
        if n["Name"].startswith(prefix):
            api.remove_network(n["Id"])


def _outputs(ws: Workspace) -> dict[str, Any]:
    return ws.pulumi("stack", "output", "--json", "-s", "test").json()


def _task_containers(api: docker.APIClient, service_id: str) -> list[dict[str, Any]]:
    return api.containers(filters={"label": f"com.docker.swarm.service.id={service_id}", "status": "running"})


def _wait_healthy_task(api: docker.APIClient, service_id: str, not_id: str = "", timeout: float = 120) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for c in _task_containers(api, service_id):
            if c["Id"] != not_id and "(healthy)" in c.get("Status", ""):
                return str(c["Id"])
        time.sleep(1)
    raise AssertionError(f"service {service_id}: no healthy task within {timeout} s")


def _env(api: docker.APIClient, service_id: str) -> list[str]:
    return list(api.inspect_service(service_id)["Spec"]["TaskTemplate"]["ContainerSpec"].get("Env", []))


@pytest.fixture(scope="module")
def bin_dir() -> Path:
    return build_toolchain()


@pytest.fixture
def prefix() -> Iterator[str]:
    p = f"pvd-{secrets.token_hex(4)}"
    yield p
    _cleanup(_engine(), p)


def test_docker_provider_on_the_local_swarm(tmp_path: Path, bin_dir: Path, prefix: str) -> None:
    api = _engine()
    assert api.info()["Swarm"]["LocalNodeState"] == "active"
    ws = mini_project(tmp_path, bin_dir, PROGRAM, name="pvd")
    ws.pulumi("config", "set", "prefix", prefix, "-s", "test")
    ws.pulumi("config", "set", "image", IMAGE, "-s", "test")
    ws.pulumi("config", "set", "mark", "one", "-s", "test")
    ws.pulumi("config", "set", "--secret", "secretValue", "s3cr3t-one", "-s", "test")

    # 1. up: every object exists on the engine as declared.
    up = ws.pulumi("up", "--yes", "--skip-preview", "--json", "-s", "test")
    assert changes(up) == {"create": ["conf", "docker", "net", "pvd-test", "sec", "svc"]}, changes(up)
    out = _outputs(ws)
    net = api.inspect_network(out["netId"])
    assert (net["Name"], net["Driver"], net["Scope"], out["netScope"]) == (
        f"{prefix}-net",
        "overlay",
        "swarm",
        "swarm",
    )
    assert net["Options"]["encrypted"] == "true" and net["Labels"] == {"pvd.prefix": prefix}
    assert api.inspect_secret(out["secId"])["Spec"]["Labels"] == {"pvd.prefix": prefix}
    assert out["confName"].startswith(f"{prefix}-caddyfile-")
    spec = api.inspect_service(out["svcId"])["Spec"]
    cs = spec["TaskTemplate"]["ContainerSpec"]
    assert out["svcName"] == spec["Name"] == f"{prefix}-svc"
    assert cs["Image"] == IMAGE and cs["Env"] == ["PVD_MARK=one"]
    assert (
        cs["Healthcheck"]["Test"] == ["CMD", "caddy", "version"]
        and cs["Healthcheck"]["Interval"] == 2 * 10**9
    )
    assert [(s["SecretID"], s["File"]["Name"], s["File"]["Mode"]) for s in cs["Secrets"]] == [
        (out["secId"], "/run/secrets/pvd", 0o400)
    ]
    assert [(c["ConfigID"], c["File"]["Name"]) for c in cs["Configs"]] == [
        (out["confId"], "/etc/caddy/Caddyfile")
    ]
    assert spec["EndpointSpec"]["Mode"] == "dnsrr" and spec["Mode"] == {"Replicated": {"Replicas": 1}}
    assert [(n["Target"], n.get("Aliases")) for n in spec["TaskTemplate"]["Networks"]] == [
        (out["netId"], ["pvd"])
    ]
    first = _wait_healthy_task(api, out["svcId"], timeout=30)  # convergeConfig waited for it already

    # 2. nothing to do the second time.
    ws.pulumi("preview", "--expect-no-changes", "-s", "test")
    again = ws.pulumi("up", "--yes", "--skip-preview", "--json", "-s", "test")
    assert set(changes(again)) == {"same"}, changes(again)

    # 3. image and env change: only the service is updated (in place, same ID).
    ws.pulumi("config", "set", "mark", "two", "-s", "test")
    ws.pulumi("config", "set", "image", IMAGE_ALIAS, "-s", "test")
    pre = ws.pulumi("preview", "--json", "-s", "test")
    assert changes(pre)["update"] == ["svc"] and set(changes(pre)) == {"update", "same"}, changes(pre)
    up = ws.pulumi("up", "--yes", "--skip-preview", "--json", "-s", "test")
    assert changes(up)["update"] == ["svc"] and set(changes(up)) == {"update", "same"}, changes(up)
    assert _outputs(ws)["svcId"] == out["svcId"]
    live = api.inspect_service(out["svcId"])
    assert live["Spec"]["TaskTemplate"]["ContainerSpec"]["Image"] == IMAGE_ALIAS
    assert _env(api, out["svcId"]) == ["PVD_MARK=two"]
    assert (live.get("UpdateStatus") or {}).get("State") == "completed"  # convergeConfig waited
    assert first not in [c["Id"] for c in _task_containers(api, out["svcId"])]

    # 4. a new secret value: the secret is replaced (new name, create-before-delete), the
    # service is updated to the new one, the old secret is gone.
    ws.pulumi("config", "set", "--secret", "secretValue", "s3cr3t-two", "-s", "test")
    pre = ws.pulumi("preview", "--json", "-s", "test")
    assert changes(pre)["replace"] == ["sec"] and changes(pre)["update"] == ["svc"], changes(pre)
    assert set(changes(pre)) == {"replace", "update", "same"}, changes(pre)
    up = ws.pulumi("up", "--yes", "--skip-preview", "--json", "-s", "test")
    got = changes(up)
    assert got["update"] == ["svc"] and "sec" in got.get("replace", []), got
    assert set(got) <= {"replace", "create-replacement", "delete-replaced", "update", "same"}, got
    assert not {"conf", "net"} & set(got.get("replace", []) + got.get("update", [])), got
    new_sec = _outputs(ws)["secId"]
    assert new_sec != out["secId"]
    with pytest.raises(docker_errors.NotFound):
        api.inspect_secret(out["secId"])
    secrets_now = api.inspect_service(out["svcId"])["Spec"]["TaskTemplate"]["ContainerSpec"]["Secrets"]
    assert [s["SecretID"] for s in secrets_now] == [new_sec]
    ws.pulumi("preview", "--expect-no-changes", "-s", "test")

    # 5. kill the task container: Swarm heals it; refresh finds nothing changed.
    victim = _wait_healthy_task(api, out["svcId"])
    api.remove_container(victim, force=True)
    _wait_healthy_task(api, out["svcId"], not_id=victim)
    ws.pulumi("refresh", "--yes", "--expect-no-changes", "-s", "test")
    ws.pulumi("preview", "--expect-no-changes", "-s", "test")

    # 6. destroy: nothing with the prefix is left on the engine.
    ws.pulumi("destroy", "--yes", "-s", "test")
    assert _ours(api, prefix) == {"services": [], "secrets": [], "configs": [], "networks": []}


def test_refresh_forgets_a_removed_service(tmp_path: Path, bin_dir: Path, prefix: str) -> None:
    """An object removed behind Pulumi's back reads as gone; the next up recreates it."""
    api = _engine()
    ws = mini_project(tmp_path, bin_dir, PROGRAM, name="pvd")
    for key, value in (("prefix", prefix), ("image", IMAGE), ("mark", "one")):
        ws.pulumi("config", "set", key, value, "-s", "test")
    ws.pulumi("config", "set", "--secret", "secretValue", "s3cr3t-one", "-s", "test")
    ws.pulumi("up", "--yes", "--skip-preview", "-s", "test")
    svc_id = _outputs(ws)["svcId"]
    api.remove_service(svc_id)
    ws.pulumi("refresh", "--yes", "-s", "test")
    pre = ws.pulumi("preview", "--json", "-s", "test")
    assert changes(pre).get("create") == ["svc"], changes(pre)
    ws.pulumi("up", "--yes", "--skip-preview", "-s", "test")
    assert _outputs(ws)["svcId"] != svc_id
    ws.pulumi("destroy", "--yes", "-s", "test")
    assert _ours(api, prefix) == {"services": [], "secrets": [], "configs": [], "networks": []}


CONTAINER_PROGRAM = """
import pulumi
import pulumi_docker as docker

cfg = pulumi.Config()
prefix = cfg.require("prefix")
provider = docker.Provider("docker", host="unix:///var/run/docker.sock")
opts = pulumi.ResourceOptions(provider=provider)
net = docker.Network("net", name=f"{prefix}-data", driver="overlay", attachable=True, opts=opts)
tunnel = docker.Container(
    "tunnel",
    name=f"{prefix}-tunnel",
    image="agent-os-test/socat:1.8.0.3",
    command=["TCP-LISTEN:5432,fork,reuseaddr", cfg.require("target")],
    ports=[docker.ContainerPortArgs(internal=5432, external=int(cfg.require("port")), ip="127.0.0.1")],
    networks_advanced=[docker.ContainerNetworksAdvancedArgs(name=net.name)],
    restart="unless-stopped",
    capabilities=docker.ContainerCapabilitiesArgs(drops=["ALL"]),
    read_only=True,
    memory=int(cfg.require("memory")),
    labels=[docker.ContainerLabelArgs(label="pvd.prefix", value=prefix)],
    opts=opts,
)
pulumi.export("tunnelId", tunnel.id)
"""


def test_container_update_in_place_and_replace(tmp_path: Path, bin_dir: Path, prefix: str) -> None:
    """The admin tunnel's shape: memory updates in place, a new command replaces it."""
    api = _engine()
    ws = mini_project(tmp_path, bin_dir, CONTAINER_PROGRAM, name="pvd")
    port = str(20000 + secrets.randbelow(20000))
    for key, value in (("prefix", prefix), ("target", "TCP:127.0.0.1:1"), ("port", port), ("memory", "64")):
        ws.pulumi("config", "set", key, value, "-s", "test")
    try:
        ws.pulumi("up", "--yes", "--skip-preview", "-s", "test")
        first = _outputs(ws)["tunnelId"]
        live = api.inspect_container(first)
        assert live["State"]["Running"] and live["Name"] == f"/{prefix}-tunnel"
        host = live["HostConfig"]
        assert (host["Memory"], host["ReadonlyRootfs"], host["CapDrop"]) == (64 * 1024 * 1024, True, ["ALL"])
        assert host["RestartPolicy"]["Name"] == "unless-stopped"
        assert host["PortBindings"] == {"5432/tcp": [{"HostIp": "127.0.0.1", "HostPort": port}]}
        assert list(live["NetworkSettings"]["Networks"]) == [f"{prefix}-data"]
        ws.pulumi("preview", "--expect-no-changes", "-s", "test")
        ws.pulumi("refresh", "--yes", "--expect-no-changes", "-s", "test")

        ws.pulumi("config", "set", "memory", "96", "-s", "test")
        pre = ws.pulumi("preview", "--json", "-s", "test")
        assert changes(pre)["update"] == ["tunnel"] and "replace" not in changes(pre), changes(pre)
        ws.pulumi("up", "--yes", "--skip-preview", "-s", "test")
        assert _outputs(ws)["tunnelId"] == first
        assert api.inspect_container(first)["HostConfig"]["Memory"] == 96 * 1024 * 1024

        ws.pulumi("config", "set", "target", "TCP:127.0.0.1:2", "-s", "test")
        pre = ws.pulumi("preview", "--json", "-s", "test")
        assert changes(pre)["replace"] == ["tunnel"], changes(pre)
        ws.pulumi("up", "--yes", "--skip-preview", "-s", "test")  # same name: delete first
        second = _outputs(ws)["tunnelId"]
        assert second != first and api.inspect_container(second)["Config"]["Cmd"][1] == "TCP:127.0.0.1:2"
        ws.pulumi("destroy", "--yes", "-s", "test")
        assert not api.containers(all=True, filters={"name": f"{prefix}-tunnel"})
        # The manager removes an overlay network at once; this node's copy may linger a moment.
        deadline = time.monotonic() + 30
        while _ours(api, prefix)["networks"] and time.monotonic() < deadline:
            time.sleep(1)
        assert _ours(api, prefix)["networks"] == []
    finally:
        for c in api.containers(all=True, filters={"name": f"{prefix}-"}):
            api.remove_container(c["Id"], force=True)
