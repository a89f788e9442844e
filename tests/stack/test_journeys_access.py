"""User journeys on access: who gets in, with what, against the staging stack deployed by the
real engine (the session fixture `staging`, tests/stack/conftest.py).

a. A service account's Keycloak token opens the gateway's API through Caddy; no token or a
   token of another realm does not.
e. The app reads its platform secrets from OpenBao with the AppRole credentials the program
   gave it; a wrong secret id is refused.
f. The app's Postgres role, its databases (AGE graph, pgvector) and tenant row-level security.
h. An MCP connector answers `initialize` for a Keycloak-issued token, and 401 without one.

Expected values come from the operator's view (stack outputs, the state's secrets and resource
inputs) and from what the running services were given (service specs, rendered config)."""

from __future__ import annotations

import hashlib
import json
import secrets
import time
from typing import Any

import pytest

from tests.stack import stackhelp
from tests.stack.journeyhelp import (
    Psql,
    Stack,
    audiences,
    client_credentials_token,
    container_file,
    exec_python,
    journey,
    jwt_claims,
    password_token,
    service_spec,
    token_url,
)

pytestmark = pytest.mark.journeys

REALM = "agents"
SERVICE_ACCOUNT = "agent-webui-svc"
GATEWAY = "agent-gateway"
APP_CONFIG = "/etc/agent-utilities/config.json"
CONNECTOR = "caddy-mcp"
# A task on the fleet network (where the connectors are) that also reaches Keycloak.
FLEET_CLIENT = "graph-os"
KG_DB, STATE_DB, GRAPH = "agent_kg", "agent_state", "agent_graph"
KV_SECRET = "vault:kv/secretV2:SecretV2"


@pytest.fixture(scope="module")
def stack(staging: stackhelp.Deployment) -> Stack:
    return Stack(staging)


def gateway_config() -> dict[str, Any]:
    """The config.json the gateway runs with (its Docker config, as mounted in its task)."""
    return json.loads(container_file(GATEWAY, APP_CONFIG))


# --- a. service account → Keycloak → gateway API through Caddy -------------------------------


def test_a_service_account_token_opens_the_gateway_api_and_nothing_else_does(stack: Stack) -> None:
    with journey("a: service account token → gateway API"):
        https, urls = stack.https, stack.urls
        assert (
            urls["sso"] == f"https://sso.{stack.zone}" and urls["gateway"] == f"https://gateway.{stack.zone}"
        )
        api = f"{urls['gateway']}/api/dashboard/daemon/shards"

        token = client_credentials_token(
            https,
            token_url(urls["sso"], REALM),
            SERVICE_ACCOUNT,
            stack.random_password("webuiSvcClientSecret"),
        )
        claims = jwt_claims(token)
        cfg = gateway_config()
        # What the gateway checks: exactly this issuer, this audience among `aud`.
        assert cfg["kg_auth_required"] is True
        assert claims["iss"] == cfg["auth_jwt_issuer"] == f"{urls['sso']}/realms/{REALM}"
        assert cfg["auth_jwt_audience"] in audiences(claims), claims.get("aud")
        assert claims["azp"] == SERVICE_ACCOUNT
        assert claims["exp"] > time.time()

        ok = https.get(api, token)
        assert ok.status == 200, ok.text[:500]
        assert ok.headers.get("via", "").endswith("Caddy")
        shards = ok.json()
        assert shards["mode"] == stack.outputs["shardMode"]
        assert [e["endpoint"] for e in shards["endpoints"]] == stack.outputs["shardEndpoints"]
        assert all(e["reachable"] for e in shards["endpoints"]), shards

        anonymous = https.get(api)
        assert anonymous.status == 401, anonymous.text[:500]
        assert anonymous.headers.get("www-authenticate", "").startswith("Bearer")

        # A genuine Keycloak token, of the master realm (the Keycloak admin's own login).
        admin = stack.inputs("keycloak-admin-password", "command:local:Command")["environment"][
            "KC_ADMIN_USER"
        ]
        other = password_token(
            https,
            token_url(urls["sso"], "master"),
            "admin-cli",
            admin,
            stack.random_password("keycloakAdminPassword"),
        )
        assert jwt_claims(other)["iss"] == f"{urls['sso']}/realms/master"
        refused = https.get(api, other)
        assert refused.status == 401, refused.text[:500]
        assert refused.headers.get("www-authenticate", "").startswith("Bearer")

        # The same service account token still works (the refusals were about the tokens).
        assert https.get(api, token).status == 200


