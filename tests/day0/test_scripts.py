"""Day-0 scripts run against a fake `docker` (tests/day0/fakedocker.py): check-first, so a
re-run changes nothing; stale managed labels go, foreign labels stay."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from components.config.inventory import MANAGED_LABELS, HostConfig, Role
from components.config.swarm import Layer
from components.day0.labels import apply_locally, label_script
from components.day0.scripts import check_script, init_script, join_script, labels_ready_script, token_script
from components.model import Placement

FAKE = Path(__file__).with_name("fakedocker.py")
LEADER = HostConfig(name="mgr-1", address="192.0.2.11", role=Role.MANAGER, labels={"postgres": "true"})
WORKER = HostConfig(name="wrk-1", address="192.0.2.21", labels={"edge": "true", "kafka-broker": "2"})
MANAGER2 = HostConfig(name="mgr-2", address="192.0.2.12", role=Role.MANAGER)


class Swarm:
    """Runs scripts with the fake docker on PATH; `host` picks which host they run on."""

    def __init__(self, tmp: Path) -> None:
        bin_dir = tmp / "bin"
        bin_dir.mkdir()
        shim = bin_dir / "docker"
        shim.write_text(f'#!/bin/sh\nexec {sys.executable} {FAKE} "$@"\n')
        shim.chmod(0o755)
        self.state, self.log = tmp / "state.json", tmp / "calls.log"
        self.log.write_text("")
        self.env = {
            **os.environ,
            "PATH": f"{bin_dir}:{os.environ['PATH']}",
            "FAKE_DOCKER_STATE": str(self.state),
            "FAKE_DOCKER_LOG": str(self.log),
        }

    def run(
        self, script: str, host: str = LEADER.address, stdin: str = ""
    ) -> subprocess.CompletedProcess[str]:
        env = {**self.env, "FAKE_DOCKER_HOST": host}
        return subprocess.run(
            ["/bin/sh", "-c", script], input=stdin, capture_output=True, text=True, env=env, check=False
        )

    def ok(self, script: str, host: str = LEADER.address, stdin: str = "") -> str:
        done = self.run(script, host, stdin)
        assert done.returncode == 0, done.stderr
        return done.stdout.strip()

    def calls(self, prefix: str) -> list[str]:
        return [c for c in self.log.read_text().splitlines() if c.startswith(prefix)]

    def labels(self, node: str) -> dict[str, str]:
        return json.loads(self.state.read_text())["nodes"][node]["labels"]

    def set_labels(self, node: str, labels: dict[str, str]) -> None:
        s: dict[str, Any] = json.loads(self.state.read_text())
        s["nodes"][node]["labels"] = labels
        self.state.write_text(json.dumps(s))


@pytest.fixture
def swarm(tmp_path: Path) -> Swarm:
    return Swarm(tmp_path)


def _bootstrap(swarm: Swarm) -> tuple[str, str]:
    leader = swarm.ok(init_script(LEADER))
    token = swarm.ok(token_script(Role.WORKER))
    worker = swarm.ok(join_script(WORKER, LEADER), WORKER.address, token + "\n")
    return leader, worker


def test_init_and_join_run_once_and_rerun_changes_nothing(swarm: Swarm) -> None:
    leader, worker = _bootstrap(swarm)
    assert leader == "node-192.0.2.11" and worker == "node-192.0.2.21"
    before = swarm.state.read_text()
    # Second `pulumi up` (or a resumed half-done one): same node IDs, no init/join again.
    assert swarm.ok(init_script(LEADER)) == leader
    assert swarm.ok(join_script(WORKER, LEADER), WORKER.address, "SWMTKN-1-worker\n") == worker
    assert len(swarm.calls("swarm init")) == 1
    assert len(swarm.calls("swarm join --token")) == 1
    assert swarm.state.read_text() == before
    join = swarm.calls("swarm join --token")[0]
    assert "--advertise-addr 192.0.2.21 --data-path-addr 192.0.2.21 192.0.2.11:2377" in join


def test_join_token_comes_on_stdin_not_in_the_script(swarm: Swarm) -> None:
    script = join_script(WORKER, LEADER)
    assert "SWMTKN" not in script and "read -r token" in script
    swarm.ok(init_script(LEADER))
    done = swarm.run(script, WORKER.address, "")
    assert done.returncode == 1 and "no join token on stdin" in done.stderr


def test_a_manager_that_joined_as_worker_fails_clearly(swarm: Swarm) -> None:
    swarm.ok(init_script(LEADER))
    swarm.ok(join_script(WORKER, LEADER), MANAGER2.address, "SWMTKN-1-worker\n")
    done = swarm.run(join_script(MANAGER2, LEADER), MANAGER2.address, "SWMTKN-1-manager\n")
    assert done.returncode == 1
    assert "mgr-2 (192.0.2.12) is a worker but the inventory says manager" in done.stderr


def test_label_script_applies_once_then_changes_nothing(swarm: Swarm) -> None:
    _, worker = _bootstrap(swarm)
    first = swarm.ok(label_script(WORKER, worker))
    assert first.startswith(f"labels changed on {worker}")
    assert swarm.labels(worker) == {"edge": "true", "kafka-broker": "2", MANAGED_LABELS: "edge,kafka-broker"}
    updates = len(swarm.calls("node update"))
    assert swarm.ok(label_script(WORKER, worker)) == f"labels unchanged on {worker}"
    assert len(swarm.calls("node update")) == updates


def test_label_script_removes_stale_managed_labels_and_keeps_foreign_ones(swarm: Swarm) -> None:
    _, worker = _bootstrap(swarm)
    swarm.ok(label_script(WORKER, worker))
    swarm.set_labels(worker, {**swarm.labels(worker), "rack": "r7"})  # set by someone else
    moved = WORKER.model_copy(update={"labels": {"edge": "true", "kafka-broker": "3"}})
    out = swarm.ok(label_script(moved, worker))
    assert "--label-add kafka-broker=3" in out
    assert swarm.labels(worker) == {
        "edge": "true",
        "kafka-broker": "3",
        "rack": "r7",
        MANAGED_LABELS: "edge,kafka-broker",
    }
    dropped = WORKER.model_copy(update={"labels": {"kafka-broker": "3"}})
    out = swarm.ok(label_script(dropped, worker))
    assert "--label-rm edge" in out
    assert swarm.labels(worker) == {"kafka-broker": "3", "rack": "r7", MANAGED_LABELS: "kafka-broker"}
    # The host leaves the inventory (the command's delete): every managed label goes.
    swarm.ok(label_script({}, worker))
    assert swarm.labels(worker) == {"rack": "r7"}
    assert swarm.ok(label_script({}, worker)) == f"labels unchanged on {worker}"


def test_apply_locally_labels_the_node_it_runs_on(swarm: Swarm) -> None:
    leader = swarm.ok(init_script(LEADER))
    env = {**swarm.env, "FAKE_DOCKER_HOST": LEADER.address}
    assert apply_locally(LEADER, env=env).startswith(f"labels changed on {leader}")
    assert swarm.labels(leader) == {"postgres": "true", MANAGED_LABELS: "postgres"}
    assert apply_locally(LEADER, env=env).strip() == f"labels unchanged on {leader}"


def test_check_passes_only_with_every_host_ready_with_role_and_labels(swarm: Swarm) -> None:
    leader, worker = _bootstrap(swarm)
    ids = {LEADER.name: leader, WORKER.name: worker}
    script = check_script(ids, [LEADER, WORKER], retries=1, interval=1)
    done = swarm.run(script)
    assert done.returncode == 1 and "not Ready with their role and labels: mgr-1 wrk-1" in done.stderr
    swarm.ok(label_script(LEADER, leader))
    swarm.ok(label_script(WORKER, worker))
    assert swarm.run(script).returncode == 0
    swarm.set_labels(worker, {"edge": "true", "kafka-broker": "9"})
    done = swarm.run(script)
    assert done.returncode == 1 and "their role and labels: wrk-1\n" in done.stderr


def test_check_fails_for_a_host_that_never_joined(swarm: Swarm) -> None:
    leader = swarm.ok(init_script(LEADER))
    swarm.ok(label_script(LEADER, leader))
    script = check_script(
        {LEADER.name: leader, WORKER.name: "ready"}, [LEADER, WORKER], retries=2, interval=1
    )
    done = swarm.run(script)
    assert done.returncode == 1 and "labels: wrk-1" in done.stderr and "after 2s" in done.stderr


def test_labels_ready_names_the_missing_label_and_its_services(
    swarm: Swarm, plan_of: Callable[..., tuple[Placement, ...]]
) -> None:
    leader, worker = _bootstrap(swarm)
    plan = plan_of("staging")
    script = labels_ready_script(plan)
    done = swarm.run(script)
    assert done.returncode == 1
    assert "postgres=true (pg-age)" in done.stderr and "edge=true (caddy)" in done.stderr
    assert "dns=true (technitium)" in done.stderr
    needed = dict(lv for p in plan for lv in p.labels())
    swarm.ok(label_script(needed, leader))
    assert swarm.ok(script) == "ready"
    # A label on a node that is not Ready does not count.
    s = json.loads(swarm.state.read_text())
    s["nodes"][leader]["state"] = "down"
    swarm.state.write_text(json.dumps(s))
    assert swarm.run(script).returncode == 1
    assert worker


def test_labels_ready_fails_clearly_without_a_swarm(swarm: Swarm) -> None:
    done = swarm.run(labels_ready_script([Placement("x", Layer.DATA, ("node.labels.a==b",))]))
    assert done.returncode == 1 and "cannot list swarm nodes" in done.stderr


def test_labels_ready_requires_the_manager_role_where_constraints_do(
    swarm: Swarm, plan_of: Callable[..., tuple[Placement, ...]]
) -> None:
    _, worker = _bootstrap(swarm)
    plan = plan_of("staging")
    swarm.ok(label_script(dict(lv for p in plan for lv in p.labels()), worker))  # all labels, on a worker
    done = swarm.run(labels_ready_script(plan))
    assert done.returncode == 1
    missing = done.stderr.split("carries:", 1)[1].split(". Label", 1)[0]
    assert missing.strip() == "manager+observability=true (prometheus) manager+portainer=true (portainer)"
