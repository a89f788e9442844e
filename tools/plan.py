"""Offline plan: run the program for a stack under mocks (no Pulumi CLI) and print the
resources per layer, the bootstrap waves and the longest dependency chain."""

from __future__ import annotations

import argparse
import json
import sys
from collections import Counter, defaultdict
from pathlib import Path

import pulumi

from . import diagram, mockrun
from .graph import Dag, label, layer_of


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m tools.plan", description=__doc__)
    ap.add_argument("stack", help="stack name: Pulumi.<stack>.yaml")
    ap.add_argument("--preview", action="store_true", help="evaluate as a preview (dry run)")
    ap.add_argument("--json", action="store_true", help="print the plan as JSON")
    ap.add_argument("--svg", type=Path, metavar="PATH", help="write the graph by layer as SVG (Graphviz dot)")
    ap.add_argument("--mermaid", type=Path, metavar="PATH", help="write the graph by layer as Mermaid text")
    ap.add_argument(
        "--collapse", type=int, default=0, metavar="N", help="draw >N like siblings as one node (diagrams)"
    )
    args = ap.parse_args(argv)
    try:
        run = mockrun.run(args.stack, preview=args.preview)
    except pulumi.RunError as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    except FileNotFoundError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    if args.svg or args.mermaid:
        try:
            diagram.write(run, svg=args.svg, mermaid=args.mermaid, collapse=args.collapse)
        except diagram.GraphvizMissingError as e:
            print(f"error: {e}", file=sys.stderr)
            return 3
        for path in (args.svg, args.mermaid):
            if path is not None:
                print(f"wrote {path}", file=sys.stderr)
    dag = Dag.of(run)
    waves = dag.waves()
    chain = dag.longest_chain()
    per_layer: dict[str, Counter[str]] = defaultdict(Counter)
    for r in run.resources:
        if r.custom:
            per_layer[layer_of(run, r)][r.type] += 1
    if args.json:
        print(
            json.dumps(
                {
                    "stack": args.stack,
                    "resources": sum(1 for r in run.resources if r.custom),
                    "components": sum(1 for r in run.resources if not r.custom),
                    "layers": {k: dict(v) for k, v in per_layer.items()},
                    "waves": [[label(dag.nodes[u]) for u in w] for w in waves],
                    "longestChain": [label(dag.nodes[u]) for u in chain],
                    "outputs": mockrun.unwrap(run.outputs),
                },
                indent=2,
                sort_keys=True,
                default=str,
            )
        )
        return 0
    total = sum(sum(c.values()) for c in per_layer.values())
    print(f"agent-os plan for stack '{args.stack}' (offline, mocks; preview={args.preview})")
    print(f"{total} resources, {sum(1 for r in run.resources if not r.custom)} components\n")
    for layer in sorted(per_layer):
        c = per_layer[layer]
        print(f"[{layer}] {sum(c.values())}")
        for t, n in sorted(c.items()):
            print(f"    {n:4d}  {t}")
    print(f"\nbootstrap waves: {len(waves)} (widest {max((len(w) for w in waves), default=0)})")
    for i, w in enumerate(waves):
        names = [label(dag.nodes[u]) for u in w]
        shown = ", ".join(names[:8]) + (f", ... (+{len(names) - 8})" if len(names) > 8 else "")
        print(f"  wave {i:2d} [{len(w):3d}]: {shown}")
    print(f"\nlongest dependency chain: {len(chain)} resources")
    print("  " + "\n  -> ".join(label(dag.nodes[u]) for u in chain))
    placement = mockrun.unwrap(run.outputs.get("placementMarkdown"))
    if isinstance(placement, str):  # the day-0 placement plan (components/day0/plan.py)
        print("\nplacement plan (host -> services):\n" + placement)
    return 0


if __name__ == "__main__":
    sys.exit(main())
