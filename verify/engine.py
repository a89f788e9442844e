"""A real Docker Engine + single-node Swarm for the verification suite, and the forwarder
that creates the program's docker resources on it (through verify/forward.py).

Every wait here is bounded in time; every object created is tracked by ID and removed by
`Deployment.destroy`; the swarm is left and dockerd stopped only if this module started
them. Pre-existing objects with the names the program declares make `apply` refuse to run
(never touch a real deployment on the same engine).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import time
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from tools import mockrun

from . import forward, standin

DOCKERD_LOG = Path(os.environ.get("AGENT_OS_DOCKERD_LOG", "/tmp/agent-os-verify-dockerd.log"))


class EngineUnavailableError(Exception):
    """No Docker Engine could be reached or started (the swarm tests skip with this)."""


@dataclass
class Engine:
    client: Any  # docker.DockerClient
    started_dockerd: subprocess.Popen[bytes] | None = None
    created_swarm: bool = False

    @property
    def api(self) -> Any:
        return self.client.api

    def close(self) -> None:
        if self.created_swarm:
            with contextlib.suppress(Exception):
                self.client.swarm.leave(force=True)
        self.client.close()
        if self.started_dockerd is not None:
            self.started_dockerd.terminate()
            try:
                self.started_dockerd.wait(30)
            except subprocess.TimeoutExpired:
                self.started_dockerd.kill()


def _ping(timeout: float = 5) -> Any | None:
    import docker

    try:
        client = docker.from_env(timeout=120)
        client.ping()
        return client
    except Exception:
        return None


def start_engine(wait_s: float = 60) -> Engine:
    """Use a running dockerd, or start one in the background (root only)."""
    client = _ping()
    proc = None
    if client is None:
        dockerd = shutil.which("dockerd")
        if dockerd is None:
            raise EngineUnavailableError(
                "no Docker Engine: dockerd not installed (tools/ci-setup.sh installs docker.io)"
            )
        if os.geteuid() != 0:
            raise EngineUnavailableError(
                "no Docker Engine running and not root, so dockerd cannot be started"
            )
        log = DOCKERD_LOG.open("ab")
        proc = subprocess.Popen([dockerd], stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        deadline = time.monotonic() + wait_s
        while client is None and time.monotonic() < deadline:
            if proc.poll() is not None:
                raise EngineUnavailableError(f"dockerd exited with {proc.returncode}; see {DOCKERD_LOG}")
            time.sleep(1)
            client = _ping()
        if client is None:
            proc.terminate()
            raise EngineUnavailableError(f"dockerd did not answer within {wait_s:.0f}s; see {DOCKERD_LOG}")
    engine = Engine(client=client, started_dockerd=proc)
    state = client.info().get("Swarm", {}).get("LocalNodeState")
    if state != "active":
        try:
            client.swarm.init(advertise_addr="127.0.0.1", listen_addr="127.0.0.1:2377")
        except Exception as e:
            engine.close()
            raise EngineUnavailableError(f"docker swarm init failed: {e}") from e
        engine.created_swarm = True
    return engine


# -- placement -------------------------------------------------------------------------------
_LABEL = re.compile(r"^node\.labels\.([\w.-]+)\s*==\s*(\S+)$")


def labels_for_constraints(constraints: Iterable[str]) -> dict[str, str]:
    """Node labels a single node needs to satisfy `node.labels.K==V` constraints. Raises
    ValueError when two constraints need different values for one key (then no single
    node can run both services)."""
    out: dict[str, str] = {}
    for c in constraints:
        m = _LABEL.match(c.strip())
        if not m:
            continue
        k, v = m.groups()
        if out.get(k, v) != v:
            raise ValueError(f"constraints need node label {k} both {out[k]!r} and {v!r}")
        out[k] = v
    return out


def label_single_node(client: Any, labels: Mapping[str, str]) -> dict[str, str]:
    """Add `labels` to the only swarm node; returns the labels it had before (to restore).
    Issue 8 replaces this with the program's own node-labelling code path."""
    nodes = client.nodes.list()
    if len(nodes) != 1:
        raise RuntimeError(f"expected a single-node swarm, found {len(nodes)} nodes")
    node = nodes[0]
    spec = dict(node.attrs["Spec"])
    before = dict(spec.get("Labels") or {})
    spec["Labels"] = {**before, **labels}
    node.update(spec)
    return before


