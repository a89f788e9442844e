"""verify/providers/vault.py through the real Pulumi CLI and engine, against a real OpenBao
2.x server (tests/core/baoserver.py: raft storage, static seal, as on the cluster).

The provider is configured as the program does (components/core/openbao.py): it logs in
with an admin AppRole through `authLogin` and uses that token directly (skipChildToken).
It makes the KV v2 mount, the approle auth backend, a policy, an AppRole role with a fixed
role ID, a custom secret ID and a KV v2 secret; every step is checked through the HTTP
API: the role ID + secret ID log in and read exactly what the policy allows, a wrong
secret ID is refused, updates and replacements are the ops the upstream makes, refresh
sees nothing, an out-of-band delete is seen, and destroy removes it all."""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.core.baoserver import BaoServer, BaoUnavailableError, new_server
from tests.engine.enginehelp import Result, Workspace, build_toolchain, changes, mini_project

pytestmark = [pytest.mark.engine, pytest.mark.images]

ADMIN_MOUNT = "approle-admin"
PROGRAM = """
import json
import pulumi
import pulumi_vault as vault
from pulumi_vault import approle, kv

cfg = pulumi.Config()
provider = vault.Provider(
    "vault",
    address=cfg.require("address"),
    auth_login=vault.ProviderAuthLoginArgs(
        path="auth/approle-admin/login",
        parameters={"role_id": cfg.require_secret("adminRoleId"), "secret_id": cfg.require_secret("adminSecretId")},
    ),
    skip_child_token=True,
    skip_get_vault_version=True,
    vault_version_override="1.14.0",
    skip_tls_verify=False,
    max_retries=5,
    max_lease_ttl_seconds=1200,
)
opts = pulumi.ResourceOptions(provider=provider)
mount = vault.Mount(
    "kv", path="secret", type="kv", options={"version": "2"}, description="platform secrets (KV v2)", opts=opts
)
backend = vault.AuthBackend("approle", type="approle", path="approle", opts=opts)
policy = vault.Policy("policy", name="agent-utilities", policy=cfg.require("policy"), opts=opts)
role = approle.AuthBackendRole(
    "role",
    backend=backend.path,
    role_name="agent-utilities",
    role_id=cfg.require_secret("roleId"),
    bind_secret_id=True,
    token_policies=[policy.name],
    token_ttl=3600,
    token_max_ttl=86400,
    opts=opts,
)
secret_id = approle.AuthBackendRoleSecretId(
    "secret-id", backend=backend.path, role_name=role.role_name, secret_id=cfg.require_secret("secretId"), opts=opts
)
secret = kv.SecretV2(
    "kv-oidc",
    mount=mount.path,
    name="platform/oidc/app",
    data_json=cfg.require_secret("clientSecret").apply(lambda s: json.dumps({"client_secret": s})),
    opts=opts,
)
pulumi.export("roleId", role.role_id)
pulumi.export("accessor", secret_id.accessor)
pulumi.export("secretIdId", secret_id.id)
pulumi.export("roleResId", role.id)
pulumi.export("kvId", secret.id)
pulumi.export("mountAccessor", mount.accessor)
"""

POLICY = 'path "secret/data/platform/*" {\n  capabilities = ["read"]\n}\n'
POLICY_2 = POLICY + 'path "secret/metadata/platform/*" {\n  capabilities = ["read", "list"]\n}\n'


def ok(res: tuple[int, dict[str, Any]], status: int = 200) -> dict[str, Any]:
    assert res[0] == status, res
    return res[1]


@pytest.fixture(scope="module")
def bao() -> Iterator[tuple[BaoServer, str]]:
    try:
        srv = new_server()
    except BaoUnavailableError as e:
        pytest.skip(str(e))
    try:
        init = ok(srv.api("PUT", "/v1/sys/init", {"recovery_shares": 1, "recovery_threshold": 1}))
        root = str(init["root_token"])
        deadline = time.monotonic() + 60
        while srv.api("GET", "/v1/sys/health")[0] != 200:
            assert time.monotonic() < deadline, srv.log_tail()
            time.sleep(0.5)
        yield srv, root
    finally:
        srv.stop()


