"""(b) Parallelism of the bootstrap DAG under nominal create times.

Nominal create time per resource (seconds), by what it is. These are planning figures,
not measurements: what one create costs against a healthy Swarm manager and services.

| resource                                               | s    | why                                   |
|--------------------------------------------------------|------|---------------------------------------|
| docker Service (replicated or global)                  | 20   | schedule, pull (warm), converge       |
| docker Container (admin tunnel)                        | 5    | create + start                        |
| docker Network (overlay)                               | 1    | manager API call                      |
| docker Volume                                          | 1    |                                       |
| docker ServiceConfig / Secret                          | 0.5  | Raft write                            |
| readiness gate (command:local:Command running a gate   | 30   | bounded wait until the service answers|
|   script from components/swarm/gate.py)                |      |                                       |
| other command:local / command:remote Command           | 5    | one-shot admin step (init, records)   |
| keycloak:* / vault:* / postgresql:* object             | 0.5  | one admin API call                    |
| random:*                                               | 0.1  | local                                 |
| pulumi:providers:*                                     | 0    | configure only                        |
| anything else                                          | 1    |                                       |

A gate is recognised by its script (the message `gate_script` embeds), not its name.
The strictly sequential bootstrap (the recipe's step-by-step workflow) pays the sum of
all create times; Pulumi pays the critical path (longest path weighted by these times).
"""

from __future__ import annotations

from typing import Any

from tools.graph import Dag, label
from tools.mockrun import Registered, Run

GATE_MARKER = "not ready at"  # components/swarm/gate.py gate_script's failure message

NOMINAL_S: dict[str, float] = {
    "docker:index/service:Service": 20.0,
    "docker:index/container:Container": 5.0,
    "docker:index/network:Network": 1.0,
    "docker:index/volume:Volume": 1.0,
    "docker:index/serviceConfig:ServiceConfig": 0.5,
    "docker:index/secret:Secret": 0.5,
}
GATE_S = 30.0
COMMAND_S = 5.0
API_OBJECT_S = 0.5
API_PACKAGES = ("keycloak", "vault", "postgresql")
RANDOM_S = 0.1
DEFAULT_S = 1.0


def is_gate(r: Registered) -> bool:
    create = r.plain.get("create")
    return r.type.startswith("command:") and isinstance(create, str) and GATE_MARKER in create


def nominal(r: Registered) -> float:
    if r.type in NOMINAL_S:
        return NOMINAL_S[r.type]
    if r.type.startswith("pulumi:providers:"):
        return 0.0
    if r.type.startswith("command:"):
        return GATE_S if is_gate(r) else COMMAND_S
    pkg = r.type.split(":", 1)[0]
    if pkg in API_PACKAGES:
        return API_OBJECT_S
    if pkg == "random":
        return RANDOM_S
    return DEFAULT_S


def analyse(run: Run) -> dict[str, Any]:
    dag = Dag.of(run)
    cost = {u: nominal(r) for u, r in dag.nodes.items()}
    finish: dict[str, float] = {}
    via: dict[str, str | None] = {}
    waves = dag.waves()
    for wave in waves:  # every dependency sits in an earlier wave
        for u in wave:
            prev = max(dag.deps[u], key=lambda d: finish[d], default=None)
            finish[u] = cost[u] + (finish[prev] if prev is not None else 0.0)
            via[u] = prev
    end = max(finish, key=lambda u: finish[u])
    path: list[str] = []
    cur: str | None = end
    while cur is not None:
        path.append(cur)
        cur = via[cur]
    path.reverse()
    total = sum(cost.values())
    critical = finish[end]
    return {
        "stack": run.stack,
        "resources": len(dag.nodes),
        "sum_create_s": total,
        "critical_path_s": critical,
        "speedup": total / critical if critical else 0.0,
        "waves": len(waves),
        "widest_wave": max(len(w) for w in waves),
        "gates": sum(1 for r in dag.nodes.values() if is_gate(r)),
        "critical_path": [f"{label(dag.nodes[u])} ({cost[u]:g}s)" for u in path],
    }
