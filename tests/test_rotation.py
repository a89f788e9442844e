"""Admin password rotation (issue 15): after `pulumi config set --secret <x>AdminPassword`,
the next `up` must still log in. Technitium, Portainer and Grafana read their password
file only on first start, so each needs a path that brings the running service to the new
password. Here the program's own steps (from the mock run: command, environment, order)
run the way pulumi-command 1.2.1 runs them (`CommandSim`) against fakes that keep the
password as the real services do (Technitium and Portainer: HTTP fakes of the documented
API, with real status codes and parameter shapes; Grafana: a stand-in `grafana` CLI and
`/run.sh` with its first-start rule). Keycloak, the fourth, runs for real:
tests/test_rotation_keycloak.py."""

from __future__ import annotations

import json
import os
import subprocess
import threading
import urllib.parse
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import evaluate
from tests.core.helpers import COMMAND, config_text, container
from tests.test_dnsctl import FakeTechnitium
from tools import mockrun
from tools.graph import Dag

ROOT = Path(__file__).resolve().parents[1]
OLD, NEW, OTHER = "first-admin-pw-0001", "rotated-admin-pw-0002", "nobody-knows-this-03"


# --- pulumi-command, as it runs a local.Command ----------------------------------------


@dataclass
class CommandSim:
    """One command.local.Command through successive `pulumi up`s, as pulumi-command 1.2.1
    does it (provider/pkg/provider/local/{commandController,commandOutputs}.go): `create`
    on the first up; when an input changes, `update` (else `create`) with the previous
    stdout as PULUMI_COMMAND_STDOUT (addPreviousOutputInEnv, default true); nothing when no
    input changed; a failed run leaves the state (inputs and stdout) as it was."""

    name: str
    create: str
    update: str | None
    add_previous: bool
    inputs: dict[str, str] | None = None
    stdout: str = ""
    runs: list[subprocess.CompletedProcess[str]] = field(
        default_factory=list[subprocess.CompletedProcess[str]]
    )

    @staticmethod
    def of(run: mockrun.Run, name: str) -> CommandSim:
        p = run.one(COMMAND, name).plain
        add = p.get("addPreviousOutputInEnv")
        return CommandSim(name, p["create"], p.get("update"), add in (None, True, "true"))

    def up(self, env: dict[str, str]) -> subprocess.CompletedProcess[str] | None:
        if self.inputs == env:
            return None
        cmd = self.create if self.inputs is None or not self.update else self.update
        full = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")} | env
        if self.inputs is not None and self.add_previous and self.stdout:
            full["PULUMI_COMMAND_STDOUT"] = self.stdout
        done = subprocess.run(
            ["/bin/sh", "-c", cmd], cwd=ROOT, env=full, capture_output=True, text=True, timeout=60
        )
        self.runs.append(done)
        if done.returncode == 0:
            self.inputs, self.stdout = dict(env), done.stdout.removesuffix("\n")
        return done


def passed(done: subprocess.CompletedProcess[str] | None) -> subprocess.CompletedProcess[str]:
    """A step that ran and succeeded."""
    assert done is not None, "the step did not run"
    assert done.returncode == 0, done.stderr
    return done


def steps_in_order(run: mockrun.Run, script: str) -> list[str]:
    """The program's command steps that run `script`, in dependency order."""
    dag = Dag.of(run)
    found = [r for r in run.by_type(COMMAND) if script in r.plain["create"]]
    order: list[str] = []
    while found:
        first = next(r for r in found if not any(dag.reaches(o.urn, r.urn) for o in found if o is not r))
        order.append(first.name)
        found.remove(first)
    return order


def step_env(run: mockrun.Run, name: str, **overrides: str) -> dict[str, str]:
    env = {k: str(v) for k, v in run.one(COMMAND, name).plain["environment"].items()}
    return env | overrides


def assert_no_secret(done: subprocess.CompletedProcess[str] | None, *secrets: str) -> None:
    """No password in the logged output (stderr) nor in the command line."""
    assert done is not None
    for s in secrets:
        assert s not in done.stderr and s not in " ".join(map(str, done.args)), "a password was logged"


