"""`python -m bench`: (a) evaluation cost under mocks vs a bare baseline, 1x and 10x fleet;
(b) bootstrap DAG parallelism under nominal create times; (c) rendezvous routing.

Prints tables and writes JSON to bench/results/ (git-ignored; results are never committed).
"""

from __future__ import annotations

import argparse
import json
import math
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from . import dag, evalcost, registry, routing

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "bench" / "results"
TARGET_RATIO = 1.5


def _table(headers: list[str], rows: list[list[str]]) -> str:
    widths = [max(len(h), *(len(r[i]) for r in rows)) for i, h in enumerate(headers)]
    line = "  ".join(h.ljust(w) for h, w in zip(headers, widths, strict=True))
    out = [line, "  ".join("-" * w for w in widths)]
    out += ["  ".join(c.rjust(w) for c, w in zip(r, widths, strict=True)) for r in rows]
    return "\n".join(out)


def registry_source(stack: str) -> Path | None:
    """The connector registry the stack reads (`agent-os:fleet.registryPath`), if the fleet
    layer's config exists and the file is there."""
    from components.config.model import StackConfig
    from tools import mockrun

    if "fleet" not in StackConfig.model_fields:
        return None
    values, _ = mockrun.stack_config(stack)
    fleet = values.get("agent-os:fleet") or {}
    default = StackConfig.model_fields["fleet"].default
    path = Path(fleet.get("registryPath") or default.registry_path)
    path = path if path.is_absolute() else ROOT / path
    return path if path.exists() else None


def bench_eval(stack: str, factor: int, repeats: int) -> dict[str, Any]:
    out: dict[str, Any] = {"stack": stack, "factor": factor, "repeats": repeats, "notes": []}
    with tempfile.TemporaryDirectory(prefix="agent-os-bench-") as tmp:
        work = Path(tmp)
        out["x1"] = evalcost.measure(stack, None, repeats, work)
        source = registry_source(stack)
        connectors = out["x1"]["program"]["connectors"] or 0
        if source is None or connectors == 0:
            out["notes"].append(
                "fleet layer absent (no agent-os:fleet.registryPath config or no connector "
                "services labelled agent-os.kind=connector): the x10 measurement was skipped"
            )
            return out
        scaled = registry.write_scaled(source, factor, work)
        out[f"x{factor}"] = m = evalcost.measure(stack, scaled, repeats, work)
        if (m["program"]["connectors"] or 0) <= connectors:
            out["notes"].append(f"the x{factor} registry did not add connectors (still {connectors})")
        for who in ("program", *evalcost.BASELINES):
            p1, pn = out["x1"][who], m[who]
            for clock in ("cpu", "wall"):
                t1, tn = p1[f"{clock}_s"], pn[f"{clock}_s"]
                n1, nn = p1["custom"], pn["custom"]
                out.setdefault(f"growth_{clock}", {})[who] = {
                    "time_ratio": tn / t1,
                    "resource_ratio": nn / n1,
                    "per_resource_ratio": (tn / nn) / (t1 / n1),
                    # t ~ n^k: k = 1 is linear.
                    "exponent": math.log(tn / t1) / math.log(nn / n1) if nn != n1 else float("nan"),
                }
    return out


