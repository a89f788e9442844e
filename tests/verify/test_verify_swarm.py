"""The staging stack's docker resources on a REAL single-node Docker Swarm.

Skipped (with the reason) when no engine can be reached or started. The program is
evaluated under mocks; its Network/ServiceConfig/Secret/Volume/Service/Container inputs go
to the engine through verify/forward.py exactly as declared, images swapped for stand-ins
(verify/standin.py). A representative subset of services runs (verify/engine.py
`select_services`) to stay inside the time budget and the node's CPUs.
"""

from __future__ import annotations

import base64
import contextlib
import copy
import socket
import ssl
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import pytest

from tools import mockrun
from verify import engine, forward, schema, standin

pytestmark = pytest.mark.swarm

CONVERGE_CAP_S = 150  # per service, within the declared converge timeout


@dataclass
class Swarm:
    eng: engine.Engine
    run: mockrun.Run
    dep: engine.Deployment
    selected: list[str]
    converge_s: dict[str, float] = field(default_factory=dict[str, float])
    failures: dict[str, str] = field(default_factory=dict[str, str])
    extra_services: list[str] = field(default_factory=list[str])

    @property
    def api(self) -> Any:
        return self.eng.api

    def replicas(self, name: str) -> int:
        mode = self.dep.calls[name].kwargs["mode"]
        return 1 if "Global" in mode else int(mode["Replicated"]["Replicas"])

    def container(self, name: str) -> str:
        cids = engine.converged(self.api, self.dep.service_ids[name], self.replicas(name))
        assert cids, f"{name} is not converged"
        return cids[0]

    def spec(self, name: str) -> dict[str, Any]:
        return self.run.services()[name].plain


def _converge_all(sw: Swarm, names: list[str]) -> None:
    t0 = time.monotonic()

    def one(name: str) -> None:
        call = sw.dep.calls[name]
        timeout = min(CONVERGE_CAP_S, (call.converge_timeout_ns or 300 * 10**9) / 1e9)
        try:
            engine.wait_converged(sw.api, sw.dep.service_ids[name], sw.replicas(name), timeout)
            sw.converge_s[name] = round(time.monotonic() - t0, 1)
        except TimeoutError as e:
            sw.failures[name] = str(e)

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(one, names))


@pytest.fixture(scope="module")
def sw() -> Iterator[Swarm]:
    try:
        eng = engine.start_engine()
    except engine.EngineUnavailableError as e:
        pytest.skip(f"no Docker Engine for the swarm suite: {e}")
    run = schema.evaluate("staging")
    selected = engine.select_services(run, int(eng.client.info()["NCPU"]) * 10**9)
    dep = engine.Deployment(eng, run, set(selected))
    s = Swarm(eng, run, dep, selected)
    try:
        t0 = time.monotonic()
        # The node is labelled from staging's one-host inventory by day 0's own script.
        dep.apply(engine.inventory_labeller("staging"))
        print(f"\nforwarded {len(dep.created)} objects in {time.monotonic() - t0:.1f}s; services: {selected}")
        skipped = sorted(set(run.services()) - set(selected))
        print(f"not run on the swarm (selection rule, engine.select_services): {skipped}")
        _converge_all(s, list(dep.service_ids))
        print(f"time to converge (s, from creation): {s.converge_s}")
        yield s
    finally:
        for sid in s.extra_services:
            with contextlib.suppress(Exception):
                eng.api.remove_service(sid)
        errors = dep.destroy()
        eng.close()
        assert not errors, f"cleanup left objects behind: {errors}"


def test_every_service_converges_and_passes_its_healthcheck(sw: Swarm) -> None:
    assert not sw.failures, "\n".join(f"{n}: {e}" for n, e in sw.failures.items())
    for name in sw.dep.service_ids:
        cid = sw.container(name)
        health = sw.api.inspect_container(cid)["State"].get("Health", {}).get("Status")
        assert health == "healthy", f"{name}: {health}"


# -- placement ---------------------------------------------------------------------------------
def _extra_service(sw: Swarm, base: str, name: str, mutate: Any) -> str:
    kw = copy.deepcopy(sw.dep.calls[base].kwargs)
    kw["name"] = name
    kw.pop("endpoint_spec", None)  # no host ports: they would clash with the original
    kw["endpoint_spec"] = {"Mode": sw.dep.calls[base].kwargs.get("endpoint_spec", {}).get("Mode", "vip")}
    kw["task_template"].get("Resources", {}).pop("Reservations", None)  # the node is full
    mutate(kw)
    sid = sw.api.create_service(**kw)["ID"]
    sw.extra_services.append(sid)
    return sid