# --- what the program declares ------------------------------------------------------------

ROTATION_STEPS = {
    "technitium-admin-password": "dnsctl.py password",
    "portainer-admin-password": "portainerctl.py password",
    "keycloak-admin-password": "keycloakctl.py password",
}


@pytest.fixture(scope="module")
def declared(monkeypatch_module: pytest.MonkeyPatch) -> tuple[mockrun.Run, dict[str, list[str]]]:
    """A staging run that also records each resource's additionalSecretOutputs."""
    secret_outputs: dict[str, list[str]] = {}

    class Monitor(mockrun.CaptureMonitor):
        def RegisterResource(self, request: Any) -> Any:  # noqa: N802 (gRPC name)
            secret_outputs[request.name] = list(request.additionalSecretOutputs)
            return super().RegisterResource(request)

    monkeypatch_module.setattr(mockrun, "CaptureMonitor", Monitor)
    return mockrun.run("staging"), secret_outputs


@pytest.fixture(scope="module")
def monkeypatch_module() -> Iterator[pytest.MonkeyPatch]:
    mp = pytest.MonkeyPatch()
    yield mp
    mp.undo()


@pytest.mark.parametrize("name", sorted(ROTATION_STEPS))
def test_each_rotation_step_keeps_its_previous_password_as_a_secret_and_never_logs_it(
    declared: tuple[mockrun.Run, dict[str, list[str]]], name: str
) -> None:
    run, secret_outputs = declared
    r = run.one(COMMAND, name)
    p = r.plain
    assert p["create"].endswith(ROTATION_STEPS[name]) and p.get("update") == p["create"]
    # The previous password comes back only through the previous stdout: it must be handed
    # to the update, be stored as a secret, never be streamed to the log...
    assert p.get("addPreviousOutputInEnv") in (True, "true")
    assert secret_outputs[name] == ["stdout"]
    assert p.get("logging") == "stderr"
    # ...and the step is never replaced (a replace runs `create`, which has no previous stdout).
    assert not p.get("triggers")
    # The password is a secret input, in the environment only, never in the command.
    secrets = [k for k, v in r.inputs["environment"].items() if mockrun.is_secret(v)]
    assert len(secrets) == 1 and secrets[0].endswith("PASSWORD")
    assert p["environment"][secrets[0]] not in p["create"]


def test_every_api_step_runs_after_its_rotation(declared: tuple[mockrun.Run, dict[str, list[str]]]) -> None:
    run, _ = declared
    dag = Dag.of(run)
    rotation = {n: run.one(COMMAND, n).urn for n in ROTATION_STEPS}
    assert dag.reaches(rotation["technitium-admin-password"], run.one(COMMAND, "dns-records").urn)
    assert dag.reaches(rotation["portainer-admin-password"], run.one(COMMAND, "portainer-oauth").urn)
    provider = run.one("pulumi:providers:keycloak", "keycloak").urn
    assert dag.reaches(rotation["keycloak-admin-password"], provider)
    for gate, step in (
        ("dns-api-ready", "technitium-admin-password"),
        ("portainer-ready", "portainer-admin-password"),
        ("keycloak-ready", "keycloak-admin-password"),
    ):
        assert run.one(COMMAND, gate).urn in dag.deps[rotation[step]], step


# --- Technitium ---------------------------------------------------------------------------


@pytest.fixture
def technitium() -> Iterator[tuple[FakeTechnitium, str]]:
    state = FakeTechnitium(password=OLD)
    srv = _serve_form_api(state)
    yield state, f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()


def _serve_form_api(state: FakeTechnitium) -> ThreadingHTTPServer:
    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            n = int(self.headers.get("Content-Length") or 0)
            u = urllib.parse.urlsplit(self.path)
            state.queries.append(u.query)
            q = dict(urllib.parse.parse_qsl(u.query)) | dict(
                urllib.parse.parse_qsl(self.rfile.read(n).decode())
            )
            body = json.dumps(state.handle(u.path, q)).encode()
            self.send_response(200)  # Technitium: 200 for errors too
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv


