# pyright: strict
"""Capacity model: every row of platform.md §13, plus the formulas."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shards.capacity import Capacity, derive, explain

# Residents, Active, PG, Engine shards, Workers, Nodes, Kafka partitions, Events/s
TABLE = [
    (1_000, 20, 1, 1, 1, 1, 3, 40),
    (100_000, 2_000, 1, 2, 80, 10, 3, 4_000),
    (1_000_000, 20_000, 4, 20, 800, 100, 8, 40_000),
    (100_000_000, 2_000_000, 400, 2_000, 80_000, 10_000, 800, 4_000_000),
]


@pytest.mark.parametrize("row", TABLE, ids=[str(r[0]) for r in TABLE])
def test_table_row(row: tuple[int, ...]) -> None:
    residents, active, pg, engine, workers, nodes, kafka, events = row
    c = derive(residents)
    assert c == Capacity(
        residents=residents,
        active=active,
        pg_shards=pg,
        engine_shards=engine,
        workers=workers,
        nodes=nodes,
        kafka_partitions=kafka,
        events_per_sec=events,
    )


def _ceil_div(a: int, b: int) -> int:
    return -(-a // b)


@given(st.integers(min_value=0, max_value=10**12))
def test_formulas_exact(residents: int) -> None:
    c = derive(residents)
    active = _ceil_div(2 * residents, 100)  # ceil(0.02 R) in integers
    workers = _ceil_div(active, 25)
    events = 2 * active
    assert c.active == active
    assert c.pg_shards == _ceil_div(residents, 250_000)
    assert c.engine_shards == _ceil_div(residents, 50_000)
    assert c.workers == workers
    assert c.nodes == _ceil_div(workers, 8)
    assert c.events_per_sec == events
    assert c.kafka_partitions == max(3, _ceil_div(events, 5_000))


def test_boundaries() -> None:
    assert derive(0).kafka_partitions == 3
    assert derive(0).engine_shards == 0
    assert derive(1).active == 1  # ceil(0.02)
    assert derive(50_000).engine_shards == 1
    assert derive(50_001).engine_shards == 2
    assert derive(250_001).pg_shards == 2


def test_bad_residents() -> None:
    with pytest.raises(ValueError):
        derive(-1)
    with pytest.raises(TypeError):
        derive(1.5)  # pyright: ignore[reportArgumentType]
    with pytest.raises(TypeError):
        derive(True)


def test_explain_lines() -> None:
    lines = explain(100_000)
    assert "engine shards = ceil(100000/50000) = 2" in lines
    assert "active = ceil(0.02*100000) = 2000" in lines
    assert "pg shards = ceil(100000/250000) = 1" in lines
    assert "workers = ceil(2000/25) = 80" in lines
    assert "nodes = ceil(80/8) = 10" in lines
    assert "kafka partitions = max(3, ceil(4000/5000)) = 3" in lines
    assert any(line.startswith("events/s = ") and line.endswith(" = 4000") for line in lines)


def test_explain_follows_input() -> None:
    lines = explain(1_000_000)
    assert "engine shards = ceil(1000000/50000) = 20" in lines
    assert "kafka partitions = max(3, ceil(40000/5000)) = 8" in lines