def test_placement_constraints_are_satisfiable_with_the_node_labels(sw: Swarm) -> None:
    constrained = [
        n
        for n in sw.dep.service_ids
        if sw.dep.calls[n].kwargs["task_template"].get("Placement", {}).get("Constraints")
    ]
    assert constrained
    for name in constrained:
        errs = engine.task_errors(sw.api, sw.dep.service_ids[name])
        assert not any("no suitable node" in e for e in errs), f"{name}: {errs}"
        assert name in sw.converge_s


def test_node_labels_come_from_the_inventory_through_day0s_script(sw: Swarm) -> None:
    from components.config.inventory import MANAGED_LABELS
    from components.day0.labels import apply_locally

    host = mockrun.stack_model("staging").inventory.hosts[0]
    node = sw.eng.client.nodes.list()[0]
    node.reload()
    labels = node.attrs["Spec"]["Labels"]
    assert {k: labels.get(k) for k in host.labels} == dict(host.labels)
    assert set(labels[MANAGED_LABELS].split(",")) == set(host.labels)
    # Check-first: applying the same inventory again changes nothing.
    assert apply_locally(host).startswith("labels unchanged")


def test_an_unsatisfiable_constraint_is_seen_pending(sw: Swarm) -> None:
    base = next(iter(sw.dep.service_ids))

    def mutate(kw: dict[str, Any]) -> None:
        kw["task_template"].setdefault("Placement", {})["Constraints"] = ["node.labels.verify-nowhere==true"]

    sid = _extra_service(sw, base, "verify-unplaceable", mutate)
    deadline = time.monotonic() + 30
    errs: list[str] = []
    while time.monotonic() < deadline and not any("no suitable node" in e for e in errs):
        time.sleep(1)
        errs = engine.task_errors(sw.api, sid)
    assert any("no suitable node" in e for e in errs), errs
    sw.api.remove_service(sid)


# -- networks ----------------------------------------------------------------------------------
def _nets(sw: Swarm, name: str) -> set[str]:
    return {n["Target"] for n in sw.dep.calls[name].kwargs["task_template"].get("Networks", [])}


def _resolves(sw: Swarm, cid: str, host: str) -> bool:
    code, out = engine.exec_in(sw.api, cid, ["nslookup", host], user="0")
    return code == 0 and "can't find" not in out and "Name:" in out


def _connects(sw: Swarm, cid: str, host: str, port: int) -> bool:
    code, _ = engine.exec_in(sw.api, cid, ["/bin/busybox", "nc", "-w", "3", host, str(port)], user="0")
    return code == 0


def test_services_reach_each_other_exactly_where_they_share_a_network(sw: Swarm) -> None:
    names = sorted(sw.dep.service_ids)
    cids = {n: sw.container(n) for n in names}
    ports = {s.service: s.ports for s in standin.plan(sw.run, names)}
    pairs = [(a, b) for a in names for b in names if a != b]

    def check(pair: tuple[str, str]) -> str | None:
        a, b = pair
        shared = bool(_nets(sw, a) & _nets(sw, b))
        resolved = _resolves(sw, cids[a], b)
        if resolved != shared:
            return f"{a} -> {b}: resolves={resolved}, shared network={shared}"
        if shared and ports.get(b) and not _connects(sw, cids[a], b, ports[b][-1]):
            return f"{a} -> {b}:{ports[b][-1]}: no TCP connection on a shared network"
        return None

    with ThreadPoolExecutor(max_workers=8) as pool:
        problems = [p for p in pool.map(check, pairs) if p]
    print(f"\nchecked {len(pairs)} service pairs for resolution/reachability")
    assert not problems, "\n".join(problems)
    assert any(not (_nets(sw, a) & _nets(sw, b)) for a, b in pairs), "no isolated pair to check"


# -- secrets and configs -----------------------------------------------------------------------
def _declared_files(sw: Swarm, name: str) -> list[tuple[str, str, str, int, str]]:
    """(path, uid, gid, mode, content) of every secret and config the service declares."""
    by_id = {r.id: r.plain for r in sw.run.resources if r.type in (forward.CONFIG, forward.SECRET)}
    cs = sw.spec(name)["taskSpec"]["containerSpec"]
    out = []
    for f, key in [(s, "secretId") for s in cs.get("secrets") or []] + [
        (c, "configId") for c in cs.get("configs") or []
    ]:
        content = base64.b64decode(by_id[f[key]]["data"]).decode()
        out.append(
            (
                f["fileName"],
                str(f.get("fileUid", "0")),
                str(f.get("fileGid", "0")),
                int(f["fileMode"]),
                content,
            )
        )
    return out


