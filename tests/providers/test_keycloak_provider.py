"""verify/providers/keycloak.py through the real Pulumi CLI and engine, against the real
Keycloak image built here (keycloak-quarkus-dist 26.4.7, verify/images/recipes/keycloak.py).

Keycloak runs `start-dev` with HTTPS from a throwaway CA (openssl), so the provider's
`rootCaCertificate` is what makes the connection verify. One throwaway project declares
what the program declares (a realm, roles with a composite, confidential clients with
service accounts and secrets, a public PKCE client, audience and realm-role mappers, a
service-account realm role, a user with a password and roles); every step is checked from
outside through the admin API and the token endpoint: the objects as configured, a client
credentials token carrying the audience and the roles, no changes on re-up and refresh, an
in-place update touching one client only, an out-of-band delete found by refresh, destroy."""

from __future__ import annotations

import base64
import io
import json
import secrets
import ssl
import subprocess
import tarfile
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from tests.engine.enginehelp import Workspace, build_toolchain, changes, mini_project
from verify.engine import EngineUnavailableError, start_engine
from verify.images import build
from verify.images.recipes import RECIPES
from verify.providers import keycloak as kc
from verify.providers.base import ProviderError

pytestmark = [pytest.mark.engine, pytest.mark.images]

ADMIN = "admin"
REALM = "pvk"
PROGRAM = """
import pulumi
import pulumi_keycloak as keycloak

cfg = pulumi.Config()
provider = keycloak.Provider(
    "kc",
    url=cfg.require("url"),
    base_path="",
    realm="master",
    client_id="admin-cli",
    username="admin",
    password=cfg.require_secret("adminPassword"),
    initial_login=False,
    client_timeout=30,
    tls_insecure_skip_verify=False,
    root_ca_certificate=cfg.require("ca"),
)
opts = pulumi.ResourceOptions(provider=provider)
realm = keycloak.Realm(
    "realm", realm="pvk", enabled=True, display_name="pvk test", ssl_required="external",
    access_token_lifespan="5m", opts=opts,
    security_defenses=keycloak.RealmSecurityDefensesArgs(
        brute_force_detection=keycloak.RealmSecurityDefensesBruteForceDetectionArgs(max_login_failures=5),
    ),
)
rid = realm.id
read = keycloak.Role("role-read", realm_id=rid, name="kg:read", opts=opts)
write = keycloak.Role("role-write", realm_id=rid, name="kg:write", composite_roles=[read.id], opts=opts)
admin = keycloak.Role("role-admin", realm_id=rid, name="webui:admin", opts=opts)
api = keycloak.openid.Client(
    "api", realm_id=rid, client_id="pvk-api", name="pvk API", access_type="CONFIDENTIAL",
    client_secret=cfg.require_secret("apiSecret"), service_accounts_enabled=True,
    standard_flow_enabled=False, direct_access_grants_enabled=False, opts=opts,
)
svc = keycloak.openid.Client(
    "svc", realm_id=rid, client_id="pvk-svc", name="pvk service", access_type="CONFIDENTIAL",
    client_secret=cfg.require_secret("svcSecret"), service_accounts_enabled=True,
    standard_flow_enabled=False, direct_access_grants_enabled=False, opts=opts,
)
web = keycloak.openid.Client(
    "web", realm_id=rid, client_id="pvk-web", name="pvk web", access_type="PUBLIC",
    standard_flow_enabled=True, implicit_flow_enabled=False, direct_access_grants_enabled=False,
    pkce_code_challenge_method="S256", valid_redirect_uris=cfg.require_object("webRedirects"),
    valid_post_logout_redirect_uris=["https://web.pvk.test/*"], web_origins=["https://web.pvk.test"],
    opts=opts,
)
sso = keycloak.openid.Client(
    "sso", realm_id=rid, client_id="pvk-sso", name="pvk SSO", access_type="CONFIDENTIAL",
    client_secret=cfg.require_secret("ssoSecret"), standard_flow_enabled=True,
    direct_access_grants_enabled=False, valid_redirect_uris=["https://sso.pvk.test/login"],
    web_origins=["https://sso.pvk.test"], root_url="https://sso.pvk.test", opts=opts,
)
for name, client in (("svc", svc), ("sso", sso)):
    keycloak.openid.UserRealmRoleProtocolMapper(
        f"roles-{name}", realm_id=rid, client_id=client.id, name="realm-roles", claim_name="roles",
        multivalued=True, add_to_id_token=True, add_to_userinfo=True, add_to_access_token=True, opts=opts,
    )
for name, client in (("svc", svc), ("web", web)):
    keycloak.openid.AudienceProtocolMapper(
        f"aud-{name}", realm_id=rid, client_id=client.id, name="audience-pvk-api",
        included_client_audience="pvk-api", add_to_access_token=True, add_to_id_token=False,
        opts=pulumi.ResourceOptions(provider=provider, depends_on=[api]),
    )
keycloak.openid.ClientServiceAccountRealmRole(
    "sa-svc-write", realm_id=rid, service_account_user_id=svc.service_account_user_id, role=write.name,
    opts=opts,
)
user = keycloak.User(
    "user", realm_id=rid, username="pvk-admin", enabled=True,
    initial_password=keycloak.UserInitialPasswordArgs(value=cfg.require_secret("userPassword"), temporary=False),
    opts=opts,
)
keycloak.UserRoles(
    "user-roles", realm_id=rid, user_id=user.id, role_ids=[write.id, admin.id], exhaustive=False, opts=opts,
)
pulumi.export("realmId", realm.id)
pulumi.export("internalId", realm.internal_id)
pulumi.export("lifespan", realm.access_token_lifespan)
pulumi.export("roleIds", {"read": read.id, "write": write.id, "admin": admin.id})
pulumi.export("clientIds", {"api": api.id, "svc": svc.id, "web": web.id, "sso": sso.id})
pulumi.export("svcSecret", svc.client_secret)
pulumi.export("webSecret", web.client_secret)
pulumi.export("svcServiceAccount", svc.service_account_user_id)
pulumi.export("webServiceAccount", web.service_account_user_id)
pulumi.export("userId", user.id)
"""
ALL = [
    "api",
    "aud-svc",
    "aud-web",
    "kc",
    "pvk-test",
    "realm",
    "role-admin",
    "role-read",
    "role-write",
    "roles-sso",
    "roles-svc",
    "sa-svc-write",
    "sso",
    "svc",
    "user",
    "user-roles",
    "web",
]
REDIRECTS = ["https://web.pvk.test/*", "http://127.0.0.1/*"]


