"""keycloak: the eight resource types the program declares, through Keycloak's admin REST API,
as terraform-provider-keycloak v5.9 (what pulumi-keycloak 6.14.1 bridges) does it.

Upstream references are to github.com/keycloak/terraform-provider-keycloak at v5.9.0:
`provider/resource_keycloak_<type>.go` (schema: ForceNew, Default, DiffSuppressFunc) and
`keycloak/<type>.go` (the REST calls).

* Login (keycloak/keycloak_client.go): a password grant for `clientId` in `realm` against
  `url + basePath`; lazily on the first request when `initialLogin` is false, in Configure
  when true. Upstream logs in again on a 401/403 ("after creating a realm, following GETs
  return 403 until you refresh"); so does this, and also before a token expires (Keycloak's
  admin tokens live 60 s). 5xx/429/connection failures are retried (upstream: retryablehttp,
  5 retries). TLS: `rootCaCertificate` replaces the system roots (upstream: a CertPool with
  only that PEM); `tlsInsecureSkipVerify` turns verification off; `clientTimeout` seconds.
* IDs: realm = realm name; role, client, user, protocol mappers = Keycloak's UUID;
  ClientServiceAccountRealmRole = "<serviceAccountUserId>/<roleId>"; UserRoles =
  "<realmId>/<userId>".
* Check fills in the upstream defaults of the supported properties (as the bridge does)
  and refuses any property this provider does not implement. Validation that upstream
  runs at apply time (ValidateOpenidClient, mapper checks) runs in create/update, never in
  preview; nothing here talks to Keycloak during check, diff or preview.
* Diff: sets (TypeSet) compare unordered, duration strings by their seconds
  (suppressDurationStringDiff), `suppressDiffWhenNotInConfig` properties only when given,
  User.initialPassword never after create (onlyDiffOnCreate).
* Read returns None when the object is gone (upstream handleNotFoundError); the inputs it
  returns keep the program's spelling where the live value is equivalent.
"""

from __future__ import annotations

import json
import re
import ssl
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Mapping
from typing import Any, ClassVar

from verify.providers.base import UNKNOWN, Diff, Provider, ProviderError, Resource, is_unknown

RETRIES = 5
TOKEN_MARGIN_S = 10.0

# Provider config keys this provider implements; the others are refused when set.
CONFIG_KEYS = frozenset(
    {
        "url",
        "basePath",
        "clientId",
        "username",
        "password",
        "realm",
        "rootCaCertificate",
        "tlsInsecureSkipVerify",
        "clientTimeout",
        "initialLogin",
        "jwtSigningAlg",  # has a default (RS256); only used with jwtSigningKey
        "version",  # the SDK's plugin version, not a setting
    }
)


class NotFoundError(ProviderError):
    """Keycloak answered 404."""


def seg(s: str) -> str:
    return urllib.parse.quote(s, safe="")


def as_bool(v: Any, default: bool) -> bool:
    if v is None or v == "":
        return default
    if isinstance(v, bool):
        return v
    return str(v).strip().lower() == "true"


def as_int(v: Any, default: int) -> int:
    if v is None or v == "":
        return default
    return int(float(v))


# -- Go durations (time.ParseDuration / Duration.String), as the upstream stores them ------

_DURATION = re.compile(r"(\d+(?:\.\d*)?|\.\d+)(ns|us|µs|ms|s|m|h)")
_UNIT_S = {"ns": 1e-9, "us": 1e-6, "µs": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0, "h": 3600.0}


def duration_seconds(s: str) -> int:
    text = s.strip()
    sign = -1 if text.startswith("-") else 1
    text = text.lstrip("+-")
    if text == "0":
        return 0
    pos, total = 0, 0.0
    for m in _DURATION.finditer(text):
        if m.start() != pos:
            break
        total += float(m.group(1)) * _UNIT_S[m.group(2)]
        pos = m.end()
    if not text or pos != len(text):
        raise ProviderError(f"keycloak: {s!r} is not a duration (Go time.ParseDuration: e.g. 5m, 1h30m)")
    return sign * int(total)


def duration_string(seconds: int) -> str:
    """Go's `(time.Duration(seconds) * time.Second).String()`: 300 -> "5m0s"."""
    if seconds == 0:
        return "0s"
    sign = "-" if seconds < 0 else ""
    n = abs(seconds)
    h, rest = divmod(n, 3600)
    m, s = divmod(rest, 60)
    if h:
        return f"{sign}{h}h{m}m{s}s"
    if m:
        return f"{sign}{m}m{s}s"
    return f"{sign}{s}s"


# -- the admin REST client -------------------------------------------------------------------


