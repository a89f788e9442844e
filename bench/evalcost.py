"""(a) Evaluation cost under mocks: our program vs a bare baseline with the same resources.

Each measurement is one fresh subprocess (`python -m bench.evalcost child ...`); peak RSS is
the kernel's high-water mark reset just before the evaluation (/proc/self/clear_refs),
so it and the wall time belong to that evaluation alone. Imports of
pulumi, the providers' SDKs and every `components` module happen before the clock starts,
in both modes, so the numbers compare evaluation, not interpreter start-up.

- program:  `tools.mockrun.run(stack)` of the real program (config model, components,
            outputs, secrets, dependencies), optionally with a synthetic connector
            registry (`agent-os:fleet.registryPath`).
- baseline: the same number of bare docker resources, one per resource of the program,
            with one explicit docker provider: no components, no Outputs between
            resources, no config model, no secrets, CPython's default GC settings. Flavours:
    same:   the headline. Each docker resource of the program as its own pulumi_docker
            class with typed Args holding the very same inputs (same fields, same values,
            checked after the run); every other resource (keycloak, vault, command, ...)
            as a docker ServiceConfig whose input is as large in bytes.
    tuned:  `same`, run with the program's GC tuning (components/runtime.py), so the ratio
            against it shows what the program's structure costs with the tuning factored out.
    padded: pulumi_docker classes with a few fields each (Service, Network, ServiceConfig),
            padded so each one's serialized inputs are as large in bytes as those of the
            resource it stands for. The SDK's cost is per field, not per byte, so this one
            is cheaper than its byte size suggests (kept for comparison with earlier runs).

Wall time on a shared machine includes waiting for a CPU, so CPU time (user+sys of the
measuring process) is reported next to it and the ratios are given for both.
"""

from __future__ import annotations

import argparse
import contextlib
import importlib
import json
import os
import pkgutil
import re
import resource
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
PROVIDER_PREFIX = "pulumi:providers:"
SERVICE = "docker:index/service:Service"


def _status_mb(key: str) -> float:
    m = re.search(rf"^{key}:\s+(\d+) kB", Path("/proc/self/status").read_text(), re.M)
    return int(m.group(1)) / 1024.0 if m else float("nan")


def _reset_peak() -> float:
    """Reset the peak-RSS mark (Linux clear_refs 5) so it covers the evaluation only;
    returns the RSS at the start. Falls back to the process-lifetime peak."""
    try:
        Path("/proc/self/clear_refs").write_text("5")
        return _status_mb("VmRSS")
    except OSError:
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _peak() -> float:
    hwm = _status_mb("VmHWM")
    return hwm if hwm == hwm else resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def _preimport() -> None:
    import pulumi  # noqa: F401
    import pulumi_docker  # noqa: F401

    import components

    # A module that fails to import fails again, with context, when the program runs.
    for mod in pkgutil.walk_packages(components.__path__, "components."):
        with contextlib.suppress(Exception):
            importlib.import_module(mod.name)


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


CALLGRIND_ENV = "AGENT_OS_BENCH_CALLGRIND"


def _callgrind(on: bool) -> None:
    """Under `valgrind --tool=callgrind --instr-atstart=no` (see measure_instructions):
    count instructions between the two calls only, so imports and checks are left out."""
    if os.environ.get(CALLGRIND_ENV):
        subprocess.run(
            ["callgrind_control", "-i", "on" if on else "off", str(os.getpid())],
            check=True,
            capture_output=True,
        )


def baseline_items(run: Any) -> list[dict[str, Any]]:
    """What a baseline registers in place of the program's resources (providers aside)."""
    return [
        {"type": r.type, "name": r.name, "inputs": r.plain}
        for r in run.resources
        if r.custom and not r.type.startswith(PROVIDER_PREFIX)
    ]


def _measured(evaluate: Callable[[], Any]) -> tuple[Any, dict[str, Any]]:
    """Run one evaluation (a `mockrun.run` call) on the clocks, the peak-RSS mark and, under
    callgrind, the instruction counter; returns its Run and the measurements every child
    reports."""
    rss0 = _reset_peak()
    _callgrind(True)
    t0, c0 = _clock()
    run = evaluate()
    t1, c1 = _clock()
    _callgrind(False)
    rss1 = _peak()
    custom = [r for r in run.resources if r.custom]
    return run, {
        "wall_s": t1 - t0,
        "cpu_s": c1 - c0,
        "peak_rss_mb": rss1,
        "rss_growth_mb": rss1 - rss0,
        "custom": len(custom),
        "components": len(run.resources) - len(custom),
        "input_bytes": sum(len(json.dumps(r.inputs)) for r in custom),
    }