# --- e. the app's AppRole → OpenBao → platform secrets ----------------------------------------

# Runs in the gateway's task container: the app process's own environment (what with-secrets
# exported from the Docker secret files) holds the AppRole credentials it logs in with.
OPENBAO_SCRIPT = r"""
import hashlib, json, os, sys, urllib.error, urllib.request
p = json.load(sys.stdin)

def call(method, url, body=None, token=None):
    headers = {"X-Vault-Token": token} if token else {}
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers=headers)
    try:
        with urllib.request.urlopen(req, timeout=15) as r:
            return r.status, json.loads(r.read() or b"null")
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()[:300]

def digest(v):
    return hashlib.sha256(str(v).encode()).hexdigest()

env, app_pid = None, None
for pid in sorted(int(d) for d in os.listdir("/proc") if d.isdigit()):
    try:
        cmd = open(f"/proc/{pid}/cmdline", "rb").read().split(b"\0")
        if pid != os.getpid() and b"agent_utilities" in cmd and b"/usr/local/bin/with-secrets" not in cmd:
            raw = open(f"/proc/{pid}/environ", "rb").read().split(b"\0")
            env = dict(kv.decode().split("=", 1) for kv in raw if b"=" in kv)
            app_pid = pid
            break
    except OSError:
        continue
assert env is not None, "no agent_utilities process in the container"
role_id, secret_id = env["VAULT_ROLE_ID"], env["VAULT_SECRET_ID"]
files = {n: open(f, encoding="utf-8").read() for n, f in p["files"].items()}
out = {
    "pid": app_pid,
    "env_is_files": files == {"VAULT_ROLE_ID": role_id, "VAULT_SECRET_ID": secret_id},
    "role_id": digest(role_id),
}
url = p["vault"].rstrip("/")
status, body = call("POST", url + "/v1/auth/approle/login", {"role_id": role_id, "secret_id": secret_id})
out["login"] = status
if status == 200:
    token = body["auth"]["client_token"]
    out["policies"] = body["auth"]["policies"]
    reads = {}
    for path in p["paths"]:
        s, b = call("GET", f"{url}/v1/{p['mount']}/data/{path}", token=token)
        reads[path] = [s, {k: digest(v) for k, v in b["data"]["data"].items()} if s == 200 else b]
    out["reads"] = reads
    out["outside"] = call("GET", f"{url}/v1/{p['mount']}/data/{p['outside']}", token=token)[0]
    call("POST", url + "/v1/auth/token/revoke-self", {}, token=token)
out["wrong"] = list(call("POST", url + "/v1/auth/approle/login", {"role_id": role_id, "secret_id": p["wrong"]}))
print(json.dumps(out))
"""


def digest(value: object) -> str:
    return hashlib.sha256(str(value).encode()).hexdigest()


def test_e_the_app_reads_its_platform_secrets_from_openbao_with_its_approle(stack: Stack) -> None:
    with journey("e: app AppRole → OpenBao platform secrets"):
        # How the program hands the credentials over: Docker secret files, exported as env by
        # with-secrets before the app starts.
        spec = service_spec(GATEWAY)["TaskTemplate"]["ContainerSpec"]
        assert spec["Command"][-1].endswith("/with-secrets"), spec["Command"]
        env = dict(e.split("=", 1) for e in spec["Env"])
        to_env = dict(s.split("=", 1) for s in env["SECRETS_TO_ENV"].split(","))
        files = {name: to_env[name] for name in ("VAULT_ROLE_ID", "VAULT_SECRET_ID")}
        mounted = {s["File"]["Name"] for s in spec["Secrets"]}
        assert set(files.values()) <= mounted, (files, mounted)

        cfg = gateway_config()
        assert cfg["secrets_backend"] == "vault" and cfg["vault_auth_method"] == "approle"
        mount = cfg["secrets_vault_mount"]

        # What the program wrote (the operator's view): every KV v2 secret, its keys and values.
        kv = [stack.inputs(r["urn"].rsplit("::", 1)[-1], r["type"]) for r in stack.of_type(KV_SECRET)]
        assert kv, "the state has no KV secrets"
        assert {i["mount"] for i in kv} == {mount}
        written = {str(i["name"]): json.loads(i["dataJson"]) for i in kv}
        role = stack.inputs("approle-agent-utilities", "vault:appRole/authBackendRole:AuthBackendRole")

        got = exec_python(
            GATEWAY,
            OPENBAO_SCRIPT,
            {
                "vault": cfg["secrets_vault_url"],
                "mount": mount,
                "paths": sorted(written),
                "files": files,
                "outside": f"journey-outside-{secrets.token_hex(4)}",
                "wrong": secrets.token_hex(18),
            },
        )
        assert got["env_is_files"], "the app's VAULT_* env differs from its secret files"
        assert got["role_id"] == digest(role["roleId"]), "the app has another AppRole role id"
        assert got["login"] == 200, got
        assert set(role["tokenPolicies"]) <= set(got["policies"]), got["policies"]
        expected = {path: [200, {k: digest(v) for k, v in data.items()}] for path, data in written.items()}
        assert got["reads"] == expected
        assert "platform/graph" in got["reads"], sorted(got["reads"])
        # The policy is for the platform secrets only.
        assert got["outside"] == 403, got["outside"]
        # A wrong secret id with the real role id: no login.
        status, body = got["wrong"]
        assert status in (400, 403), got["wrong"]
        assert "client_token" not in str(body)