@dataclass
class Keycloak:
    url: str
    password: str
    ca_pem: str

    def context(self) -> ssl.SSLContext:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        ctx.load_verify_locations(cadata=self.ca_pem)
        return ctx

    def http(self, path: str, body: Any = None, token: str = "", method: str | None = None) -> Any:
        data: bytes | None = None
        headers: dict[str, str] = {}
        if isinstance(body, dict) and path.endswith("/token"):
            data = urllib.parse.urlencode(body).encode()
            headers["Content-Type"] = "application/x-www-form-urlencoded"
        elif body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if token:
            headers["Authorization"] = f"Bearer {token}"
        req = urllib.request.Request(self.url + path, data=data, headers=headers, method=method)
        with urllib.request.urlopen(req, timeout=30, context=self.context()) as r:
            raw = r.read()
        return json.loads(raw) if raw else None

    def token(self, realm: str, form: dict[str, str]) -> dict[str, Any]:
        return dict(self.http(f"/realms/{realm}/protocol/openid-connect/token", form))

    def admin(self, path: str, body: Any = None, method: str | None = None) -> Any:
        form = {
            "grant_type": "password",
            "client_id": "admin-cli",
            "username": ADMIN,
            "password": self.password,
        }
        tok = self.token("master", form)["access_token"]
        return self.http(f"/admin/realms{path}", body, tok, method)

    def status(self, path: str) -> int:
        try:
            self.admin(path)
        except urllib.error.HTTPError as e:
            return e.code
        return 200