def _child_program(stack: str, overrides: Mapping[str, Any], dump: Path | None) -> dict[str, Any]:
    from tools import mockrun

    _preimport()
    run, out = _measured(lambda: mockrun.run(stack, overrides=dict(overrides)))
    if dump is not None:
        dump.write_text(json.dumps(baseline_items(run)))
    out["connectors"] = sum(
        1
        for r in run.resources
        if r.custom
        and r.type == SERVICE
        and any(
            lb.get("label") == "agent-os.kind" and lb.get("value") == "connector"
            for lb in r.plain.get("labels") or []
        )
    )
    return out


def _padded_config(name: str, size: int, opts: Any) -> None:
    import pulumi_docker as docker

    docker.ServiceConfig(name, name=name, data="x" * max(1, size - 60), opts=opts)


def _padded_resource(i: int, it: dict[str, Any], opts: Any) -> None:
    import pulumi_docker as docker

    name = f"{it['name']}-{i}"
    pad = "x" * max(0, it["size"] - 420)
    labels = [docker.ServiceLabelArgs(label="com.docker.stack.namespace", value="bench")]
    if it["type"] == SERVICE:
        docker.Service(
            name,
            name=name,
            mode=docker.ServiceModeArgs(replicated=docker.ServiceModeReplicatedArgs(replicas=1)),
            task_spec=docker.ServiceTaskSpecArgs(
                container_spec=docker.ServiceTaskSpecContainerSpecArgs(
                    image="docker.io/library/alpine:3.20",
                    env={"PAD": pad},
                    healthcheck=docker.ServiceTaskSpecContainerSpecHealthcheckArgs(tests=["CMD", "true"]),
                ),
                resources=docker.ServiceTaskSpecResourcesArgs(
                    limits=docker.ServiceTaskSpecResourcesLimitsArgs(memory_bytes=2**28, nano_cpus=10**9)
                ),
                restart_policy=docker.ServiceTaskSpecRestartPolicyArgs(condition="any", delay="5s"),
            ),
            update_config=docker.ServiceUpdateConfigArgs(failure_action="rollback", order="start-first"),
            rollback_config=docker.ServiceRollbackConfigArgs(failure_action="pause", order="start-first"),
            labels=labels,
            opts=opts,
        )
    elif it["type"] == "docker:index/network:Network":
        docker.Network(
            name, name=name, driver="overlay", options={"encrypted": "true", "pad": pad}, opts=opts
        )
    else:
        _padded_config(name, it["size"], opts)


def _from_wire(typ: Any, value: Any) -> Any:
    """A wire value (camelCase keys, numbers as floats) as the typed SDK input of `typ`."""
    import collections.abc as abc
    import typing

    from pulumi import _types

    t = _types.unwrap_type(typ)
    origin = typing.get_origin(t)
    if isinstance(value, dict) and isinstance(t, type) and _types.is_input_type(t):
        return _args_from_wire(t, value)
    if isinstance(value, list) and origin in (list, abc.Sequence):
        (item,) = typing.get_args(t)
        return [_from_wire(item, v) for v in value]
    if isinstance(value, dict) and origin in (dict, abc.Mapping):
        _, item = typing.get_args(t)
        return {k: _from_wire(item, v) for k, v in value.items()}
    if t is int and isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def _args_from_wire(args_cls: type, wire: dict[str, Any]) -> Any:
    from pulumi import _types

    py_names = {pn: py for py, pn in _types.input_type_py_to_pulumi_names(args_cls).items()}
    types = _types.input_type_types(args_cls)
    return args_cls(**{py_names[k]: _from_wire(types[k], v) for k, v in wire.items()})


def docker_class(type_token: str) -> tuple[type, type] | None:
    """`docker:index/service:Service` -> (pulumi_docker.Service, pulumi_docker.ServiceArgs)."""
    import pulumi_docker as docker

    if not type_token.startswith("docker:index/"):
        return None
    name = type_token.rsplit(":", 1)[1]
    return getattr(docker, name), getattr(docker, f"{name}Args")