# --- f. the app's Postgres role: AGE graph, pgvector, tenant RLS ------------------------------


def tunnel(stack: Stack, user: str, password: str) -> Psql:
    """psql through the admin tunnel the program's own Postgres provider uses."""
    provider = stack.inputs("postgresql", "pulumi:providers:postgresql")
    return Psql(str(provider["host"]), int(provider["port"]), user, password)


def app_role(stack: Stack) -> Psql:
    role = stack.inputs("role-agent", "postgresql:index/role:Role")
    assert role["password"] == stack.random_password("agentDbPassword")
    return tunnel(stack, str(role["name"]), stack.random_password("agentDbPassword"))


AGE_PATH = 'SET search_path = ag_catalog, "$user", public;\n'


def create_sql(probe: str) -> str:
    return f"SELECT * FROM ag_catalog.cypher('{GRAPH}', $$ CREATE (n:JourneyProbe {{k: '{probe}'}}) RETURN n.k $$) AS (k ag_catalog.agtype);\n"


def match_sql(probe: str) -> str:
    return f"SELECT * FROM ag_catalog.cypher('{GRAPH}', $$ MATCH (n:JourneyProbe {{k: '{probe}'}}) RETURN n.k $$) AS (k ag_catalog.agtype);\n"


def test_f_the_age_graph_answers_cypher(stack: Stack) -> None:
    """The graph the program made, used by its owner (the Postgres superuser), in a transaction
    that is rolled back. The app role cannot use it: see the next test."""
    with journey("f: AGE graph (superuser, rolled back)"):
        probe = f"journey-{secrets.token_hex(4)}"
        su = tunnel(stack, "postgres", stack.random_password("postgresPassword"))
        rows = su.rows(
            KG_DB, f"BEGIN;\nLOAD 'age';\n{AGE_PATH}{create_sql(probe)}{match_sql(probe)}ROLLBACK;\n"
        )
        assert rows == [[f'"{probe}"'], [f'"{probe}"']]
        assert su.rows(KG_DB, AGE_PATH + match_sql(probe)) == [], "the rolled-back probe vertex is there"


def test_f_the_app_role_uses_the_age_graph(stack: Stack) -> None:
    with journey("f: AGE graph as the app role"):
        probe = f"journey-{secrets.token_hex(4)}"
        done = app_role(stack).run(
            KG_DB, f"BEGIN;\n{AGE_PATH}{create_sql(probe)}{match_sql(probe)}ROLLBACK;\n"
        )
        assert done.returncode == 0, done.stderr
        assert done.stdout.split() == [f'"{probe}"', f'"{probe}"']


def test_f_the_app_role_orders_by_vector_distance(stack: Stack) -> None:
    with journey("f: pgvector as the app role"):
        schema = f"journey_{secrets.token_hex(4)}"
        rows = app_role(stack).rows(
            KG_DB,
            f"BEGIN;\nCREATE SCHEMA {schema};\nSET LOCAL search_path = {schema}, public;\n"
            "CREATE TABLE emb (id text PRIMARY KEY, e vector(3));\n"
            "INSERT INTO emb VALUES ('far', '[0,0,9]'), ('near', '[1,0,0]'), ('mid', '[0,2,0]');\n"
            "SELECT id, round((e <-> '[1,0.1,0]')::numeric, 3) FROM emb ORDER BY e <-> '[1,0.1,0]';\n"
            "ROLLBACK;\n",
        )
        assert rows == [["near", "0.100"], ["mid", "2.147"], ["far", "9.056"]]


