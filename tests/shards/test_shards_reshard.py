# pyright: strict
"""Reshard plans, runbook and tenants-file loading."""

from __future__ import annotations

from pathlib import Path

import pytest

from shards.reshard import (
    Move,
    ReshardPlan,
    TenantsFileError,
    load_tenants,
    migration_steps,
    plan_reshard,
)
from tests.shards.oracle import ref_choose

LOCAL3 = ["tcp://localhost:9101", "tcp://localhost:9102", "tcp://localhost:9103"]
LOCAL4 = [*LOCAL3, "tcp://localhost:9104"]


TENANTS = [f"tenant-{i}" for i in range(400)]


def test_plan_matches_reference_3_to_4() -> None:
    plan = plan_reshard(LOCAL3, LOCAL4, TENANTS, base="__bus__")
    expected: list[Move] = []
    for t in TENANTS:
        g = f"tenant__{t}____bus__"
        src, dst = ref_choose(LOCAL3, g), ref_choose(LOCAL4, g)
        if src != dst:
            expected.append(Move(tenant=t, graph=g, from_endpoint=src, to_endpoint=dst))
    assert plan.moved == expected
    assert expected  # 400 tenants: some must move
    assert plan.total == len(TENANTS)
    assert plan.moved_fraction == len(expected) / len(TENANTS)
    assert plan.old_endpoints == tuple(LOCAL3)
    assert plan.new_endpoints == tuple(LOCAL4)
    assert all(m.to_endpoint == "tcp://localhost:9104" for m in plan.moved)


def test_sample_tenants_3_to_4_consistent_with_vectors() -> None:
    # platform.md §9: acme->9103, globex->9101, initech->9102 on three shards
    plan = plan_reshard(LOCAL3, LOCAL4, ["acme", "globex", "initech"], base="__bus__")
    documented = {"acme": LOCAL3[2], "globex": LOCAL3[0], "initech": LOCAL3[1]}
    for m in plan.moved:
        assert m.from_endpoint == documented[m.tenant]
        assert m.to_endpoint == LOCAL4[3]


def test_shrink_moves_only_from_removed_shard() -> None:
    plan = plan_reshard(LOCAL4, LOCAL3, TENANTS)
    assert plan.moved
    assert {m.from_endpoint for m in plan.moved} == {"tcp://localhost:9104"}
    # every graph on the removed shard has to move
    on_removed = [t for t in TENANTS if ref_choose(LOCAL4, f"tenant__{t}____commons__") == LOCAL4[3]]
    assert [m.tenant for m in plan.moved] == on_removed


def test_same_list_moves_nothing() -> None:
    plan = plan_reshard(LOCAL3, list(reversed(LOCAL3)), TENANTS)
    assert plan.moved == []
    assert plan.moved_fraction == 0.0
    assert plan.total == len(TENANTS)


def test_no_tenants() -> None:
    plan = plan_reshard(LOCAL3, LOCAL4, [])
    assert plan == ReshardPlan(
        moved=[],
        total=0,
        moved_fraction=0.0,
        old_endpoints=tuple(LOCAL3),
        new_endpoints=tuple(LOCAL4),
    )


def test_duplicate_graph_names_counted_once() -> None:
    # all four slug to "acme" ("acme!" -> "acme_" -> trimmed), so one graph
    plan = plan_reshard(LOCAL3, LOCAL4, ["Acme", "acme", " ACME ", "acme!", "globex"])
    assert plan.total == 2
    assert [m.tenant for m in plan.moved] == [
        t
        for t, g in (
            ("Acme", "tenant__acme____commons__"),
            ("globex", "tenant__globex____commons__"),
        )
        if ref_choose(LOCAL3, g) != ref_choose(LOCAL4, g)
    ]