def _same_resource(i: int, it: dict[str, Any], opts: Any) -> None:
    name = f"{it['name']}-{i}"
    classes = docker_class(it["type"])
    if classes is None:
        _padded_config(name, it["size"], opts)
    else:
        cls, args_cls = classes
        cls(name, _args_from_wire(args_cls, it["inputs"]), opts=opts)


def _normal(v: Any) -> Any:
    """Wire values compared as JSON (the wire has no ints: every number is a float)."""
    return json.loads(json.dumps(v), parse_int=float)


def _child_baseline(stack: str, items_path: Path, flavour: str) -> dict[str, Any]:
    import pulumi
    import pulumi_docker as docker

    from tools import mockrun

    _preimport()
    items: list[dict[str, Any]] = json.loads(items_path.read_text())
    for it in items:
        it["size"] = len(json.dumps(it["inputs"]))
    make = _padded_resource if flavour == "padded" else _same_resource

    def program() -> None:
        opts = pulumi.ResourceOptions(provider=docker.Provider("docker"))
        for i, it in enumerate(items):
            make(i, it, opts)

    if flavour == "tuned":
        from components.runtime import tune_gc

        tune_gc()
    run, out = _measured(lambda: mockrun.run(stack, program=program))
    if flavour != "padded":  # the claim of `same`: identical inputs for every docker resource
        registered = {r.name: r.plain for r in run.resources if r.custom}
        for i, it in enumerate(items):
            if docker_class(it["type"]) and _normal(registered[f"{it['name']}-{i}"]) != _normal(it["inputs"]):
                raise AssertionError(f"baseline {it['type']} {it['name']}: inputs differ from the program's")
    return out


CALLGRIND = ("valgrind", "--tool=callgrind", "--instr-atstart=no", "--callgrind-out-file=/dev/null")


def _spawn(args: list[str], callgrind: bool = False) -> dict[str, Any]:
    """One measurement in a fresh process; with `callgrind`, under valgrind, adding the
    instructions counted while the evaluation ran."""
    res = subprocess.run(
        [*(CALLGRIND if callgrind else ()), sys.executable, "-m", "bench.evalcost", "child", *args],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=1800 if callgrind else 600,
        env={**os.environ, CALLGRIND_ENV: "1"} if callgrind else None,
    )
    refs = re.search(r"I\s+refs:\s+([\d,]+)", res.stderr) if callgrind else None
    if res.returncode != 0 or (callgrind and refs is None):
        raise RuntimeError(f"bench child {args} failed:\n{res.stderr[-3000:]}")
    out = json.loads(res.stdout.strip().splitlines()[-1])
    if refs is not None:
        out["instructions"] = int(refs.group(1).replace(",", ""))
        out["instructions_per_resource"] = out["instructions"] / out["custom"]
    return out


def fleet_overrides(stack: str, registry: Path | None) -> dict[str, Any]:
    """`agent-os:fleet` with `registryPath` replaced (overrides replace whole keys)."""
    if registry is None:
        return {}
    from tools import mockrun

    values, _ = mockrun.stack_config(stack)
    fleet = dict(values.get("agent-os:fleet") or {})
    fleet["registryPath"] = str(registry)
    return {"agent-os:fleet": fleet}


def _summary(samples: list[dict[str, Any]]) -> dict[str, Any]:
    first = samples[0]
    # The work is deterministic and a busy machine only ever adds time, so the best of the
    # fresh processes estimates the cost (as timeit does); the median is kept for reference.
    wall = min(s["wall_s"] for s in samples)
    cpu = min(s["cpu_s"] for s in samples)
    return {
        "wall_s": wall,
        "cpu_s": cpu,
        "wall_samples_s": [s["wall_s"] for s in samples],
        "cpu_samples_s": [s["cpu_s"] for s in samples],
        "peak_rss_mb": max(s["peak_rss_mb"] for s in samples),
        "rss_growth_mb": statistics.median(s["rss_growth_mb"] for s in samples),
        "wall_s_median": statistics.median(s["wall_s"] for s in samples),
        "cpu_s_median": statistics.median(s["cpu_s"] for s in samples),
        "custom": first["custom"],
        "components": first["components"],
        "connectors": first.get("connectors"),
        "input_bytes": first["input_bytes"],
        "wall_s_per_resource": wall / first["custom"],
        "cpu_s_per_resource": cpu / first["custom"],
    }