class AdminApi:
    def __init__(self, config: Mapping[str, Any]) -> None:
        url = str(config.get("url") or "").rstrip("/")
        if not url:
            raise ProviderError("keycloak: the provider's url is not set")
        base_path = str(config.get("basePath") or "")
        self.auth_url = url + base_path
        self.admin_url = f"{self.auth_url}/admin"
        self.realm = str(config.get("realm") or "master")
        self.client_id = str(config.get("clientId") or "")
        self.username = str(config.get("username") or "")
        self.password = str(config.get("password") or "")
        if not (self.client_id and self.username and self.password):
            raise ProviderError(
                "keycloak: this provider logs in with the password grant only: set clientId, "
                "username and password"
            )
        self.timeout = as_int(config.get("clientTimeout"), 15)
        self.ssl = self._ssl_context(
            str(config.get("rootCaCertificate") or ""), as_bool(config.get("tlsInsecureSkipVerify"), False)
        )
        self._lock = threading.Lock()
        self._token = ""
        self._expires = 0.0

    @staticmethod
    def _ssl_context(ca_pem: str, insecure: bool) -> ssl.SSLContext:
        if insecure:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.check_hostname = False
            ctx.verify_mode = ssl.CERT_NONE
            return ctx
        if ca_pem.strip():
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)  # verifies, checks the host name
            try:
                ctx.load_verify_locations(cadata=ca_pem)
            except ssl.SSLError as e:
                raise ProviderError(
                    f"keycloak: rootCaCertificate is not a usable PEM certificate: {e}"
                ) from e
            return ctx
        return ssl.create_default_context()

    # -- transport ----------------------------------------------------------------------------
    def _send(
        self, method: str, url: str, data: bytes | None, headers: dict[str, str]
    ) -> tuple[int, str, bytes]:
        """(status, Location header, body), retrying what upstream's retry policy retries."""
        last = ""
        for attempt in range(RETRIES + 1):
            if attempt:
                time.sleep(min(2 ** (attempt - 1), 30))
            req = urllib.request.Request(url, data=data, method=method, headers=headers)
            try:
                with urllib.request.urlopen(req, timeout=self.timeout, context=self.ssl) as r:
                    return r.status, r.headers.get("Location") or "", r.read()
            except urllib.error.HTTPError as e:
                body = e.read()
                if e.code == 429 or (e.code >= 500 and e.code != 501):
                    last = f"{e.code} {body[:300]!r}"
                    continue
                return e.code, "", body
            except (urllib.error.URLError, TimeoutError, ConnectionError) as e:
                reason = getattr(e, "reason", e)
                if isinstance(reason, ssl.SSLCertVerificationError):
                    raise ProviderError(f"keycloak: {method} {url}: TLS verification failed: {reason}") from e
                last = str(reason)
        raise ProviderError(f"keycloak: {method} {url} failed after {RETRIES} retries: {last}")

    def login(self) -> None:
        form = {
            "client_id": self.client_id,
            "grant_type": "password",
            "username": self.username,
            "password": self.password,
        }
        url = f"{self.auth_url}/realms/{seg(self.realm)}/protocol/openid-connect/token"
        status, _, body = self._send(
            "POST",
            url,
            urllib.parse.urlencode(form).encode(),
            {"Content-Type": "application/x-www-form-urlencoded"},
        )
        if status != 200:
            raise ProviderError(f"keycloak: error sending POST request to {url}: {status} {body[:300]!r}")
        got = json.loads(body)
        self._token = str(got["access_token"])
        self._expires = time.monotonic() + float(got.get("expires_in", 60)) - TOKEN_MARGIN_S

    def _bearer(self, force: bool = False) -> str:
        with self._lock:
            if force or not self._token or time.monotonic() >= self._expires:
                self.login()
            return self._token

    def call(self, method: str, path: str, body: Any = None) -> tuple[Any, str]:
        """One admin API call: (parsed JSON body or None, Location). 404 raises NotFoundError,
        other errors ProviderError with upstream's wording."""
        url = self.admin_url + path
        data = json.dumps(body).encode() if body is not None else None
        status, location, raw = 0, "", b""
        for force in (False, True):
            headers = {"Authorization": f"Bearer {self._bearer(force)}", "Accept": "application/json"}
            if data is not None:
                headers["Content-Type"] = "application/json"
            status, location, raw = self._send(method, url, data, headers)
            if status not in (401, 403):
                break
        if status == 404:
            raise NotFoundError(f"keycloak: {method} {path}: 404 Not Found")
        if status >= 400:
            text = raw.decode(errors="replace")
            raise ProviderError(
                f"keycloak: error sending {method} request to {path}: {status}. Response body: {text}"
            )
        return (json.loads(raw) if raw.strip() else None), location

    def get(self, path: str) -> Any:
        return self.call("GET", path)[0]

    def post(self, path: str, body: Any) -> str:
        """POST; the new object's id from the Location header (getIdFromLocationHeader)."""
        _, location = self.call("POST", path, body)
        return location.rstrip("/").rsplit("/", 1)[-1] if location else ""

    def put(self, path: str, body: Any) -> None:
        self.call("PUT", path, body)

    def delete(self, path: str, body: Any = None) -> None:
        self.call("DELETE", path, body)


# -- the resource pattern ------------------------------------------------------------------


def same_set(a: Any, b: Any) -> bool:
    return sorted(a or []) == sorted(b or [])


def ordered_like(live: list[str], given: Any) -> list[str]:
    """A TypeSet's live members, in the program's order where it named them."""
    given_list = [x for x in (given or []) if isinstance(x, str)]
    first = [x for x in given_list if x in live]
    return first + sorted(x for x in live if x not in first)


class KcResource(Resource):
    """A Keycloak object. Subclasses list the properties they implement, the upstream
    defaults, TypeSets, durations, suppressDiffWhenNotInConfig properties and computed
    outputs; they implement `make` (create), `fetch` (live outputs or None), `change`
    (update) and `remove` (delete)."""

    supported: ClassVar[frozenset[str]] = frozenset()
    required: ClassVar[tuple[str, ...]] = ()
    defaults: ClassVar[dict[str, Any]] = {}
    sets: ClassVar[frozenset[str]] = frozenset()
    durations: ClassVar[frozenset[str]] = frozenset()
    suppress_absent: ClassVar[frozenset[str]] = frozenset()
    create_only: ClassVar[frozenset[str]] = frozenset()
    computed: ClassVar[tuple[str, ...]] = ()

    @property
    def api(self) -> AdminApi:
        p = self.provider
        assert isinstance(p, KeycloakProvider)
        return p.api()

    # -- plan ---------------------------------------------------------------------------------
    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
        extra = sorted(k for k in news if k not in self.supported and not k.startswith("__"))
        if extra:
            raise ProviderError(
                f"{self.type_token}: {', '.join(extra)} not implemented by verify/providers/keycloak.py "
                f"(it implements {', '.join(sorted(self.supported))})"
            )
        missing = [k for k in self.required if news.get(k) in (None, "")]
        if missing:
            raise ProviderError(f"{self.type_token}: {', '.join(missing)} required")
        out = {**self.defaults, **news}
        for k in self.durations:
            v = out.get(k)
            if isinstance(v, str) and v and not is_unknown(v):
                try:
                    duration_seconds(v)
                except ProviderError as e:
                    raise ProviderError(f"{self.type_token}: {k}: {e}") from e
        self.validate(out)
        return out

    def validate(self, inputs: dict[str, Any]) -> None:
        """Plan-time validation (upstream ValidateFunc / ExactlyOneOf)."""

    def equivalent(self, key: str, a: Any, b: Any) -> bool:
        if key in self.sets:
            return same_set(a, b)
        if key in self.durations and isinstance(a, str) and isinstance(b, str) and a and b:
            return duration_seconds(a) == duration_seconds(b)
        return a == b

    def diff(self, id_: str, old_inputs: dict[str, Any], state: dict[str, Any], news: dict[str, Any]) -> Diff:
        keys: list[str] = []
        for k in sorted(set(old_inputs) | set(news)):
            if k.startswith("__") or k in self.create_only:
                continue
            if k in self.suppress_absent and k not in news:
                continue
            a, b = old_inputs.get(k), news.get(k)
            if is_unknown(b) or not self.equivalent(k, a, b):
                keys.append(k)
        replaces = [k for k in keys if "*" in self.replace_on or k in self.replace_on]
        return Diff(updates=keys, replaces=replaces, delete_before_replace=self.delete_before_replace)

    # -- apply --------------------------------------------------------------------------------
    def create(self, inputs: dict[str, Any], preview: bool) -> tuple[str, dict[str, Any]]:
        if preview:
            return "", {**{k: UNKNOWN for k in self.computed if k not in inputs}, **inputs}
        id_ = self.make(inputs)
        live = self.fetch(id_, inputs)
        if live is None:
            raise ProviderError(f"{self.type_token}: {id_} vanished right after it was created")
        return id_, live

    def update(
        self, id_: str, old_inputs: dict[str, Any], state: dict[str, Any], news: dict[str, Any], preview: bool
    ) -> dict[str, Any]:
        if preview:
            return {**state, **news}
        self.change(id_, old_inputs, state, news)
        live = self.fetch(id_, news)
        if live is None:
            raise ProviderError(f"{self.type_token}: {id_} is gone (deleted outside Pulumi?): run a refresh")
        return live

    def delete(self, id_: str, state: dict[str, Any]) -> None:
        try:
            self.remove(id_, state)
        except NotFoundError:
            return None  # already gone

    def read(
        self, id_: str, state: dict[str, Any], inputs: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]] | None:
        live = self.fetch(id_, {**state, **inputs})
        if live is None:
            return None
        ins: dict[str, Any] = {}
        for k, old in inputs.items():
            if k.startswith("__") or k not in live or k in self.create_only:
                ins[k] = old
            elif self.equivalent(k, old, live[k]):
                ins[k] = old  # the program's spelling (order of a set, "5m" for "5m0s")
            else:
                ins[k] = live[k]
        return live, ins

    # -- per type -----------------------------------------------------------------------------
    def make(self, inputs: dict[str, Any]) -> str:
        raise NotImplementedError

    def fetch(self, id_: str, props: dict[str, Any]) -> dict[str, Any] | None:
        raise NotImplementedError

    def change(
        self, id_: str, old_inputs: dict[str, Any], state: dict[str, Any], news: dict[str, Any]
    ) -> None:
        raise NotImplementedError

    def remove(self, id_: str, state: dict[str, Any]) -> None:
        raise NotImplementedError