def _openssl(*args: str, cwd: Path) -> None:
    done = subprocess.run(["openssl", *args], cwd=cwd, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr


def _certs(d: Path) -> None:
    """ca.pem, and tls.pem/tls.key for 127.0.0.1 signed by it (EC P-256)."""
    ec = ["-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes"]
    _openssl(
        "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2", "-subj", "/CN=pvk CA", cwd=d
    )
    _openssl("req", *ec, "-keyout", "tls.key", "-out", "tls.csr", "-subj", "/CN=127.0.0.1", cwd=d)
    (d / "ext.cnf").write_text("subjectAltName=IP:127.0.0.1\nbasicConstraints=CA:FALSE\n")
    _openssl(
        "x509", "-req", "-in", "tls.csr", "-CA", "ca.pem", "-CAkey", "ca.key", "-CAcreateserial",
        "-out", "tls.pem", "-days", "2", "-extfile", "ext.cnf", cwd=d,
    )  # fmt: skip


def _tar(files: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(name)
            info.size, info.mode = len(data), 0o644
            tar.addfile(info, io.BytesIO(data))
    return buf.getvalue()


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Keycloak]:
    try:
        client = start_engine().client
    except EngineUnavailableError as e:  # no engine here: nothing to run the image on
        pytest.skip(str(e))
    lock = build.acquire_lock()
    try:
        image = build.ensure(client, RECIPES["keycloak"], build.rootfs.uv_version()).alias
    finally:
        lock.close()
    certs = Path(tmp_path_factory.mktemp("pvk-certs"))
    _certs(certs)
    password = secrets.token_hex(16)
    ports: dict[str, Any] = {"8443/tcp": ("127.0.0.1", None)}  # a free loopback port
    c = client.containers.create(
        image,
        ["start-dev"],
        name=f"pvk-{secrets.token_hex(4)}",
        environment={
            "KC_BOOTSTRAP_ADMIN_USERNAME": ADMIN,
            "KC_BOOTSTRAP_ADMIN_PASSWORD": password,
            "KC_HTTPS_CERTIFICATE_FILE": "/tmp/pvk/tls.pem",
            "KC_HTTPS_CERTIFICATE_KEY_FILE": "/tmp/pvk/tls.key",
        },
        ports=ports,
    )
    try:
        c.put_archive(
            "/tmp",
            _tar(
                {
                    "pvk/tls.pem": (certs / "tls.pem").read_bytes(),
                    "pvk/tls.key": (certs / "tls.key").read_bytes(),
                }
            ),
        )
        c.start()
        c.reload()
        port = int(c.attrs["NetworkSettings"]["Ports"]["8443/tcp"][0]["HostPort"])
        kcs = Keycloak(f"https://127.0.0.1:{port}", password, (certs / "ca.pem").read_text())
        deadline = time.monotonic() + 400
        while True:
            try:
                kcs.http("/realms/master")
                break
            except (urllib.error.URLError, ConnectionError, OSError):
                c.reload()
                if c.status != "running" or time.monotonic() > deadline:
                    raise AssertionError(f"keycloak did not start:\n{c.logs(tail=60).decode()}") from None
                time.sleep(2)
        yield kcs
    finally:
        c.remove(force=True, v=True)


@pytest.fixture(scope="module")
def ws(server: Keycloak, tmp_path_factory: pytest.TempPathFactory) -> Workspace:
    root = Path(tmp_path_factory.mktemp("pvk"))
    w = mini_project(root, build_toolchain(), PROGRAM, name="pvk")
    w.pulumi("config", "set", "url", server.url, "-s", "test")
    w.pulumi("config", "set", "ca", "-s", "test", stdin=server.ca_pem)  # a PEM reads as flags
    w.pulumi("config", "set", "--secret", "adminPassword", server.password, "-s", "test")
    for key in ("apiSecret", "svcSecret", "ssoSecret", "userPassword"):
        w.pulumi("config", "set", "--secret", key, secrets.token_hex(20), "-s", "test")
    w.pulumi("config", "set", "--path", "webRedirects[0]", REDIRECTS[0], "-s", "test")
    w.pulumi("config", "set", "--path", "webRedirects[1]", REDIRECTS[1], "-s", "test")
    return w


def _claims(jwt: str) -> dict[str, Any]:
    body = jwt.split(".")[1]
    return dict(json.loads(base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))))


def _client(server: Keycloak, client_id: str) -> dict[str, Any]:
    [c] = server.admin(f"/{REALM}/clients?clientId={client_id}")
    return dict(c)


def _mappers(server: Keycloak, uuid: str) -> dict[str, dict[str, Any]]:
    return {m["name"]: m for m in server.admin(f"/{REALM}/clients/{uuid}/protocol-mappers/models")}