BASELINES = ("same", "tuned", "padded")
HEADLINE = "same"


def measure(stack: str, registry: Path | None, repeats: int, workdir: Path) -> dict[str, Any]:
    """Program and every baseline, interleaved, `repeats` fresh processes each (best of).

    Ratios are per resource: the ratio of the best times, and the median of the ratios of
    runs made back to back (less sensitive to the machine's speed drifting during a run)."""
    tag = registry.stem if registry else "x1"
    items = workdir / f"items-{stack}-{tag}.json"
    overrides = fleet_overrides(stack, registry)
    samples: dict[str, list[dict[str, Any]]] = {"program": [], **{b: [] for b in BASELINES}}
    for i in range(repeats):
        args = ["program", stack, "--overrides", json.dumps(overrides)]
        if i == 0:
            args += ["--dump", str(items)]
        samples["program"].append(_spawn(args))
        for b in BASELINES:
            samples[b].append(_spawn(["baseline", stack, "--items", str(items), "--flavour", b]))
    out: dict[str, Any] = {"stack": stack, "registry": str(registry) if registry else None}
    for k, v in samples.items():
        out[k] = _summary(v)
    for b in BASELINES:
        for clock in ("cpu", "wall"):
            key = f"{clock}_s_per_resource"
            out[f"ratio_{clock}_vs_{b}"] = out["program"][key] / out[b][key]
            paired = [
                (p[f"{clock}_s"] / p["custom"]) / (q[f"{clock}_s"] / q["custom"])
                for p, q in zip(samples["program"], samples[b], strict=True)
            ]
            out[f"paired_ratio_{clock}_vs_{b}"] = statistics.median(paired)
    return out


def measure_instructions(
    stack: str, registries: Mapping[int, Path | None], workdir: Path, jobs: int = 2
) -> dict[str, Any]:
    """Instructions executed by the evaluation (callgrind, instrumentation on only around
    it), one process each: deterministic where CPU time on a shared machine is not. At 1x
    the program and every baseline; at the larger fleet scales the program and `same`.
    About a minute per 1x process, three at 10x."""
    from concurrent.futures import ThreadPoolExecutor

    runs: dict[tuple[int, str], list[str]] = {}
    for k, registry in sorted(registries.items()):
        items = workdir / f"items-{stack}-x{k}-instructions.json"
        overrides = json.dumps(fleet_overrides(stack, registry))
        _spawn(["program", stack, "--overrides", overrides, "--dump", str(items)])
        runs[(k, "program")] = ["program", stack, "--overrides", overrides]
        for b in BASELINES if k == 1 else (HEADLINE,):
            runs[(k, b)] = ["baseline", stack, "--items", str(items), "--flavour", b]
    # Longest first, so the two workers finish together.
    order = sorted(runs, key=lambda key: -key[0])
    with ThreadPoolExecutor(max_workers=jobs) as pool:
        done = dict(zip(order, pool.map(lambda key: _spawn(runs[key], callgrind=True), order), strict=True))
    out: dict[str, Any] = {"stack": stack, "scales": {}}
    for (k, who), r in sorted(done.items()):
        scale = out["scales"].setdefault(f"x{k}", {})
        scale[who] = r
    for scale in out["scales"].values():
        for b in BASELINES:
            if b in scale:
                scale[f"ratio_instructions_vs_{b}"] = (
                    scale["program"]["instructions_per_resource"] / scale[b]["instructions_per_resource"]
                )
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.evalcost")
    sub = ap.add_subparsers(dest="cmd", required=True)
    child = sub.add_parser("child", help="one measurement (used by python -m bench)")
    child.add_argument("mode", choices=["program", "baseline"])
    child.add_argument("stack")
    child.add_argument("--overrides", default="{}")
    child.add_argument("--dump", type=Path)
    child.add_argument("--items", type=Path)
    child.add_argument("--flavour", choices=BASELINES, default=HEADLINE)
    args = ap.parse_args(argv)
    if args.mode == "program":
        out = _child_program(args.stack, json.loads(args.overrides), args.dump)
    else:
        out = _child_baseline(args.stack, args.items, args.flavour)
    print(json.dumps(out))
    return 0


if __name__ == "__main__":
    sys.exit(main())
