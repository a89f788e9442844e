"""OpenBao after init: the program's own admin login replaces the root token, which is
revoked; a lost init reply is found, never silently re-initialised; no secret leaves Pulumi's
secrets. The steps run as pulumi-command runs them (`/bin/sh -c <create>` in the project
directory, the resource's environment, its stdin), with the command, environment and stdin
taken from the program under mocks, against a real OpenBao (tests/core/baoserver.py)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from components.core import baoctl
from components.core.openbao import (
    ADMIN_MOUNT,
    ADMIN_POLICY,
    ADMIN_ROLE,
    init_reply_file,
    render_admin_policy,
    render_policy,
)
from tests.conftest import STACKS, evaluate
from tests.core.baoserver import BaoServer, BaoUnavailableError, DropInitReply, new_server
from tests.core.helpers import COMMAND, urn
from tools import mockrun
from tools.graph import Dag

ROOT = Path(__file__).resolve().parents[2]
PROVIDER = "pulumi:providers:vault"


# --- the program's steps, run for real ---------------------------------------------------


@dataclass(frozen=True)
class Step:
    create: str
    env: dict[str, str]
    stdin: dict[str, Any]


def program_step(run: mockrun.Run, name: str) -> Step:
    r = run.one(COMMAND, name)
    return Step(r.plain["create"], dict(r.plain["environment"]), json.loads(r.plain["stdin"]))


@dataclass
class Result:
    rc: int
    out: dict[str, Any]
    stdout: str
    stderr: str


def execute(
    step: Step, bao_url: str, record: Path, env: dict[str, str] | None = None, **stdin: Any
) -> Result:
    """The step as pulumi-command runs it, pointed at the test server (plain HTTP, no pin)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith(("BAO_", "VAULT_", "PULUMI_"))}
    full = {
        **base,
        **step.env,
        "BAO_URL": bao_url,
        "BAO_CONNECT": "",
        "BAO_INSECURE": "0",
        "BAO_CA_FILE": "",
        "BAO_INIT_REPLY_FILE": str(record),
        **(env or {}),
    }
    done = subprocess.run(
        ["/bin/sh", "-c", step.create],
        cwd=ROOT,
        env=full,
        input=json.dumps({**step.stdin, **stdin}),
        capture_output=True,
        text=True,
        timeout=120,
    )
    out: dict[str, Any] = json.loads(done.stdout) if done.returncode == 0 else {}
    return Result(done.returncode, out, done.stdout, done.stderr)


def assert_no_secret(res: Result, *secrets: str) -> None:
    for s in secrets:
        assert s and s not in res.stdout and s not in res.stderr, "a secret reached the step's output"


@pytest.fixture
def bao() -> Iterator[BaoServer]:
    try:
        srv = new_server()
    except BaoUnavailableError as e:
        pytest.skip(str(e))
    try:
        yield srv
    finally:
        srv.stop()
        shutil.rmtree(srv.root, ignore_errors=True)


@pytest.fixture
def record(tmp_path: Path) -> Path:
    return tmp_path / ".agent-os" / "staging" / "openbao-init.json"


@dataclass
class Deployed:
    root_token: str
    recovery_keys: list[str]
    login: dict[str, str]  # the openbaoAdminLogin stack output


def deploy(run: mockrun.Run, srv: BaoServer, record: Path) -> Deployed:
    init = execute(program_step(run, "openbao-init"), srv.url, record)
    assert init.rc == 0, init.stderr
    assert init.out["adopted"] is False and init.out["recovery_keys_b64"]
    admin = execute(program_step(run, "openbao-admin"), srv.url, record, root_token=init.out["root_token"])
    assert admin.rc == 0, admin.stderr
    assert admin.out == {
        "admin": "configured",
        "login": f"auth/{ADMIN_MOUNT}/role/{ADMIN_ROLE}",
        "root_token": "revoked",
    }
    login = run.outputs["openbaoAdminLogin"]
    assert_no_secret(admin, init.out["root_token"], *init.out["recovery_keys_b64"], *login.values())
    return Deployed(init.out["root_token"], init.out["recovery_keys_b64"], login)


