"""vault: Mount, AuthBackend, Policy, AppRole role + SecretID, KV v2 secret, as
hashicorp/terraform-provider-vault (v5, which pulumi-vault 7.x wraps) makes them, over the
Vault HTTP API (OpenBao speaks it).

Provider: `address` (or VAULT_ADDR), then a token: `token` (or VAULT_TOKEN), else
`authLogin` ({path, parameters[, namespace]}, a JSON string on the wire) logged in with
`POST /v1/<path>`. Unless `skipChildToken`, a child token is created as the upstream does
(`auth/token/create`, ttl = `maxLeaseTtlSeconds`, default 1200 s, display name `tokenName`,
default "terraform"). `caCertFile` (relative to the plugin's cwd, the project directory) and
`skipTlsVerify` set the TLS trust; requests are retried `maxRetries` times (default 2) on a
5xx or a connection error. The login happens at the first API call, so a preview with
unknown credentials needs none.

IDs and replacement (ForceNew) as the upstream:
* Mount: ID = path; type/local/sealWrap/externalEntropyAccess replace; a new path is a
  remount (`sys/remount`), the rest a tune. Delete unmounts.
* AuthBackend: ID = path (default: the type); type/local replace; a new path is a remount
  (refused with disableRemount), a new description a tune. Delete disables it.
* Policy: ID = name; name replaces, the text updates (`sys/policies/acl/<name>`, as the vault API client's PutPolicy).
* AuthBackendRole: ID = `auth/<backend>/role/<roleName>`; backend (default "approle") and
  roleName replace; roleId updates through `role-id`. Outputs include the roleId.
* AuthBackendRoleSecretId: every input replaces; `secretId` given -> `custom-secret-id`,
  else `secret-id`. ID = `backend=<b>::role=<r>::accessor=<accessor>`; read looks the
  accessor up, delete destroys it. Outputs: secretId, accessor.
* SecretV2: ID = `<mount>/data/<name>`; mount/name replace; dataJson compared as JSON
  (the upstream normalises it); read (v5) does not read the data back (`data` is {}), only
  `metadata`. Delete soft-deletes the latest version (all versions with deleteAllVersions).

Anything else these resources could take (namespaces, wrapping, custom metadata, auth
tune, other login methods) is refused when set."""

from __future__ import annotations

import json
import os
import ssl
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any, ClassVar

from verify.providers.base import UNKNOWN, Diff, Provider, ProviderError, Resource, is_unknown

UNSUPPORTED_LOGINS = (
    "authLoginAws",
    "authLoginAzure",
    "authLoginCert",
    "authLoginGcp",
    "authLoginJwt",
    "authLoginKerberos",
    "authLoginOci",
    "authLoginOidc",
    "authLoginRadius",
    "authLoginTokenFile",
    "authLoginUserpass",
    "clientAuth",
    "tlsServerName",
    "caCertDir",
)


def as_bool(v: Any, default: bool) -> bool:
    if v is None or v == "":
        return default
    if isinstance(v, str):
        return v.strip().lower() in ("1", "t", "true", "yes", "on")
    return bool(v)


def as_int(v: Any, default: int) -> int:
    if v is None or v == "":
        return default
    return int(float(v))


def maybe_json(v: Any) -> Any:
    if isinstance(v, str):
        try:
            return json.loads(v)
        except ValueError:
            return v
    return v


def seg(s: str) -> str:
    """A path segment for the URL (the API paths keep their slashes)."""
    return urllib.parse.quote(s.strip("/"), safe="/")


class VaultApiError(ProviderError):
    def __init__(self, method: str, path: str, status: int, errors: list[str]) -> None:
        self.status, self.errors = status, errors
        super().__init__(f"vault: {method} {path}: HTTP {status}: {'; '.join(errors) or 'no detail'}")


