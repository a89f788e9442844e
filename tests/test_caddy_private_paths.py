"""Paths that are not for the world are not routed: the gateway's and graph-os's /metrics
(Prometheus scrapes them in-cluster). Read with `caddy adapt`, as Caddy reads it."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.conftest import STACKS, evaluate
from tests.edge.caddyhelp import adapt, caddyfile_of, site


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("service", ["gateway", "graph-os"])
def test_metrics_answer_404_before_any_proxying(stack: str, service: str, tmp_path: Path) -> None:
    run = evaluate(stack)
    routes = site(adapt(caddyfile_of(run), tmp_path), f"{service}.{run.outputs['zone']}")
    handlers = [[h["handler"] for h in r["handle"]] for r in routes]
    blocked = [i for i, r in enumerate(routes) if r.get("match") == [{"path": ["/metrics", "/metrics/*"]}]]
    proxy = [i for i, hs in enumerate(handlers) if "reverse_proxy" in hs]
    assert len(blocked) == 1 and len(proxy) == 1 and blocked[0] < proxy[0], handlers
    assert routes[blocked[0]]["handle"] == [{"handler": "static_response", "status_code": 404}]
