"""Day 0's placement table, from the stack plan (pure: config -> plan, no mocks), and the
table the program exports. The builders take their placements from the same plan, so
there is no second statement of them to compare against."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from components.config import StackConfig
from components.day0 import plan as day0_plan
from components.plan import stack_plan
from tests.day0.conftest import config_of
from tools import mockrun

INV = "agent-os:inventory"


def _grown_enterprise() -> dict[str, Any]:
    """Enterprise with 5 brokers, 5 OpenBao members and 4 shards, and hosts for them."""
    values, _ = mockrun.stack_config("enterprise")
    inv = {**values[INV], "hosts": [dict(h, labels=dict(h["labels"])) for h in values[INV]["hosts"]]}
    by = {h["name"]: h for h in inv["hosts"]}
    by["wrk-3"]["labels"].update({"kafka-broker": 4, "openbao": 4})
    by["wrk-4"]["labels"].update({"kafka-broker": 5, "openbao": 5, "kg-shard-4": True})
    return {
        INV: inv,
        "agent-os:data": {
            **values["agent-os:data"],
            "kafka": {**values["agent-os:data"]["kafka"], "brokers": 5},
        },
        "agent-os:core": {**values["agent-os:core"], "openbao": {"members": 5}},
        "agent-os:shards": {
            **values["agent-os:shards"],
            "count": 4,
            "acknowledgeReshard": {"from": 3, "to": 4},
        },
    }


def test_plan_is_computed_from_config_counts() -> None:
    cfg = config_of("enterprise", _grown_enterprise())
    pinned = {p.service: p.labels() for p in stack_plan(cfg).placements if p.pinned}
    assert pinned["kafka-5"] == [("kafka-broker", "5")]
    assert pinned["bao-5"] == [("openbao", "5")]
    assert pinned["kg-shard-4"] == [("kg-shard-4", "true")]


def test_stateful_members_are_pinned_by_label_and_stateless_spread(
    cfg_of: Callable[..., StackConfig],
) -> None:
    plan = {p.service: p for p in stack_plan(cfg_of("enterprise")).placements}
    for name in (
        "pg-age",
        "kafka-1",
        "kafka-2",
        "kafka-3",
        "bao-1",
        "bao-2",
        "bao-3",
        "kg-shard-1",
        "kg-shard-2",
        "kg-shard-3",
        "grafana",
        "portainer",
        "kg-daemon",
    ):
        assert plan[name].pinned and plan[name].labels(), name
        assert plan[name].replicas == 1, name
    assert plan["kg-daemon"].max_replicas_per_node == 1
    role = plan["portainer"].role()
    assert role is not None and role.value == "manager"
    for name in ("agent-gateway", "keycloak", "graph-os"):
        assert not plan[name].pinned and not plan[name].labels(), name


def test_enterprise_table_puts_members_on_their_hosts(enterprise: mockrun.Run) -> None:
    table = enterprise.outputs["placement"]
    hosts = table["hosts"]
    assert set(hosts) == {"mgr-1", "mgr-2", "mgr-3", "wrk-1", "wrk-2", "wrk-3", "wrk-4"}
    assert "pg-age" in hosts["mgr-1"]["services"] and "pg-age" not in hosts["mgr-2"]["services"]
    assert table["services"]["kafka-2"]["hosts"] == ["mgr-2"]
    assert table["services"]["bao-3"]["hosts"] == ["mgr-3"]
    assert table["services"]["kg-shard-1"]["hosts"] == ["wrk-1"]
    assert table["services"]["portainer"]["hosts"] == ["mgr-1"]
    assert table["services"]["caddy"]["hosts"] == ["wrk-1", "wrk-2"]
    assert table["services"]["node-exporter"]["hosts"] == sorted(hosts)
    assert table["services"]["node-exporter"]["replicas"] == "global"
    # Every replicated service has somewhere to run.
    assert all(s["hosts"] for s in table["services"].values())


def test_markdown_output_and_readme_show_the_enterprise_plan(enterprise: mockrun.Run) -> None:
    md = enterprise.outputs["placementMarkdown"]
    cfg = config_of("enterprise")
    assert md == day0_plan.placement_markdown(stack_plan(cfg).placements, cfg.inventory.hosts)
    assert "| mgr-1 | 10.40.0.11 | manager |" in md
    readme = (mockrun.PROJECT_DIR / "README.md").read_text()
    assert md in readme, "README placement plan is stale: paste the placementMarkdown output"
