"""Keycloak's master admin password, kept to the configured one (stdlib only; run by a
pulumi-command resource before the keycloak provider logs in).

KC_BOOTSTRAP_ADMIN_PASSWORD creates the admin only when the master realm has none, i.e.
on the first start against an empty database; a rotated password never reaches Keycloak
that way. `password` logs in (admin-cli, password grant, as the provider does) with the
configured password and, if refused, with the previous one (this step's own last stdout,
handed back by pulumi-command as PULUMI_COMMAND_STDOUT), then sets the configured one with
the admin API's reset-password. Its stdout is the password now in force (a secret output,
never logged); what it did goes to stderr.

Environment: KC_ADMIN_URL (base URL, no trailing /), KC_ADMIN_CONNECT (optional IP to
connect to, keeping the URL's host for SNI and Host), KC_ADMIN_INSECURE ("1"),
KC_ADMIN_CA_FILE, KC_ADMIN_USER, KC_ADMIN_PASSWORD, PULUMI_COMMAND_STDOUT (optional).
Usage: python3 keycloakctl.py password
"""

from __future__ import annotations

import http.client
import json
import os
import sys
import urllib.parse
from pathlib import Path
from typing import Any

if __package__:  # imported as part of the package (tests)
    from ..swarm.pinned_http import connect, fetch
else:  # run as a file by a pulumi-command resource: load the stdlib-only helper directly
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "swarm"))
    from pinned_http import connect, fetch  # type: ignore[import-not-found]

REALM = "master"
CLIENT = "admin-cli"  # the client the keycloak provider logs in with


class KeycloakError(Exception):
    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


class Api:
    def __init__(self, env: dict[str, str]) -> None:
        self.url = env["KC_ADMIN_URL"].rstrip("/")
        self.connect_to = env.get("KC_ADMIN_CONNECT") or None
        self.insecure = env.get("KC_ADMIN_INSECURE") == "1"
        self.ca_file = env.get("KC_ADMIN_CA_FILE") or None
        self.user = env["KC_ADMIN_USER"]

    def _conn(self) -> http.client.HTTPConnection:
        return connect(self.url, self.connect_to, self.insecure, self.ca_file, timeout=60)

    def request(
        self, method: str, path: str, body: str | None, content_type: str, token: str | None = None
    ) -> Any:
        u = urllib.parse.urlsplit(self.url)
        headers = {"Host": u.netloc, "Content-Type": content_type, "Accept": "application/json"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        status, raw = fetch(self._conn(), method, u.path + path, headers, body)
        if status >= 300:
            raise KeycloakError(f"{method} {path.split('?', 1)[0]}: HTTP {status}{_message(raw)}", status)
        return json.loads(raw) if raw else None

    def token(self, password: str) -> str:
        """An admin access token, logging in as the provider does."""
        form = urllib.parse.urlencode(
            {"grant_type": "password", "client_id": CLIENT, "username": self.user, "password": password}
        )
        path = f"/realms/{REALM}/protocol/openid-connect/token"
        reply = self.request("POST", path, form, "application/x-www-form-urlencoded")
        token = reply.get("access_token") if isinstance(reply, dict) else None
        if not token:
            raise KeycloakError(f"POST {path}: no access_token in the reply")
        return str(token)

    def user_id(self, token: str) -> str:
        q = urllib.parse.urlencode({"username": self.user, "exact": "true"})
        users = self.request("GET", f"/admin/realms/{REALM}/users?{q}", None, "application/json", token)
        found = [u for u in users or [] if str(u.get("username", "")).lower() == self.user.lower()]
        if len(found) != 1:
            raise KeycloakError(f"{len(found)} users named {self.user!r} in realm {REALM}")
        return str(found[0]["id"])

    def reset_password(self, token: str, user_id: str, new: str) -> None:
        body = json.dumps({"type": "password", "value": new, "temporary": False})
        path = f"/admin/realms/{REALM}/users/{urllib.parse.quote(user_id)}/reset-password"
        self.request("PUT", path, body, "application/json", token)


def _message(raw: bytes) -> str:
    """Keycloak's own error text (error_description / errorMessage / error), never the request."""
    try:
        data = json.loads(raw)
    except ValueError:
        return ""
    if not isinstance(data, dict):
        return ""
    for key in ("error_description", "errorMessage", "error"):
        if isinstance(data.get(key), str) and data[key]:
            return f" ({data[key]})"
    return ""


def previous_password(stdout: str | None) -> str | None:
    """The password a previous `password` run left in force, from its stdout."""
    try:
        prev = json.loads(stdout or "").get("admin_password")
    except (ValueError, AttributeError):
        return None
    return prev if isinstance(prev, str) and prev else None


def _login(api: Api, password: str) -> tuple[str | None, str | None]:
    """(token, None) when `password` logs in; (None, Keycloak's refusal) when it is refused
    (401 invalid_grant); any other failure raises."""
    try:
        return api.token(password), None
    except KeycloakError as e:
        if e.status != 401:
            raise
        return None, str(e)


def ensure_password(api: Api, new: str, previous: str | None) -> str:
    """Make `new` the master admin's password; returns what was done. A Keycloak that
    already takes `new` is left alone (no write)."""
    token, refused = _login(api, new)
    if token is not None:
        return "unchanged"
    hint = (
        "If the password was changed outside Pulumi, set keycloakAdminPassword to the one "
        "Keycloak has, run `pulumi up`, then set the new one"
    )
    if not previous or previous == new:
        raise KeycloakError(
            f"Keycloak refused the configured admin password ({refused}) and no previous password "
            f"is known to this step. {hint}"
        )
    token, refused_previous = _login(api, previous)
    if token is None:
        raise KeycloakError(
            f"Keycloak refused both the configured admin password ({refused}) and the previous "
            f"one ({refused_previous}). {hint}"
        )
    api.reset_password(token, api.user_id(token), new)
    if _login(api, new)[0] is None:
        raise KeycloakError("the password reset was accepted but the new password is refused")
    return "changed from the previous password"


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[1] != "password":
        print("usage: keycloakctl.py password", file=sys.stderr)
        return 2
    env = dict(os.environ)
    missing = [k for k in ("KC_ADMIN_URL", "KC_ADMIN_USER", "KC_ADMIN_PASSWORD") if not env.get(k)]
    if missing:
        print(f"agent-os: keycloak: missing environment variable(s) {', '.join(missing)}", file=sys.stderr)
        return 2
    new = env["KC_ADMIN_PASSWORD"]
    try:
        done = ensure_password(Api(env), new, previous_password(env.get("PULUMI_COMMAND_STDOUT")))
    except (KeycloakError, OSError, ValueError, KeyError, TypeError) as e:
        print(f"agent-os: keycloak admin password: {e}", file=sys.stderr)
        return 1
    print(f"agent-os: keycloak admin password {done}", file=sys.stderr)
    print(json.dumps({"admin_password": new}))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