def _file_refs(spec: dict[str, Any]) -> list[str]:
    """Paths the app is told to read: `*_FILE` env values and SECRETS_TO_ENV entries."""
    env = spec["taskSpec"]["containerSpec"].get("env") or {}
    paths = [v for k, v in env.items() if k.endswith("_FILE") and str(v).startswith("/")]
    for item in str(env.get("SECRETS_TO_ENV", "")).split(","):
        if "=" in item:
            paths.append(item.split("=", 1)[1])
    return paths


def _unreadable(sw: Swarm, cid: str, paths: list[str], user: str = "") -> list[str]:
    bad = []
    for p in paths:
        code, _ = engine.exec_in(sw.api, cid, ["test", "-r", p], user=user)
        if code != 0:
            bad.append(p)
    return bad


def test_secrets_and_configs_are_mounted_where_declared_with_owner_and_mode(sw: Swarm) -> None:
    checked = 0
    for name in sorted(sw.dep.service_ids):
        files = _declared_files(sw, name)
        if not files:
            continue
        cid = sw.container(name)
        for path, uid, gid, mode, content in files:
            code, out = engine.exec_in(sw.api, cid, ["stat", "-c", "%u %g %a", path], user="0")
            assert code == 0, f"{name}: {path} missing: {out}"
            assert out.split() == [uid, gid, f"{mode:o}"], f"{name}: {path} is {out.strip()}"
            # Readable by the user the process runs as (exec uses the container's user).
            code, out = engine.exec_in(sw.api, cid, ["cat", path])
            assert code == 0, f"{name}: {path} not readable by the service's user: {out}"
            assert out == content, f"{name}: {path} content differs"
            checked += 1
    print(f"\nchecked {checked} mounted secret/config files")
    assert checked >= 2


def test_every_file_the_app_is_told_to_read_exists(sw: Swarm) -> None:
    checked = 0
    for name in sorted(sw.dep.service_ids):
        refs = _file_refs(sw.spec(name))
        if refs:
            assert _unreadable(sw, sw.container(name), refs) == [], name
            checked += len(refs)
    assert checked >= 1


def test_a_wrong_mount_path_is_caught(sw: Swarm) -> None:
    """Deliberately broken: the secret lands where the app does not look."""
    name = next(n for n in sorted(sw.dep.service_ids) if _file_refs(sw.spec(n)) and _declared_files(sw, n))

    def mutate(kw: dict[str, Any]) -> None:
        cs = kw["task_template"]["ContainerSpec"]
        for i, s in enumerate(cs.get("Secrets", [])):
            s["File"]["Name"] = f"/run/secrets/wrong-path-{i}"
        for c in cs.get("Configs", []):
            if c["File"]["Name"] in _file_refs(sw.spec(name)):
                c["File"]["Name"] = "/etc/wrong-path"
        # The stand-in must start even though a wrapper would refuse: serve directly.
        cs.pop("Command", None)
        cs["Args"] = []
        kw["task_template"]["Placement"] = {}

    sid = _extra_service(sw, name, f"verify-wrong-mount-{name}"[:60], mutate)
    engine.wait_converged(sw.api, sid, 1, CONVERGE_CAP_S)
    cid = engine.converged(sw.api, sid, 1)[0]
    missing = _unreadable(sw, cid, _file_refs(sw.spec(name)), user="0")
    sw.api.remove_service(sid)
    assert missing, "a secret mounted at the wrong path was not detected"


# -- edge: the real Caddy with the generated Caddyfile --------------------------------------------
def _https_get(host: str, port: int = 443, path: str = "/") -> tuple[int, str]:
    ctx = ssl.create_default_context()
    ctx.check_hostname = False
    ctx.verify_mode = ssl.CERT_NONE  # `tls internal`: Caddy's own CA signs it
    with (
        socket.create_connection(("127.0.0.1", port), timeout=5) as raw,
        ctx.wrap_socket(raw, server_hostname=host) as s,
    ):
        s.sendall(f"GET {path} HTTP/1.1\r\nHost: {host}\r\nConnection: close\r\n\r\n".encode())
        data = b""
        while chunk := s.recv(65536):
            data += chunk
    head, _, body = data.decode(errors="replace").partition("\r\n\r\n")
    return int(head.split()[1]), body


