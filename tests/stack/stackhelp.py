"""The staging stack, deployed for real: the real Pulumi CLI and engine (tests/engine), the
deploying providers (verify/providers), the images built here (verify/images), on this
machine's single-node swarm.

The stack under test is the repository's own `staging` stack; the only config it changes is
`agent-os:images` (verify/images/stack.py: a local test mirror plus the versions built
here). Every step prints its time. One deployment per test session, shared by the engine
cycle (tests/stack/test_stack_engine.py) and the user journeys (test_stack_journeys.py).
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import docker
import yaml

from components.day0.labels import apply_locally
from components.plan import stack_plan
from tests.engine.enginehelp import Result, Workspace, build_toolchain, copy_project
from tools import mockrun
from verify import engine, hosts
from verify.images import build as image_build
from verify.images import rootfs
from verify.images import stack as image_stack
from verify.images.stack import RECIPES

STACK = "staging"
INGRESS = "127.0.0.1"
HOSTS_MARKER = "agent-os staging under test"


_WRITE: list[Callable[[str], None]] = []  # pytest's terminal writer (tests/stack/conftest.py)


def set_terminal_writer(write: Callable[[str], None]) -> None:
    _WRITE[:] = [write]


def report(line: str) -> None:
    """A figure the tests print for the run's log (times, the critical path): through
    pytest's terminal writer, past its output capture, so CI shows it for passing tests; on
    an xdist worker (no terminal) into the run's figures file, which the controller prints in
    its summary (tests/conftest.py)."""
    figures = os.environ.get("AGENT_OS_FIGURES")
    if figures and os.environ.get("PYTEST_XDIST_WORKER"):
        with open(figures, "a", encoding="utf-8") as f:
            f.write(line + "\n")
    elif _WRITE:
        _WRITE[0](line)
    else:
        print(line, flush=True)


def timed(what: str, times: dict[str, float]) -> contextlib.AbstractContextManager[None]:
    @contextlib.contextmanager
    def _t() -> Iterator[None]:
        t0 = time.monotonic()
        try:
            yield
        finally:
            times[what] = time.monotonic() - t0
            report(f"[time] {what}: {times[what]:.1f} s")

    return _t()


def test_config() -> dict[str, Any]:
    """The whole config keys the stack under test changes (for mockrun and the CLI)."""
    values, _ = mockrun.stack_config(STACK)
    return {"agent-os:images": image_stack.images_config(values.get("agent-os:images"))}


def stack_host_names() -> list[str]:
    model = mockrun.stack_model(STACK, test_config())
    plan = stack_plan(model)
    zone = model.edge.zone
    return [f"{r.host}.{zone}" for r in (plan.edge.dns_route, *plan.routes)]


def build_images() -> dict[str, float]:
    """Build (or reuse) every image the stack names and tag it under the test mirror."""
    run = mockrun.run(STACK, overrides=test_config())
    refs = image_stack.planned_images(run)
    client = docker.from_env(timeout=300)
    uv = rootfs.uv_version()
    seconds: dict[str, float] = {}
    lock = image_build.acquire_lock()
    try:
        for name in sorted(set(image_stack.recipes_for(refs))):
            if name not in RECIPES:
                raise AssertionError(f"no recipe builds the image of {name} ({refs.get(name)})")
            seconds[name] = image_build.ensure(client, RECIPES[name], uv).seconds
    finally:
        lock.close()
    missing = image_stack.tag_for_stack(client, refs)
    assert not missing, "images the stack names that are not built here:\n" + "\n".join(missing)
    return seconds


@dataclass
class Deployment:
    ws: Workspace
    times: dict[str, float] = field(default_factory=dict[str, float])
    ups: list[Result] = field(default_factory=list[Result])

    def pulumi(self, *args: str, check: bool = True, timeout: float = 1800) -> Result:
        return self.ws.pulumi(*args, "-s", STACK, check=check, timeout=timeout)

    def config_set(self, path: str, value: str, secret: bool = False) -> None:
        self.pulumi("config", "set", "--path", path, value, *(["--secret"] if secret else []))

    def up(self, what: str, *args: str) -> Result:
        log = self.ws.root / f"up-{len(self.ups) + 1}.jsonl"
        with timed(what, self.times):
            res = self.pulumi("up", "--yes", "--skip-preview", "--json", *args, check=False)
        log.write_text(res.stdout)  # the engine's event stream (one JSON event per line)
        self.ups.append(res)
        if res.code != 0:
            raise AssertionError(f"`pulumi up` ({what}) failed (events: {log}):\n" + "\n".join(errors(res)))
        return res

    def outputs(self) -> dict[str, Any]:
        return json.loads(self.pulumi("stack", "output", "--json", "--show-secrets").stdout)


def errors(res: Result) -> list[str]:
    """The error diagnostics of a `--json` run (the engine's, the providers', the program's)."""
    out: list[str] = []
    for line in res.stdout.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        d = event.get("diagnosticEvent") if isinstance(event, dict) else None
        if d and d.get("severity") == "error":
            out.append(f"{d.get('urn', '').rsplit('::', 1)[-1]}: {d.get('message', '').strip()[:3000]}")
    return out or [res.stdout[-6000:], res.stderr[-3000:]]


def leaves(config: dict[str, Any]) -> Iterator[tuple[str, str]]:
    """(`pulumi config set --path` path, value) for every leaf of a config object."""

    def walk(prefix: str, v: Any) -> Iterator[tuple[str, str]]:
        if isinstance(v, dict):
            for k, sub in v.items():
                yield from walk(f'{prefix}["{k}"]' if not k.isidentifier() else f"{prefix}.{k}", sub)
        else:
            yield prefix, json.dumps(v) if not isinstance(v, str) else v

    for key, value in config.items():
        yield from walk(key, value)


def prepare(root: Path) -> Deployment:
    """A brand-new staging stack, configured for this machine (nothing deployed yet)."""
    times: dict[str, float] = {}
    engine.start_engine()
    with timed("toolchain", times):
        bin_dir = build_toolchain()
    with timed("images", times):
        build_images()
    left = leftovers()
    if left:
        raise AssertionError(
            "the engine still has objects of a staging stack (a killed run?); destroy that stack "
            "or remove them first:\n" + "\n".join(left)
        )
    # Volumes outlive `pulumi destroy` by design (README); a fresh deploy starts without them.
    remove_volumes()
    # Day 0 as the README has the operator do it on an existing swarm: label the node from
    # the inventory (the program's own labelling script, run with the local docker CLI).
    (host,) = mockrun.stack_model(STACK).inventory.hosts
    apply_locally(host)
    ws = Workspace.create(root, bin_dir)
    ws.pulumi("stack", "init", STACK)
    dep = Deployment(ws=ws, times=times)
    for path, value in leaves(test_config()):
        dep.config_set(path, value)
    return dep


def deploy(root: Path) -> Deployment:
    """A brand-new staging stack, `pulumi up` from empty (the caller destroys it, also when
    this fails half-way: use `prepare` and `Deployment.up` for that)."""
    dep = prepare(root)
    dep.up("up from empty")
    return dep


def destroy(dep: Deployment) -> Result:
    with timed("destroy", dep.times):
        return dep.pulumi("destroy", "--yes", "--skip-preview", "--json", check=False)


def leftovers(namespace: str = "agent-os") -> list[str]:
    """Services, configs, secrets, networks and containers of the stack still on the engine
    (everything the program makes carries its namespace label)."""
    out: list[str] = []
    for kind in ("service", "config", "secret", "network", "container"):
        argv = ["docker", kind, "ls", "--filter", f"label=com.docker.stack.namespace={namespace}"]
        argv += ["-a"] if kind == "container" else []
        names = subprocess.run(
            [*argv, "--format", "{{.Names}}" if kind == "container" else "{{.Name}}"],
            capture_output=True,
            text=True,
            check=True,
        ).stdout.split()
        out += [f"{kind} {n}" for n in names]
    return out


def volumes(namespace: str = "agent-os") -> list[str]:
    names = subprocess.run(
        ["docker", "volume", "ls", "--format", "{{.Name}}"], capture_output=True, text=True, check=True
    ).stdout.split()
    return [n for n in names if n.startswith(f"{namespace}-")]


def remove_volumes(namespace: str = "agent-os") -> None:
    for name in volumes(namespace):
        subprocess.run(["docker", "volume", "rm", name], capture_output=True, check=True)


def resolving() -> contextlib.AbstractContextManager[None]:
    # One block per test session: another session ending removes only its own.
    return hosts.resolving(stack_host_names(), INGRESS, f"{HOSTS_MARKER} (pid {os.getpid()})")


def main(argv: list[str]) -> None:
    """`python -m tests.stack.stackhelp deploy|up|destroy FOLDER`: a deployment to work on."""
    what, root = argv[1], Path(argv[2])
    with resolving():
        if what == "deploy":
            dep = deploy(root)
        else:
            dep = Deployment(ws=Workspace.attach(root, build_toolchain()))
            copy_project(root / "main", keep=(f"Pulumi.{STACK}.yaml",))
            build_images()
            if what == "up":
                dep.up("up")
            elif what == "destroy":
                res = destroy(dep)
                print("\n".join(errors(res)) if res.code else "destroyed", leftovers())
    print({k: round(v, 1) for k, v in dep.times.items()})


if __name__ == "__main__":
    main(sys.argv)


def service_replicas(namespace: str = "agent-os") -> dict[str, tuple[int, int]]:
    """service name -> (running tasks, desired tasks), as `docker service ls` counts them."""
    out = subprocess.run(
        [
            "docker",
            "service",
            "ls",
            "--filter",
            f"label=com.docker.stack.namespace={namespace}",
            "--format",
            "{{.Name}} {{.Replicas}}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    found: dict[str, tuple[int, int]] = {}
    for line in out.splitlines():
        name, replicas = line.split()[:2]
        running, desired = replicas.split("/")
        found[name] = (int(running), int(desired))
    return found


def unhealthy_tasks(namespace: str = "agent-os") -> list[str]:
    """Running task containers of the stack whose declared healthcheck does not pass."""
    out = subprocess.run(
        [
            "docker",
            "ps",
            "--filter",
            f"label=com.docker.stack.namespace={namespace}",
            "--filter",
            "label=com.docker.swarm.task.id",
            "--format",
            "{{.Names}}|{{.Status}}",
        ],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return [line for line in out.splitlines() if "(healthy)" not in line]


def task_containers(service: str) -> list[str]:
    """IDs of the running task containers of `service`."""
    out = subprocess.run(
        ["docker", "ps", "-q", "--filter", f"label=com.docker.swarm.service.name={service}"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return out.split()


def wait_for(pred: Callable[[], bool], timeout: float, interval: float = 2.0) -> float:
    """Seconds until `pred()` held; AssertionError after `timeout`."""
    t0 = time.monotonic()
    while not pred():
        if time.monotonic() - t0 > timeout:
            raise AssertionError(f"not within {timeout:.0f} s")
        time.sleep(interval)
    return time.monotonic() - t0


def ops(res: Result) -> dict[str, list[str]]:
    """What the engine did in a `--json` up: op -> sorted resource names (same/read left out)."""
    found: dict[str, list[str]] = {}
    for line in res.stdout.splitlines():
        try:
            event = json.loads(line)
        except ValueError:
            continue
        out = event.get("resOutputsEvent") if isinstance(event, dict) else None
        if not out:
            continue
        meta = out["metadata"]
        # A replacement shows as replace plus its create-replacement/delete-replaced halves.
        if meta["op"] in ("same", "read", "create-replacement", "delete-replaced"):
            continue
        if meta.get("type") == "pulumi:pulumi:Stack":
            continue
        found.setdefault(meta["op"], []).append(meta["urn"].rsplit("::", 1)[-1])
    return {k: sorted(v) for k, v in sorted(found.items())}


@dataclass
class Registry:
    """The stack's connector registry as the user edits it: a copy of the shared registry in
    the project, named by `agent-os:fleet.registryPath`."""

    dep: Deployment
    doc: dict[str, Any]
    NAME = "mcp-fleet.registry.stack-test.yml"

    @classmethod
    def of(cls, dep: Deployment) -> Registry:
        path = dep.ws.project / cls.NAME
        if not path.exists():
            path = dep.ws.project / mockrun.stack_model(STACK).fleet.registry_path
        return cls(dep=dep, doc=yaml.safe_load(path.read_text()))

    def entry(self, name: str) -> dict[str, Any]:
        (found,) = [s for s in self.doc["services"] if s["name"] == name]
        return found

    def set_image(self, name: str, image: str) -> None:
        self.entry(name)["image"] = image

    def add_like(self, template: str, name: str, host_port: int) -> None:
        self.doc["services"].append({**self.entry(template), "name": name, "host_port": host_port})

    def save(self) -> None:
        (self.dep.ws.project / self.NAME).write_text(yaml.safe_dump(self.doc, sort_keys=False))
        self.dep.config_set("agent-os:fleet.registryPath", self.NAME)


def tag_like(service: str, old: str, new: str) -> None:
    """Tag the image `service` runs as `old` (under the test mirror) also as `new`."""
    client = docker.from_env()
    client.images.get(f"{image_stack.MIRROR}/{old}").tag(f"{image_stack.MIRROR}/{new}")
    assert service
