"""The benchmark's building blocks (the benchmark itself is `python -m bench`, not a test)."""

from __future__ import annotations

from pathlib import Path

import yaml

from bench import dag, registry, routing
from tools.mockrun import Registered, Run

SOURCE = {
    "version": 1,
    "defaults": {"transport": "streamable-http", "container_port": 8000},
    "services": [
        {
            "name": "a-mcp",
            "image": "x/a:latest",
            "container_port": 8000,
            "host_port": 8200,
            "profiles": ["e"],
        },
        {
            "name": "b-mcp",
            "image": "x/b:latest",
            "container_port": 8000,
            "host_port": 8201,
            "profiles": ["e"],
        },
    ],
}


def test_scaled_registry_repeats_services_with_unique_names_and_ports(tmp_path: Path) -> None:
    src = tmp_path / "reg.yml"
    src.write_text(yaml.safe_dump(SOURCE))
    out = yaml.safe_load(registry.write_scaled(src, 10, tmp_path).read_text())
    services = out["services"]
    assert len(services) == 20
    assert len({s["name"] for s in services}) == 20
    assert len({s["host_port"] for s in services}) == 20
    assert {s["image"] for s in services} == {"x/a:latest", "x/b:latest"}
    assert out["defaults"] == SOURCE["defaults"] and out["version"] == 1
    assert services[:2] == SOURCE["services"]  # copy 0 is the original
    assert services[2]["name"] == "a-mcp-x1"


def _r(type_: str, name: str, deps: list[str] = [], **inputs: object) -> Registered:  # noqa: B006
    return Registered(f"urn:{name}", type_, name, True, "", "", deps, dict(inputs))


def test_dag_critical_path_and_sequential_sum_use_nominal_times() -> None:
    net = _r("docker:index/network:Network", "net")
    svc = _r("docker:index/service:Service", "pg", ["urn:net"])
    gate = _r(
        "command:local:Command", "pg-ready", ["urn:pg"], create="... agent-os: pg not ready at tcp://x ..."
    )
    cmd = _r("command:local:Command", "init", ["urn:net"], create="echo init")
    role = _r("postgresql:index/role:Role", "role", ["urn:pg-ready"])
    cfg = _r("docker:index/serviceConfig:ServiceConfig", "cfg")
    res = dag.analyse(Run("toy", False, [net, svc, gate, cmd, role, cfg]))
    assert res["sum_create_s"] == 1 + 20 + 30 + 5 + 0.5 + 0.5
    assert res["critical_path_s"] == 1 + 20 + 30 + 0.5  # net -> pg -> gate -> role
    assert [p.split(" ")[0] for p in res["critical_path"]] == [
        "Network:net",
        "Service:pg",
        "Command:pg-ready",
        "Role:role",
    ]
    assert res["gates"] == 1
    assert res["waves"] == 4 and res["widest_wave"] == 2


def test_routing_moves_about_one_in_n_keys_and_stays_balanced() -> None:
    rows = routing.analyse(max_shards=4, n_keys=4000)["rows"]
    assert [r["shards"] for r in rows] == [1, 2, 3, 4]
    for r in rows[1:]:
        assert abs(r["moved_from_previous"] - 1 / r["shards"]) < 0.03
        assert r["max_over_mean"] < 1.1
    assert rows[0]["max_over_mean"] == 1.0
