"""(c) Rendezvous (HRW) routing with shards.routing.Router: lookups per second, the share
of keys that move when a shard is added (ideal 1/(N+1)), and max/mean load balance."""

from __future__ import annotations

import time
from collections import Counter
from typing import Any

from shards.endpoints import endpoints
from shards.routing import Router, routing_key


def keys(n: int) -> list[str]:
    """Routing keys as the app forms them: per-tenant graph names and named graphs."""
    out = [routing_key(None, f"tenant-{i:06d}") for i in range(n // 2)]
    out += [routing_key(f"graph-{i:06d}", None) for i in range(n - len(out))]
    return out


def analyse(max_shards: int = 16, n_keys: int = 50_000) -> dict[str, Any]:
    ks = keys(n_keys)
    rows: list[dict[str, Any]] = []
    prev: list[str] | None = None
    for n in range(1, max_shards + 1):
        router = Router(endpoints(n))
        t0 = time.perf_counter()
        routed = [router.route(k) for k in ks]
        dt = time.perf_counter() - t0
        load = Counter(routed)
        mean = n_keys / n
        row: dict[str, Any] = {
            "shards": n,
            "lookups_per_s": n_keys / dt,
            "max_over_mean": max(load.values()) / mean,
            "min_over_mean": min(load.get(e, 0) for e in router.endpoints) / mean,
        }
        if prev is not None:
            moved = sum(1 for a, b in zip(prev, routed, strict=True) if a != b) / n_keys
            row["moved_from_previous"] = moved
            row["moved_ideal"] = 1 / n
        rows.append(row)
        prev = routed
    return {"keys": n_keys, "rows": rows}
