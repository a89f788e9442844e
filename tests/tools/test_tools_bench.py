"""The benchmark's building blocks (the benchmark itself is `python -m bench`, not a test)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import yaml

from bench import __main__ as bench_main
from bench import dag, evalcost, registry, routing
from tests.conftest import evaluate
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


def test_same_baseline_registers_the_programs_docker_inputs_identically(tmp_path: Path) -> None:
    items = tmp_path / "items.json"
    items.write_text(json.dumps(evalcost.baseline_items(evaluate("staging"))))
    out = evalcost._child_baseline("staging", items, "same")  # raises if any input differs
    program = evaluate("staging")
    assert out["custom"] == len(json.loads(items.read_text())) + 1  # + its one provider
    assert out["components"] == 0
    services = [r for r in program.resources if r.type == evalcost.SERVICE]
    assert len(services) >= 20


def test_same_baseline_check_catches_a_dropped_field(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    items = tmp_path / "items.json"
    items.write_text(json.dumps(evalcost.baseline_items(evaluate("staging"))))
    real = evalcost._args_from_wire

    def lossy(args_cls: type, wire: dict[str, Any]) -> Any:
        return real(args_cls, {k: v for k, v in wire.items() if k != "updateConfig"})

    monkeypatch.setattr(evalcost, "_args_from_wire", lossy)
    with pytest.raises(AssertionError, match="inputs differ"):
        evalcost._child_baseline("staging", items, "same")


def _point(connectors: int, seconds: float, resources: int) -> dict[str, Any]:
    return {
        "program": {"connectors": connectors, "cpu_s": seconds, "custom": resources},
    }


def test_growth_marginal_cost_is_flat_for_linear_and_rises_for_quadratic() -> None:
    sizes = [10, 50, 100]
    linear = [_point(c, 0.5 + 0.004 * c, 100 + c) for c in sizes]
    g = bench_main.growth(linear, "program")
    assert g["marginal_per_connector"] == pytest.approx([4.0, 4.0])
    assert g["marginal_rise"] == pytest.approx(1.0)
    assert g["fleet_ratio"] == 10 and g["time_ratio"] == pytest.approx(0.9 / 0.54)
    quadratic = [_point(c, 0.5 + 0.0001 * c * c, 100 + c) for c in sizes]
    assert bench_main.growth(quadratic, "program")["marginal_rise"] == pytest.approx(
        2.5
    )  # 15 vs 6 ms per connector


def test_scales_are_one_a_midpoint_and_the_factor() -> None:
    assert bench_main.scales(10) == [1, 5, 10]
    assert bench_main.scales(2) == [1, 2]


def test_instruction_growth_reads_mega_instructions_per_added_connector() -> None:
    def scale(connectors: int, program: float, same: float | None = None) -> dict[str, Any]:
        out: dict[str, Any] = {
            "program": {"connectors": connectors, "instructions": program, "custom": 100 + connectors}
        }
        if same is not None:
            out["same"] = {"instructions": same, "custom": 99 + connectors}
        return out

    # 30 M instructions per connector on top of 3 G fixed, exactly linear.
    r = {"scales": {f"x{k}": scale(59 * k, 3e9 + 30e6 * 59 * k, 2.9e9 + 29e6 * 59 * k) for k in (1, 5, 10)}}
    g = bench_main.instruction_growth(r, "program")
    assert g is not None
    assert g["marginal_per_connector"] == pytest.approx([30.0, 30.0])
    assert g["marginal_rise"] == pytest.approx(1.0) and g["fleet_ratio"] == 10
    same = bench_main.instruction_growth(r, "same")
    assert same is not None and same["marginal_per_connector"] == pytest.approx([29.0, 29.0])
    only_x1 = {"scales": {"x1": scale(59, 4e9)}}
    assert bench_main.instruction_growth(only_x1, "program") is None


def _eval_result(ratios: dict[str, float], times: list[float], factors: list[int]) -> dict[str, Any]:
    e: dict[str, Any] = {"factor": factors[-1]}
    for k in factors:
        e[f"x{k}"] = {f"paired_ratio_cpu_vs_{b}": r for b, r in ratios.items()}
    points = [_point(59 * k, t, 164 + 59 * k) for k, t in zip(factors, times, strict=True)]
    e["growth_cpu"] = {"program": bench_main.growth(points, "program")}
    return e


def test_verdict_holds_the_ratio_and_linearity_bounds() -> None:
    linear = [0.5 + 0.006 * 59 * k for k in (1, 5, 10)]
    ok = bench_main.verdict(_eval_result({"same": 1.2, "tuned": 1.4}, linear, [1, 5, 10]))
    assert ok is not None and ok["ratio_ok"] and ok["linear_ok"]
    slow = bench_main.verdict(_eval_result({"same": 1.2, "tuned": 1.6}, linear, [1, 5, 10]))
    assert slow is not None and not slow["ratio_ok"]
    curved = [0.5 + 1e-5 * (59 * k) ** 2 for k in (1, 5, 10)]
    bent = bench_main.verdict(_eval_result({"same": 1.2, "tuned": 1.4}, curved, [1, 5, 10]))
    assert bent is not None and not bent["linear_ok"]
    one_step = bench_main.verdict(_eval_result({"same": 1.2, "tuned": 1.4}, linear[:2], [1, 5]))
    assert one_step is not None and one_step["linear_ok"]