def realm_path(props: Mapping[str, Any]) -> str:
    return f"/realms/{seg(str(props['realmId']))}"


# -- keycloak_realm ------------------------------------------------------------------------


# securityDefenses.bruteForceDetection: the upstream's property -> Keycloak's realm field, and
# the upstream defaults (resource_keycloak_realm.go: schema defaults, which are also what
# setDefaultSecuritySettingsBruteForceDetection writes when the block is absent).
BRUTE_FORCE_FIELDS: dict[str, tuple[str, Any]] = {
    "permanentLockout": ("permanentLockout", False),
    "maxLoginFailures": ("failureFactor", 30),
    "waitIncrementSeconds": ("waitIncrementSeconds", 60),
    "quickLoginCheckMilliSeconds": ("quickLoginCheckMilliSeconds", 1000),
    "minimumQuickLoginWaitSeconds": ("minimumQuickLoginWaitSeconds", 60),
    "maxFailureWaitSeconds": ("maxFailureWaitSeconds", 900),
    "failureResetTimeSeconds": ("maxDeltaTimeSeconds", 43200),
}


class Realm(KcResource):
    """id = realm name. `realm` is ForceNew; enabled defaults true, sslRequired "external";
    accessTokenLifespan is a Go duration (Keycloak keeps seconds; state reads "5m0s");
    displayName is suppressDiffWhenNotInConfig. securityDefenses: only its
    bruteForceDetection block (headers are not implemented); present -> bruteForceProtected
    with its values (upstream defaults filled in), absent -> off with the defaults; read back
    only when the config has the block (upstream: Optional+Computed)."""

    type_token = "keycloak:index/realm:Realm"
    replace_on: ClassVar[frozenset[str]] = frozenset({"realm"})
    supported: ClassVar[frozenset[str]] = frozenset(
        {"realm", "enabled", "displayName", "sslRequired", "accessTokenLifespan", "securityDefenses"}
    )
    required: ClassVar[tuple[str, ...]] = ("realm",)
    defaults: ClassVar[dict[str, Any]] = {"enabled": True, "sslRequired": "external"}
    durations: ClassVar[frozenset[str]] = frozenset({"accessTokenLifespan"})
    suppress_absent: ClassVar[frozenset[str]] = frozenset({"displayName"})
    computed: ClassVar[tuple[str, ...]] = ("internalId", "accessTokenLifespan", "displayName")

    def validate(self, inputs: dict[str, Any]) -> None:
        defenses = inputs.get("securityDefenses")
        if defenses is None or is_unknown(defenses):
            return
        extra = sorted(set(defenses) - {"bruteForceDetection"})
        if extra:
            raise ProviderError(
                f"{self.type_token}: securityDefenses.{', '.join(extra)} not implemented by "
                "verify/providers/keycloak.py (it implements securityDefenses.bruteForceDetection)"
            )
        bfd = defenses.get("bruteForceDetection")
        if bfd is None:
            return
        extra = sorted(set(bfd) - set(BRUTE_FORCE_FIELDS))
        if extra:
            raise ProviderError(
                f"{self.type_token}: securityDefenses.bruteForceDetection.{', '.join(extra)} not "
                f"implemented by verify/providers/keycloak.py (it implements {', '.join(BRUTE_FORCE_FIELDS)})"
            )
        # The upstream's schema defaults, as the bridge fills them in at check.
        filled = {k: bfd.get(k, d) for k, (_, d) in BRUTE_FORCE_FIELDS.items()}
        inputs["securityDefenses"] = {**defenses, "bruteForceDetection": filled}

    def rep(self, inputs: dict[str, Any]) -> dict[str, Any]:
        rep: dict[str, Any] = {
            "realm": inputs["realm"],
            "enabled": bool(inputs.get("enabled", True)),
            "sslRequired": inputs.get("sslRequired", "external"),
        }
        if "displayName" in inputs:
            rep["displayName"] = inputs["displayName"]
        if inputs.get("accessTokenLifespan"):
            rep["accessTokenLifespan"] = duration_seconds(str(inputs["accessTokenLifespan"]))
        bfd = (inputs.get("securityDefenses") or {}).get("bruteForceDetection")
        rep["bruteForceProtected"] = bfd is not None
        for prop, (field, default) in BRUTE_FORCE_FIELDS.items():
            rep[field] = (bfd or {}).get(prop, default)
        return rep

    def make(self, inputs: dict[str, Any]) -> str:
        self.api.post("/realms", self.rep(inputs))
        return str(inputs["realm"])

    def fetch(self, id_: str, props: dict[str, Any]) -> dict[str, Any] | None:
        try:
            rep = self.api.get(f"/realms/{seg(id_)}")
        except NotFoundError:
            return None
        out: dict[str, Any] = {
            "realm": rep["realm"],
            "internalId": rep.get("id", ""),
            "enabled": bool(rep.get("enabled", False)),
            "displayName": rep.get("displayName", ""),
            "sslRequired": rep.get("sslRequired", ""),
            "accessTokenLifespan": duration_string(int(rep.get("accessTokenLifespan") or 0)),
        }
        if "securityDefenses" in props:  # read back only what the config manages
            out["securityDefenses"] = (
                {"bruteForceDetection": {p: rep.get(f, d) for p, (f, d) in BRUTE_FORCE_FIELDS.items()}}
                if rep.get("bruteForceProtected")
                else {}
            )
        return out

    def change(
        self, id_: str, old_inputs: dict[str, Any], state: dict[str, Any], news: dict[str, Any]
    ) -> None:
        self.api.put(f"/realms/{seg(id_)}", self.rep(news))

    def remove(self, id_: str, state: dict[str, Any]) -> None:
        self.api.delete(f"/realms/{seg(id_)}")