def test_https_with_a_routed_host_reaches_the_service_behind_caddy(sw: Swarm) -> None:
    assert "caddy" in sw.dep.service_ids
    caddyfile = next(
        base64.b64decode(r.plain["data"]).decode()
        for r in sw.run.by_type(forward.CONFIG)
        if r.name == "caddyfile"
    )
    routes: list[tuple[str, str]] = []  # (fqdn, upstream service)
    host = None
    for line in caddyfile.splitlines():
        if line.endswith("{") and not line.startswith(("\t", "{")) and "." in line:
            host = line.split()[0]
        elif "reverse_proxy" in line and host:
            up = line.split()[1].split(":")[0]
            if up in sw.dep.service_ids and up != "caddy":
                routes.append((host, up))
    assert routes, "no route whose upstream runs in the suite"
    https = int(sw.spec("caddy")["endpointSpec"]["ports"][1]["publishedPort"])
    for fqdn, upstream in routes:
        last: object = None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                status, body = _https_get(fqdn, https)
                last = (status, body[:200])
                if status == 200 and f"standin {upstream} " in body:
                    break
            except OSError as e:
                last = e
            time.sleep(2)
        else:
            raise AssertionError(f"https://{fqdn} did not reach {upstream}: {last}")
    print(f"\nHTTPS through the real Caddy reached: {routes}")


def test_the_admin_tunnel_reaches_postgres_on_the_data_network(sw: Swarm) -> None:
    tunnels = [r.plain for r in sw.run.by_type(forward.CONTAINER)]
    if not tunnels:
        pytest.skip("the stack declares no admin tunnel container")
    port = int(tunnels[0]["ports"][0]["external"])
    target = tunnels[0]["command"][1].split(":")[1]
    deadline = time.monotonic() + 30
    reply = ""
    while time.monotonic() < deadline and f"standin {target}" not in reply:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=5) as s:
                s.sendall(b"GET / HTTP/1.0\r\n\r\n")
                reply = s.recv(4096).decode(errors="replace")
        except OSError as e:
            reply = str(e)
        time.sleep(1)
    assert f"standin {target}" in reply, reply


# -- faults -------------------------------------------------------------------------------------
def _fault_target(sw: Swarm) -> str:
    """A replicated stand-in service (not the edge) whose rolling update can run here: a
    start-first update needs room for its extra task's CPU reservation (else the new task
    stays pending, nothing fails, and Swarm never rolls back), stop-first always fits."""
    node = int(sw.eng.client.info()["NCPU"]) * 10**9

    def reserved(n: str) -> int:
        res = sw.dep.calls[n].kwargs["task_template"].get("Resources", {}).get("Reservations", {})
        return int(res.get("NanoCPUs", 0))

    free = node - sum(reserved(n) for n in sw.dep.service_ids)
    for n in sorted(sw.dep.service_ids):
        kw = sw.dep.calls[n].kwargs
        if n == "caddy" or "Replicated" not in kw["mode"]:
            continue
        if kw["update_config"]["Order"] == "stop-first" or reserved(n) <= free:
            return n
    raise AssertionError("no service in the suite can be updated on this node")


def test_fault_killed_task_container_converges_again(sw: Swarm) -> None:
    name = _fault_target(sw)
    sid = sw.dep.service_ids[name]
    old = sw.container(name)
    t0 = time.monotonic()
    sw.api.kill(old)
    elapsed = engine._wait(
        lambda: (c := engine.converged(sw.api, sid, sw.replicas(name))) != [] and old not in c,
        CONVERGE_CAP_S,
        name,
    )
    print(f"\nFAULT kill {name}: converged again in {time.monotonic() - t0:.1f}s")
    assert elapsed < CONVERGE_CAP_S