def test_lifecycle(server: Keycloak, ws: Workspace) -> None:
    cfg = {
        k: ws.pulumi("config", "get", k, "-s", "test").stdout.strip() for k in ("svcSecret", "userPassword")
    }

    # -- preview (unknown ids flow through) and create -------------------------------------
    pre = ws.pulumi("preview", "--json", "-s", "test")
    assert changes(pre) == {"create": ALL}
    ws.pulumi("up", "--yes", "--skip-preview", "-s", "test")
    outs = ws.pulumi("stack", "output", "--json", "--show-secrets", "-s", "test").json()

    realm = server.admin(f"/{REALM}")
    assert outs["realmId"] == REALM  # upstream: the realm's id is its name
    assert outs["internalId"] == realm["id"]
    assert outs["lifespan"] == "5m0s"  # upstream reads seconds back as a Go duration
    assert (realm["enabled"], realm["displayName"], realm["sslRequired"], realm["accessTokenLifespan"]) == (
        True,
        "pvk test",
        "external",
        300,
    )
    assert (realm["bruteForceProtected"], realm["failureFactor"], realm["maxFailureWaitSeconds"]) == (
        True,
        5,
        900,
    )

    roles = {r["name"]: r for r in server.admin(f"/{REALM}/roles")}
    ids = outs["roleIds"]
    assert {n: roles[n]["id"] for n in ("kg:read", "kg:write", "webui:admin")} == {
        "kg:read": ids["read"],
        "kg:write": ids["write"],
        "webui:admin": ids["admin"],
    }
    composites = server.admin(f"/{REALM}/roles-by-id/{ids['write']}/composites")
    assert [r["id"] for r in composites] == [ids["read"]]

    svc, web, sso = (_client(server, f"pvk-{n}") for n in ("svc", "web", "sso"))
    cids = outs["clientIds"]
    assert (svc["id"], web["id"], sso["id"]) == (cids["svc"], cids["web"], cids["sso"])
    assert not svc["publicClient"] and svc["serviceAccountsEnabled"] and not svc["standardFlowEnabled"]
    assert not svc["directAccessGrantsEnabled"] and svc["name"] == "pvk service"
    assert outs["svcSecret"] == cfg["svcSecret"]
    assert server.admin(f"/{REALM}/clients/{svc['id']}/client-secret")["value"] == cfg["svcSecret"]
    sa_user = server.admin(f"/{REALM}/clients/{svc['id']}/service-account-user")
    assert outs["svcServiceAccount"] == sa_user["id"]
    assert outs["webServiceAccount"] == "" and outs["webSecret"] == ""
    assert web["publicClient"] and web["standardFlowEnabled"] and not web["implicitFlowEnabled"]
    assert not web["directAccessGrantsEnabled"]
    assert web["attributes"]["pkce.code.challenge.method"] == "S256"
    assert sorted(web["redirectUris"]) == sorted(REDIRECTS)
    assert web["webOrigins"] == ["https://web.pvk.test"]
    assert web["attributes"]["post.logout.redirect.uris"] == "https://web.pvk.test/*"
    assert sso["rootUrl"] == "https://sso.pvk.test" and sso["redirectUris"] == ["https://sso.pvk.test/login"]

    aud = _mappers(server, web["id"])["audience-pvk-api"]
    assert aud["protocolMapper"] == "oidc-audience-mapper"
    assert aud["config"]["included.client.audience"] == "pvk-api"
    assert (aud["config"]["access.token.claim"], aud["config"]["id.token.claim"]) == ("true", "false")
    rm = _mappers(server, sso["id"])["realm-roles"]
    assert rm["protocolMapper"] == "oidc-usermodel-realm-role-mapper"
    assert {
        k: rm["config"][k] for k in ("claim.name", "multivalued", "userinfo.token.claim", "id.token.claim")
    } == {
        "claim.name": "roles",
        "multivalued": "true",
        "userinfo.token.claim": "true",
        "id.token.claim": "true",
    }

    sa_roles = {r["name"] for r in server.admin(f"/{REALM}/users/{sa_user['id']}/role-mappings/realm")}
    assert "kg:write" in sa_roles

    [user] = server.admin(f"/{REALM}/users?username=pvk-admin&exact=true")
    assert user["id"] == outs["userId"] and user["enabled"]
    assert [c["type"] for c in server.admin(f"/{REALM}/users/{user['id']}/credentials")] == ["password"]
    user_roles = {r["name"] for r in server.admin(f"/{REALM}/users/{user['id']}/role-mappings/realm")}
    assert {
        "kg:write",
        "webui:admin",
        f"default-roles-{REALM}",
    } <= user_roles  # exhaustive=False keeps defaults

    # -- the client credentials grant: audience and roles --------------------------------
    form = {"grant_type": "client_credentials", "client_id": "pvk-svc", "client_secret": cfg["svcSecret"]}
    claims = _claims(server.token(REALM, form)["access_token"])
    aud_claim = claims["aud"] if isinstance(claims["aud"], list) else [claims["aud"]]
    assert "pvk-api" in aud_claim
    assert {"kg:write", "kg:read"} <= set(claims["roles"])  # the mapper's claim, composite expanded
    assert claims["exp"] - claims["iat"] == 300  # the realm's access token lifespan
    with pytest.raises(urllib.error.HTTPError) as refused:
        server.token(REALM, {**form, "client_secret": "wrong"})
    assert refused.value.code == 401

    # the secrets stay secret in the state (inputs and outputs)
    state_text = ws.pulumi("stack", "export", "-s", "test").stdout
    for secret in (cfg["svcSecret"], cfg["userPassword"], server.password):
        assert secret not in state_text

    # -- nothing to do -------------------------------------------------------------------
    again = ws.pulumi("up", "--yes", "--skip-preview", "--json", "-s", "test")
    assert changes(again) == {"same": ALL}
    ws.pulumi("refresh", "--yes", "--expect-no-changes", "-s", "test")
    ws.pulumi("preview", "--expect-no-changes", "-s", "test")

    # -- one client's redirect URIs: that client only, in place --------------------------
    ws.pulumi("config", "set", "--path", "webRedirects[1]", "http://[::1]/*", "-s", "test")
    up = ws.pulumi("up", "--yes", "--skip-preview", "--json", "-s", "test")
    ops = changes(up)
    assert ops.get("update") == ["web"] and "replace" not in ops and "create" not in ops, ops
    web2 = _client(server, "pvk-web")
    assert web2["id"] == web["id"] and sorted(web2["redirectUris"]) == sorted(
        [REDIRECTS[0], "http://[::1]/*"]
    )
    ws.pulumi("refresh", "--yes", "--expect-no-changes", "-s", "test")

    # -- drift: a mapper deleted outside Pulumi is gone after refresh, and recreated -----
    server.admin(f"/{REALM}/clients/{web['id']}/protocol-mappers/models/{aud['id']}", method="DELETE")
    ws.pulumi("refresh", "--yes", "--skip-preview", "-s", "test")
    state = ws.pulumi("stack", "export", "-s", "test").json()
    assert [r for r in state["deployment"]["resources"] if r["urn"].endswith("::aud-web")] == []
    up = ws.pulumi("up", "--yes", "--skip-preview", "--json", "-s", "test")
    assert changes(up).get("create") == ["aud-web"], changes(up)
    assert "audience-pvk-api" in _mappers(server, web["id"])

    # -- the admin session: a rejected token and an expired one both log in again ---------
    api = kc.AdminApi(
        {
            "url": server.url,
            "clientId": "admin-cli",
            "username": ADMIN,
            "password": server.password,
            "realm": "master",
            "rootCaCertificate": server.ca_pem,
            "clientTimeout": "30",
        }
    )
    assert api.get(f"/realms/{REALM}")["realm"] == REALM
    api._token, api._expires = "not-a-token", time.monotonic() + 3600  # pyright: ignore[reportPrivateUsage]
    assert api.get(f"/realms/{REALM}")["realm"] == REALM  # 401, login, retried
    api._expires = 0.0  # pyright: ignore[reportPrivateUsage]
    assert api.get(f"/realms/{REALM}")["realm"] == REALM
    with pytest.raises(kc.NotFoundError):
        api.get("/realms/pvk-none")

    # -- destroy ---------------------------------------------------------------------------
    ws.pulumi("destroy", "--yes", "-s", "test")
    assert server.status(f"/{REALM}") == 404


