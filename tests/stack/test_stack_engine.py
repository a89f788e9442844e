"""The real engine drives the real swarm: `pulumi up` of staging from empty (the session
fixture), then the engine's own account of what a second run would do.

Marker `engine`: `./dev test -m engine` runs these with the other real-CLI tests."""

from __future__ import annotations

import json
import subprocess

import pytest

from bench import critical, dag
from tests.stack import stackhelp
from tools import mockrun

pytestmark = pytest.mark.engine

# The agent-utilities processes (each mounts config.json and the connector registry).
APP_PROCESSES = ["agent-dispatch-worker", "agent-gateway", "graph-os", "kg-daemon", "kg-ingest-worker"]


def test_up_from_empty_brings_every_service_up(staging: stackhelp.Deployment) -> None:
    services = stackhelp.service_replicas()
    assert services, "no service of the stack on the engine"
    down = {name: r for name, r in services.items() if r[0] != r[1]}
    assert not down, f"services not at their replica count: {down}"
    unhealthy = stackhelp.unhealthy_tasks()
    assert not unhealthy, f"task containers not healthy by their declared check: {unhealthy}"
    if staging.ups:  # deployed by this session: the engine's critical path beside the prediction
        state = staging.pulumi("stack", "export").json()
        actual = critical.critical_path(staging.ups[0].stdout, state)
        predicted = dag.analyse(mockrun.run(stackhelp.STACK, overrides=stackhelp.test_config()))
        stackhelp.report(f"[critical path] actual {actual['wall_s']:.0f} s over {actual['steps']} steps:")
        stackhelp.report("\n".join(f"  {p}" for p in actual["path"]))
        stackhelp.report(f"[critical path] bench/dag.py predicts {predicted['critical_path_s']:.0f} s:")
        stackhelp.report("\n".join(f"  {p}" for p in predicted["critical_path"]))
        assert actual["path"] and actual["wall_s"] > 0


def test_a_second_run_changes_nothing(staging: stackhelp.Deployment) -> None:
    res = staging.pulumi("preview", "--expect-no-changes", "--json", check=False)
    assert res.code == 0, "\n".join(stackhelp.errors(res))
    steps = json.loads(res.stdout).get("steps", [])
    changed = [s["urn"].rsplit("::", 1)[-1] for s in steps if s["op"] not in ("same", "read")]
    assert changed == []


def test_a_healed_task_is_no_drift(staging: stackhelp.Deployment) -> None:
    """Kill a task: Swarm replaces it, and `pulumi refresh` finds nothing to change.

    A first refresh comes before: the stack reads its own last outputs (the re-shard guard's
    StackReference to itself), which were empty when the first `up` read them, so the first
    refresh after a stack's first `up` updates that read, and nothing else."""
    first = staging.pulumi("refresh", "--yes", "--skip-preview", "--json", check=False)
    assert first.code == 0, "\n".join(stackhelp.errors(first))
    assert set(stackhelp.ops(first).get("update", [])) <= {"shards-last-deployed"}, stackhelp.ops(first)
    before = stackhelp.task_containers("freshrss-mcp")
    assert len(before) == 1
    subprocess.run(["docker", "rm", "-f", before[0]], capture_output=True, check=True)
    healed = stackhelp.wait_for(
        lambda: (lambda now: len(now) == 1 and now[0] != before[0] and not stackhelp.unhealthy_tasks())(
            stackhelp.task_containers("freshrss-mcp")
        ),
        timeout=180,
    )
    stackhelp.report(f"[time] task healed: {healed:.1f} s")
    res = staging.pulumi("refresh", "--yes", "--expect-no-changes", "--skip-preview", check=False)
    assert res.code == 0, res.stdout[-4000:] + res.stderr[-2000:]


def test_changing_one_connectors_image_updates_only_that_connector(staging: stackhelp.Deployment) -> None:
    registry = stackhelp.Registry.of(staging)
    registry.set_image("freshrss-mcp", "knucklessg1/freshrss-agent:0.1.0")  # a pin instead of :latest
    registry.save()
    stackhelp.tag_like(
        "freshrss-mcp", "knucklessg1/freshrss-agent:latest", "knucklessg1/freshrss-agent:0.1.0"
    )
    ops = stackhelp.ops(staging.up("connector image change"))
    # The app reads the registry (mounted as the `fleet-registry` config, named by its
    # content): its five processes take the new file; the connector takes its new image.
    assert ops == {"replace": ["fleet-registry"], "update": sorted([*APP_PROCESSES, "freshrss-mcp"])}


def test_adding_a_connector_creates_it_and_touches_only_what_lists_connectors(
    staging: stackhelp.Deployment,
) -> None:
    registry = stackhelp.Registry.of(staging)
    registry.add_like("caddy-mcp", "caddy-mcp-edge", host_port=8290)  # a second Caddy's connector
    registry.save()
    ops = stackhelp.ops(staging.up("add a connector"))
    # Also the Day-0 label check, which names every connector with the label it needs.
    assert ops == {
        "create": ["caddy-mcp-edge"],
        "replace": ["fleet-registry"],
        "update": sorted([*APP_PROCESSES, "swarm-labels-ready"]),
    }
    assert stackhelp.service_replicas()["caddy-mcp-edge"] == (1, 1)