def provider_login(run: mockrun.Run) -> dict[str, Any]:
    """The vault provider's auth_login (a secret object: JSON under the mocks)."""
    login = run.one(PROVIDER, "vault").plain["authLogin"]
    return json.loads(login) if isinstance(login, str) else dict(login)


def admin_token(srv: BaoServer, login: dict[str, str]) -> str:
    """What the vault provider does with its auth_login: POST <path> with <parameters>."""
    status, out = srv.api("POST", f"/v1/{provider_login(evaluate('staging'))['path']}", login)
    assert status == 200, out
    return str(out["auth"]["client_token"])


# --- what the vault provider does, call by call (terraform-provider-vault) ----------------

EXISTENCE_CHECK: dict[str, Any] = {}  # a GET whose 404 means "not there yet" to the provider


def provider_calls(
    run: mockrun.Run,
) -> tuple[list[tuple[str, str, dict[str, Any] | None]], list[tuple[str, str, dict[str, Any] | None]]]:
    """Create-and-read calls, then destroy calls, for every vault resource of the program,
    with the program's own inputs."""
    up: list[tuple[str, str, dict[str, Any] | None]] = [("GET", "auth/token/lookup-self", None)]
    down: list[tuple[str, str, dict[str, Any] | None]] = []
    (mount,) = [m.plain for m in run.by_type("vault:index/mount:Mount")]
    up += [
        ("POST", f"sys/mounts/{mount['path']}", {
            "type": mount["type"], "description": mount["description"], "options": mount["options"],
            "config": {"default_lease_ttl": "0s", "max_lease_ttl": "0s"}, "local": False,
            "seal_wrap": False, "external_entropy_access": False,
        }),
        ("GET", f"sys/mounts/{mount['path']}", None),
        ("POST", f"sys/mounts/{mount['path']}/tune", {"description": mount["description"]}),
    ]  # fmt: skip
    (auth,) = [a.plain for a in run.by_type("vault:index/authBackend:AuthBackend")]
    up += [
        (
            "POST",
            f"sys/auth/{auth['path']}",
            {"type": auth["type"], "description": "", "local": False, "config": {}},
        ),
        ("GET", f"sys/auth/{auth['path']}", None),
        ("GET", f"sys/mounts/auth/{auth['path']}/tune", None),
        ("POST", f"sys/mounts/auth/{auth['path']}/tune", {"description": "approle"}),
    ]
    (policy,) = [p.plain for p in run.by_type("vault:index/policy:Policy")]
    up += [
        ("GET", f"sys/policies/acl/{policy['name']}", EXISTENCE_CHECK),
        ("PUT", f"sys/policies/acl/{policy['name']}", {"policy": policy["policy"]}),
        ("GET", f"sys/policies/acl/{policy['name']}", None),
    ]
    (role,) = [r.plain for r in run.by_type("vault:appRole/authBackendRole:AuthBackendRole")]
    base = f"auth/{role['backend']}/role/{role['roleName']}"
    up += [
        ("POST", base, {
            "token_policies": role["tokenPolicies"], "token_ttl": int(role["tokenTtl"]),
            "token_max_ttl": int(role["tokenMaxTtl"]), "token_type": "default",
            "bind_secret_id": role["bindSecretId"], "local_secret_ids": False,
        }),
        ("POST", f"{base}/role-id", {"role_id": role["roleId"]}),
        ("GET", base, None),
        ("GET", f"{base}/role-id", None),
    ]  # fmt: skip
    (sid,) = [s.plain for s in run.by_type("vault:appRole/authBackendRoleSecretId:AuthBackendRoleSecretId")]
    up.append(("POST", f"{base}/custom-secret-id", {"secret_id": sid["secretId"], "metadata": "{}"}))
    for s in run.by_type("vault:kv/secretV2:SecretV2"):
        p = s.plain
        data = f"{p['mount']}/data/{p['name']}"
        up += [
            ("POST", data, {"data": json.loads(p["dataJson"]), "options": {}}),
            ("GET", data, None),
            ("GET", f"{p['mount']}/metadata/{p['name']}", None),
        ]
        down.append(("DELETE", data, None))
    down += [
        ("DELETE", base, None),
        ("DELETE", f"sys/policies/acl/{policy['name']}", None),
        ("DELETE", f"sys/auth/{auth['path']}", None),
        ("DELETE", f"sys/mounts/{mount['path']}", None),
    ]
    return up, down


