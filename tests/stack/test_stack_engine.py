"""The real engine drives the real swarm: `pulumi up` of staging from empty (the session
fixture), then the engine's own account of what a second run would do.

Marker `engine`: `./dev test -m engine` runs these with the other real-CLI tests."""

from __future__ import annotations

import json

import pytest

from tests.stack import stackhelp

pytestmark = pytest.mark.engine


def test_up_from_empty_brings_every_service_up(staging: stackhelp.Deployment) -> None:
    services = stackhelp.service_replicas()
    assert services, "no service of the stack on the engine"
    down = {name: r for name, r in services.items() if r[0] != r[1]}
    assert not down, f"services not at their replica count: {down}"
    unhealthy = stackhelp.unhealthy_tasks()
    assert not unhealthy, f"task containers not healthy by their declared check: {unhealthy}"


def test_a_second_run_changes_nothing(staging: stackhelp.Deployment) -> None:
    res = staging.pulumi("preview", "--expect-no-changes", "--json", check=False)
    assert res.code == 0, "\n".join(stackhelp.errors(res))
    steps = json.loads(res.stdout).get("steps", [])
    changed = [s["urn"].rsplit("::", 1)[-1] for s in steps if s["op"] not in ("same", "read")]
    assert changed == []