class Client:
    def __init__(self, config: dict[str, Any]) -> None:
        self.config = config
        self._token: str | None = None

    @property
    def address(self) -> str:
        addr = self.config.get("address") or os.environ.get("VAULT_ADDR")
        if not addr:
            raise ProviderError("vault: the provider needs `address` (or VAULT_ADDR)")
        return str(addr).rstrip("/")

    def _context(self) -> ssl.SSLContext:
        if as_bool(self.config.get("skipTlsVerify"), False):
            ctx = ssl.create_default_context()
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            return ctx
        ca = self.config.get("caCertFile") or os.environ.get("VAULT_CACERT")
        return ssl.create_default_context(cafile=str(Path(str(ca)).resolve()) if ca else None)

    def _send(
        self, method: str, path: str, body: Any, token: str | None, namespace: str | None = None
    ) -> tuple[int, dict[str, Any]]:
        data = json.dumps(body).encode() if body is not None else None
        retries = as_int(self.config.get("maxRetries"), 2)
        ns = namespace or self.config.get("namespace")
        for attempt in range(retries + 1):
            req = urllib.request.Request(f"{self.address}/v1/{path}", method=method, data=data)
            req.add_header("Content-Type", "application/json")
            if token:
                req.add_header("X-Vault-Token", token)
            if ns:
                req.add_header("X-Vault-Namespace", str(ns))
            try:
                with urllib.request.urlopen(req, timeout=60, context=self._context()) as r:
                    status, raw = r.status, r.read()
            except urllib.error.HTTPError as e:
                status, raw = e.code, e.read()
            except (urllib.error.URLError, OSError) as e:
                if attempt < retries:
                    time.sleep(min(2**attempt, 10))
                    continue
                raise ProviderError(f"vault: {method} {self.address}/v1/{path}: {e}") from e
            if status >= 500 and status != 501 and attempt < retries:
                time.sleep(min(2**attempt, 10))
                continue
            text = raw.decode(errors="replace").strip()
            try:
                doc = json.loads(text) if text else {}
            except ValueError:
                doc = {"errors": [text[:500]]}
            return status, doc if isinstance(doc, dict) else {"data": doc}
        raise AssertionError("unreachable")

    @property
    def token(self) -> str:
        if self._token is None:
            self._token = self._login()
        return self._token

    def _login(self) -> str:
        c = self.config
        if is_unknown(c):
            raise ProviderError("vault: the provider configuration is not known yet")
        for key in UNSUPPORTED_LOGINS:
            if c.get(key):
                raise ProviderError(f"vault: provider `{key}` is not supported by this provider")
        token = c.get("token") or os.environ.get("VAULT_TOKEN")
        login = maybe_json(c.get("authLogin"))
        if isinstance(login, list) and login:
            login = login[0]
        if isinstance(login, dict) and login.get("path"):
            lg: dict[str, Any] = login
            if lg.get("method"):
                raise ProviderError("vault: authLogin.method is not supported by this provider")
            path = str(lg["path"]).strip("/")
            params = {k: str(v) for k, v in dict(lg.get("parameters") or {}).items()}
            status, doc = self._send("POST", path, params, None, lg.get("namespace"))
            auth = doc.get("auth") or {}
            if status != 200 or not auth.get("client_token"):
                raise VaultApiError(
                    "POST", path, status, list(doc.get("errors") or ["no token in the reply"])
                )
            token = str(auth["client_token"])
        if not token:
            raise ProviderError("vault: no token: set `token` or `authLogin`")
        if not as_bool(c.get("skipChildToken"), False):
            ttl = f"{as_int(c.get('maxLeaseTtlSeconds'), 1200)}s"
            name = str(c.get("tokenName") or "terraform")
            status, doc = self._send(
                "POST",
                "auth/token/create",
                {"ttl": ttl, "explicit_max_ttl": ttl, "display_name": name},
                str(token),
            )
            auth = doc.get("auth") or {}
            if status != 200 or not auth.get("client_token"):
                raise VaultApiError("POST", "auth/token/create", status, list(doc.get("errors") or []))
            token = str(auth["client_token"])
        return str(token)

    def raw(self, method: str, path: str, body: Any = None) -> tuple[int, dict[str, Any]]:
        return self._send(method, path, body, self.token)

    def call(self, method: str, path: str, body: Any = None, ok404: bool = False) -> dict[str, Any] | None:
        status, doc = self._send(method, path, body, self.token)
        if status == 404 and ok404:
            return None
        if status >= 400:
            raise VaultApiError(method, path, status, [str(e) for e in doc.get("errors") or []])
        return doc


