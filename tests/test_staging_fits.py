"""Staging must run on one small node (2 cores, 24 GiB, the machine CI and the team use):
Swarm schedules by reservations, and the memory limits must fit together too, or the
kernel's OOM killer picks a task when they are all busy."""

from __future__ import annotations

from typing import Any

from tests.conftest import evaluate
from tests.day0.conftest import staging_at_two_shards
from tools import mockrun

NODE_CPUS = 2.0
NODE_MEMORY = 24 * 1024**3


APP_CONFIG = "/etc/agent-utilities/config.json"


def _two_shards() -> mockrun.Run:
    """Staging as journey c runs it: raised to 2 shards on its one node."""
    return mockrun.run("staging", overrides=staging_at_two_shards())


def _totals(run: mockrun.Run | None = None) -> tuple[float, int, int]:
    cpus = 0.0
    reserved = limited = 0
    for svc in (run or evaluate("staging")).services().values():
        s = svc.plain
        res = s["taskSpec"]["resources"]
        tasks = 1 if "global" in s["mode"] else int(s["mode"]["replicated"]["replicas"])  # one node
        cpus += float(res["reservation"]["nanoCpus"]) / 1e9 * tasks
        reserved += int(res["reservation"]["memoryBytes"]) * tasks
        limited += int(res["limits"]["memoryBytes"]) * tasks
    return cpus, reserved, limited


def test_staging_reservations_and_memory_limits_fit_one_small_node() -> None:
    cpus, reserved, limited = _totals()
    print(
        f"staging: reserves {cpus:.2f} CPUs, {reserved / 2**20:.0f} MiB; memory limits {limited / 2**20:.0f} MiB"
    )
    assert cpus <= NODE_CPUS
    assert reserved <= NODE_MEMORY and limited <= NODE_MEMORY


def _rolled_by_an_app_config_change(run: mockrun.Run) -> list[dict[str, Any]]:
    """Start-first services that mount the app's config.json: a change of it (a connector
    added, a new shard endpoint) rolls them all at once, old and new task side by side."""
    out = []
    for svc in run.services().values():
        s = svc.plain
        files = [c.get("fileName") for c in s["taskSpec"]["containerSpec"].get("configs") or []]
        if APP_CONFIG in files and s.get("updateConfig", {}).get("order") == "start-first":
            out.append(s)
    return out


def test_staging_at_two_shards_can_still_roll_every_app_process_at_once() -> None:
    """Swarm schedules a start-first task only if its reservation fits beside the old one;
    without the headroom, the update waits and the engine gives up (seen: journey c's re-shard
    left the gateway's new task pending with "insufficient resources on 1 node")."""
    run = _two_shards()
    cpus, reserved, _ = _totals(run)
    rolled = _rolled_by_an_app_config_change(run)
    assert {s["name"] for s in rolled} >= {"agent-gateway", "graph-os", "kg-ingest-worker"}
    surplus_cpus = sum(float(s["taskSpec"]["resources"]["reservation"]["nanoCpus"]) / 1e9 for s in rolled)
    surplus_mem = sum(int(s["taskSpec"]["resources"]["reservation"]["memoryBytes"]) for s in rolled)
    print(f"staging at 2 shards: reserves {cpus:.3f} CPUs; rolling the app adds {surplus_cpus:.3f}")
    assert cpus + surplus_cpus <= NODE_CPUS
    assert reserved + surplus_mem <= NODE_MEMORY