# -- without Keycloak: what the provider refuses and how it spells durations ---------------


def test_unimplemented_properties_are_refused() -> None:
    p = kc.KeycloakProvider("6.14.1")
    role = p.resources["keycloak:index/role:Role"]
    with pytest.raises(ProviderError, match="description not implemented"):
        role.check({}, {"realmId": "r", "name": "n", "description": "d"})
    client = p.resources["keycloak:openid/client:Client"]
    with pytest.raises(ProviderError, match="consentRequired not implemented"):
        client.check({}, {"realmId": "r", "clientId": "c", "accessType": "PUBLIC", "consentRequired": True})
    with pytest.raises(ProviderError, match="accessTokenLifespan"):
        p.resources["keycloak:index/realm:Realm"].check(
            {}, {"realm": "r", "accessTokenLifespan": "5 minutes"}
        )
    with pytest.raises(ProviderError, match="clientSecret"):
        p.configure({"url": "https://kc", "clientSecret": "x", "initialLogin": "false"})
    with pytest.raises(ProviderError, match="all lowercase"):
        p.resources["keycloak:index/user:User"].check({}, {"realmId": "r", "username": "Admin"})


def test_defaults_and_diffs_follow_the_upstream() -> None:
    p = kc.KeycloakProvider("6.14.1")
    realm = p.resources["keycloak:index/realm:Realm"]
    assert realm.check({}, {"realm": "r"}) == {"realm": "r", "enabled": True, "sslRequired": "external"}
    old = {"realm": "r", "accessTokenLifespan": "5m", "displayName": "x"}
    # the same seconds, a displayName no longer in config: no diff (DiffSuppressFuncs)
    assert realm.diff("r", old, {}, {"realm": "r", "accessTokenLifespan": "300s"}).updates == []
    d = realm.diff("r", old, {}, {"realm": "s", "accessTokenLifespan": "5m", "displayName": "x"})
    assert (d.updates, d.replaces) == (["realm"], ["realm"])
    client = p.resources["keycloak:openid/client:Client"]
    base = {"realmId": "r", "clientId": "c", "accessType": "PUBLIC", "validRedirectUris": ["a", "b"]}
    assert client.diff("id", base, {}, {**base, "validRedirectUris": ["b", "a"]}).updates == []
    d = client.diff("id", base, {}, {**base, "realmId": "q", "validRedirectUris": ["a"]})
    assert (d.updates, d.replaces) == (["realmId", "validRedirectUris"], ["realmId"])
    user = p.resources["keycloak:index/user:User"]
    u = {"realmId": "r", "username": "u", "initialPassword": {"value": "a", "temporary": False}}
    assert user.diff("id", u, {}, {**u, "initialPassword": {"value": "b", "temporary": False}}).updates == []
    sa = p.resources["keycloak:openid/clientServiceAccountRealmRole:ClientServiceAccountRealmRole"]
    s = {"realmId": "r", "serviceAccountUserId": "x", "role": "a"}
    assert sa.diff("x/1", s, {}, {**s, "role": "b"}).replaces == ["role"]
    assert [kc.duration_string(n) for n in (0, 45, 300, 3600, 5400)] == [
        "0s",
        "45s",
        "5m0s",
        "1h0m0s",
        "1h30m0s",
    ]
    assert [kc.duration_seconds(s) for s in ("5m", "1h30m", "1.5h", "300s", "0")] == [300, 5400, 5400, 300, 0]