# Things the program never does: each must be refused to the admin login (403).
def refused_calls(run: mockrun.Run) -> list[tuple[str, str, dict[str, Any] | None]]:
    b = run.one("vault:index/mount:Mount", "kv").plain["path"]
    (role,) = [r.plain for r in run.by_type("vault:appRole/authBackendRole:AuthBackendRole")]
    app, mount = role["roleName"], role["backend"]
    wide = 'path "*" {\n  capabilities = ["create", "read", "update", "delete", "list", "sudo"]\n}\n'
    return [
        ("GET", "sys/mounts", None),
        ("GET", "sys/auth", None),
        ("GET", "sys/policies/acl?list=true", None),
        ("POST", "sys/mounts/elsewhere", {"type": "kv"}),
        ("POST", "sys/auth/userpass", {"type": "userpass"}),
        ("POST", f"sys/mounts/{b}", {"type": "transit"}),  # its own mount, another engine
        ("POST", f"sys/auth/{mount}", {"type": "userpass"}),
        ("PUT", f"sys/policies/acl/{app}", {"policy": render_policy(b, "platform") + wide}),
        ("PUT", f"sys/policies/acl/{app}", {"policy": wide}),
        ("PUT", f"sys/policies/acl/{ADMIN_POLICY}", {"policy": wide}),
        ("PUT", "sys/policies/acl/another", {"policy": wide}),
        ("POST", f"auth/{mount}/role/{app}", {"token_policies": [app, ADMIN_POLICY]}),
        ("POST", f"auth/{mount}/role/{app}", {"token_policies": ["root"]}),
        ("POST", f"auth/{mount}/role/{app}", {"policies": [ADMIN_POLICY]}),
        ("POST", f"auth/{mount}/role/{app}/secret-id", {}),
        ("POST", f"auth/{mount}/role/another", {"token_policies": [app]}),
        ("POST", f"auth/{ADMIN_MOUNT}/role/{ADMIN_ROLE}", {"token_policies": ["root"]}),
        ("POST", f"auth/{ADMIN_MOUNT}/role/{ADMIN_ROLE}/custom-secret-id", {"secret_id": "mine-now"}),
        ("DELETE", f"sys/auth/{ADMIN_MOUNT}", None),
        ("POST", "auth/token/create", {"policies": [ADMIN_POLICY]}),
        ("POST", "auth/token/create-orphan", {}),
        ("GET", f"{b}/data/elsewhere", None),
        ("POST", f"{b}/data/elsewhere", {"data": {"x": "y"}}),
        ("DELETE", f"{b}/metadata/platform/postgres", None),
        ("PUT", "sys/audit/file", {"type": "file", "options": {"file_path": "/tmp/x"}}),
        ("DELETE", "sys/audit/file", None),
        ("GET", "sys/raw/core/keyring", None),
        ("GET", "sys/storage/raft/snapshot", None),
        ("GET", "sys/storage/raft/configuration", None),
        ("POST", "sys/seal", {}),
        ("POST", "sys/step-down", {}),
        ("POST", "sys/rotate", {}),
        ("GET", "sys/config/state/sanitized", None),
        ("POST", "sys/leases/revoke-prefix/auth", {}),
    ]