def _dns_env(run: mockrun.Run, name: str, url: str, password: str) -> dict[str, str]:
    return step_env(
        run,
        name,
        DNS_API_URL=url,
        DNS_API_CONNECT="",
        DNS_API_INSECURE="0",
        DNS_API_CA_FILE="",
        DNS_API_PASSWORD=password,
    )


def _technitium_up(
    run: mockrun.Run, steps: dict[str, CommandSim], url: str, password: str
) -> list[subprocess.CompletedProcess[str]]:
    """One `pulumi up` of the program's Technitium API steps, in the program's order."""
    out = []
    for name in steps_in_order(run, "dnsctl.py"):
        done = steps.setdefault(name, CommandSim.of(run, name)).up(_dns_env(run, name, url, password))
        if done is not None:
            out.append(done)
            if done.returncode != 0:
                break
    return out


def test_technitium_rotation_then_records_sync(technitium: tuple[FakeTechnitium, str]) -> None:
    """The issue: deploy with one password, rotate it; the next `up` must sync the records."""
    state, url = technitium
    run = evaluate("staging")
    steps: dict[str, CommandSim] = {}
    first = _technitium_up(run, steps, url, OLD)
    assert [d.returncode for d in first] == [0] * len(first) and state.records
    # Rotation: the Docker secret changes, Technitium restarts and ignores the new file.
    state.restart(password_file=NEW)
    second = _technitium_up(run, steps, url, NEW)
    assert [d.returncode for d in second] == [0] * len(second), [d.stderr for d in second]
    assert state.password == NEW and state.password_changes == 1
    assert steps["dns-records"].runs[-1] is second[-1]  # the records step ran, and passed
    for d in second:
        assert_no_secret(d, OLD, NEW)
    assert all(OLD not in q and NEW not in q for q in state.queries)  # never in a URL
    # Idempotent: the same config again runs nothing; a re-run (e.g. a new CA file) changes nothing.
    assert _technitium_up(run, steps, url, NEW) == []
    rerun = steps["technitium-admin-password"].up(
        _dns_env(run, "technitium-admin-password", url, NEW) | {"DNS_API_CA_FILE": "/dev/null"}
    )
    assert rerun is not None and rerun.returncode == 0 and "unchanged" in rerun.stderr
    assert state.password_changes == 1


@pytest.mark.parametrize("version", ["13.6", "14.0"])
def test_technitium_password_change_speaks_the_servers_api_version(
    technitium: tuple[FakeTechnitium, str], version: str
) -> None:
    """v13 (the pin): changePassword?pass=<new>; v14: pass=<current>&newPass=<new>."""
    state, url = technitium
    state.version = version
    run = evaluate("staging")
    sim = CommandSim.of(run, "technitium-admin-password")
    passed(sim.up(_dns_env(run, sim.name, url, OLD)))
    passed(sim.up(_dns_env(run, sim.name, url, NEW)))
    assert state.password == NEW and json.loads(sim.stdout) == {"admin_password": NEW}


def test_technitium_neither_password_is_a_clear_error_and_a_retry_works(
    technitium: tuple[FakeTechnitium, str],
) -> None:
    state, url = technitium
    run = evaluate("staging")
    sim = CommandSim.of(run, "technitium-admin-password")
    passed(sim.up(_dns_env(run, sim.name, url, OLD)))
    state.password = OTHER  # changed by hand in the web console
    done = sim.up(_dns_env(run, sim.name, url, NEW))
    assert done is not None and done.returncode == 1 and done.stdout == ""
    assert "refused both the configured admin password" in done.stderr
    assert "technitiumAdminPassword" in done.stderr
    assert_no_secret(done, OLD, NEW, OTHER)
    assert json.loads(sim.stdout) == {"admin_password": OLD}  # a failed run keeps the state
    # The way out the message names: the server's password in the config, `up`, then the new.
    passed(sim.up(_dns_env(run, sim.name, url, OTHER)))
    passed(sim.up(_dns_env(run, sim.name, url, NEW)))
    assert state.password == NEW