def test_duplicates_do_not_duplicate_moves() -> None:
    doubled = [*TENANTS, *(t.upper() for t in TENANTS), *(f" {t} " for t in TENANTS)]
    plan = plan_reshard(LOCAL3, LOCAL4, doubled)
    single = plan_reshard(LOCAL3, LOCAL4, TENANTS)
    assert plan.total == len(TENANTS)
    assert plan.moved == single.moved
    assert plan.moved_fraction == single.moved_fraction


def test_empty_endpoint_lists_rejected() -> None:
    with pytest.raises(ValueError):
        plan_reshard([], LOCAL3, TENANTS)
    with pytest.raises(ValueError):
        plan_reshard(LOCAL3, [""], TENANTS)


def test_move_is_frozen() -> None:
    m = Move("t", "g", "a", "b")
    with pytest.raises(AttributeError):
        m.tenant = "x"  # pyright: ignore[reportAttributeAccessIssue]


# --- runbook -----------------------------------------------------------------------


def _index(lines: list[str], *needles: str) -> int:
    for i, line in enumerate(lines):
        if all(n in line for n in needles):
            return i
    raise AssertionError(f"no line with {needles!r} in {lines!r}")


def test_migration_steps_order_and_content() -> None:
    plan = plan_reshard(LOCAL3, LOCAL4, TENANTS[:60])
    assert plan.moved
    steps = migration_steps(plan)
    quiesce = _index(steps, "Quiesce writers")
    switch = _index(steps, "endpoint list", ",".join(LOCAL4))
    for m in plan.moved:
        export = _index(steps, "Export", m.graph, m.from_endpoint, "to_msgpack")
        imp = _index(steps, "Import", m.graph, m.to_endpoint, "from_msgpack")
        delete = _index(steps, "Delete", m.graph, m.from_endpoint)
        assert quiesce < export < switch < imp < delete
        assert "--persist-dir" in steps[export]
    assert quiesce < switch
    assert steps[-1].endswith("Resume writers.")
    # graphs that stay put are not mentioned
    staying = {f"tenant__{t}____commons__" for t in TENANTS[:60]} - {m.graph for m in plan.moved}
    assert not any(g in line for g in staying for line in steps)


def test_migration_steps_shrink_mentions_decommission() -> None:
    steps = migration_steps(plan_reshard(LOCAL4, LOCAL3, TENANTS[:60]))
    _index(steps, "Decommission", "tcp://localhost:9104")


def test_migration_steps_no_moves() -> None:
    steps = migration_steps(plan_reshard(LOCAL3, LOCAL3, TENANTS[:10]))
    assert not any("Export" in s or "Import" in s for s in steps)
    _index(steps, "endpoint list")


# --- tenants file ------------------------------------------------------------------


def test_load_tenants(tmp_path: Path) -> None:
    f = tmp_path / "tenants.txt"
    f.write_text(
        "# header comment\nacme\n\n   globex  \n  # indented comment\nacme\n\t\nInitech Corp\nglobex\n",
        encoding="utf-8",
    )
    assert load_tenants(f) == ["acme", "globex", "Initech Corp"]
    assert load_tenants(str(f)) == ["acme", "globex", "Initech Corp"]


def test_load_tenants_crlf_and_empty(tmp_path: Path) -> None:
    f = tmp_path / "t.txt"
    f.write_bytes(b"a\r\nb\r\n")
    assert load_tenants(f) == ["a", "b"]
    e = tmp_path / "empty.txt"
    e.write_text("", encoding="utf-8")
    assert load_tenants(e) == []


def test_load_tenants_missing(tmp_path: Path) -> None:
    missing = tmp_path / "nope.txt"
    with pytest.raises(TenantsFileError, match=r"nope\.txt"):
        load_tenants(missing)
    assert issubclass(TenantsFileError, ValueError)


def test_load_tenants_directory(tmp_path: Path) -> None:
    with pytest.raises(TenantsFileError):
        load_tenants(tmp_path)


def test_load_tenants_not_utf8(tmp_path: Path) -> None:
    f = tmp_path / "bin.txt"
    f.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(TenantsFileError):
        load_tenants(f)