@pytest.mark.xfail(
    strict=False,
    reason="program defect, open: tenant-rls runs once after the app services start, not after "
    "the app makes its tables (0.52.0 makes them lazily), so whether they get RLS depends on timing "
    "(a fresh CI deploy had it, an updated stack did not); and 0.52.0's session store never sets "
    "app.tenant_id, so forced RLS would block its own session reads (notes/2026-11-25-night.md)",
)
def test_f_the_apps_tables_have_tenant_rls_forced(stack: Stack) -> None:
    with journey("f: RLS on the app's tables"):
        pg = app_role(stack)
        owned = "pg_get_userbyid(c.relowner) = current_user AND c.relkind IN ('r', 'p')"
        for db in (KG_DB, STATE_DB):
            tables = pg.rows(
                db,
                "SELECT c.relname, c.relrowsecurity, c.relforcerowsecurity, "
                "EXISTS (SELECT 1 FROM pg_policies p WHERE p.schemaname = n.nspname "
                "AND p.tablename = c.relname AND p.policyname = 'tenant_isolation') "
                "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                f"WHERE n.nspname = 'public' AND {owned} ORDER BY 1",
            )
            if db == STATE_DB:
                assert tables, "the app has made no tables in agent_state"
            unsecured = [t[0] for t in tables if t[1:] != ["t", "t", "t"]]
            assert not unsecured, f"{db}: app tables without forced tenant_isolation RLS: {unsecured}"


def test_f_tenant_rls_keeps_one_tenants_rows_from_another(stack: Stack) -> None:
    """The stack's own tenant-rls SQL (from the state), applied by the app role to a table of its
    own in a scratch schema (the app's tables are not secured, see above), then each tenant in
    a session of its own."""
    with journey("f: tenant RLS isolation"):
        pg = app_role(stack)
        rls = stack.inputs("tenant-rls", "command:local:Command")["environment"]["AGENT_OS_SQL"]
        schema = f"journey_{secrets.token_hex(4)}"
        path = f"SET search_path = {schema}, public;\n"
        a, b = f"tenant-a-{secrets.token_hex(3)}", f"tenant-b-{secrets.token_hex(3)}"

        def as_tenant(tenant: str | None, sql: str) -> list[list[str]]:
            return pg.rows(KG_DB, path + (f"SET app.tenant_id = '{tenant}';\n" if tenant else "") + sql)

        pg.rows(
            KG_DB, f"CREATE SCHEMA {schema};\n{path}CREATE TABLE notes (id text PRIMARY KEY, body text);\n"
        )
        try:
            pg.rows(KG_DB, path + rls)
            meta = pg.rows(
                KG_DB,
                "SELECT c.relrowsecurity, c.relforcerowsecurity, p.policyname, p.cmd "
                "FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
                "JOIN pg_policies p ON p.schemaname = n.nspname AND p.tablename = c.relname "
                f"WHERE n.nspname = '{schema}' AND c.relname = 'notes'",
            )
            assert meta == [["t", "t", "tenant_isolation", "ALL"]]

            mine = "INSERT INTO notes (id, body, tenant_id) VALUES ('{}', 'x', current_setting('app.tenant_id'));\n"
            as_tenant(a, mine.format("a1") + mine.format("a2"))
            as_tenant(
                b,
                mine.format("b1") + "INSERT INTO notes (id, body, tenant_id) VALUES ('shared', 'z', NULL);\n",
            )
            # The policy's WITH CHECK: a tenant cannot write another tenant's rows.
            cross = pg.run(
                KG_DB,
                path + f"SET app.tenant_id = '{a}';\n"
                f"INSERT INTO notes (id, body, tenant_id) VALUES ('forged', 'x', '{b}');\n",
            )
            assert cross.returncode != 0 and "row-level security" in cross.stderr, cross.stderr

            listing = "SELECT id, coalesce(tenant_id, '-') FROM notes ORDER BY id;\n"
            assert as_tenant(a, listing) == [["a1", a], ["a2", a], ["shared", "-"]]
            assert as_tenant(b, listing) == [["b1", b], ["shared", "-"]]
            assert as_tenant(None, listing) == []
            assert as_tenant(None, "SELECT count(*) FROM notes;\n") == [["0"]]
            untenanted = pg.run(KG_DB, path + "INSERT INTO notes VALUES ('none', 'n');\n")
            assert untenanted.returncode != 0 and "row-level security" in untenanted.stderr
        finally:
            pg.rows(KG_DB, f"DROP SCHEMA {schema} CASCADE;\n")


