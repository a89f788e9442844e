# pyright: strict
"""Capacity model (platform.md §13; ``docs/scaling/capacity_model.md``).

Every quantity is a ceiling of a ratio of the resident count ``R``:

* active = ceil(0.02 R)
* PG shards = ceil(R / 250,000)
* engine shards = ceil(R / 50,000)
* workers = ceil(active / 25)
* nodes = ceil(workers / 8)
* events/s = 2.0 * active
* Kafka partitions = max(3, ceil(events / 5,000))

Arithmetic is exact (integers and :class:`fractions.Fraction`), so no float
rounding can push a ceiling up by one.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from fractions import Fraction
from typing import Final

__all__ = [
    "ACTIVE_AGENTS_PER_WORKER",
    "ACTIVE_FRACTION",
    "EVENTS_PER_ACTIVE_AGENT_PER_SEC",
    "MIN_KAFKA_PARTITIONS",
    "OPS_PER_SEC_PER_KAFKA_PARTITION",
    "PARTICIPANTS_PER_HUB",
    "RESIDENTS_PER_ENGINE_SHARD",
    "RESIDENTS_PER_PG_SHARD",
    "WORKERS_PER_NODE",
    "Capacity",
    "derive",
    "explain",
]

RESIDENTS_PER_PG_SHARD: Final = 250_000
RESIDENTS_PER_ENGINE_SHARD: Final = 50_000
ACTIVE_AGENTS_PER_WORKER: Final = 25
WORKERS_PER_NODE: Final = 8
OPS_PER_SEC_PER_KAFKA_PARTITION: Final = 5_000
EVENTS_PER_ACTIVE_AGENT_PER_SEC: Final = 2.0
MIN_KAFKA_PARTITIONS: Final = 3
#: Part of the documented model; not used by any of the formulas above.
PARTICIPANTS_PER_HUB: Final = 10_000
#: 0.02, kept exact.
ACTIVE_FRACTION: Final = Fraction(2, 100)


@dataclass(frozen=True, slots=True)
class Capacity:
    """Derived footprint for ``residents`` residents."""

    residents: int
    active: int
    pg_shards: int
    engine_shards: int
    workers: int
    nodes: int
    kafka_partitions: int
    events_per_sec: float


def _ceil(x: Fraction) -> int:
    return math.ceil(x)


def _check_residents(residents: int) -> int:
    if isinstance(residents, bool) or not isinstance(residents, int):  # pyright: ignore[reportUnnecessaryIsInstance]
        raise TypeError(f"residents must be an integer, got {residents!r}")
    if residents < 0:
        raise ValueError(f"residents must be >= 0, got {residents}")
    return residents


def derive(residents: int) -> Capacity:
    """Apply the §13 capacity formulas to ``residents`` (an integer >= 0)."""
    r = _check_residents(residents)
    active = _ceil(ACTIVE_FRACTION * r)
    workers = _ceil(Fraction(active, ACTIVE_AGENTS_PER_WORKER))
    events = Fraction(EVENTS_PER_ACTIVE_AGENT_PER_SEC) * active
    return Capacity(
        residents=r,
        active=active,
        pg_shards=_ceil(Fraction(r, RESIDENTS_PER_PG_SHARD)),
        engine_shards=_ceil(Fraction(r, RESIDENTS_PER_ENGINE_SHARD)),
        workers=workers,
        nodes=_ceil(Fraction(workers, WORKERS_PER_NODE)),
        kafka_partitions=max(MIN_KAFKA_PARTITIONS, _ceil(events / OPS_PER_SEC_PER_KAFKA_PARTITION)),
        events_per_sec=float(events),
    )


def _num(x: float) -> str:
    return str(int(x)) if float(x).is_integer() else repr(x)


def explain(residents: int) -> list[str]:
    """Human-readable derivation, one line per quantity."""
    c = derive(residents)
    r = c.residents
    return [
        f"residents = {r}",
        f"active = ceil({float(ACTIVE_FRACTION)}*{r}) = {c.active}",
        f"pg shards = ceil({r}/{RESIDENTS_PER_PG_SHARD}) = {c.pg_shards}",
        f"engine shards = ceil({r}/{RESIDENTS_PER_ENGINE_SHARD}) = {c.engine_shards}",
        f"workers = ceil({c.active}/{ACTIVE_AGENTS_PER_WORKER}) = {c.workers}",
        f"nodes = ceil({c.workers}/{WORKERS_PER_NODE}) = {c.nodes}",
        f"events/s = {EVENTS_PER_ACTIVE_AGENT_PER_SEC}*{c.active} = {_num(c.events_per_sec)}",
        (
            f"kafka partitions = max({MIN_KAFKA_PARTITIONS}, "
            f"ceil({_num(c.events_per_sec)}/{OPS_PER_SEC_PER_KAFKA_PARTITION})) "
            f"= {c.kafka_partitions}"
        ),
    ]
