"""The engine's actual critical path of a real `pulumi up`, from its event stream.

Input: the `--json` event stream of `pulumi up` (one JSON event per line: each step's
`resourcePreEvent` and `resOutputsEvent` carry a timestamp, 1 s resolution) and the state
after it (`pulumi stack export`: each resource's dependencies). The critical path is walked
back from the step that finished last, through the dependency that finished last, as
bench/dag.py does with nominal times, so the two are comparable resource by resource.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Step:
    urn: str
    op: str
    start: float
    end: float

    @property
    def name(self) -> str:
        return self.urn.rsplit("::", 1)[-1]

    @property
    def type(self) -> str:
        return self.urn.rsplit("::", 2)[-2].split("$")[-1]


def steps(event_stream: str) -> dict[str, Step]:
    starts: dict[str, float] = {}
    out: dict[str, Step] = {}
    for line in event_stream.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        if not isinstance(event, dict):
            continue
        for key in ("resourcePreEvent", "resOutputsEvent"):
            body = event.get(key)
            if not body:
                continue
            meta = body["metadata"]
            urn = meta["urn"]
            if key == "resourcePreEvent":
                starts[urn] = float(event["timestamp"])
            else:
                start = starts.get(urn, float(event["timestamp"]))
                out[urn] = Step(urn=urn, op=meta["op"], start=start, end=float(event["timestamp"]))
    return out


def dependencies(state: dict[str, Any]) -> dict[str, list[str]]:
    """Each resource's dependencies, its provider included (`urn::id` in the state): a
    resource waits for its provider, and the provider for what configures it."""
    out: dict[str, list[str]] = {}
    for r in state["deployment"]["resources"]:
        deps = list(r.get("dependencies") or [])
        if r.get("provider"):
            deps.append(str(r["provider"]).rsplit("::", 1)[0])
        out[r["urn"]] = deps
    return out


def critical_path(event_stream: str, state: dict[str, Any]) -> dict[str, Any]:
    done = {u: s for u, s in steps(event_stream).items() if s.type != "Stack"}
    deps = dependencies(state)
    t0 = min(s.start for s in done.values())
    last = max(done.values(), key=lambda s: s.end)
    chain: list[Step] = []
    cur: Step | None = last
    while cur is not None:
        chain.append(cur)
        before = [done[d] for d in deps.get(cur.urn, []) if d in done]
        cur = max(before, key=lambda s: s.end, default=None)
    chain.reverse()
    return {
        "wall_s": last.end - t0,
        "steps": len(done),
        "path": [
            f"{s.type}:{s.name} {s.op} ({s.end - s.start:.0f}s, done at {s.end - t0:.0f}s)" for s in chain
        ],
    }