# -- keycloak_role -------------------------------------------------------------------------


class Role(KcResource):
    """A realm role; id = its UUID. realmId is ForceNew, name updates in place;
    compositeRoles (a set of role ids) is reconciled (add missing, remove extra)."""

    type_token = "keycloak:index/role:Role"
    replace_on: ClassVar[frozenset[str]] = frozenset({"realmId"})
    supported: ClassVar[frozenset[str]] = frozenset({"realmId", "name", "compositeRoles"})
    required: ClassVar[tuple[str, ...]] = ("realmId", "name")
    sets: ClassVar[frozenset[str]] = frozenset({"compositeRoles"})
    computed: ClassVar[tuple[str, ...]] = ("compositeRoles",)

    def _role(self, realm: str, role_id: str) -> dict[str, Any]:
        return dict(self.api.get(f"/realms/{seg(realm)}/roles-by-id/{seg(role_id)}"))

    def _composites(self, realm: str, role_id: str) -> list[dict[str, Any]]:
        return list(self.api.get(f"/realms/{seg(realm)}/roles-by-id/{seg(role_id)}/composites") or [])

    def _set_composites(self, realm: str, role_id: str, want: list[str]) -> None:
        have = self._composites(realm, role_id)
        have_ids = {str(r["id"]) for r in have}
        drop = [r for r in have if r["id"] not in want]
        add = [self._role(realm, i) for i in want if i not in have_ids]
        path = f"/realms/{seg(realm)}/roles-by-id/{seg(role_id)}/composites"
        if drop:
            self.api.delete(path, drop)
        if add:
            self.api.post(path, add)

    def make(self, inputs: dict[str, Any]) -> str:
        realm, name = str(inputs["realmId"]), str(inputs["name"])
        self.api.post(f"{realm_path(inputs)}/roles", {"name": name})
        role_id = str(self.api.get(f"{realm_path(inputs)}/roles/{seg(name)}")["id"])
        if inputs.get("compositeRoles"):
            self._set_composites(realm, role_id, list(inputs["compositeRoles"]))
        return role_id

    def fetch(self, id_: str, props: dict[str, Any]) -> dict[str, Any] | None:
        realm = str(props["realmId"])
        try:
            rep = self._role(realm, id_)
            composites = self._composites(realm, id_) if rep.get("composite") else []
        except NotFoundError:
            return None
        live = [str(r["id"]) for r in composites]
        return {
            "realmId": realm,
            "name": rep["name"],
            "compositeRoles": ordered_like(live, props.get("compositeRoles")),
        }

    def change(
        self, id_: str, old_inputs: dict[str, Any], state: dict[str, Any], news: dict[str, Any]
    ) -> None:
        realm = str(news["realmId"])
        self.api.put(f"/realms/{seg(realm)}/roles-by-id/{seg(id_)}", {"id": id_, "name": news["name"]})
        self._set_composites(realm, id_, list(news.get("compositeRoles") or []))

    def remove(self, id_: str, state: dict[str, Any]) -> None:
        self.api.delete(f"/realms/{seg(str(state['realmId']))}/roles-by-id/{seg(id_)}")


# -- keycloak_openid_client ----------------------------------------------------------------

ACCESS_TYPES = ("CONFIDENTIAL", "PUBLIC", "BEARER-ONLY")
PKCE_METHODS = ("", "plain", "S256")