class VaultResource(Resource):
    defaults: ClassVar[dict[str, Any]] = {}
    computed: ClassVar[frozenset[str]] = frozenset()  # Optional+Computed: left out keeps the live value
    unsupported: ClassVar[frozenset[str]] = frozenset({"namespace"})
    sets: ClassVar[frozenset[str]] = frozenset()  # TypeSet properties: order does not matter
    json_keys: ClassVar[frozenset[str]] = frozenset()  # compared as parsed JSON
    noun: ClassVar[str] = "object"  # in "not found after writing it"

    def _read_or_fail(self, id_: str, state: dict[str, Any], inputs: dict[str, Any]) -> dict[str, Any]:
        """The outputs read back right after a write (a write that left nothing is an error)."""
        got = self.read(id_, state, inputs)
        if got is None:
            raise ProviderError(f"{self.type_token}: {self.noun} {id_} not found after writing it")
        return got[0]

    @property
    def client(self) -> Client:
        p = self.provider
        assert isinstance(p, VaultProvider)
        return p.client

    def with_defaults(self, inputs: dict[str, Any]) -> dict[str, Any]:
        return {**self.defaults, **{k: v for k, v in inputs.items() if not k.startswith("__")}}

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
        for key in sorted(self.unsupported):
            if news.get(key) not in (None, "", [], {}, False) and not is_unknown(news[key]):
                raise ProviderError(f"{self.type_token}: `{key}` is not supported by this provider")
        return news

    def same(self, key: str, a: Any, b: Any) -> bool:
        if key in self.sets and isinstance(a, list) and isinstance(b, list):
            return sorted(map(str, a)) == sorted(map(str, b))  # pyright: ignore[reportUnknownArgumentType]
        if key in self.json_keys and isinstance(a, str) and isinstance(b, str):
            return maybe_json(a) == maybe_json(b)
        return a == b

    def diff(self, id_: str, old_inputs: dict[str, Any], state: dict[str, Any], news: dict[str, Any]) -> Diff:
        old, new = self.with_defaults(old_inputs), self.with_defaults(news)
        keys = sorted(
            k
            for k in set(old) | set(new)
            if not self.same(k, old.get(k), new.get(k)) and not (k in self.computed and k not in news)
        )
        return Diff(updates=keys, replaces=[k for k in keys if k in self.replace_on])

    def live_inputs(self, inputs: dict[str, Any], live: dict[str, Any]) -> dict[str, Any]:
        out: dict[str, Any] = {}
        for k, v in inputs.items():
            out[k] = v if k not in live or self.same(k, v, live[k]) else live[k]
        return out

    def outputs(self, state: dict[str, Any], live: dict[str, Any]) -> dict[str, Any]:
        merged = {**self.with_defaults(state), **live}
        for k in self.sets:  # keep the program's order when the set is the same
            if k in state and k in live and self.same(k, state[k], live[k]):
                merged[k] = state[k]
        return merged


# -- Mount -----------------------------------------------------------------------------------