Labeller = Callable[[Any, Mapping[str, str]], dict[str, str]]


def inventory_labeller(stack: str) -> Labeller:
    """Label the single node from `stack`'s one-host inventory through the program's own
    code path (components.day0.labels.label_script, the script the provisioning
    remote.Command runs), run here with the local docker CLI instead of over SSH.
    Fails when the inventory host lacks a label a placement constraint needs."""
    from components.day0.labels import apply_locally

    cfg = mockrun.stack_model(stack)
    hosts = cfg.inventory.hosts
    if len(hosts) != 1:
        raise RuntimeError(f"stack {stack}: expected a one-host inventory, found {len(hosts)} hosts")
    host = hosts[0]

    def labeller(client: Any, needed: Mapping[str, str]) -> dict[str, str]:
        missing = {k: v for k, v in needed.items() if host.labels.get(k) != v}
        if missing:
            raise RuntimeError(f"inventory host {host.name} lacks labels the constraints need: {missing}")
        nodes = client.nodes.list()
        if len(nodes) != 1:
            raise RuntimeError(f"expected a single-node swarm, found {len(nodes)} nodes")
        before = dict(nodes[0].attrs["Spec"].get("Labels") or {})
        apply_locally(host)
        return before

    return labeller


# -- selection -------------------------------------------------------------------------------
ALWAYS_LAYERS = ("edge", "data")
PER_LAYER = 2
MAX_SERVICES = int(os.environ.get("AGENT_OS_VERIFY_MAX_SERVICES", "14"))


def _reservation(svc: Mapping[str, Any]) -> int:
    return int(((svc["taskSpec"].get("resources") or {}).get("reservation") or {}).get("nanoCpus", 0))


def select_services(run: mockrun.Run, node_nano_cpus: int, max_services: int = MAX_SERVICES) -> list[str]:
    """The representative subset the real-swarm suite runs (time and a 2-core node bound it).

    Rule: every service of the edge and data layers; then, per other layer in registration
    order, up to PER_LAYER services, preferring those that mount secrets, then configs
    (the most to verify), then by name; a service is taken only while the sum of CPU
    reservations stays within 90% of the node's CPUs (Swarm would leave it pending) and
    the count within `max_services`. Every service, selected or not, is still schema
    checked and translated by verify/forward.py (tests/verify/test_forward.py)."""
    services = {n: r.plain for n, r in run.services().items()}
    layer = {n: labels(s.get("labels")).get("agent-os.layer", "") for n, s in services.items()}
    budget = int(node_nano_cpus * 0.9)
    chosen: list[str] = []
    used = 0

    def take(n: str) -> None:
        nonlocal used
        if len(chosen) < max_services and used + _reservation(services[n]) <= budget:
            chosen.append(n)
            used += _reservation(services[n])

    for n in services:
        if layer[n] in ALWAYS_LAYERS:
            take(n)
    rest_layers = list(dict.fromkeys(layer[n] for n in services if layer[n] not in ALWAYS_LAYERS))
    for lay in rest_layers:

        def rank(n: str) -> tuple[int, int, str]:
            cs = services[n]["taskSpec"]["containerSpec"]
            return (-len(cs.get("secrets") or []), -len(cs.get("configs") or []), n)

        before = len(chosen)
        for n in sorted((n for n in services if layer[n] == lay), key=rank):
            if len(chosen) - before >= PER_LAYER:
                break
            take(n)
    return chosen


def labels(items: list[dict[str, str]] | None) -> dict[str, str]:
    return {x["label"]: x["value"] for x in items or []}