class Client(KcResource):
    """An OpenID client; id = its UUID. realmId is ForceNew. Create/update send the full
    representation as upstream's getOpenidClientFromData builds it (its defaults for the
    properties not implemented here: client-secret authenticator, full scope allowed,
    refresh tokens on, ...). Outputs clientSecret (GET .../client-secret) and
    serviceAccountUserId (GET .../service-account-user when service accounts are on)."""

    type_token = "keycloak:openid/client:Client"
    replace_on: ClassVar[frozenset[str]] = frozenset({"realmId"})
    supported: ClassVar[frozenset[str]] = frozenset(
        {
            "realmId",
            "clientId",
            "name",
            "enabled",
            "accessType",
            "clientSecret",
            "standardFlowEnabled",
            "implicitFlowEnabled",
            "directAccessGrantsEnabled",
            "serviceAccountsEnabled",
            "validRedirectUris",
            "validPostLogoutRedirectUris",
            "webOrigins",
            "rootUrl",
            "pkceCodeChallengeMethod",
        }
    )
    required: ClassVar[tuple[str, ...]] = ("realmId", "clientId", "accessType")
    defaults: ClassVar[dict[str, Any]] = {"enabled": True}
    sets: ClassVar[frozenset[str]] = frozenset(
        {"validRedirectUris", "validPostLogoutRedirectUris", "webOrigins"}
    )
    suppress_absent: ClassVar[frozenset[str]] = frozenset({"name", "rootUrl"})
    computed: ClassVar[tuple[str, ...]] = (
        "clientSecret",
        "serviceAccountUserId",
        "name",
        "rootUrl",
        "standardFlowEnabled",
        "implicitFlowEnabled",
        "directAccessGrantsEnabled",
        "serviceAccountsEnabled",
        "validRedirectUris",
        "validPostLogoutRedirectUris",
        "webOrigins",
        "pkceCodeChallengeMethod",
    )

    def validate(self, inputs: dict[str, Any]) -> None:
        at = inputs.get("accessType")
        if not is_unknown(at) and at not in ACCESS_TYPES:
            raise ProviderError(f"{self.type_token}: accessType must be one of {', '.join(ACCESS_TYPES)}")
        pkce = inputs.get("pkceCodeChallengeMethod", "")
        if not is_unknown(pkce) and pkce not in PKCE_METHODS:
            raise ProviderError(f"{self.type_token}: pkceCodeChallengeMethod must be one of plain, S256")

    def rep(self, inputs: dict[str, Any], id_: str = "") -> dict[str, Any]:
        """getOpenidClientFromData + ValidateOpenidClient (apply-time, as upstream)."""
        std = bool(inputs.get("standardFlowEnabled", False))
        implicit = bool(inputs.get("implicitFlowEnabled", False))
        direct = bool(inputs.get("directAccessGrantsEnabled", False))
        sa = bool(inputs.get("serviceAccountsEnabled", False))
        redirects = list(inputs.get("validRedirectUris") or [])
        origins = list(inputs.get("webOrigins") or [])
        post_logout = list(inputs.get("validPostLogoutRedirectUris") or [])
        at = inputs["accessType"]
        if not std and not implicit and redirects:
            raise ProviderError(
                "validation error: valid_redirect_uris cannot be set when standard or implicit flow is not enabled"
            )
        if not std and not implicit and not direct and origins:
            raise ProviderError(
                "validation error: web_origins cannot be set when standard or implicit flow is not enabled"
            )
        if at == "BEARER-ONLY" and (std or implicit or direct or sa):
            raise ProviderError(
                "validation error: Keycloak cannot issue tokens for bearer-only clients; no oauth2 flows can be "
                "enabled for this client"
            )
        if (std or implicit) and not redirects:
            raise ProviderError(
                "validation error: standard (authorization code) and implicit flows require at least one valid "
                "redirect uri"
            )
        if sa and at == "PUBLIC":
            raise ProviderError(
                "validation error: service accounts (client credentials flow) cannot be enabled on public clients"
            )
        rep: dict[str, Any] = {
            "clientId": inputs["clientId"],
            "name": inputs.get("name", ""),
            "protocol": "openid-connect",
            "clientAuthenticatorType": "client-secret",
            "enabled": bool(inputs.get("enabled", True)),
            "description": "",
            "publicClient": at == "PUBLIC",
            "bearerOnly": at == "BEARER-ONLY",
            "standardFlowEnabled": std,
            "implicitFlowEnabled": implicit,
            "directAccessGrantsEnabled": direct,
            "serviceAccountsEnabled": sa,
            "frontchannelLogout": False,
            "authorizationServicesEnabled": False,
            "redirectUris": redirects,
            "webOrigins": origins,
            "adminUrl": "",
            "baseUrl": "",
            "fullScopeAllowed": True,
            "consentRequired": False,
            "alwaysDisplayInConsole": False,
            "attributes": {
                "pkce.code.challenge.method": inputs.get("pkceCodeChallengeMethod", ""),
                "exclude.session.state.from.auth.response": "false",
                "exclude.issuer.from.auth.response": "false",
                "access.token.lifespan": "",
                "login_theme": "",
                "display.on.consent.screen": "false",
                "consent.screen.text": "",
                "use.refresh.tokens": "true",
                "client_credentials.use_refresh_token": "false",
                "backchannel.logout.url": "",
                "frontchannel.logout.url": "",
                "backchannel.logout.revoke.offline.tokens": "false",
                "backchannel.logout.session.required": "true",
                "oauth2.device.authorization.grant.enabled": "false",
                "oauth2.jwt.authorization.grant.enabled": "false",
                "post.logout.redirect.uris": "##".join(post_logout),
            },
        }
        if id_:
            rep["id"] = id_
        if inputs.get("clientSecret"):
            rep["secret"] = inputs["clientSecret"]
        if "rootUrl" in inputs:
            rep["rootUrl"] = inputs["rootUrl"]
        return rep

    def make(self, inputs: dict[str, Any]) -> str:
        return self.api.post(f"{realm_path(inputs)}/clients", self.rep(inputs))

    def fetch(self, id_: str, props: dict[str, Any]) -> dict[str, Any] | None:
        base = f"{realm_path(props)}/clients/{seg(id_)}"
        try:
            rep = self.api.get(base)
            secret = self.api.get(f"{base}/client-secret") or {}
            sa_user = (
                self.api.get(f"{base}/service-account-user") if rep.get("serviceAccountsEnabled") else {}
            )
        except NotFoundError:
            return None
        attrs: dict[str, Any] = rep.get("attributes") or {}
        post_logout = [u for u in str(attrs.get("post.logout.redirect.uris") or "").split("##") if u]
        access = (
            "PUBLIC"
            if rep.get("publicClient")
            else "BEARER-ONLY"
            if rep.get("bearerOnly")
            else "CONFIDENTIAL"
        )
        return {
            "realmId": props["realmId"],
            "clientId": rep["clientId"],
            "name": rep.get("name", ""),
            "enabled": bool(rep.get("enabled", False)),
            "accessType": access,
            "clientSecret": str(secret.get("value") or ""),
            "standardFlowEnabled": bool(rep.get("standardFlowEnabled", False)),
            "implicitFlowEnabled": bool(rep.get("implicitFlowEnabled", False)),
            "directAccessGrantsEnabled": bool(rep.get("directAccessGrantsEnabled", False)),
            "serviceAccountsEnabled": bool(rep.get("serviceAccountsEnabled", False)),
            "serviceAccountUserId": str((sa_user or {}).get("id") or ""),
            "validRedirectUris": ordered_like(
                list(rep.get("redirectUris") or []), props.get("validRedirectUris")
            ),
            "validPostLogoutRedirectUris": ordered_like(
                post_logout, props.get("validPostLogoutRedirectUris")
            ),
            "webOrigins": ordered_like(list(rep.get("webOrigins") or []), props.get("webOrigins")),
            "rootUrl": rep.get("rootUrl", ""),
            "pkceCodeChallengeMethod": str(attrs.get("pkce.code.challenge.method") or ""),
        }

    def update(
        self, id_: str, old_inputs: dict[str, Any], state: dict[str, Any], news: dict[str, Any], preview: bool
    ) -> dict[str, Any]:
        if preview and old_inputs.get("serviceAccountsEnabled") != news.get("serviceAccountsEnabled"):
            return {**state, **news, "serviceAccountUserId": UNKNOWN}  # customdiff.ComputedIf
        return super().update(id_, old_inputs, state, news, preview)

    def change(
        self, id_: str, old_inputs: dict[str, Any], state: dict[str, Any], news: dict[str, Any]
    ) -> None:
        self.api.put(f"{realm_path(news)}/clients/{seg(id_)}", self.rep(news, id_))

    def remove(self, id_: str, state: dict[str, Any]) -> None:
        self.api.delete(f"{realm_path(state)}/clients/{seg(id_)}")


