"""Provisioning order and both modes, on the captured command graph (tools.graph.Dag)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.conftest import evaluate
from tools import mockrun
from tools.graph import Dag

REMOTE = "command:remote:Command"
LOCAL = "command:local:Command"
HOSTS = ["mgr-1", "mgr-2", "mgr-3", "wrk-1", "wrk-2", "wrk-3", "wrk-4"]


def _urn(run: mockrun.Run, type_: str, name: str) -> str:
    return run.one(type_, name).urn


@pytest.fixture(scope="module")
def captured_secret_outputs() -> Iterator[dict[str, list[str]]]:
    """Record additionalSecretOutputs per resource name (the mock monitor drops them)."""
    seen: dict[str, list[str]] = {}
    original = mockrun.CaptureMonitor.RegisterResource

    def spy(self: mockrun.CaptureMonitor, request: Any) -> Any:
        seen[request.name] = list(request.additionalSecretOutputs)
        return original(self, request)

    mockrun.CaptureMonitor.RegisterResource = spy  # type: ignore[method-assign]
    try:
        mockrun.run("enterprise")
    finally:
        mockrun.CaptureMonitor.RegisterResource = original  # type: ignore[method-assign]
    yield seen


def test_order_init_tokens_joins_labels_check_provider_everything(enterprise: mockrun.Run) -> None:
    run, dag = enterprise, Dag.of(enterprise)
    init = _urn(run, REMOTE, "swarm-init")
    tokens = {r: _urn(run, REMOTE, f"join-token-{r}") for r in ("manager", "worker")}
    joins = {h: _urn(run, REMOTE, f"swarm-join-{h}") for h in HOSTS[1:]}
    labels = {h: _urn(run, REMOTE, f"node-labels-{h}") for h in HOSTS}
    check = _urn(run, REMOTE, "swarm-check")
    docker = _urn(run, "pulumi:providers:docker", "docker")
    assert dag.deps[init] == {_urn(run, "pulumi:providers:command", "command")}
    for t in tokens.values():
        assert init in dag.deps[t]
    for h, j in joins.items():
        assert dag.reaches(tokens["manager" if h.startswith("mgr") else "worker"], j), h
        assert dag.reaches(j, labels[h]), h
    assert dag.reaches(init, labels["mgr-1"])
    assert set(labels.values()) <= dag.deps[check]
    assert check in dag.deps[docker]
    docker_resources = [r for r in run.resources if r.custom and r.type.startswith("docker:")]
    assert len(docker_resources) > 50
    for r in docker_resources:
        assert dag.reaches(check, r.urn), r.name
    # Nothing of the layers runs before the check, except things that never touch the swarm.
    for r in run.resources:
        if r.custom and r.type.startswith(("docker:", "postgresql:", "keycloak:", "vault:")):
            assert dag.reaches(docker, r.urn), r.name


def test_managers_join_one_at_a_time_workers_in_parallel(enterprise: mockrun.Run) -> None:
    dag = Dag.of(enterprise)
    j = {h: _urn(enterprise, REMOTE, f"swarm-join-{h}") for h in HOSTS[1:]}
    assert j["mgr-2"] in dag.deps[j["mgr-3"]]
    for a in ("wrk-1", "wrk-2", "wrk-3", "wrk-4"):
        for b in ("wrk-1", "wrk-2", "wrk-3", "wrk-4", "mgr-2", "mgr-3"):
            if a != b:
                assert not dag.reaches(j[a], j[b]) and not dag.reaches(j[b], j[a]), (a, b)


def test_commands_connect_with_the_secret_key_and_run_where_they_must(enterprise: mockrun.Run) -> None:
    cmds = {r.name: r for r in enterprise.by_type(REMOTE)}
    assert set(cmds) == {
        "swarm-init",
        "join-token-manager",
        "join-token-worker",
        "swarm-check",
        *(f"swarm-join-{h}" for h in HOSTS[1:]),
        *(f"node-labels-{h}" for h in HOSTS),
    }
    for name, c in cmds.items():
        conn = c.inputs["connection"]
        assert mockrun.is_secret(conn) or mockrun.is_secret(conn.get("privateKey")), name
        plain = c.plain["connection"]
        assert plain["privateKey"] == mockrun.SECURE_PLACEHOLDER and plain["user"] == "deploy", name
        host = name.removeprefix("swarm-join-")
        expect = {"mgr-2": "10.40.0.12", "wrk-3": "10.40.0.23"}.get(host, "10.40.0.11")
        if name.startswith("swarm-join-") and host not in ("mgr-2", "wrk-3"):
            continue
        assert plain["host"] == expect, name
    # The join token reaches the host on stdin, as a secret; never in the script.
    join = cmds["swarm-join-wrk-1"]
    assert mockrun.is_secret(join.inputs["stdin"])
    assert '--token "$token"' in join.plain["create"]


def test_join_tokens_are_secret_outputs(captured_secret_outputs: dict[str, list[str]]) -> None:
    assert "stdout" in captured_secret_outputs["join-token-manager"]
    assert "stdout" in captured_secret_outputs["join-token-worker"]
    assert "stdout" not in captured_secret_outputs["swarm-init"]  # a node ID is no secret


def test_rendered_scripts_are_check_first(enterprise: mockrun.Run) -> None:
    c = {r.name: r.plain for r in enterprise.by_type(REMOTE)}
    init = c["swarm-init"]["create"]
    assert "inactive) docker swarm init --advertise-addr 10.40.0.11 --data-path-addr 10.40.0.11" in init
    assert init.index("LocalNodeState") < init.index("swarm init")
    join = c["swarm-join-wrk-2"]["create"]
    assert "  active) ;;" in join and "10.40.0.11:2377" in join
    assert c["join-token-worker"]["create"].strip() == "docker swarm join-token -q worker"
    labels = c["node-labels-wrk-2"]
    assert "--label-add kafka-broker" not in labels["create"]  # wrk-2 has no broker
    assert 'if ! has kg-shard-2 || [ "$(get kg-shard-2)" != true ]' in labels["create"]
    assert 'if [ "$#" -eq 0 ]; then echo "labels unchanged' in labels["create"]
    assert "--label-rm" in labels["delete"] and "--label-add" not in labels["delete"]
    check = c["swarm-check"]["create"]
    for h in HOSTS:
        assert f"  check {h} " in check, h
    assert "check mgr-1 ready manager ' core=true '" in check
    assert "-ge 24 ]" in check and "docker node ls" in check


def test_provision_on_docker_provider_dials_the_first_manager(enterprise: mockrun.Run) -> None:
    p = enterprise.one("pulumi:providers:docker", "docker")
    assert p.inputs["host"] == "ssh://deploy@10.40.0.11:22"
    assert "StrictHostKeyChecking=accept-new" in str(p.inputs["sshOpts"])  # providers get JSON strings
    assert "swarm-labels-ready" not in {r.name for r in enterprise.by_type(LOCAL)}


def test_provision_off_checks_labels_of_the_existing_swarm(staging: mockrun.Run) -> None:
    assert staging.by_type(REMOTE) == []
    ready = staging.one(LOCAL, "swarm-labels-ready")
    assert ready.inputs["environment"] == {"DOCKER_HOST": "unix:///var/run/docker.sock"}
    script = ready.inputs["create"]
    for need in (
        "kafka-broker=1 (kafka-1)",
        "postgres=true (pg-age)",
        "openbao=1 (bao-1)",
        "kg-shard-1=true (kg-shard-1)",
        "manager+portainer=true (portainer)",
    ):
        assert need in script, need
    dag = Dag.of(staging)
    docker = staging.one("pulumi:providers:docker", "docker")
    assert docker.inputs["host"] == "unix:///var/run/docker.sock"
    assert ready.urn in dag.deps[docker.urn]
    for r in staging.resources:
        if r.custom and r.type.startswith("docker:"):
            assert dag.reaches(ready.urn, r.urn), r.name


def test_provision_off_without_inventory_still_checks_labels() -> None:
    run = mockrun.run("staging", overrides={"agent-os:inventory": None})
    assert "postgres=true (pg-age)" in run.one(LOCAL, "swarm-labels-ready").inputs["create"]
    assert run.outputs["placement"]["hosts"] == {}


def test_enterprise_with_provision_off_targets_the_configured_docker_host() -> None:
    values, _ = mockrun.stack_config("enterprise")
    run = mockrun.run(
        "enterprise",
        overrides={
            "agent-os:inventory": {**values["agent-os:inventory"], "provision": False},
            "agent-os:swarm": {**values["agent-os:swarm"], "dockerHost": "ssh://ops@10.40.0.12:2222"},
        },
    )
    assert run.by_type(REMOTE) == []
    assert run.one("pulumi:providers:docker", "docker").inputs["host"] == "ssh://ops@10.40.0.12:2222"
    assert (
        run.one(LOCAL, "swarm-labels-ready").inputs["environment"]["DOCKER_HOST"]
        == "ssh://ops@10.40.0.12:2222"
    )


def test_preview_of_the_enterprise_stack_evaluates() -> None:
    run = evaluate("enterprise", preview=True)
    assert run.one("pulumi:providers:docker", "docker").inputs["host"] == "ssh://deploy@10.40.0.11:22"