# -- deployment --------------------------------------------------------------------------------
@dataclass
class Deployment:
    """The program's docker resources of one mock run, created on the real engine."""

    engine: Engine
    run: mockrun.Run
    services: set[str]  # the selected service names
    ids: dict[str, str] = field(default_factory=dict[str, str])  # mock id -> engine id
    created: list[tuple[str, str]] = field(default_factory=list[tuple[str, str]])  # (kind, id)
    service_ids: dict[str, str] = field(default_factory=dict[str, str])  # name -> engine id
    calls: dict[str, forward.ServiceCall] = field(default_factory=dict[str, forward.ServiceCall])
    containers: dict[str, str] = field(default_factory=dict[str, str])  # name -> container id
    images: list[str] = field(default_factory=list[str])
    node_labels_before: dict[str, str] | None = None

    def resolve(self, mock_id: str) -> str:
        if mock_id not in self.ids:
            raise KeyError(f"{mock_id!r} references an object that was not forwarded")
        return self.ids[mock_id]

    def _check_free(self) -> None:
        api = self.engine.api
        want = {str(r.plain.get("name")) for r in self.run.resources if r.type in forward.ORDER}
        existing = {s["Spec"]["Name"] for s in api.services()}
        existing |= {n["Name"] for n in api.networks()}
        existing |= {c["Spec"]["Name"] for c in api.configs()}
        existing |= {s["Spec"]["Name"] for s in api.secrets()}
        clash = sorted(want & existing)
        if clash:
            raise RuntimeError(f"engine already has objects named {clash}; refusing to touch them")

    def apply(self, labeller: Labeller = label_single_node) -> None:
        self._check_free()
        standins = standin.plan(self.run, self.services)
        self.images = standin.build(self.engine.client, standins)
        constraints = [
            c
            for name, r in self.run.services().items()
            if name in self.services
            for c in (r.plain["taskSpec"].get("placement") or {}).get("constraints") or []
        ]
        self.node_labels_before = labeller(self.engine.client, labels_for_constraints(constraints))
        for kind in forward.ORDER:
            for r in self.run.by_type(kind):
                self._create(kind, r)

    def _create(self, kind: str, r: mockrun.Registered) -> None:
        api = self.engine.api
        inputs = forward.plain(r)
        if kind == forward.NETWORK:
            oid = api.create_network(**forward.network(inputs))["Id"]
        elif kind == forward.VOLUME:
            oid = api.create_volume(**forward.volume(inputs))["Name"]
        elif kind == forward.CONFIG:
            oid = api.create_config(**forward.config(inputs))["ID"]
        elif kind == forward.SECRET:
            oid = api.create_secret(**forward.secret(inputs))["ID"]
        elif kind == forward.SERVICE:
            if inputs["name"] not in self.services:
                return
            call = forward.service(inputs, self.resolve, standin.image_for)
            oid = api.create_service(**call.kwargs)["ID"]
            self.service_ids[inputs["name"]] = oid
            self.calls[inputs["name"]] = call
        else:  # standalone container (admin tunnel)
            kw = forward.container(inputs, standin.image_for(inputs["name"], inputs["image"]))
            oid = self.engine.client.containers.create(**kw).id
            self.created.append((kind, oid))  # tracked before start, so a failed start is cleaned
            self.containers[inputs["name"]] = oid
            self.ids[r.id] = oid
            self.engine.api.start(oid)
            return
        self.ids[r.id] = oid
        self.created.append((kind, oid))

    def destroy(self) -> list[str]:
        """Remove everything created, in reverse; returns errors (empty when clean)."""
        api = self.engine.api
        errors: list[str] = []
        volumes: set[str] = set()
        for name in self.service_ids:
            for m in self.calls[name].kwargs["task_template"]["ContainerSpec"].get("Mounts") or []:
                if m.get("Type") == "volume" and m.get("Source"):
                    volumes.add(m["Source"])
        for kind, oid in reversed(self.created):
            try:
                if kind == forward.SERVICE:
                    api.remove_service(oid)
                elif kind == forward.CONTAINER:
                    api.remove_container(oid, force=True, v=True)
            except Exception as e:
                if "not found" not in str(e).lower():
                    errors.append(f"{kind} {oid}: {e}")
        _wait(
            lambda: not _service_containers(api, set(self.service_ids.values())), 90, "service tasks to stop"
        )
        for kind, oid in reversed(self.created):
            for attempt in range(10):
                try:
                    if kind == forward.NETWORK:
                        api.remove_network(oid)
                    elif kind == forward.CONFIG:
                        api.remove_config(oid)
                    elif kind == forward.SECRET:
                        api.remove_secret(oid)
                    elif kind == forward.VOLUME:
                        api.remove_volume(oid, force=True)
                    break
                except Exception as e:
                    if "not found" in str(e).lower() or "no such" in str(e).lower():
                        break
                    if attempt == 9:
                        errors.append(f"{kind} {oid}: {e}")
                    time.sleep(1)
        for v in sorted(volumes):
            with contextlib.suppress(Exception):
                api.remove_volume(v, force=True)
        for image in self.images:
            with contextlib.suppress(Exception):
                api.remove_image(image, force=True)
        if self.node_labels_before is not None:
            with contextlib.suppress(Exception):
                node = self.engine.client.nodes.list()[0]
                spec = dict(node.attrs["Spec"])
                spec["Labels"] = self.node_labels_before
                node.update(spec)
        return errors