# -- protocol mappers on a client ----------------------------------------------------------


class ClientMapper(KcResource):
    """A protocol mapper on a client (clientScopeId is not implemented); id = its UUID.
    realmId and clientId are ForceNew; the rest updates in place. Apply-time validation as
    upstream: the name is unique among the client's mappers."""

    replace_on: ClassVar[frozenset[str]] = frozenset({"realmId", "clientId"})
    mapper_type: ClassVar[str] = ""
    # input property -> (config key, kind) where kind is "bool" or "str"
    config_map: ClassVar[dict[str, tuple[str, str]]] = {}
    # config keys the upstream always sends, with the values it sends for unimplemented inputs
    fixed_config: ClassVar[dict[str, str]] = {}

    def models(self, props: Mapping[str, Any]) -> str:
        return f"{realm_path(props)}/clients/{seg(str(props['clientId']))}/protocol-mappers/models"

    def validate(self, inputs: dict[str, Any]) -> None:
        if not inputs.get("clientId"):
            raise ProviderError(f"{self.type_token}: clientId required (clientScopeId is not implemented)")

    def apply_check(self, inputs: dict[str, Any], id_: str) -> None:
        for m in self.api.get(self.models(inputs)) or []:
            if m.get("name") == inputs["name"] and m.get("id") != id_:
                raise ProviderError(
                    f"validation error: a protocol mapper with name {inputs['name']} already exists for this client"
                )

    def rep(self, inputs: dict[str, Any], id_: str = "") -> dict[str, Any]:
        config = dict(self.fixed_config)
        for prop, (key, kind) in self.config_map.items():
            v = inputs.get(prop, self.defaults.get(prop, False if kind == "bool" else ""))
            config[key] = ("true" if v else "false") if kind == "bool" else str(v)
        rep: dict[str, Any] = {
            "name": inputs["name"],
            "protocol": "openid-connect",
            "protocolMapper": self.mapper_type,
            "config": config,
        }
        if id_:
            rep["id"] = id_
        return rep

    def make(self, inputs: dict[str, Any]) -> str:
        self.apply_check(inputs, "")
        return self.api.post(self.models(inputs), self.rep(inputs))

    def fetch(self, id_: str, props: dict[str, Any]) -> dict[str, Any] | None:
        try:
            rep = self.api.get(f"{self.models(props)}/{seg(id_)}")
        except NotFoundError:
            return None
        config: dict[str, Any] = rep.get("config") or {}
        out: dict[str, Any] = {
            "realmId": props["realmId"],
            "clientId": props["clientId"],
            "name": rep["name"],
        }
        for prop, (key, kind) in self.config_map.items():
            v = config.get(key, "")
            out[prop] = str(v).lower() == "true" if kind == "bool" else str(v)
        return out

    def change(
        self, id_: str, old_inputs: dict[str, Any], state: dict[str, Any], news: dict[str, Any]
    ) -> None:
        self.apply_check(news, id_)
        self.api.put(f"{self.models(news)}/{seg(id_)}", self.rep(news, id_))

    def remove(self, id_: str, state: dict[str, Any]) -> None:
        self.api.delete(f"{self.models(state)}/{seg(id_)}")


class AudienceProtocolMapper(ClientMapper):
    """oidc-audience-mapper. addToIdToken/addToAccessToken default true (and the
    unimplemented addToTokenIntrospection is sent as its default, true); the included
    client must exist (upstream ValidateOpenIdAudienceProtocolMapper)."""

    type_token = "keycloak:openid/audienceProtocolMapper:AudienceProtocolMapper"
    mapper_type = "oidc-audience-mapper"
    supported: ClassVar[frozenset[str]] = frozenset(
        {"realmId", "clientId", "name", "includedClientAudience", "addToIdToken", "addToAccessToken"}
    )
    required: ClassVar[tuple[str, ...]] = ("realmId", "name", "includedClientAudience")
    defaults: ClassVar[dict[str, Any]] = {"addToIdToken": True, "addToAccessToken": True}
    config_map: ClassVar[dict[str, tuple[str, str]]] = {
        "addToIdToken": ("id.token.claim", "bool"),
        "addToAccessToken": ("access.token.claim", "bool"),
        "includedClientAudience": ("included.client.audience", "str"),
    }
    fixed_config: ClassVar[dict[str, str]] = {
        "introspection.token.claim": "true",
        "included.custom.audience": "",
    }

    def apply_check(self, inputs: dict[str, Any], id_: str) -> None:
        super().apply_check(inputs, id_)
        q = urllib.parse.urlencode({"clientId": inputs["includedClientAudience"]})
        if not self.api.get(f"{realm_path(inputs)}/clients?{q}"):
            raise ProviderError(
                f"validation error: generic client with name {inputs['includedClientAudience']} does not exist"
            )


