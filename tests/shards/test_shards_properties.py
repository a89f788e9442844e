# pyright: strict
"""Statistical and structural properties of HRW over many tenants."""

from __future__ import annotations

import random
from collections import Counter
from functools import cache

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from shards.endpoints import endpoints
from shards.reshard import plan_reshard
from shards.routing import Router, tenant_graph_name
from tests.shards.oracle import ref_choose

_ALPHABET = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 -_./"


@cache
def tenants(count: int, seed: int = 20260611) -> tuple[str, ...]:
    """A fixed, deterministic set of distinct tenant names."""
    rng = random.Random(seed)
    out: list[str] = []
    for i in range(count):
        word = "".join(rng.choice(_ALPHABET) for _ in range(rng.randint(3, 14)))
        out.append(f"{word.strip() or 'x'}-{i}")
    return tuple(out)


@cache
def graphs(count: int) -> tuple[str, ...]:
    names = tuple(tenant_graph_name(t, "__commons__") for t in tenants(count))
    assert len(set(names)) == count  # the suffix keeps them distinct
    return names


EIGHT = endpoints(8)


@settings(max_examples=30, deadline=None)
@given(st.permutations(EIGHT))
def test_order_independence_over_2000_tenants(perm: list[str]) -> None:
    canonical = Router(EIGHT)
    shuffled = Router(perm)
    for g in graphs(2_000):
        assert shuffled.route(g) == canonical.route(g)


@given(
    st.lists(st.text(min_size=1, max_size=20), min_size=2, max_size=8, unique=True),
    st.randoms(use_true_random=False),
    st.lists(st.text(max_size=30), min_size=1, max_size=30),
)
def test_order_independence_arbitrary_endpoints(eps: list[str], rnd: random.Random, keys: list[str]) -> None:
    perm = list(eps)
    rnd.shuffle(perm)
    a, b = Router(eps), Router(perm)
    for k in keys:
        assert a.route(k) == b.route(k) == ref_choose(eps, k)


@given(
    st.lists(st.text(min_size=1, max_size=20), min_size=1, max_size=8, unique=True),
    st.text(min_size=1, max_size=20),
    st.integers(min_value=0, max_value=8),
    st.lists(st.text(max_size=30), min_size=1, max_size=30),
)
def test_adding_a_shard_only_moves_keys_to_it(eps: list[str], extra: str, pos: int, keys: list[str]) -> None:
    assume(extra not in eps)
    grown = list(eps)
    grown.insert(min(pos, len(grown)), extra)
    before, after = Router(eps), Router(grown)
    for k in keys:
        new = after.route(k)
        assert new in (before.route(k), extra)


@pytest.mark.parametrize("n", range(1, 9))
def test_grow_n_to_n_plus_1_moves_about_one_over_n_plus_1(n: int) -> None:
    old, new = endpoints(n), endpoints(n + 1)
    added = new[-1]
    assert added not in old
    gs = graphs(20_000)
    r_old, r_new = Router(old), Router(new)
    moved = 0
    for g in gs:
        src, dst = r_old.route(g), r_new.route(g)
        if src != dst:
            moved += 1
            assert dst == added  # only moves TO the new shard
    fraction = moved / len(gs)
    assert abs(fraction - 1 / (n + 1)) <= 0.02, (n, fraction)

    # plan_reshard reports exactly the same set
    plan = plan_reshard(old, new, tenants(20_000))
    assert plan.total == len(gs)
    assert len(plan.moved) == moved
    assert plan.moved_fraction == pytest.approx(fraction)  # pyright: ignore[reportUnknownMemberType]
    assert {m.to_endpoint for m in plan.moved} <= {added}


@pytest.mark.parametrize("n", range(2, 9))
def test_removing_a_shard_only_moves_its_keys(n: int) -> None:
    old = endpoints(n)
    removed = old[n // 2]
    new = [e for e in old if e != removed]
    r_old, r_new = Router(old), Router(new)
    for g in graphs(5_000):
        src = r_old.route(g)
        if src != removed:
            assert r_new.route(g) == src


def test_load_balance_three_shards_10000_tenants() -> None:
    eps = endpoints(3)
    router = Router(eps)
    counts = Counter(router.route(g) for g in graphs(10_000))
    assert set(counts) == set(eps)
    mean = 10_000 / 3
    assert max(counts.values()) / mean <= 1.10, counts
    # the counts come from the documented int formula, too
    ref_counts = Counter(ref_choose(eps, g) for g in graphs(10_000))
    assert ref_counts == counts