def test_technitium_refused_with_no_previous_password_says_so(technitium: tuple[FakeTechnitium, str]) -> None:
    _, url = technitium
    run = evaluate("staging")
    sim = CommandSim.of(run, "technitium-admin-password")
    done = sim.up(_dns_env(run, sim.name, url, NEW))  # first run, server has OLD
    assert done is not None and done.returncode == 1
    assert "no previous password is known" in done.stderr
    assert_no_secret(done, NEW)


# --- Portainer ----------------------------------------------------------------------------


class FakePortainer:
    """Portainer 2.x's auth and user-password API (api/http/handler/auth/authenticate.go,
    users/user_update_password.go): POST /api/auth answers 422 "Invalid credentials" for a
    wrong password; PUT /api/users/{id}/passwd checks the current password (403), the new
    one's strength (400, 12 characters by default) and revokes every token issued before
    it (TokenIssueAt); --admin-password-file is read only while there is no admin."""

    MIN_LENGTH = 12

    def __init__(self, password_file: str) -> None:
        self.password = password_file
        self.token_issue_at = 0
        self.issued = 0
        self.tokens: dict[str, int] = {}
        self.settings: dict[str, Any] = {}
        self.changes = 0
        self.bodies: list[str] = []

    def restart(self, password_file: str) -> None:
        del password_file  # an admin exists: the file is skipped

    def handle(self, method: str, path: str, auth: str, body: Any) -> tuple[int, Any]:
        if (method, path) == ("POST", "/api/auth"):
            if body.get("Username") != "admin" or body.get("Password") != self.password:
                return 422, {"message": "Invalid credentials", "details": "Unauthorized"}
            self.issued += 1
            jwt = f"jwt-{self.issued}"
            self.tokens[jwt] = self.issued
            return 200, {"jwt": jwt}
        jwt = auth.removeprefix("Bearer ")
        if jwt not in self.tokens or self.tokens[jwt] <= self.token_issue_at:
            return 401, {"message": "Invalid JWT token", "details": "Unauthorized"}
        if (method, path) == ("GET", "/api/users/me"):
            return 200, {"Id": 1, "Username": "admin", "Role": 1}
        if method == "PUT" and path == "/api/users/1/passwd":
            if body.get("Password") != self.password:
                return 403, {"message": "Current password doesn't match", "details": "..."}
            if len(body.get("NewPassword") or "") < self.MIN_LENGTH:
                return 400, {"message": "Password does not meet the minimum strength requirements"}
            self.password = body["NewPassword"]
            self.token_issue_at = self.issued
            self.changes += 1
            return 204, None
        if (method, path) == ("PUT", "/api/settings"):
            self.settings = body
            return 200, body
        return 404, {"message": f"no route {method} {path}"}


@pytest.fixture
def portainer() -> Iterator[tuple[FakePortainer, str]]:
    state = FakePortainer(password_file=OLD)

    class Handler(BaseHTTPRequestHandler):
        def _answer(self) -> None:
            n = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(n).decode()
            state.bodies.append(self.path)
            status, out = state.handle(
                self.command, self.path, self.headers.get("Authorization", ""), json.loads(raw) if raw else {}
            )
            data = b"" if out is None else json.dumps(out).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PUT = _answer  # noqa: N815

        def log_message(self, format: str, *args: Any) -> None:
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    yield state, f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()


def _pt_env(run: mockrun.Run, name: str, url: str, password: str) -> dict[str, str]:
    return step_env(
        run, name, PT_URL=url, PT_CONNECT="", PT_INSECURE="0", PT_CA_FILE="", PT_PASSWORD=password
    )


def _portainer_up(
    run: mockrun.Run, steps: dict[str, CommandSim], url: str, password: str
) -> list[subprocess.CompletedProcess[str]]:
    out = []
    for name in steps_in_order(run, "portainerctl.py"):
        done = steps.setdefault(name, CommandSim.of(run, name)).up(_pt_env(run, name, url, password))
        if done is not None:
            out.append(done)
            if done.returncode != 0:
                break
    return out