class Mount(VaultResource):
    noun: ClassVar[str] = "mount"
    type_token = "vault:index/mount:Mount"
    replace_on: ClassVar[frozenset[str]] = frozenset({"type", "local", "sealWrap", "externalEntropyAccess"})
    computed: ClassVar[frozenset[str]] = frozenset(
        {"defaultLeaseTtlSeconds", "maxLeaseTtlSeconds", "options", "sealWrap", "externalEntropyAccess"}
    )
    defaults: ClassVar[dict[str, Any]] = {"local": False}
    unsupported: ClassVar[frozenset[str]] = frozenset(
        {
            "namespace",
            "allowedManagedKeys",
            "allowedResponseHeaders",
            "auditNonHmacRequestKeys",
            "auditNonHmacResponseKeys",
            "delegatedAuthAccessors",
            "identityTokenKey",
            "listingVisibility",
            "passthroughRequestHeaders",
            "pluginVersion",
            "forceNoCache",
        }
    )

    def create(self, inputs: dict[str, Any], preview: bool) -> tuple[str, dict[str, Any]]:
        i = self.with_defaults(inputs)
        if preview:
            return "", {"accessor": UNKNOWN, **{k: UNKNOWN for k in self.computed}, **i}
        path = str(i["path"]).strip("/")
        self.client.call(
            "POST",
            f"sys/mounts/{seg(path)}",
            {
                "type": i["type"],
                "description": i.get("description", ""),
                "config": {
                    "default_lease_ttl": f"{as_int(i.get('defaultLeaseTtlSeconds'), 0)}s",
                    "max_lease_ttl": f"{as_int(i.get('maxLeaseTtlSeconds'), 0)}s",
                },
                "local": as_bool(i.get("local"), False),
                "seal_wrap": as_bool(i.get("sealWrap"), False),
                "external_entropy_access": as_bool(i.get("externalEntropyAccess"), False),
                "options": {k: str(v) for k, v in dict(i.get("options") or {}).items()},
            },
        )
        return path, self._read_or_fail(path, i, inputs)

    def update(
        self, id_: str, old_inputs: dict[str, Any], state: dict[str, Any], news: dict[str, Any], preview: bool
    ) -> dict[str, Any]:
        new = self.with_defaults(news)
        if preview:
            return {**state, **new}
        path = str(state.get("path") or id_).strip("/")
        to = str(new["path"]).strip("/")
        if to != path:
            remount(self.client, path, to)
            path = to
        tune: dict[str, Any] = {
            "default_lease_ttl": f"{as_int(new.get('defaultLeaseTtlSeconds'), 0)}s",
            "max_lease_ttl": f"{as_int(new.get('maxLeaseTtlSeconds'), 0)}s",
            "options": {k: str(v) for k, v in dict(new.get("options") or {}).items()},
        }
        if old_inputs.get("description") != news.get("description"):
            tune["description"] = news.get("description", "")
        self.client.call("POST", f"sys/mounts/{seg(path)}/tune", tune)
        return self._read_or_fail(path, {**state, **new, "path": path}, news)

    def delete(self, id_: str, state: dict[str, Any]) -> None:
        self.client.call("DELETE", f"sys/mounts/{seg(str(state.get('path') or id_))}")

    def read(
        self, id_: str, state: dict[str, Any], inputs: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]] | None:
        path = str(state.get("path") or id_).strip("/")
        try:
            doc = self.client.call("GET", f"sys/mounts/{seg(path)}", ok404=True)
        except VaultApiError as e:
            if e.status == 400 and any("no matching mount" in x for x in e.errors):
                return None
            raise
        if doc is None:
            return None
        m: dict[str, Any] = doc.get("data") or doc
        cfg: dict[str, Any] = m.get("config") or {}
        mtype = str(m.get("type", ""))
        options: dict[str, Any] = dict(m.get("options") or {})
        if state.get("type") == "kv-v2" and mtype == "kv" and options.get("version") == "2":
            mtype = "kv-v2"  # the upstream's alias handling
            if not dict(state.get("options") or {}).get("version"):
                options.pop("version", None)
        live: dict[str, Any] = {
            "path": path,
            "type": mtype,
            "description": m.get("description", ""),
            "accessor": m.get("accessor", ""),
            "defaultLeaseTtlSeconds": cfg.get("default_lease_ttl", 0),
            "maxLeaseTtlSeconds": cfg.get("max_lease_ttl", 0),
            "forceNoCache": bool(cfg.get("force_no_cache", False)),
            "local": bool(m.get("local", False)),
            "sealWrap": bool(m.get("seal_wrap", False)),
            "externalEntropyAccess": bool(m.get("external_entropy_access", False)),
            "options": options,
        }
        return self.outputs(state, live), self.live_inputs(inputs, live)


def remount(client: Client, path: str, to: str) -> None:
    """`sys/remount`, waiting for the migration when the server runs it asynchronously."""
    doc = client.call("POST", "sys/remount", {"from": path, "to": to}) or {}
    migration = (doc.get("data") or {}).get("migration_id") or doc.get("migration_id")
    if not migration:
        return
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        st = client.call("GET", f"sys/remount/status/{seg(str(migration))}") or {}
        status = ((st.get("data") or {}).get("migration_info") or {}).get("status")
        if status == "success":
            return
        if status == "failure":
            raise ProviderError(f"vault: remount {path} -> {to} failed")
        time.sleep(1)
    raise ProviderError(f"vault: remount {path} -> {to} did not finish in 120 s")


# -- AuthBackend -----------------------------------------------------------------------------