def _service_containers(api: Any, service_ids: set[str]) -> list[dict[str, Any]]:
    return [
        c
        for c in api.containers(all=True)
        if c.get("Labels", {}).get("com.docker.swarm.service.id") in service_ids
    ]


def _wait(pred: Callable[[], bool], timeout: float, what: str, interval: float = 1.0) -> float:
    start = time.monotonic()
    while True:
        if pred():
            return time.monotonic() - start
        if time.monotonic() - start > timeout:
            raise TimeoutError(f"timed out after {timeout:.0f}s waiting for {what}")
        time.sleep(interval)


# -- observing services --------------------------------------------------------------------------
def running_tasks(api: Any, service_id: str) -> list[dict[str, Any]]:
    tasks = api.tasks(filters={"service": service_id, "desired-state": "running"})
    return [t for t in tasks if t["Status"]["State"] == "running"]


def healthy_container(api: Any, task: dict[str, Any]) -> str | None:
    cid = task["Status"].get("ContainerStatus", {}).get("ContainerID")
    if not cid:
        return None
    try:
        state = api.inspect_container(cid)["State"]
    except Exception:
        return None
    health = (state.get("Health") or {}).get("Status")
    return cid if state.get("Running") and health in (None, "healthy") else None


def task_errors(api: Any, service_id: str) -> list[str]:
    out = []
    for t in api.tasks(filters={"service": service_id}):
        st = t["Status"]
        if st.get("Err") or st["State"] in ("pending", "rejected", "failed"):
            out.append(f"{st['State']}: {st.get('Err') or st.get('Message')}")
    return out


def converged(api: Any, service_id: str, replicas: int) -> list[str]:
    """Container IDs of running+healthy tasks, when there are exactly `replicas`."""
    cids = [c for t in running_tasks(api, service_id) if (c := healthy_container(api, t))]
    return cids if len(cids) == replicas else []


def wait_converged(api: Any, service_id: str, replicas: int, timeout: float) -> float:
    try:
        return _wait(lambda: bool(converged(api, service_id, replicas)), timeout, f"service {service_id}")
    except TimeoutError as e:
        errs = sorted(set(task_errors(api, service_id)))[-5:]
        raise TimeoutError(f"{e}: task errors {errs}") from None


def exec_in(api: Any, cid: str, cmd: list[str], user: str = "") -> tuple[int, str]:
    ex = api.exec_create(cid, cmd, user=user)
    out = api.exec_start(ex["Id"])
    code = api.exec_inspect(ex["Id"])["ExitCode"]
    return int(code), out.decode(errors="replace") if isinstance(out, bytes) else str(out)


__all__ = [
    "Deployment",
    "Engine",
    "EngineUnavailableError",
    "converged",
    "exec_in",
    "label_single_node",
    "labels_for_constraints",
    "start_engine",
    "task_errors",
    "wait_converged",
]