def test_portainer_rotation_then_sso_step(portainer: tuple[FakePortainer, str]) -> None:
    state, url = portainer
    run = evaluate("staging")
    steps: dict[str, CommandSim] = {}
    first = _portainer_up(run, steps, url, OLD)
    assert [d.returncode for d in first] == [0] * len(first) and state.settings["AuthenticationMethod"] == 3
    state.restart(password_file=NEW)
    state.settings = {}
    # The SSO step runs again (its environment carries the password) and must log in.
    second = _portainer_up(run, steps, url, NEW)
    assert [d.returncode for d in second] == [0] * len(second), [d.stderr for d in second]
    assert state.password == NEW and state.changes == 1
    assert state.settings["AuthenticationMethod"] == 3
    for d in second:
        assert_no_secret(d, OLD, NEW)
    assert all(OLD not in p and NEW not in p for p in state.bodies)  # never in a URL
    assert _portainer_up(run, steps, url, NEW) == []
    rerun = steps["portainer-admin-password"].up(
        _pt_env(run, "portainer-admin-password", url, NEW) | {"PT_CA_FILE": "/dev/null"}
    )
    assert rerun is not None and rerun.returncode == 0 and "unchanged" in rerun.stderr and state.changes == 1


def test_portainer_neither_password_and_a_weak_one_are_clear_errors(
    portainer: tuple[FakePortainer, str],
) -> None:
    state, url = portainer
    run = evaluate("staging")
    sim = CommandSim.of(run, "portainer-admin-password")
    passed(sim.up(_pt_env(run, sim.name, url, OLD)))
    weak = sim.up(_pt_env(run, sim.name, url, "short-pw"))
    assert weak is not None and weak.returncode == 1
    assert "minimum strength" in weak.stderr and state.password == OLD
    assert json.loads(sim.stdout) == {"admin_password": OLD}
    state.password = OTHER
    done = sim.up(_pt_env(run, sim.name, url, NEW))
    assert done is not None and done.returncode == 1 and done.stdout == ""
    assert (
        "refused both the configured admin password" in done.stderr
        and "portainerAdminPassword" in done.stderr
    )
    assert_no_secret(done, OLD, NEW, OTHER, "short-pw")


# --- Grafana ------------------------------------------------------------------------------

# Stand-ins for the image: `/run.sh` (the server) creates the database on its first start
# with the admin password from GF_SECURITY_ADMIN_PASSWORD__FILE and never reads the file
# again; `grafana cli admin reset-admin-password --password-from-stdin` sets user 1's
# password from one line of stdin and fails on a missing database (as Grafana's do).
FAKE_SERVER = """#!/bin/sh
set -eu
db="$GF_PATHS_DATA/grafana.db"
if [ ! -s "$db" ]; then cat "$GF_SECURITY_ADMIN_PASSWORD__FILE" > "$db"; fi
echo served >> "$GF_PATHS_DATA/starts"
"""
FAKE_CLI = """#!/bin/sh
printf '%s\\n' "$*" >> "$GF_PATHS_DATA/cli-argv"
case "$*" in
  *"admin reset-admin-password --password-from-stdin"*) ;;
  *) echo "unexpected: $*" >&2; exit 2 ;;
esac
[ -s "$GF_PATHS_DATA/grafana.db" ] || { echo "could not read user (id: 1) from database" >&2; exit 1; }
[ -z "${FAIL_RESET:-}" ] || { echo "database is locked" >&2; exit 1; }
IFS= read -r pw || [ -n "$pw" ] || exit 1
printf '%s' "$pw" > "$GF_PATHS_DATA/grafana.db"
echo "Admin password changed successfully"
"""