def test_after_setup_root_is_revoked_and_the_admin_login_does_exactly_what_the_program_needs(
    bao: BaoServer, record: Path
) -> None:
    run = evaluate("staging")
    d = deploy(run, bao, record)
    assert not record.exists()  # removed once init's reply is in the stack's state

    # The root token is gone for good.
    status, _ = bao.api("GET", "/v1/auth/token/lookup-self", token=d.root_token)
    assert status == 403
    assert bao.api("GET", "/v1/sys/mounts", token=d.root_token)[0] == 403

    token = admin_token(bao, d.login)
    me = bao.api("GET", "/v1/auth/token/lookup-self", token=token)[1]["data"]
    assert me["policies"] == [ADMIN_POLICY] and me["ttl"] <= 3600

    up, down = provider_calls(run)
    for method, path, body in up:
        status, out = bao.api(method, f"/v1/{path}", None if body is EXISTENCE_CHECK else body, token)
        ok = (200, 204, 404) if body is EXISTENCE_CHECK else (200, 204)
        assert status in ok, (method, path, status, out)
        if path.endswith("/custom-secret-id"):
            accessor = out["data"]["secret_id_accessor"]
            base = path.rsplit("/", 1)[0]
            for p in ("secret-id-accessor/lookup",):
                assert bao.api("POST", f"/v1/{base}/{p}", {"secret_id_accessor": accessor}, token)[0] == 200

    # What was written is what agent-utilities then reads with its own AppRole.
    (role,) = [r.plain for r in run.by_type("vault:appRole/authBackendRole:AuthBackendRole")]
    (sid,) = [s.plain for s in run.by_type("vault:appRole/authBackendRoleSecretId:AuthBackendRoleSecretId")]
    status, out = bao.api(
        "POST", f"/v1/auth/{role['backend']}/login", {"role_id": role["roleId"], "secret_id": sid["secretId"]}
    )
    assert status == 200, out
    app = out["auth"]["client_token"]
    assert out["auth"]["policies"] == ["agent-utilities", "default"]
    secret = bao.api("GET", "/v1/secret/data/platform/postgres", token=app)[1]["data"]["data"]
    assert set(secret) == {"agent_password", "keycloak_password"}
    assert bao.api("POST", "/v1/secret/data/platform/postgres", {"data": {}}, token=app)[0] == 403

    for method, path, body in refused_calls(run):
        status, out = bao.api(method, f"/v1/{path}", body, token)
        assert status == 403, (method, path, status, out)

    # And what `pulumi destroy` does.
    for method, path, body in down:
        status, out = bao.api(method, f"/v1/{path}", body, token)
        assert status in (200, 204), (method, path, status, out)


def test_a_rerun_needs_no_root_token_and_changes_nothing(bao: BaoServer, record: Path) -> None:
    run = evaluate("staging")
    d = deploy(run, bao, record)
    again = execute(program_step(run, "openbao-admin"), bao.url, record, root_token=d.root_token)
    assert again.rc == 0, again.stderr
    assert again.out["admin"] == "unchanged" and again.out["root_token"] == "already revoked"
    admin_token(bao, d.login)


def generate_root(srv: BaoServer, login: dict[str, str], keys: list[str]) -> str:
    """baoctl.generate_root_steps, command by command, typing each key at the prompt."""
    token = srv.cli("write", "-field=token", f"auth/{ADMIN_MOUNT}/login", "-", stdin=json.dumps(login))
    assert token.returncode == 0, token.stderr
    t = token.stdout.strip()
    otp = srv.cli("operator", "generate-root", "-generate-otp", token=t)
    assert otp.returncode == 0, otp.stderr
    started = srv.cli("operator", "generate-root", "-init", f"-otp={otp.stdout.strip()}", token=t)
    assert started.returncode == 0, started.stderr
    shown = ""
    for key in keys:
        step = srv.cli("operator", "generate-root", typed=key + "\n", token=t)  # at its prompt
        assert step.returncode == 0, step.stderr
        shown = step.stdout
    lines = [ln.split(None, 2) for ln in shown.splitlines() if ln.startswith("Encoded Token")]
    assert lines and len(lines[0]) == 3, shown
    decoded = srv.cli(
        "operator", "generate-root", f"-decode={lines[0][2]}", f"-otp={otp.stdout.strip()}", token=t
    )
    assert decoded.returncode == 0, decoded.stderr
    return decoded.stdout.strip()