class AuthBackend(VaultResource):
    noun: ClassVar[str] = "auth backend"
    type_token = "vault:index/authBackend:AuthBackend"
    replace_on: ClassVar[frozenset[str]] = frozenset({"type", "local"})
    defaults: ClassVar[dict[str, Any]] = {"local": False, "disableRemount": False, "description": ""}
    unsupported: ClassVar[frozenset[str]] = frozenset({"namespace", "tune", "identityTokenKey"})

    def create(self, inputs: dict[str, Any], preview: bool) -> tuple[str, dict[str, Any]]:
        i = self.with_defaults(inputs)
        path = str(i.get("path") or i["type"]).strip("/")
        if preview:
            return "", {"accessor": UNKNOWN, **i, "path": path}
        self.client.call(
            "POST",
            f"sys/auth/{seg(path)}",
            {
                "type": i["type"],
                "description": i.get("description", ""),
                "local": as_bool(i.get("local"), False),
            },
        )
        return path, self._read_or_fail(path, {**i, "path": path}, inputs)

    def update(
        self, id_: str, old_inputs: dict[str, Any], state: dict[str, Any], news: dict[str, Any], preview: bool
    ) -> dict[str, Any]:
        new = self.with_defaults(news)
        path = str(state.get("path") or id_).strip("/")
        to = str(new.get("path") or new["type"]).strip("/")
        if preview:
            return {**state, **new, "path": to}
        if to != path:
            if as_bool(new.get("disableRemount"), False):
                raise ProviderError(f"{self.type_token}: path changed to {to} but disableRemount is set")
            remount(self.client, f"auth/{path}", f"auth/{to}")
            path = to
        if old_inputs.get("description", "") != news.get("description", ""):
            self.client.call(
                "POST", f"sys/auth/{seg(path)}/tune", {"description": news.get("description", "")}
            )
        return self._read_or_fail(path, {**state, **new, "path": path}, news)

    def delete(self, id_: str, state: dict[str, Any]) -> None:
        self.client.call("DELETE", f"sys/auth/{seg(str(state.get('path') or id_))}")

    def read(
        self, id_: str, state: dict[str, Any], inputs: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]] | None:
        # Upstream (mountutil.GetAuthMount): GET sys/auth/<path>, 404 = gone; the list of
        # every auth mount (GET sys/auth) is more than the scoped admin policy grants.
        path = str(state.get("path") or id_).strip("/")
        doc = self.client.call("GET", f"sys/auth/{seg(path)}", ok404=True)
        if doc is None:
            return None
        mm: dict[str, Any] = doc.get("data") or doc
        live: dict[str, Any] = {
            "path": path,
            "type": mm.get("type", ""),
            "description": mm.get("description", ""),
            "local": bool(mm.get("local", False)),
            "accessor": mm.get("accessor", ""),
        }
        return self.outputs(state, live), self.live_inputs(inputs, live)


# -- Policy ----------------------------------------------------------------------------------


class Policy(VaultResource):
    noun: ClassVar[str] = "policy"
    type_token = "vault:index/policy:Policy"
    replace_on: ClassVar[frozenset[str]] = frozenset({"name"})

    def create(self, inputs: dict[str, Any], preview: bool) -> tuple[str, dict[str, Any]]:
        if preview:
            return "", dict(inputs)
        name = str(inputs["name"])
        self.client.call("PUT", f"sys/policies/acl/{seg(name)}", {"policy": inputs["policy"]})
        return name, self._read_or_fail(name, inputs, inputs)

    def update(
        self, id_: str, old_inputs: dict[str, Any], state: dict[str, Any], news: dict[str, Any], preview: bool
    ) -> dict[str, Any]:
        if preview:
            return {**state, **news}
        self.client.call("PUT", f"sys/policies/acl/{seg(id_)}", {"policy": news["policy"]})
        return self._read_or_fail(id_, news, news)

    def delete(self, id_: str, state: dict[str, Any]) -> None:
        self.client.call("DELETE", f"sys/policies/acl/{seg(id_)}")

    def read(
        self, id_: str, state: dict[str, Any], inputs: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]] | None:
        doc = self.client.call("GET", f"sys/policies/acl/{seg(id_)}", ok404=True)
        if doc is None:
            return None
        data: dict[str, Any] = doc.get("data") or doc
        live = {"name": id_, "policy": data.get("policy", "")}
        return {**state, **live}, self.live_inputs(inputs, live)


# -- AppRole role ----------------------------------------------------------------------------

TOKEN_FIELDS: dict[str, str] = {
    "tokenTtl": "token_ttl",
    "tokenMaxTtl": "token_max_ttl",
    "tokenPolicies": "token_policies",
    "tokenBoundCidrs": "token_bound_cidrs",
    "tokenExplicitMaxTtl": "token_explicit_max_ttl",
    "tokenNoDefaultPolicy": "token_no_default_policy",
    "tokenNumUses": "token_num_uses",
    "tokenPeriod": "token_period",
    "tokenType": "token_type",
}
ROLE_FIELDS: dict[str, str] = {
    "bindSecretId": "bind_secret_id",
    "secretIdNumUses": "secret_id_num_uses",
    "secretIdTtl": "secret_id_ttl",
    "secretIdBoundCidrs": "secret_id_bound_cidrs",
    "localSecretIds": "local_secret_ids",
}
INT_FIELDS = frozenset(
    {
        "tokenTtl",
        "tokenMaxTtl",
        "tokenExplicitMaxTtl",
        "tokenNumUses",
        "tokenPeriod",
        "secretIdNumUses",
        "secretIdTtl",
    }
)