def test_fault_update_with_failing_healthcheck_rolls_back_by_itself(sw: Swarm) -> None:
    name = _fault_target(sw)
    sid = sw.dep.service_ids[name]
    kw = copy.deepcopy(sw.dep.calls[name].kwargs)
    assert kw["update_config"]["FailureAction"] == "rollback"
    good_health = kw["task_template"]["ContainerSpec"]["Healthcheck"]
    kw["task_template"]["ContainerSpec"]["Healthcheck"] = {
        "Test": ["CMD-SHELL", "exit 1"],
        "Interval": 10**9,
        "Timeout": 10**9,
        "Retries": 1,
        "StartPeriod": 0,
    }
    kw["task_template"]["ForceUpdate"] = 1
    version = sw.api.inspect_service(sid)["Version"]["Index"]
    t0 = time.monotonic()
    sw.api.update_service(sid, version, **kw)

    def state() -> str:
        return (sw.api.inspect_service(sid).get("UpdateStatus") or {}).get("State", "")

    engine._wait(
        lambda: state() in ("rollback_completed", "rollback_paused", "completed", "paused"), 240, "rollback"
    )
    rolled = time.monotonic() - t0
    assert state() == "rollback_completed", state()
    spec = sw.api.inspect_service(sid)["Spec"]
    assert spec["TaskTemplate"]["ContainerSpec"]["Healthcheck"] == good_health
    engine.wait_converged(sw.api, sid, sw.replicas(name), CONVERGE_CAP_S)
    print(
        f"\nFAULT failing update of {name}: rolled back in {rolled:.1f}s, healthy again at {time.monotonic() - t0:.1f}s"
    )


CHANGES: list[tuple[str, Any]] = [
    # (config key, function of the staging value -> changed value). The first that changes a
    # ServiceConfig mounted by a service in the suite is used.
    (
        "agent-os:data",
        lambda v: {**v, "kafka": {**v["kafka"], "partitions": {**v["kafka"]["partitions"], "kgTasks": 7}}},
    ),
    ("agent-os:edge", lambda v: {**v, "zone": "changed.staging.agents.arpa"}),
]


def test_fault_config_change_replaces_the_hashed_config_without_manual_steps(sw: Swarm) -> None:
    values, _ = mockrun.stack_config("staging")
    old_names = {r.name: r.plain["name"] for r in sw.run.by_type(forward.CONFIG)}
    for key, change in CHANGES:
        new_run = schema.evaluate_with("staging", {key: change(values[key])})
        new_cfgs = {r.name: r for r in new_run.by_type(forward.CONFIG)}
        changed = {n for n, r in new_cfgs.items() if n in old_names and r.plain["name"] != old_names[n]}
        users = [
            n
            for n in sorted(sw.dep.service_ids)
            if {
                c["configId"]
                for c in new_run.services()[n].plain["taskSpec"]["containerSpec"].get("configs") or []
            }
            & {new_cfgs[c].id for c in changed}
        ]
        if users:
            break
    else:
        pytest.skip("no candidate change touches a config of a service in the suite")
    logical = sorted(changed)[0]
    old_id = sw.dep.ids[new_cfgs[logical].id]
    # Swarm configs are immutable: changing content in place is refused by the engine.
    spec = sw.api.inspect_config(old_id)
    body = {**spec["Spec"], "Data": base64.b64encode(b"changed").decode()}
    res = sw.api._post_json(
        sw.api._url("/configs/{0}/update", old_id), params={"version": spec["Version"]["Index"]}, data=body
    )
    assert res.status_code >= 400 and "only updates to labels" in res.text.lower(), res.text
    # What `pulumi up` does: create the new hashed config, update the services, delete the old.
    t0 = time.monotonic()
    for n in sorted(changed):
        r = new_cfgs[n]
        sw.dep.ids[r.id] = sw.api.create_config(**forward.config(r.plain))["ID"]
        sw.dep.created.append((forward.CONFIG, sw.dep.ids[r.id]))
    for name in users:
        sid = sw.dep.service_ids[name]
        call = forward.service(new_run.services()[name].plain, sw.dep.resolve, standin.image_for)
        version = sw.api.inspect_service(sid)["Version"]["Index"]
        sw.api.update_service(sid, version, **call.kwargs)
        sw.dep.calls[name] = call
    content = base64.b64decode(new_cfgs[logical].plain["data"]).decode()
    target = next(
        c["fileName"]
        for c in new_run.services()[users[0]].plain["taskSpec"]["containerSpec"]["configs"]
        if c["configId"] == new_cfgs[logical].id
    )

    def switched() -> bool:
        cids = engine.converged(sw.api, sw.dep.service_ids[users[0]], sw.replicas(users[0]))
        return bool(cids) and engine.exec_in(sw.api, cids[0], ["cat", target])[1] == content

    engine._wait(switched, 240, f"{users[0]} to run with the new {logical}")
    sw.api.remove_config(old_id)  # the old config is no longer in use: deletable
    print(
        f"\nFAULT config change {logical}: {users} switched to the new content in {time.monotonic() - t0:.1f}s"
    )
