"""Re-sharding safety in the program: a change of the shard endpoints fails during program
evaluation (so at preview) unless acknowledged exactly; the previous deployment is read
back from the stack's own outputs through a StackReference."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pulumi
import pytest

from components.config.loader import load
from components.foundation import foundation
from components.plan import stack_plan
from shards import guard
from shards.deploy import ShardsLayer
from tests.shards.oracle import ref_choose, ref_graph_name
from tools import mockrun

TENANTS = ["acme", "globex", "initech", "umbrella", "Stark Industries", "hooli", "wayne", "cyberdyne"]
NO_INVENTORY: dict[str, Any] = {"agent-os:inventory": None}  # see test_shards_program_services


def eps(n: int, base_port: int = 9101) -> list[str]:
    return [f"tcp://kg-shard-{i}:{base_port + i - 1}" for i in range(1, n + 1)]


def expected_moves(old: list[str], new: list[str]) -> list[tuple[str, str, str, str]]:
    keys = [("", "__commons__")] + [(t, ref_graph_name(t)) for t in TENANTS]
    return [
        (t, g, ref_choose(old, g), ref_choose(new, g))
        for t, g in keys
        if ref_choose(old, g) != ref_choose(new, g)
    ]


class Spy(mockrun.PlatformMocks):
    """Records every resource registration, in order."""

    def __init__(self, stack_outputs: dict[str, Any] | None = None) -> None:
        super().__init__(stack_outputs)
        self.registered: list[tuple[str, str]] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        self.registered.append((args.typ, args.name))
        return super().new_resource(args)


def shards_only() -> None:
    """The program up to the shards layer (fast); the main cases also run __main__.py."""
    cfg = load()
    plan = stack_plan(cfg)
    base = foundation(cfg, plan.placements)
    layer = ShardsLayer(base.platform, cfg.shards, base.secrets, plan.shards, base.opts)
    for name, value in layer.outputs.stack_outputs().items():  # as __main__.py exports them
        pulumi.export(name, value)


def run(
    count: int,
    previous: dict[str, Any] | None,
    ack: dict[str, int] | None = None,
    preview: bool = False,
    mocks: Spy | None = None,
    whole: bool = False,
    **shards: Any,
) -> mockrun.Run:
    cfg: dict[str, Any] = {"count": count, "tenants": TENANTS, **shards}
    if ack is not None:
        cfg["acknowledgeReshard"] = ack
    return mockrun.run(
        "staging",
        preview=preview,
        overrides={"agent-os:shards": cfg, **NO_INVENTORY},
        mocks=mocks or Spy(previous),
        program=None if whole else shards_only,
    )


def shard_names(r: mockrun.Run) -> list[str]:
    return sorted(n for n in r.services() if n.startswith("kg-shard-"))


@pytest.mark.parametrize("preview", [False, True], ids=["update", "preview"])
def test_count_change_without_ack_fails_listing_each_moved_tenant(preview: bool) -> None:
    moves = expected_moves(eps(3), eps(4))
    assert moves, "fixture: 3 -> 4 must move some graph"
    with pytest.raises(pulumi.RunError) as exc:
        run(4, {"shardCount": 3, "shardEndpoints": eps(3)}, preview=preview, whole=True)
    msg = str(exc.value)
    assert "from 3 to 4 shard(s)" in msg
    for tenant, graph, frm, to in moves:
        label = "(no tenant: base graph)" if tenant == "" else repr(tenant)
        assert re.search(
            rf"tenant {re.escape(label)} +graph {re.escape(graph)}: {re.escape(frm)} -> {re.escape(to)}", msg
        )
    staying = [t for t in TENANTS if t not in {m[0] for m in moves}]
    assert staying, "fixture: some tenant must stay"
    for t in staying:
        assert f"tenant {t!r} " not in msg
    assert "acknowledgeReshard.from' 3" in msg and "acknowledgeReshard.to' 4" in msg
    assert "Traceback" not in msg


@pytest.mark.parametrize("preview", [False, True], ids=["update", "preview"])
def test_guard_fails_during_evaluation_before_any_shard_is_registered(preview: bool) -> None:
    spy = Spy({"shardCount": 1})
    with pytest.raises(pulumi.RunError, match="from 1 to 3"):
        run(3, None, preview=preview, mocks=spy, whole=True)
    # The StackReference was read, but no shard service, secret or script exists: the
    # error came from program evaluation, not from an apply resolved later.
    assert spy.stack_references == {"shards-last-deployed": "organization/agent-os/staging"}
    names = [n for _, n in spy.registered]
    assert not [n for n in names if n.startswith("kg-shard") or n == "graph-service-auth-secret"]
    assert ("agent-os:shards:Shards", "shards") in spy.registered


def test_exact_ack_passes_and_exports_the_migration_plan() -> None:
    r = run(4, {"shardCount": 3, "shardEndpoints": eps(3)}, ack={"from": 3, "to": 4}, whole=True)
    assert shard_names(r) == ["kg-shard-1", "kg-shard-2", "kg-shard-3", "kg-shard-4"]
    assert r.outputs["shardCount"] == 4 and r.outputs["shardEndpoints"] == eps(4)
    plan = r.outputs["reshardPlan"]
    assert plan["changed"] is True
    assert (plan["from"], plan["to"]) == (eps(3), eps(4))
    assert [(m["tenant"], m["graph"], m["from"], m["to"]) for m in plan["moved"]] == expected_moves(
        eps(3), eps(4)
    )
    steps = "\n".join(plan["steps"])
    for word in ("Quiesce", "Export", "Switch the endpoint list", "Import", "Delete the stale copy"):
        assert word in steps
    assert steps.index("Export") < steps.index("Switch") < steps.index("Import") < steps.index("Delete")


def test_ack_passes_at_preview_too() -> None:
    r = run(2, {"shardCount": 1}, ack={"from": 1, "to": 2}, preview=True, whole=True)
    assert shard_names(r) == ["kg-shard-1", "kg-shard-2"]


@pytest.mark.parametrize(
    ("ack", "why"),
    [
        ({"from": 2, "to": 4}, "{from: 2, to: 4}"),
        ({"from": 3, "to": 5}, "{from: 3, to: 5}"),
        ({"from": 4, "to": 3}, "{from: 4, to: 3}"),
    ],
)
def test_an_ack_for_another_change_fails_clearly(ack: dict[str, int], why: str) -> None:
    with pytest.raises(pulumi.RunError) as exc:
        run(4, {"shardCount": 3}, ack=ack)
    msg = str(exc.value)
    assert f"acknowledgeReshard is {why}, but this change is {{from: 3, to: 4}}" in msg
    assert "approves nothing" in msg


def test_shrinking_is_guarded_too() -> None:
    moves = expected_moves(eps(3), eps(2))
    with pytest.raises(pulumi.RunError) as exc:
        run(2, {"shardCount": 3})
    for _, graph, frm, to in moves:
        assert f"graph {graph}: {frm} -> {to}" in str(exc.value)
    assert shard_names(run(2, {"shardCount": 3}, ack={"from": 3, "to": 2})) == ["kg-shard-1", "kg-shard-2"]


def test_renaming_ports_at_the_same_count_is_a_reshard() -> None:
    previous = {"shardCount": 3, "shardEndpoints": eps(3)}
    with pytest.raises(pulumi.RunError, match="different endpoint strings"):
        run(3, previous, basePort=9201, metricsBasePort=9211)
    r = run(3, previous, ack={"from": 3, "to": 3}, basePort=9201, metricsBasePort=9211)
    assert r.outputs["shardEndpoints"] == eps(3, 9201)


@pytest.mark.parametrize(
    "previous",
    [None, {}, {"shardCount": 3}, {"shardCount": 3.0, "shardEndpoints": eps(3)}],
    ids=["first-deploy", "no-outputs-yet", "same-count", "same-count-float"],
)
def test_first_deploy_and_unchanged_count_pass(previous: dict[str, Any] | None) -> None:
    r = run(3, previous)
    assert shard_names(r) == ["kg-shard-1", "kg-shard-2", "kg-shard-3"]
    assert r.outputs["reshardPlan"] == {"changed": False, "steps": []}


def test_malformed_previous_outputs_fail_closed() -> None:
    with pytest.raises(pulumi.RunError, match="is not a shard count"):
        run(3, {"shardCount": "three"})
    with pytest.raises(pulumi.RunError, match="disagree"):
        run(3, {"shardCount": 3, "shardEndpoints": eps(2)})


def test_state_ref_is_configurable() -> None:
    spy = Spy({})
    run(1, None, mocks=spy, stateRef="acme-org/agent-os/prod")
    assert spy.stack_references == {"shards-last-deployed": "acme-org/agent-os/prod"}


def test_tenants_file_adds_tenants_and_a_bad_path_is_a_run_error(tmp_path: Path) -> None:
    moved = expected_moves(eps(3), eps(4))
    only_in_file = next(t for t, *_ in moved if t)
    f = tmp_path / "tenants.txt"
    f.write_text(f"# known tenants\n{only_in_file}\n")
    with pytest.raises(pulumi.RunError) as exc:
        mockrun.run(
            "staging",
            overrides={"agent-os:shards": {"count": 4, "tenantsFile": str(f)}, **NO_INVENTORY},
            stack_outputs={"shardCount": 3},
            program=shards_only,
        )
    assert f"tenant {only_in_file!r} " in str(exc.value)
    with pytest.raises(pulumi.RunError, match=r"agent-os:shards.tenantsFile: cannot read tenants file"):
        run(3, None, tenantsFile=str(tmp_path / "nope.txt"))


def test_tenants_file_is_relative_to_the_project_dir(tmp_path: Path) -> None:
    (tmp_path / "ops").mkdir()
    (tmp_path / "ops" / "tenants").write_text("zeta\nacme\n")
    assert guard.known_tenants(["acme", "beta"], "ops/tenants", project_dir=tmp_path) == [
        "acme",
        "beta",
        "zeta",
    ]
    assert guard.PROJECT_DIR == mockrun.PROJECT_DIR


def test_decide_warns_about_a_left_over_ack() -> None:
    d = guard.decide(
        guard.Deployed(count=3),
        eps(3),
        [],
        (2, 3),
        base="__commons__",
        base_port=9101,
        host_template="kg-shard-{n}",
    )
    assert not d.changed and len(d.warnings) == 1 and "left over" in d.warnings[0]
    first = guard.decide(
        guard.Deployed(), eps(3), [], None, base="__commons__", base_port=9101, host_template="kg-shard-{n}"
    )
    assert not first.changed and first.warnings == []