def role_path(backend: str, role: str) -> str:
    return f"auth/{backend.strip('/')}/role/{role.strip('/')}"


class AuthBackendRole(VaultResource):
    noun: ClassVar[str] = "role"
    type_token = "vault:appRole/authBackendRole:AuthBackendRole"
    replace_on: ClassVar[frozenset[str]] = frozenset({"backend", "roleName"})
    computed: ClassVar[frozenset[str]] = frozenset({"roleId"})
    defaults: ClassVar[dict[str, Any]] = {"backend": "approle", "bindSecretId": True, "localSecretIds": False}
    sets: ClassVar[frozenset[str]] = frozenset({"tokenPolicies", "tokenBoundCidrs", "secretIdBoundCidrs"})
    unsupported: ClassVar[frozenset[str]] = frozenset({"namespace", "aliasMetadata"})

    @staticmethod
    def _body(i: dict[str, Any], keys: set[str]) -> dict[str, Any]:
        body: dict[str, Any] = {}
        for key, api in {**TOKEN_FIELDS, **ROLE_FIELDS}.items():
            if key in keys and key in i:
                body[api] = as_int(i[key], 0) if key in INT_FIELDS else i[key]
        return body

    def create(self, inputs: dict[str, Any], preview: bool) -> tuple[str, dict[str, Any]]:
        i = self.with_defaults(inputs)
        i["backend"] = str(i["backend"]).strip("/")
        path = role_path(i["backend"], str(i["roleName"]))
        if preview:
            return "", {"roleId": UNKNOWN, **i}
        self.client.call("POST", path, self._body(i, set(i)))
        if i.get("roleId"):
            self.client.call("POST", f"{path}/role-id", {"role_id": i["roleId"]})
        return path, self._read_or_fail(path, i, inputs)

    def update(
        self, id_: str, old_inputs: dict[str, Any], state: dict[str, Any], news: dict[str, Any], preview: bool
    ) -> dict[str, Any]:
        old, new = self.with_defaults(old_inputs), self.with_defaults(news)
        if preview:
            return {**state, **new}
        changed = {k for k in set(old) | set(new) if not self.same(k, old.get(k), new.get(k))}
        body = self._body(new, changed)
        for key in changed - set(new):  # removed: back to the server's default
            if key in TOKEN_FIELDS or key in ROLE_FIELDS:
                body[{**TOKEN_FIELDS, **ROLE_FIELDS}[key]] = [] if key in self.sets else 0
        self.client.call("POST", id_, body)
        if "roleId" in changed and new.get("roleId"):
            self.client.call("POST", f"{id_}/role-id", {"role_id": new["roleId"]})
        return self._read_or_fail(id_, {**state, **new}, news)

    def delete(self, id_: str, state: dict[str, Any]) -> None:
        self.client.call("DELETE", id_, ok404=True)

    def read(
        self, id_: str, state: dict[str, Any], inputs: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]] | None:
        backend, sep, role = id_.removeprefix("auth/").partition("/role/")
        if not sep:
            raise ProviderError(f"{self.type_token}: invalid ID {id_!r} (auth/<backend>/role/<name>)")
        doc = self.client.call("GET", id_, ok404=True)
        if doc is None:
            return None
        data: dict[str, Any] = doc.get("data") or {}
        live: dict[str, Any] = {"backend": backend, "roleName": role}
        for key, api in {**TOKEN_FIELDS, **ROLE_FIELDS}.items():
            if api in data:
                v = data[api]
                live[key] = [] if v is None and key in self.sets else v
        rid = self.client.call("GET", f"{id_}/role-id", ok404=True)
        if rid is not None:
            live["roleId"] = (rid.get("data") or {}).get("role_id", "")
        return self.outputs(state, live), self.live_inputs(inputs, live)


# -- AppRole secret ID -----------------------------------------------------------------------