class UserRealmRoleProtocolMapper(ClientMapper):
    """oidc-usermodel-realm-role-mapper. addToIdToken/addToAccessToken/addToUserinfo
    default true, multivalued false; claimValueType "String", realmRolePrefix "" and
    addToTokenIntrospection true are sent as upstream's defaults."""

    type_token = "keycloak:openid/userRealmRoleProtocolMapper:UserRealmRoleProtocolMapper"
    mapper_type = "oidc-usermodel-realm-role-mapper"
    supported: ClassVar[frozenset[str]] = frozenset(
        {
            "realmId",
            "clientId",
            "name",
            "claimName",
            "multivalued",
            "addToIdToken",
            "addToAccessToken",
            "addToUserinfo",
        }
    )
    required: ClassVar[tuple[str, ...]] = ("realmId", "name", "claimName")
    defaults: ClassVar[dict[str, Any]] = {
        "addToIdToken": True,
        "addToAccessToken": True,
        "addToUserinfo": True,
        "multivalued": False,
    }
    config_map: ClassVar[dict[str, tuple[str, str]]] = {
        "addToIdToken": ("id.token.claim", "bool"),
        "addToAccessToken": ("access.token.claim", "bool"),
        "addToUserinfo": ("userinfo.token.claim", "bool"),
        "multivalued": ("multivalued", "bool"),
        "claimName": ("claim.name", "str"),
    }
    fixed_config: ClassVar[dict[str, str]] = {
        "introspection.token.claim": "true",
        "jsonType.label": "String",
        "usermodel.realmRoleMapping.rolePrefix": "",
    }


# -- keycloak_openid_client_service_account_realm_role ------------------------------------


class ClientServiceAccountRealmRole(KcResource):
    """A realm role (by name) mapped to a client's service-account user; every property is
    ForceNew; id = "<serviceAccountUserId>/<roleId>". Read looks the role up by name and
    finds it among the user's composite realm mappings, else the mapping is gone."""

    type_token = "keycloak:openid/clientServiceAccountRealmRole:ClientServiceAccountRealmRole"
    replace_on: ClassVar[frozenset[str]] = frozenset({"*"})
    supported: ClassVar[frozenset[str]] = frozenset({"realmId", "serviceAccountUserId", "role"})
    required: ClassVar[tuple[str, ...]] = ("realmId", "serviceAccountUserId", "role")

    def _role(self, props: Mapping[str, Any]) -> dict[str, Any]:
        return dict(self.api.get(f"{realm_path(props)}/roles/{seg(str(props['role']))}"))

    def _mappings(self, props: Mapping[str, Any]) -> str:
        return f"{realm_path(props)}/users/{seg(str(props['serviceAccountUserId']))}/role-mappings/realm"

    def make(self, inputs: dict[str, Any]) -> str:
        role = self._role(inputs)
        self.api.post(self._mappings(inputs), [{"id": role["id"], "name": role["name"], "description": ""}])
        return f"{inputs['serviceAccountUserId']}/{role['id']}"

    def fetch(self, id_: str, props: dict[str, Any]) -> dict[str, Any] | None:
        try:
            role = self._role(props)
            mapped = self.api.get(f"{self._mappings(props)}/composite") or []
        except NotFoundError:
            return None
        if not any(r.get("id") == role["id"] for r in mapped):
            return None
        return {
            "realmId": props["realmId"],
            "serviceAccountUserId": props["serviceAccountUserId"],
            "role": role["name"],
        }

    def change(
        self, id_: str, old_inputs: dict[str, Any], state: dict[str, Any], news: dict[str, Any]
    ) -> None:
        raise ProviderError(f"{self.type_token}: every property replaces; there is nothing to update")

    def remove(self, id_: str, state: dict[str, Any]) -> None:
        role = self._role(state)
        self.api.delete(self._mappings(state), [{"id": role["id"], "name": role["name"], "description": ""}])


# -- keycloak_user -------------------------------------------------------------------------


class User(KcResource):
    """id = the user's UUID. realmId and username are ForceNew; username must be lowercase;
    enabled defaults true; initialPassword ({value, temporary=false}) is set once, right
    after create (reset-password), and never diffs afterwards (onlyDiffOnCreate)."""

    type_token = "keycloak:index/user:User"
    replace_on: ClassVar[frozenset[str]] = frozenset({"realmId", "username"})
    supported: ClassVar[frozenset[str]] = frozenset(
        {
            "realmId",
            "username",
            "enabled",
            "initialPassword",
            "email",
            "emailVerified",
            "firstName",
            "lastName",
        }
    )
    required: ClassVar[tuple[str, ...]] = ("realmId", "username")
    defaults: ClassVar[dict[str, Any]] = {"enabled": True, "emailVerified": False}
    create_only: ClassVar[frozenset[str]] = frozenset({"initialPassword"})
    # The profile fields (upstream: email, email_verified, first_name, last_name; in place).
    PROFILE: ClassVar[tuple[str, ...]] = ("email", "firstName", "lastName")

    def validate(self, inputs: dict[str, Any]) -> None:
        name = inputs.get("username")
        if isinstance(name, str) and not is_unknown(name) and name.lower() != name:
            raise ProviderError(f"{self.type_token}: expected username {name} to be all lowercase")
        pw = inputs.get("initialPassword")
        if isinstance(pw, dict):
            extra = sorted(set(pw) - {"value", "temporary"})
            if extra or "value" not in pw:
                raise ProviderError(
                    f"{self.type_token}: initialPassword takes value (required) and temporary"
                )
            inputs["initialPassword"] = {"temporary": False, **pw}

    def rep(self, inputs: dict[str, Any]) -> dict[str, Any]:
        return {
            "username": inputs["username"],
            "enabled": bool(inputs.get("enabled", True)),
            "emailVerified": bool(inputs.get("emailVerified", False)),
            **{k: inputs[k] for k in self.PROFILE if inputs.get(k)},
            "attributes": {},
            "requiredActions": [],
        }

    def make(self, inputs: dict[str, Any]) -> str:
        user_id = self.api.post(f"{realm_path(inputs)}/users", self.rep(inputs))
        pw = inputs.get("initialPassword")
        if isinstance(pw, dict):
            body = {"type": "password", "value": pw["value"], "temporary": bool(pw.get("temporary", False))}
            self.api.put(f"{realm_path(inputs)}/users/{seg(user_id)}/reset-password", body)
        return user_id

    def fetch(self, id_: str, props: dict[str, Any]) -> dict[str, Any] | None:
        try:
            rep = self.api.get(f"{realm_path(props)}/users/{seg(id_)}")
        except NotFoundError:
            return None
        out: dict[str, Any] = {
            "realmId": props["realmId"],
            "username": rep["username"],
            "enabled": bool(rep.get("enabled", False)),
            "emailVerified": bool(rep.get("emailVerified", False)),
            **{k: rep[k] for k in self.PROFILE if k in props and k in rep},
        }
        if "initialPassword" in props:
            out["initialPassword"] = props["initialPassword"]  # write-only: kept from the inputs
        return out

    def change(
        self, id_: str, old_inputs: dict[str, Any], state: dict[str, Any], news: dict[str, Any]
    ) -> None:
        self.api.put(f"{realm_path(news)}/users/{seg(id_)}", {**self.rep(news), "id": id_})

    def remove(self, id_: str, state: dict[str, Any]) -> None:
        self.api.delete(f"{realm_path(state)}/users/{seg(id_)}")