@pytest.fixture(scope="module")
def ws(bao: tuple[BaoServer, str], tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    srv, root = bao
    # The admin login the provider uses (what openbao-admin sets up on the cluster).
    ok(srv.api("POST", f"/v1/sys/auth/{ADMIN_MOUNT}", {"type": "approle"}, root), 204)
    admin_policy = 'path "*" {\n  capabilities = ["create", "read", "update", "delete", "list", "sudo"]\n}\n'
    ok(srv.api("PUT", "/v1/sys/policy/pvp-admin", {"policy": admin_policy}, root), 204)
    ok(srv.api("POST", f"/v1/auth/{ADMIN_MOUNT}/role/admin", {"token_policies": ["pvp-admin"]}, root), 204)
    admin_role_id = ok(srv.api("GET", f"/v1/auth/{ADMIN_MOUNT}/role/admin/role-id", token=root))["data"][
        "role_id"
    ]
    admin_secret_id = ok(srv.api("POST", f"/v1/auth/{ADMIN_MOUNT}/role/admin/secret-id", {}, root))["data"][
        "secret_id"
    ]
    w = mini_project(Path(tmp_path_factory.mktemp("pvv")), build_toolchain(), PROGRAM, name="pvv")
    for key, value, secret in (
        ("address", srv.url, False),
        ("adminRoleId", admin_role_id, True),
        ("adminSecretId", admin_secret_id, True),
        ("policy", POLICY, False),
        ("roleId", secrets.token_hex(18), True),
        ("secretId", secrets.token_hex(20), True),
        ("clientSecret", "cs-" + secrets.token_hex(8), True),
    ):
        w.pulumi("config", "set", *(["--secret"] if secret else []), key, value, "-s", "test")
    return w


def cfg(ws: Workspace, key: str) -> str:
    return ws.pulumi("config", "get", key, "-s", "test").stdout.strip()


def login(srv: BaoServer, role_id: str, secret_id: str) -> tuple[int, dict[str, Any]]:
    return srv.api("POST", "/v1/auth/approle/login", {"role_id": role_id, "secret_id": secret_id})


def read_secret(srv: BaoServer, token: str, name: str) -> tuple[int, dict[str, Any]]:
    return srv.api("GET", f"/v1/secret/data/{name}", token=token)


def ops(res: Result) -> dict[str, list[str]]:
    return {k: v for k, v in changes(res).items() if k != "same"}


def test_lifecycle(bao: tuple[BaoServer, str], ws: Workspace) -> None:
    srv, root = bao
    role_id, secret_id = cfg(ws, "roleId"), cfg(ws, "secretId")

    # -- create --------------------------------------------------------------------------
    pre = ws.pulumi("preview", "--json", "-s", "test")
    assert ops(pre) == {
        "create": ["approle", "kv", "kv-oidc", "policy", "pvv-test", "role", "secret-id", "vault"]
    }
    ws.pulumi("up", "--yes", "--skip-preview", "-s", "test")

    mounts = ok(srv.api("GET", "/v1/sys/mounts", token=root))["data"]
    assert mounts["secret/"]["type"] == "kv" and mounts["secret/"]["options"] == {"version": "2"}
    assert ok(srv.api("GET", "/v1/sys/auth", token=root))["data"]["approle/"]["type"] == "approle"
    assert ok(srv.api("GET", "/v1/sys/policy/agent-utilities", token=root))["rules"] == POLICY
    role = ok(srv.api("GET", "/v1/auth/approle/role/agent-utilities", token=root))["data"]
    assert role["token_policies"] == ["agent-utilities"] and role["token_ttl"] == 3600
    assert role["token_max_ttl"] == 86400 and role["bind_secret_id"] is True

    # the role ID + secret ID log in and read what the policy allows, and nothing else
    token = ok(login(srv, role_id, secret_id))["auth"]["client_token"]
    got = ok(read_secret(srv, token, "platform/oidc/app"))["data"]["data"]
    assert got == {"client_secret": cfg(ws, "clientSecret")}
    assert read_secret(srv, token, "elsewhere")[0] == 403
    assert login(srv, role_id, "wrong-" + secret_id)[0] == 400
    assert login(srv, "wrong-" + role_id, secret_id)[0] == 400

    outs = ws.pulumi("stack", "output", "--json", "--show-secrets", "-s", "test").json()
    assert outs["roleId"] == role_id
    assert outs["roleResId"] == "auth/approle/role/agent-utilities"
    assert outs["kvId"] == "secret/data/platform/oidc/app"
    assert outs["secretIdId"] == f"backend=approle::role=agent-utilities::accessor={outs['accessor']}"
    assert outs["mountAccessor"] == mounts["secret/"]["accessor"]
    lookup = srv.api(
        "POST",
        "/v1/auth/approle/role/agent-utilities/secret-id-accessor/lookup",
        {"secret_id_accessor": outs["accessor"]},
        root,
    )
    assert ok(lookup)["data"]["secret_id_accessor"] == outs["accessor"]
    state = ws.pulumi("stack", "export", "-s", "test").stdout
    assert role_id not in state and secret_id not in state and cfg(ws, "clientSecret") not in state

    # -- nothing to do -------------------------------------------------------------------
    ws.pulumi("preview", "--expect-no-changes", "-s", "test")
    ws.pulumi("refresh", "--yes", "--expect-no-changes", "-s", "test")

    # -- updates in place: the policy text, the secret's data ----------------------------
    ws.pulumi("config", "set", "policy", POLICY_2, "-s", "test")
    ws.pulumi("config", "set", "--secret", "clientSecret", "cs-rotated", "-s", "test")
    assert ops(ws.pulumi("preview", "--json", "-s", "test")) == {"update": ["kv-oidc", "policy"]}
    ws.pulumi("up", "--yes", "--skip-preview", "-s", "test")
    assert ok(srv.api("GET", "/v1/sys/policy/agent-utilities", token=root))["rules"] == POLICY_2
    token = ok(login(srv, role_id, secret_id))["auth"]["client_token"]
    assert ok(read_secret(srv, token, "platform/oidc/app"))["data"]["data"] == {"client_secret": "cs-rotated"}
    assert ok(srv.api("LIST", "/v1/secret/metadata/platform/oidc", token=token))["data"]["keys"] == ["app"]

    # -- a new secret ID replaces the old one (ForceNew), which then no longer logs in ---
    new_secret_id = secrets.token_hex(20)
    ws.pulumi("config", "set", "--secret", "secretId", new_secret_id, "-s", "test")
    assert ops(ws.pulumi("preview", "--json", "-s", "test")) == {"replace": ["secret-id"]}
    ws.pulumi("up", "--yes", "--skip-preview", "-s", "test")
    assert login(srv, role_id, secret_id)[0] == 400
    assert ok(login(srv, role_id, new_secret_id))["auth"]["client_token"]
    ws.pulumi("refresh", "--yes", "--expect-no-changes", "-s", "test")

    # -- out of band: a deleted policy is gone on refresh, and comes back ----------------
    ok(srv.api("DELETE", "/v1/sys/policy/agent-utilities", token=root), 204)
    assert ops(ws.pulumi("preview", "--refresh", "--json", "-s", "test")).get("create") == ["policy"]
    ws.pulumi("up", "--yes", "--refresh", "-s", "test")
    assert ok(srv.api("GET", "/v1/sys/policy/agent-utilities", token=root))["rules"] == POLICY_2

    # -- destroy -------------------------------------------------------------------------
    ws.pulumi("destroy", "--yes", "-s", "test")
    assert "secret/" not in ok(srv.api("GET", "/v1/sys/mounts", token=root))["data"]
    auths = ok(srv.api("GET", "/v1/sys/auth", token=root))["data"]
    assert "approle/" not in auths and f"{ADMIN_MOUNT}/" in auths
    assert srv.api("GET", "/v1/sys/policy/agent-utilities", token=root)[0] == 404
    assert login(srv, role_id, new_secret_id)[0] != 200
    assert json.loads(ws.pulumi("stack", "export", "-s", "test").stdout)["deployment"].get("resources") in (
        None,
        [],
    )