class AuthBackendRoleSecretId(VaultResource):
    type_token = "vault:appRole/authBackendRoleSecretId:AuthBackendRoleSecretId"
    replace_on: ClassVar[frozenset[str]] = frozenset({"*"})
    defaults: ClassVar[dict[str, Any]] = {"backend": "approle", "withWrappedAccessor": False}
    sets: ClassVar[frozenset[str]] = frozenset({"cidrLists", "tokenBoundCidrs"})
    json_keys: ClassVar[frozenset[str]] = frozenset({"metadata"})
    unsupported: ClassVar[frozenset[str]] = frozenset({"namespace", "wrappingTtl", "withWrappedAccessor"})

    def diff(self, id_: str, old_inputs: dict[str, Any], state: dict[str, Any], news: dict[str, Any]) -> Diff:
        d = super().diff(id_, old_inputs, state, news)
        return Diff(updates=d.updates, replaces=list(d.updates))

    def create(self, inputs: dict[str, Any], preview: bool) -> tuple[str, dict[str, Any]]:
        i = self.with_defaults(inputs)
        backend, role = str(i["backend"]).strip("/"), str(i["roleName"]).strip("/")
        i["backend"] = backend
        if preview:
            return "", {"accessor": UNKNOWN, "secretId": i.get("secretId", UNKNOWN), **i}
        path = role_path(backend, role)
        body: dict[str, Any] = {"metadata": ""}
        if i.get("metadata"):
            body["metadata"] = json.dumps(maybe_json(i["metadata"]), separators=(",", ":"))
        if i.get("cidrLists"):
            body["cidr_list"] = ",".join(map(str, i["cidrLists"]))
        if i.get("tokenBoundCidrs"):
            body["token_bound_cidrs"] = ",".join(map(str, i["tokenBoundCidrs"]))
        if i.get("ttl"):
            body["ttl"] = as_int(i["ttl"], 0)
        if i.get("numUses"):
            body["num_uses"] = as_int(i["numUses"], 0)
        if i.get("secretId"):
            body["secret_id"] = i["secretId"]
            doc = self.client.call("POST", f"{path}/custom-secret-id", body) or {}
        else:
            doc = self.client.call("POST", f"{path}/secret-id", body) or {}
        data: dict[str, Any] = doc.get("data") or {}
        accessor = str(data["secret_id_accessor"])
        id_ = f"backend={backend}::role={role}::accessor={accessor}"
        state = {**i, "secretId": data.get("secret_id", i.get("secretId")), "accessor": accessor}
        got = self.read(id_, state, inputs)
        if got is None:
            raise ProviderError(f"{self.type_token}: secret ID {accessor} not found after creating it")
        return id_, got[0]

    @staticmethod
    def parse(id_: str) -> tuple[str, str, str]:
        parts: dict[str, str] = {}
        for p in id_.split("::"):
            key, _, value = p.partition("=")
            parts[key] = value
        try:
            return parts["backend"], parts["role"], parts["accessor"]
        except KeyError:
            raise ProviderError(f"invalid AppRole secret ID resource ID {id_!r}") from None

    def update(
        self, id_: str, old_inputs: dict[str, Any], state: dict[str, Any], news: dict[str, Any], preview: bool
    ) -> dict[str, Any]:
        return {**state, **news}  # every input replaces: only no-op changes reach here

    def delete(self, id_: str, state: dict[str, Any]) -> None:
        backend, role, accessor = self.parse(id_)
        try:
            self.client.call(
                "POST",
                f"{role_path(backend, role)}/secret-id-accessor/destroy",
                {"secret_id_accessor": accessor},
            )
        except VaultApiError as e:
            if not gone(e, role):
                raise

    def read(
        self, id_: str, state: dict[str, Any], inputs: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]] | None:
        backend, role, accessor = self.parse(id_)
        try:
            doc = self.client.call(
                "POST",
                f"{role_path(backend, role)}/secret-id-accessor/lookup",
                {"secret_id_accessor": accessor},
                ok404=True,
            )
        except VaultApiError as e:
            if gone(e, role):
                return None
            raise
        data: dict[str, Any] = (doc or {}).get("data") or {}
        if not data:
            return None

        def cidrs(v: Any) -> list[str]:
            if isinstance(v, str):
                return [x for x in v.split(",") if x]
            return [str(x) for x in v or []]  # pyright: ignore[reportUnknownVariableType]

        live: dict[str, Any] = {
            "backend": backend,
            "roleName": role,
            "accessor": accessor,
            "cidrLists": cidrs(data.get("cidr_list")),
            "tokenBoundCidrs": cidrs(data.get("token_bound_cidrs")),
            "metadata": json.dumps(data.get("metadata") or {}, separators=(",", ":")),
            "ttl": data.get("secret_id_ttl", 0),
            "numUses": data.get("secret_id_num_uses", 0),
        }
        return self.outputs(state, live), self.live_inputs(inputs, live)