def print_eval(e: dict[str, Any]) -> None:
    print(f"\n(a) evaluation cost under mocks, stack {e['stack']} (median of {e['repeats']} fresh processes)")
    rows: list[list[str]] = []
    for key in ("x1", f"x{e['factor']}"):
        if key not in e:
            continue
        m = e[key]
        for who in ("program", *evalcost.BASELINES):
            s = m[who]
            name = who if who == "program" else f"baseline ({who})"
            rows.append(
                [
                    key,
                    name,
                    str(s["custom"]),
                    f"{s['input_bytes'] / 1024:.0f}",
                    f"{s['wall_s']:.2f}",
                    f"{s['cpu_s']:.2f}",
                    f"{1000 * s['wall_s_per_resource']:.2f}",
                    f"{1000 * s['cpu_s_per_resource']:.2f}",
                    f"{s['peak_rss_mb']:.0f}",
                    f"{s['rss_growth_mb']:.0f}",
                ]
            )
    print(
        _table(
            [
                "fleet",
                "who",
                "resources",
                "inputs KiB",
                "wall s",
                "cpu s",
                "wall ms/res",
                "cpu ms/res",
                "peak RSS MB",
                "RSS growth MB",
            ],
            rows,
        )
    )
    for key in ("x1", f"x{e['factor']}"):
        if key in e:
            m = e[key]
            print(
                f"  {key}: our/baseline per resource: typed cpu {m['ratio_cpu_vs_typed']:.2f}x "
                f"wall {m['ratio_wall_vs_typed']:.2f}x; raw cpu {m['ratio_cpu_vs_raw']:.2f}x "
                f"wall {m['ratio_wall_vs_raw']:.2f}x (target <= {TARGET_RATIO}x)"
            )
    for clock in ("cpu", "wall"):
        for who, g in (e.get(f"growth_{clock}") or {}).items():
            print(
                f"  growth x1 -> x{e['factor']} ({clock}, {who}): resources {g['resource_ratio']:.2f}x, "
                f"time {g['time_ratio']:.2f}x, per resource {g['per_resource_ratio']:.2f}x, "
                f"exponent {g['exponent']:.2f} (1 = linear)"
            )
    for n in e["notes"]:
        print(f"  note: {n}")


def bench_dag(stacks: list[str]) -> list[dict[str, Any]]:
    from tools import mockrun

    return [dag.analyse(mockrun.run(s)) for s in stacks]


def print_dag(results: list[dict[str, Any]]) -> None:
    print("\n(b) bootstrap DAG under nominal create times (see bench/dag.py)")
    rows = [
        [
            r["stack"],
            str(r["resources"]),
            str(r["gates"]),
            f"{r['sum_create_s']:.0f}",
            f"{r['critical_path_s']:.0f}",
            f"{r['speedup']:.1f}x",
            str(r["waves"]),
            str(r["widest_wave"]),
        ]
        for r in results
    ]
    print(
        _table(
            ["stack", "resources", "gates", "sequential s", "critical path s", "speed-up", "waves", "widest"],
            rows,
        )
    )
    for r in results:
        print(f"  critical path ({r['stack']}): " + " -> ".join(r["critical_path"]))


def print_routing(r: dict[str, Any]) -> None:
    print(f"\n(c) rendezvous routing, {r['keys']} keys (shards.routing.Router)")
    rows = [
        [
            str(x["shards"]),
            f"{x['lookups_per_s']:,.0f}",
            f"{x['moved_from_previous']:.4f}" if "moved_from_previous" in x else "-",
            f"{x['moved_ideal']:.4f}" if "moved_ideal" in x else "-",
            f"{x['max_over_mean']:.3f}",
            f"{x['min_over_mean']:.3f}",
        ]
        for x in r["rows"]
    ]
    print(_table(["shards", "lookups/s", "moved N-1->N", "ideal 1/N", "max/mean", "min/mean"], rows))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench", description=__doc__)
    ap.add_argument("--stack", default="enterprise")
    ap.add_argument("--factor", type=int, default=10, help="fleet scale factor for (a)")
    ap.add_argument("--repeats", type=int, default=3, help="fresh processes per measurement in (a)")
    ap.add_argument("--keys", type=int, default=50_000, help="routing keys for (c)")
    ap.add_argument("--only", choices=["eval", "dag", "routing"], action="append")
    ap.add_argument("--out", type=Path, help="JSON path (default bench/results/bench-<time>.json)")
    args = ap.parse_args(argv)
    only = set(args.only or ["eval", "dag", "routing"])
    started = time.perf_counter()
    result: dict[str, Any] = {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "python": sys.version.split()[0],
        "machine": platform.platform(),
    }
    if "routing" in only:
        result["routing"] = routing.analyse(n_keys=args.keys)
        print_routing(result["routing"])
    if "dag" in only:
        result["dag"] = bench_dag(["staging", args.stack] if args.stack != "staging" else ["staging"])
        print_dag(result["dag"])
    if "eval" in only:
        result["eval"] = bench_eval(args.stack, args.factor, args.repeats)
        print_eval(result["eval"])
    result["elapsed_s"] = time.perf_counter() - started
    out = args.out or RESULTS / f"bench-{datetime.now(UTC).strftime('%Y%m%dT%H%M%SZ')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(result, indent=2, sort_keys=True))
    print(f"\nelapsed {result['elapsed_s']:.0f}s; wrote {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