@dataclass
class GrafanaTask:
    """Starts the Grafana task the way the program declares it (command and args, else the
    image's entrypoint), with the program's configs mounted at test paths."""

    run: mockrun.Run
    root: Path

    def start(self, password: str, **env: str) -> subprocess.CompletedProcess[str]:
        spec = container(self.run, "grafana")
        (self.root / "secret").write_text(password)  # a Docker secret file: the value, no newline
        mounts = {"/run.sh": str(self.root / "bin" / "run.sh")}
        for c in spec.get("configs") or []:
            path = self.root / "configs" / c["fileName"].strip("/").replace("/", "_")
            path.parent.mkdir(exist_ok=True)
            path.write_text(config_text(self.run, _config_name(self.run, c["configId"])))
            mounts[c["fileName"]] = str(path)
        argv = [*(spec.get("commands") or ["/run.sh"]), *(spec.get("args") or [])]
        argv = [str(mounts.get(a, a)) for a in argv]
        full = {
            "PATH": f"{self.root / 'bin'}:{os.environ['PATH']}",
            **{k: str(v) for k, v in (spec.get("env") or {}).items()},
            "GF_PATHS_DATA": str(self.root / "data"),
            "GF_SECURITY_ADMIN_PASSWORD__FILE": str(self.root / "secret"),
            **env,
        }
        return subprocess.run(argv, env=full, capture_output=True, text=True, timeout=30)

    def admin_password(self) -> str:
        return (self.root / "data" / "grafana.db").read_text().strip()


def _config_name(run: mockrun.Run, config_id: str) -> str:
    for r in run.by_type("docker:index/serviceConfig:ServiceConfig"):
        if r.id == config_id or r.urn == config_id or config_id in (r.id, r.name):
            return r.name
    raise LookupError(config_id)


@pytest.fixture
def grafana(tmp_path: Path) -> GrafanaTask:
    (tmp_path / "data").mkdir()
    (tmp_path / "bin").mkdir()
    for name, text in (("run.sh", FAKE_SERVER), ("grafana", FAKE_CLI)):
        (tmp_path / "bin" / name).write_text(text)
        (tmp_path / "bin" / name).chmod(0o755)
    return GrafanaTask(evaluate("staging"), tmp_path)


def test_grafana_takes_a_rotated_admin_password_at_its_next_start(grafana: GrafanaTask) -> None:
    first = grafana.start(OLD)
    assert first.returncode == 0, first.stderr
    assert grafana.admin_password() == OLD
    assert not (grafana.root / "data" / "cli-argv").exists()  # first start: Grafana's own file rule
    second = grafana.start(NEW)  # the secret changed: Swarm starts a new task
    assert second.returncode == 0, second.stderr
    assert grafana.admin_password() == NEW
    assert (grafana.root / "data" / "starts").read_text().count("served") == 2
    argv = (grafana.root / "data" / "cli-argv").read_text()
    assert NEW not in argv and OLD not in argv  # the password goes on stdin only
    assert NEW not in second.stderr + second.stdout
    # Idempotent: a restart with the same secret leaves the same password.
    assert grafana.start(NEW).returncode == 0 and grafana.admin_password() == NEW


def test_grafana_refuses_to_start_with_a_password_it_could_not_apply(grafana: GrafanaTask) -> None:
    assert grafana.start(OLD).returncode == 0
    failed = grafana.start(NEW, FAIL_RESET="1")
    assert failed.returncode == 78
    assert "could not set the admin password" in failed.stderr and NEW not in failed.stderr
    assert (grafana.root / "data" / "starts").read_text().count("served") == 1  # never served
    assert grafana.admin_password() == OLD


def test_grafana_start_script_is_what_the_service_runs(grafana: GrafanaTask) -> None:
    from components.core.grafana import START_SCRIPT, START_SCRIPT_PATH

    spec = container(grafana.run, "grafana")
    assert spec["commands"] == ["/bin/sh", START_SCRIPT_PATH] and spec["args"] == ["/run.sh"]
    mounted = {c["fileName"]: c for c in spec["configs"]}[START_SCRIPT_PATH]
    assert config_text(grafana.run, _config_name(grafana.run, mounted["configId"])) == START_SCRIPT
    # POSIX sh (the image is Alpine: busybox ash); nothing from config in it: the same
    # script for every stack, the paths and the password reach it only through the env.
    assert subprocess.run(["sh", "-n", "-c", START_SCRIPT], capture_output=True).returncode == 0
    other = evaluate("enterprise")
    assert config_text(other, "grafana-start") == config_text(grafana.run, "grafana-start") == START_SCRIPT