def gone(e: VaultApiError, role: str) -> bool:
    """The upstream's not-found cases: 404, an expired secret ID, a role deleted out of band."""
    text = " ".join(e.errors)
    return (
        e.status == 404
        or f'role "{role}" does not exist' in text
        or "failed to find accessor entry" in text
        or "invalid secret id accessor" in text.lower()
    )


# -- KV v2 secret ----------------------------------------------------------------------------


class SecretV2(VaultResource):
    noun: ClassVar[str] = "secret"
    type_token = "vault:kv/secretV2:SecretV2"
    replace_on: ClassVar[frozenset[str]] = frozenset({"mount", "name"})
    defaults: ClassVar[dict[str, Any]] = {"deleteAllVersions": False, "disableRead": False}
    json_keys: ClassVar[frozenset[str]] = frozenset({"dataJson"})
    unsupported: ClassVar[frozenset[str]] = frozenset(
        {"namespace", "customMetadata", "dataJsonWo", "dataJsonWoVersion"}
    )

    def _write(self, i: dict[str, Any]) -> str:
        mount, name = str(i["mount"]).strip("/"), str(i["name"]).strip("/")
        path = f"{mount}/data/{name}"
        data = maybe_json(i.get("dataJson"))
        if not isinstance(data, dict):
            raise ProviderError(f"{self.type_token}: dataJson must be a JSON object")
        options: dict[str, Any] = dict(i.get("options") or {})
        if i.get("cas") is not None:
            options["cas"] = as_int(i["cas"], 0)
        body: dict[str, Any] = {"data": data, "options": options}
        for attempt in range(10):  # the upstream's RetryWrite: a fresh kv-v2 mount is still upgrading
            try:
                self.client.call("POST", f"{seg(mount)}/data/{seg(name)}", body)
                break
            except VaultApiError as e:
                if attempt == 9 or not any("upgrad" in x.lower() for x in e.errors):
                    raise
                time.sleep(1)
        return path

    def create(self, inputs: dict[str, Any], preview: bool) -> tuple[str, dict[str, Any]]:
        i = self.with_defaults(inputs)
        if preview:
            return "", {"path": UNKNOWN, "metadata": UNKNOWN, "data": UNKNOWN, **i}
        path = self._write(i)
        return path, self._read_or_fail(path, i, inputs)

    def update(
        self, id_: str, old_inputs: dict[str, Any], state: dict[str, Any], news: dict[str, Any], preview: bool
    ) -> dict[str, Any]:
        new = self.with_defaults(news)
        if preview:
            return {**state, **new}
        path = self._write(new)
        return self._read_or_fail(path, {**state, **new}, news)

    def delete(self, id_: str, state: dict[str, Any]) -> None:
        mount, _, name = id_.partition("/data/")
        base = "metadata" if as_bool(state.get("deleteAllVersions"), False) else "data"
        self.client.call("DELETE", f"{seg(mount)}/{base}/{seg(name)}")

    def read(
        self, id_: str, state: dict[str, Any], inputs: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]] | None:
        mount, sep, name = id_.partition("/data/")
        if not sep:
            raise ProviderError(f"{self.type_token}: invalid ID {id_!r} (<mount>/data/<name>)")
        live: dict[str, Any] = {"path": id_, "mount": mount, "name": name}
        if not as_bool(state.get("disableRead"), False):
            status, doc = self.client.raw("GET", f"{seg(mount)}/data/{seg(name)}")
            if status == 404 and not doc.get("data"):
                return None  # as the vault client's Logical().Read: a 404 with no data is gone
            if status >= 400 and status != 404:
                raise VaultApiError(
                    "GET", f"{mount}/data/{name}", status, [str(x) for x in doc.get("errors") or []]
                )
            live["data"] = {}
            meta = (doc.get("data") or {}).get("metadata")
            if isinstance(meta, dict):
                md: dict[str, Any] = meta
                live["metadata"] = {
                    k: v if isinstance(v, str) else json.dumps(v, separators=(",", ":"))
                    for k, v in md.items()
                }
        return self.outputs(state, live), self.live_inputs(inputs, live)


class VaultProvider(Provider):
    package = "vault"
    resource_types = (Mount, AuthBackend, Policy, AuthBackendRole, AuthBackendRoleSecretId, SecretV2)

    def __init__(self, version: str) -> None:
        super().__init__(version)
        self.client = Client({})

    def configure(self, config: dict[str, Any]) -> None:
        self.config = config  # plain: base.py unwraps secret wrappers
        self.client = Client(self.config)


PROVIDER = VaultProvider