def test_a_change_needs_root_and_the_printed_generate_root_procedure_works(
    bao: BaoServer, record: Path
) -> None:
    run = evaluate("staging")
    d = deploy(run, bao, record)
    step = program_step(run, "openbao-admin")
    # The program now needs more (another KV mount): only a root token may widen the policy.
    wider = {"BAO_ADMIN_POLICY": render_admin_policy("kv2", "platform", "approle", "agent-utilities")}
    refused = execute(step, bao.url, record, env=wider, root_token=d.root_token)
    assert refused.rc == 1
    assert "needs a change" in refused.stderr and "revoked" in refused.stderr
    steps = baoctl.generate_root_steps(bao.url, ADMIN_MOUNT)
    assert steps in refused.stderr
    for cmd in (
        f"bao write -field=token auth/{ADMIN_MOUNT}/login -",
        "bao operator generate-root -generate-otp",
        'bao operator generate-root -init -otp="$(cat otp.txt)"',
        "bao operator generate-root -decode=<Encoded Token>",
        "pulumi config set --secret agent-os:openbaoRootToken",
    ):
        assert cmd in steps, cmd
    assert_no_secret(refused, d.root_token, *d.recovery_keys, *d.login.values())

    new_root = generate_root(bao, d.login, d.recovery_keys)
    assert bao.api("GET", "/v1/auth/token/lookup-self", token=new_root)[1]["data"]["policies"] == ["root"]
    # ...handed over as agent-os:openbaoRootToken, and rotating the admin secret id too.
    rotated = {**d.login, "secret_id": "rotated-admin-secret-id-0123456789"}
    done = execute(step, bao.url, record, env=wider, root_token=new_root, secret_id=rotated["secret_id"])
    assert done.rc == 0, done.stderr
    assert done.out["admin"] == "configured" and done.out["root_token"] == "revoked"
    assert bao.api("GET", "/v1/auth/token/lookup-self", token=new_root)[0] == 403
    assert bao.api("POST", f"/v1/auth/{ADMIN_MOUNT}/login", d.login)[0] == 400  # old secret id destroyed
    token = admin_token(bao, rotated)
    assert bao.api("POST", "/v1/sys/mounts/kv2", {"type": "kv"}, token)[0] == 204


def test_the_adoption_path_revokes_the_adopted_token_too(bao: BaoServer, record: Path) -> None:
    run = evaluate("staging")
    d = deploy(run, bao, record)
    # State lost: a new stack, no record, the old root revoked.
    lost = execute(program_step(run, "openbao-init"), bao.url, record)
    assert lost.rc == 1 and "neither its init reply" in lost.stderr and "not initialised again" in lost.stderr
    assert baoctl.generate_root_steps(bao.url, ADMIN_MOUNT) in lost.stderr
    revoked = execute(program_step(run, "openbao-init"), bao.url, record, adopt_token=d.root_token)
    assert revoked.rc == 1 and "not a valid token" in revoked.stderr
    assert_no_secret(revoked, d.root_token)
    root = generate_root(bao, d.login, d.recovery_keys)
    adopted = execute(program_step(run, "openbao-init"), bao.url, record, adopt_token=root)
    assert adopted.rc == 0 and adopted.out == {"root_token": root, "adopted": True}
    admin = execute(program_step(run, "openbao-admin"), bao.url, record, root_token=root)
    assert admin.rc == 0 and admin.out["root_token"] == "revoked", admin.stderr
    assert bao.api("GET", "/v1/auth/token/lookup-self", token=root)[0] == 403


# --- a lost init reply ----------------------------------------------------------------------


def test_a_lost_init_reply_is_reported_with_the_reset_procedure_never_reinitialised(
    bao: BaoServer, record: Path
) -> None:
    run = evaluate("staging")
    step = program_step(run, "openbao-init")
    relay = DropInitReply(bao.port)
    try:
        first = execute(step, relay.url, record)
    finally:
        relay.close()
    assert relay.dropped == 1 and first.rc == 1
    assert bao.api("GET", "/v1/sys/init")[1]["initialized"] is True  # OpenBao did initialise
    assert json.loads(record.read_text())["state"] == "pending"

    again = execute(step, bao.url, record)
    assert again.rc == 1 and again.stdout == ""
    assert "was lost" in again.stderr and "It was not initialised again" in again.stderr
    assert baoctl.reset_steps(record, [("bao-1", "agent-os-bao-1-data")]) in again.stderr
    for line in ("docker service scale bao-1=0", "docker volume rm agent-os-bao-1-data", f"rm {record}"):
        assert line in again.stderr, line
    assert json.loads(record.read_text())["state"] == "pending"  # still there for the next try

    # The reset, as printed: stop the member, remove its volume, start it, remove the record.
    bao.stop()
    bao.wipe()
    bao.start()
    record.unlink()
    fresh = execute(step, bao.url, record)
    assert fresh.rc == 0, fresh.stderr
    admin = execute(program_step(run, "openbao-admin"), bao.url, record, root_token=fresh.out["root_token"])
    assert admin.rc == 0, admin.stderr