# --- h. an MCP connector, Keycloak JWT --------------------------------------------------------

# Runs in a task container on the fleet network: a token from Keycloak in-cluster, then MCP
# `initialize` at the connector with each token given (None: no Authorization header).
MCP_SCRIPT = r"""
import base64, json, sys, urllib.error, urllib.parse, urllib.request
p = json.load(sys.stdin)
form = urllib.parse.urlencode({"grant_type": "client_credentials", "client_id": p["client_id"],
                               "client_secret": p["client_secret"]}).encode()
with urllib.request.urlopen(urllib.request.Request(p["token_url"], data=form), timeout=15) as r:
    incluster = json.loads(r.read())["access_token"]
seg = incluster.split(".")[1]
claims = json.loads(base64.urlsafe_b64decode(seg + "=" * (-len(seg) % 4)))
body = json.dumps(p["request"]).encode()
results = {}
for name, token in (("incluster", incluster), ("public", p["public_token"]), ("none", None)):
    headers = {"Content-Type": "application/json", "Accept": "application/json, text/event-stream"}
    if token:
        headers["Authorization"] = "Bearer " + token
    try:
        with urllib.request.urlopen(urllib.request.Request(p["url"], data=body, headers=headers), timeout=30) as r:
            results[name] = [r.status, {k.lower(): v for k, v in r.headers.items()}, r.read().decode()]
    except urllib.error.HTTPError as e:
        results[name] = [e.code, {k.lower(): v for k, v in e.headers.items()}, e.read().decode()]
print(json.dumps({"iss": claims.get("iss"), "aud": claims.get("aud"), "results": results}))
"""


def sse_messages(text: str) -> list[dict[str, Any]]:
    return [json.loads(line[len("data:") :]) for line in text.splitlines() if line.startswith("data:")]


def test_h_a_connector_answers_mcp_initialize_for_a_keycloak_token(stack: Stack) -> None:
    with journey("h: MCP initialize at a connector"):
        env = dict(e.split("=", 1) for e in service_spec(CONNECTOR)["TaskTemplate"]["ContainerSpec"]["Env"])
        issuer, audience = env["FASTMCP_SERVER_AUTH_JWT_ISSUER"], env["FASTMCP_SERVER_AUTH_JWT_AUDIENCE"]
        assert env["AUTH_TYPE"] == "jwt"
        assert issuer == f"{stack.urls['sso']}/realms/{REALM}"
        secret = stack.random_password("webuiSvcClientSecret")
        public = client_credentials_token(
            stack.https, token_url(stack.urls["sso"], REALM), SERVICE_ACCOUNT, secret
        )
        request = {
            "jsonrpc": "2.0",
            "id": 1,
            "method": "initialize",
            "params": {
                "protocolVersion": "2025-06-18",
                "capabilities": {},
                "clientInfo": {"name": "journey-h", "version": "0"},
            },
        }
        got = exec_python(
            FLEET_CLIENT,
            MCP_SCRIPT,
            {
                "token_url": token_url("http://keycloak:8080", REALM),
                "client_id": SERVICE_ACCOUNT,
                "client_secret": secret,
                "public_token": public,
                "url": f"http://{CONNECTOR}:8000/mcp",
                "request": request,
            },
        )
        # KC_HOSTNAME fixes the issuer: the in-cluster token names the public URL too.
        assert got["iss"] == issuer == jwt_claims(public)["iss"]
        assert audience in audiences({"aud": got["aud"]})

        for name in ("incluster", "public"):
            status, headers, body = got["results"][name]
            assert status == 200, (name, status, body[:500])
            assert headers["content-type"].startswith("text/event-stream")
            assert headers.get("mcp-session-id")
            (message,) = sse_messages(body)
            assert message["id"] == 1 and "error" not in message, message
            result = message["result"]
            assert result["protocolVersion"] == "2025-06-18"
            assert result["serverInfo"]["name"] and result["serverInfo"]["version"], result
            assert "tools" in result["capabilities"]

        status, headers, body = got["results"]["none"]
        assert status == 401, (status, body[:500])
        assert headers.get("www-authenticate", "").startswith("Bearer")
        assert json.loads(body)["error"] == "invalid_token"