def test_brute_force_detection_maps_as_the_upstream_does() -> None:
    realm = kc.KeycloakProvider("6.14.1").resources["keycloak:index/realm:Realm"]
    assert isinstance(realm, kc.Realm)
    checked = realm.check(
        {}, {"realm": "r", "securityDefenses": {"bruteForceDetection": {"maxLoginFailures": 5}}}
    )
    bfd = checked["securityDefenses"]["bruteForceDetection"]
    # The upstream schema's defaults fill what the program leaves out.
    assert bfd == {
        "permanentLockout": False,
        "maxLoginFailures": 5,
        "waitIncrementSeconds": 60,
        "quickLoginCheckMilliSeconds": 1000,
        "minimumQuickLoginWaitSeconds": 60,
        "maxFailureWaitSeconds": 900,
        "failureResetTimeSeconds": 43200,
    }
    rep = realm.rep(checked)
    assert (rep["bruteForceProtected"], rep["failureFactor"], rep["maxDeltaTimeSeconds"]) == (True, 5, 43200)
    assert realm.rep({"realm": "r"})["bruteForceProtected"] is False  # no block: off
    with pytest.raises(ProviderError, match=r"securityDefenses\.headers not implemented"):
        realm.check({}, {"realm": "r", "securityDefenses": {"headers": {"xFrameOptions": "DENY"}}})
    with pytest.raises(ProviderError, match="bruteForceStrategy not"):
        realm.check(
            {}, {"realm": "r", "securityDefenses": {"bruteForceDetection": {"bruteForceStrategy": "x"}}}
        )
