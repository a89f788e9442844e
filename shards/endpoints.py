# pyright: strict
"""Engine shard endpoint lists, metrics ports and shard mode.

HRW-era layout (platform.md §2 "Engine shards"): shard ``N`` listens on
``910N`` (TCP) and ``911N`` (metrics).  Endpoint strings are hashed by the
router, so they must be byte-identical on every client.
"""

from __future__ import annotations

from typing import Final, Literal

__all__ = [
    "DEFAULT_BASE_PORT",
    "DEFAULT_HOST_TEMPLATE",
    "DEFAULT_METRICS_BASE_PORT",
    "MAX_SHARDS",
    "MIN_SHARDS",
    "ShardMode",
    "endpoints",
    "metrics_port",
    "shard_mode",
]

MIN_SHARDS: Final = 1
MAX_SHARDS: Final = 64
MAX_PORT: Final = 65535
DEFAULT_BASE_PORT: Final = 9101
DEFAULT_METRICS_BASE_PORT: Final = 9111
DEFAULT_HOST_TEMPLATE: Final = "kg-shard-{n}"

ShardMode = Literal["single", "sharded"]


def _check_int(name: str, value: object) -> int:
    # bool is an int subclass; reject it explicitly.
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an integer, got {value!r}")
    return value


def _check_count(count: int) -> int:
    count = _check_int("shard count", count)
    if not MIN_SHARDS <= count <= MAX_SHARDS:
        raise ValueError(f"shard count must be between {MIN_SHARDS} and {MAX_SHARDS}, got {count}")
    return count


def _check_port_range(what: str, first: int, count: int) -> None:
    first = _check_int(what, first)
    last = first + count - 1
    if first < 1 or last > MAX_PORT:
        raise ValueError(
            f"{what} {first} with {count} shard(s) needs ports {first}..{last}, outside 1..{MAX_PORT}"
        )


def endpoints(
    count: int,
    base_port: int = DEFAULT_BASE_PORT,
    host_template: str = DEFAULT_HOST_TEMPLATE,
) -> list[str]:
    """Return ``tcp://<host_template(n)>:<base_port + n - 1>`` for ``n`` in ``1..count``.

    ``count`` must be in ``1..64`` and every port must be in ``1..65535``.
    ``host_template`` is formatted with ``n`` (the 1-based shard number).
    """
    count = _check_count(count)
    _check_port_range("base port", base_port, count)
    out: list[str] = []
    for n in range(1, count + 1):
        try:
            host = host_template.format(n=n)
        except (KeyError, IndexError, ValueError) as exc:
            raise ValueError(
                f"invalid host template {host_template!r}: only the {{n}} field is allowed"
            ) from exc
        if not host:
            raise ValueError(f"host template {host_template!r} produced an empty host")
        out.append(f"tcp://{host}:{base_port + n - 1}")
    return out


def metrics_port(n: int, metrics_base_port: int = DEFAULT_METRICS_BASE_PORT) -> int:
    """Metrics port of shard ``n`` (1-based): ``metrics_base_port + n - 1`` (``911N`` by default)."""
    n = _check_int("shard number", n)
    if not MIN_SHARDS <= n <= MAX_SHARDS:
        raise ValueError(f"shard number must be between {MIN_SHARDS} and {MAX_SHARDS}, got {n}")
    _check_port_range("metrics base port", metrics_base_port, n)
    return metrics_base_port + n - 1


def shard_mode(count: int) -> ShardMode:
    """``"single"`` for one endpoint, ``"sharded"`` (HRW) for two or more."""
    count = _check_count(count)
    return "single" if count == 1 else "sharded"
