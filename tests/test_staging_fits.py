"""Staging must run on one small node (2 cores, 24 GiB, the machine CI and the team use):
Swarm schedules by reservations, and the memory limits must fit together too, or the
kernel's OOM killer picks a task when they are all busy."""

from __future__ import annotations

from tests.conftest import evaluate

NODE_CPUS = 2.0
NODE_MEMORY = 24 * 1024**3


def _totals() -> tuple[float, int, int]:
    cpus = 0.0
    reserved = limited = 0
    for svc in evaluate("staging").services().values():
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