# -- keycloak_user_roles -------------------------------------------------------------------


class UserRoles(KcResource):
    """Realm roles (by id) of a user; id = "<realmId>/<userId>". realmId and userId are
    ForceNew; roleIds (a set) updates in place: roles dropped from the list are removed,
    missing ones added, and with `exhaustive` (default true) every other realm role the
    user holds is removed too. Read reports the held roles among roleIds (all of them when
    exhaustive). Client roles in roleIds are not implemented (refused at apply)."""

    type_token = "keycloak:index/userRoles:UserRoles"
    replace_on: ClassVar[frozenset[str]] = frozenset({"realmId", "userId"})
    supported: ClassVar[frozenset[str]] = frozenset({"realmId", "userId", "roleIds", "exhaustive"})
    required: ClassVar[tuple[str, ...]] = ("realmId", "userId")
    defaults: ClassVar[dict[str, Any]] = {"exhaustive": True}
    sets: ClassVar[frozenset[str]] = frozenset({"roleIds"})

    def _roles(self, realm: str, ids: list[str]) -> list[dict[str, Any]]:
        out: list[dict[str, Any]] = []
        for i in ids:
            r = dict(self.api.get(f"/realms/{seg(realm)}/roles-by-id/{seg(i)}"))
            if r.get("clientRole"):
                raise ProviderError(
                    f"{self.type_token}: {i} is a client role; only realm roles are implemented"
                )
            out.append(r)
        return out

    def _reconcile(self, props: dict[str, Any], dropped: list[str]) -> None:
        realm, user = str(props["realmId"]), str(props["userId"])
        base = f"/realms/{seg(realm)}/users/{seg(user)}/role-mappings"
        self.api.get(f"/realms/{seg(realm)}/users/{seg(user)}")  # the user exists
        if dropped:
            self.api.delete(f"{base}/realm", self._roles(realm, dropped))
        want = list(props.get("roleIds") or [])
        held = list((self.api.get(base) or {}).get("realmMappings") or [])
        held_ids = {str(r["id"]) for r in held}
        add = self._roles(realm, [i for i in want if i not in held_ids])
        if add:
            self.api.post(f"{base}/realm", add)
        if props.get("exhaustive", True):
            extra = [r for r in held if r["id"] not in want]
            if extra:
                self.api.delete(f"{base}/realm", extra)

    def make(self, inputs: dict[str, Any]) -> str:
        self._reconcile(inputs, [])
        return f"{inputs['realmId']}/{inputs['userId']}"

    def fetch(self, id_: str, props: dict[str, Any]) -> dict[str, Any] | None:
        realm, user = str(props["realmId"]), str(props["userId"])
        try:
            self.api.get(f"/realms/{seg(realm)}/users/{seg(user)}")
            mappings = self.api.get(f"/realms/{seg(realm)}/users/{seg(user)}/role-mappings") or {}
        except NotFoundError:
            return None
        exhaustive = bool(props.get("exhaustive", True))
        given = list(props.get("roleIds") or [])
        held = [str(r["id"]) for r in mappings.get("realmMappings") or []]
        for client in (mappings.get("clientMappings") or {}).values():
            held += [str(r["id"]) for r in client.get("mappings") or []]
        ids = [i for i in held if exhaustive or i in given]
        return {
            "realmId": realm,
            "userId": user,
            "roleIds": ordered_like(ids, given),
            "exhaustive": exhaustive,
        }

    def change(
        self, id_: str, old_inputs: dict[str, Any], state: dict[str, Any], news: dict[str, Any]
    ) -> None:
        want = set(news.get("roleIds") or [])
        self._reconcile(news, [i for i in old_inputs.get("roleIds") or [] if i not in want])

    def remove(self, id_: str, state: dict[str, Any]) -> None:
        realm, user = str(state["realmId"]), str(state["userId"])
        try:
            self.api.get(f"/realms/{seg(realm)}/users/{seg(user)}")
        except NotFoundError:
            return
        roles = self._roles(realm, list(state.get("roleIds") or []))
        if roles:
            self.api.delete(f"/realms/{seg(realm)}/users/{seg(user)}/role-mappings/realm", roles)


# -- the provider --------------------------------------------------------------------------


class KeycloakProvider(Provider):
    package = "keycloak"
    resource_types = (
        Realm,
        Role,
        Client,
        AudienceProtocolMapper,
        UserRealmRoleProtocolMapper,
        ClientServiceAccountRealmRole,
        User,
        UserRoles,
    )

    def __init__(self, version: str) -> None:
        super().__init__(version)
        self._api: AdminApi | None = None
        self._api_lock = threading.Lock()

    def configure(self, config: dict[str, Any]) -> None:
        unsupported = sorted(
            k
            for k, v in config.items()
            if k not in CONFIG_KEYS and not k.startswith("__") and v not in (None, "", {}, [], False, "false")
        )
        if unsupported:
            raise ProviderError(
                f"keycloak: provider setting(s) {', '.join(unsupported)} not implemented by "
                "verify/providers/keycloak.py (password grant only)"
            )
        alg = config.get("jwtSigningAlg")
        if alg not in (None, "", "RS256"):
            raise ProviderError("keycloak: jwtSigningAlg is not implemented (password grant only)")
        self.config = config
        self._api = None
        if as_bool(config.get("initialLogin"), True) and not is_unknown(config):
            self.api().login()

    def api(self) -> AdminApi:
        with self._api_lock:
            if self._api is None:
                if is_unknown(self.config):
                    raise ProviderError("keycloak: the provider's configuration is not known yet")
                self._api = AdminApi(self.config)
            return self._api


PROVIDER = KeycloakProvider