def test_a_reply_not_yet_in_the_state_is_recovered_from_its_encrypted_record(
    bao: BaoServer, record: Path
) -> None:
    """init succeeded and printed, then `pulumi up` died before its checkpoint: the next run
    gives the same reply again, from the record; nothing readable is on disk."""
    run = evaluate("staging")
    step = program_step(run, "openbao-init")
    first = execute(step, bao.url, record)
    assert first.rc == 0, first.stderr
    text = record.read_text()
    assert oct(record.stat().st_mode & 0o777) == "0o600"
    assert first.out["root_token"] not in text and first.out["recovery_keys_b64"][0] not in text
    again = execute(step, bao.url, record)
    assert again.rc == 0, again.stderr
    assert again.out == {**first.out, "resumed": True}
    wrong = execute(step, bao.url, record, reply_key="A" * 43 + "=")
    assert wrong.rc == 1 and "does not open" in wrong.stderr
    assert_no_secret(wrong, first.out["root_token"])


def test_an_init_refused_by_openbao_leaves_no_pending_record(record: Path, tmp_path: Path) -> None:
    """Only an unanswered init can have been lost: a refused one clears its record."""
    calls: list[str] = []

    def fake(
        method: str, path: str, body: dict[str, Any] | None = None, token: str | None = None
    ) -> tuple[int, dict[str, Any]]:
        calls.append(f"{method} {path}")
        if method == "GET":
            return 200, {"initialized": False}
        assert json.loads(record.read_text())["state"] == "pending"  # written before asking
        return 400, {"errors": ["invalid recovery_shares"]}

    env = {"BAO_URL": "http://x", "BAO_INIT_REPLY_FILE": str(record)}
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(baoctl, "request", fake)
        for k, v in env.items():
            mp.setenv(k, v)
        with pytest.raises(baoctl.BaoError, match="HTTP 400: invalid recovery_shares"):
            baoctl.init({"reply_key": "A" * 43 + "="})
    assert calls == ["GET /v1/sys/init", "PUT /v1/sys/init"] and not record.exists()


# --- the wiring: secrets only as Pulumi secrets, on stdin ----------------------------------


def _secret_values(run: mockrun.Run) -> set[str]:
    values = {
        mockrun.fake_password(r.name, r.plain["length"])
        for r in run.by_type("random:index/randomPassword:RandomPassword")
    }
    init = json.loads(run.one(COMMAND, "openbao-init").plain["stdin"])
    return {v for v in values | {init["reply_key"]} if v}


@pytest.mark.parametrize("stack", STACKS)
def test_openbao_steps_carry_secrets_only_on_secret_stdin(stack: str) -> None:
    run = evaluate(stack)
    secret_values = _secret_values(run)
    for name in ("openbao-init", "openbao-admin"):
        r = run.one(COMMAND, name)
        assert mockrun.is_secret(r.inputs["stdin"]), name
        assert r.inputs["addPreviousOutputInEnv"] is False, name  # no earlier stdout in env
        env = r.inputs["environment"]
        assert not any(mockrun.is_secret(v) for v in env.values()), name
        shown = json.dumps(env) + r.plain["create"]
        assert not any(s in shown for s in secret_values), name
        assert r.plain["create"] == f"python3 components/core/baoctl.py {name.split('-')[1]}"
    init = run.one(COMMAND, "openbao-init")
    assert init.inputs["logging"] == "none"
    admin = run.one(COMMAND, "openbao-admin").plain
    assert admin["update"] == admin["create"]
    assert set(json.loads(admin["stdin"])) == {"root_token", "role_id", "secret_id"}
    assert admin["environment"]["BAO_ADMIN_POLICY"] == render_admin_policy(
        "secret", "platform", "approle", "agent-utilities"
    )
    assert admin["environment"]["BAO_INIT_REPLY_FILE"] == init_reply_file(stack)
    assert admin["environment"]["BAO_ADMIN_TOKEN_TTL"] == "3600"


