# pyright: strict
"""``python -m shards``: endpoint lists, HRW routing, reshard plans and capacity, as JSON.

Sub-commands (JSON on stdout):

* ``endpoints --count N [--base-port P] [--host-template T]`` -> ``{"endpoints": [...]}``
* ``route --endpoints E1,E2,... [--tenant T] [--base B] [--graph G]``
  -> ``{"graph": ..., "endpoint": ...}``
* ``reshard --from N --to M --tenants-file F [--base-port P] [--base B]``
  -> ``{"moved": [{"tenant", "graph", "from", "to"}], "moved_fraction": x, "total": n}``
* ``capacity --residents R`` -> the §13 capacity row plus its derivation.

Bad input exits with status 2 and a single ``shards: error: ...`` line on stderr.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from dataclasses import asdict
from typing import NoReturn

from shards.capacity import derive, explain
from shards.endpoints import DEFAULT_BASE_PORT, DEFAULT_HOST_TEMPLATE, endpoints
from shards.reshard import load_tenants, plan_reshard
from shards.routing import DEFAULT_GRAPH, Router, routing_key

PROG = "shards"
EXIT_USAGE = 2


def _one_line(message: str) -> str:
    return " ".join(message.split())


def _fail(message: str) -> NoReturn:
    sys.stderr.write(f"{PROG}: error: {_one_line(message)}\n")
    raise SystemExit(EXIT_USAGE)


class _Parser(argparse.ArgumentParser):
    """ArgumentParser whose usage errors are a single stderr line (exit 2)."""

    def error(self, message: str) -> NoReturn:
        _fail(message)


def _split_endpoints(raw: str) -> list[str]:
    # Comma-separated; surrounding whitespace is not part of an endpoint.
    # Empty items are dropped (the router would drop them anyway).
    return [item.strip() for item in raw.split(",") if item.strip()]


def _build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog=f"python -m {PROG}",
        description=__doc__.splitlines()[0] if __doc__ else None,
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p_end = sub.add_parser("endpoints", help="print the endpoint list for N shards")
    p_end.add_argument("--count", type=int, required=True, help="number of shards (1..64)")
    p_end.add_argument("--base-port", type=int, default=DEFAULT_BASE_PORT)
    p_end.add_argument("--host-template", default=DEFAULT_HOST_TEMPLATE)

    p_route = sub.add_parser("route", help="print the graph and shard for a tenant or graph")
    p_route.add_argument("--endpoints", required=True, help="comma-separated endpoint list")
    p_route.add_argument("--tenant", default=None)
    p_route.add_argument("--base", default=DEFAULT_GRAPH, help="base/default graph name")
    p_route.add_argument("--graph", default=None, help="route this graph name verbatim")

    p_resh = sub.add_parser("reshard", help="list the tenant graphs that move from N to M shards")
    p_resh.add_argument("--from", dest="from_count", type=int, required=True)
    p_resh.add_argument("--to", dest="to_count", type=int, required=True)
    p_resh.add_argument("--tenants-file", required=True)
    p_resh.add_argument("--base-port", type=int, default=DEFAULT_BASE_PORT)
    p_resh.add_argument("--base", default=DEFAULT_GRAPH)

    p_cap = sub.add_parser("capacity", help="capacity model for R residents")
    p_cap.add_argument("--residents", type=int, required=True)
    return parser


def _cmd_endpoints(args: argparse.Namespace) -> object:
    return {"endpoints": endpoints(args.count, args.base_port, args.host_template)}


def _cmd_route(args: argparse.Namespace) -> object:
    eps = _split_endpoints(args.endpoints)
    if not eps:
        raise ValueError("--endpoints lists no endpoint")
    base: str = args.base
    if not base:
        raise ValueError("--base must not be empty")
    graph = routing_key(args.graph, args.tenant, default=base)
    return {"graph": graph, "endpoint": Router(eps).route(graph)}


def _cmd_reshard(args: argparse.Namespace) -> object:
    base: str = args.base
    if not base:
        raise ValueError("--base must not be empty")
    old = endpoints(args.from_count, args.base_port)
    new = endpoints(args.to_count, args.base_port)
    tenants = load_tenants(args.tenants_file)
    plan = plan_reshard(old, new, tenants, base=base)
    return {
        "moved": [
            {
                "tenant": m.tenant,
                "graph": m.graph,
                "from": m.from_endpoint,
                "to": m.to_endpoint,
            }
            for m in plan.moved
        ],
        "moved_fraction": plan.moved_fraction,
        "total": plan.total,
    }


def _cmd_capacity(args: argparse.Namespace) -> object:
    residents: int = args.residents
    return {**asdict(derive(residents)), "explain": explain(residents)}


_COMMANDS = {
    "endpoints": _cmd_endpoints,
    "route": _cmd_route,
    "reshard": _cmd_reshard,
    "capacity": _cmd_capacity,
}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the CLI; returns the exit status (usage errors raise ``SystemExit(2)``)."""
    args = _build_parser().parse_args(argv)
    try:
        result = _COMMANDS[args.command](args)
    except ValueError as exc:  # includes TenantsFileError
        _fail(str(exc))
    sys.stdout.write(json.dumps(result) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