@pytest.mark.parametrize("stack", STACKS)
def test_the_vault_provider_logs_in_as_the_admin_never_with_a_root_token(stack: str) -> None:
    run = evaluate(stack)
    v = run.one(PROVIDER, "vault")
    assert "token" not in v.inputs
    assert mockrun.is_secret(v.inputs["authLogin"])
    login = provider_login(run)
    assert login["path"] == f"auth/{ADMIN_MOUNT}/login" and set(login["parameters"]) == {
        "role_id",
        "secret_id",
    }
    assert login["parameters"] == run.outputs["openbaoAdminLogin"]
    assert "openbaoRootToken" not in run.outputs and run.outputs["openbaoRecoveryKeys"]
    dag = Dag.of(run)
    admin = urn(run, COMMAND, "openbao-admin")
    assert urn(run, COMMAND, "openbao-unsealed") in dag.deps[admin] and admin in dag.deps[v.urn]


class _AdminNotRunYet(mockrun.PlatformMocks):
    """A preview in which openbao-admin is still to be created: its stdout is unknown."""

    def new_resource(self, args: Any) -> tuple[str | None, dict[str, Any]]:
        rid, state = super().new_resource(args)
        if args.name == "openbao-admin":
            state.pop("stdout", None)
        return rid, state


def test_before_the_admin_step_ran_the_provider_has_no_credentials_to_fail_with() -> None:
    """Preview of a stack without openbao-admin yet (a fresh one, or one upgraded to the admin
    login): the provider's login is unknown, so it is not configured (its resources preview
    as unknown) instead of failing to log in with an AppRole that does not exist yet."""
    run = mockrun.run("staging", preview=True, mocks=_AdminNotRunYet())
    assert mockrun.UNKNOWN in json.dumps(run.one(PROVIDER, "vault").inputs["authLogin"])
    known = evaluate("staging", preview=True)
    assert mockrun.UNKNOWN not in json.dumps(known.one(PROVIDER, "vault").inputs["authLogin"])


def test_an_adopted_root_token_reaches_both_steps_as_a_secret() -> None:
    run = mockrun.run("staging", secrets={"agent-os:openbaoRootToken": "s.adopted-root-token-1"})
    for name, key in (("openbao-init", "adopt_token"), ("openbao-admin", "root_token")):
        r = run.one(COMMAND, name)
        assert mockrun.is_secret(r.inputs["stdin"])
        assert json.loads(r.plain["stdin"])[key] == "s.adopted-root-token-1"
        assert "s.adopted-root-token-1" not in json.dumps(r.inputs["environment"])


def test_the_admin_policy_refuses_names_that_would_let_it_grant_itself_more() -> None:
    for kw in ({"approle_mount": ADMIN_MOUNT}, {"app_role": ADMIN_POLICY}, {"app_role": "root"}):
        args = {
            "kv_mount": "secret",
            "prefix": "platform",
            "approle_mount": "approle",
            "app_role": "agent-utilities",
            **kw,
        }
        with pytest.raises(ValueError, match="reserved"):
            render_admin_policy(**args)
    for kw in (
        {"kv_mount": "sys/kv"},
        {"kv_mount": "auth/approle-admin/role"},
        {"approle_mount": "identity"},
    ):
        args = {
            "kv_mount": "secret",
            "prefix": "platform",
            "approle_mount": "approle",
            "app_role": "agent-utilities",
            **kw,
        }
        with pytest.raises(ValueError, match="system path"):
            render_admin_policy(**args)


def test_readme_documents_the_tested_procedures() -> None:
    text = (ROOT / "README.md").read_text()
    for line in baoctl.generate_root_steps("https://openbao.<zone>", ADMIN_MOUNT).splitlines()[2:-1]:
        assert line.strip() in text, line
    for line in ("docker service scale bao-1=0", "docker volume rm agent-os-bao-1-data", "openbao-init.json"):
        assert line in text, line
