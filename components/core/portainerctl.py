"""Idempotent Portainer API steps (stdlib only; run by pulumi-command resources).

`password`: make the admin password the configured one. `--admin-password-file` is read
only when Portainer has no admin yet, so after a rotation the server still has the previous
password: log in with the configured password and, if refused, with the previous one (this
step's own last stdout, handed back by pulumi-command as PULUMI_COMMAND_STDOUT), then PUT
/api/users/{id}/passwd. Its stdout is the password now in force (a secret output, never
logged); what it did goes to stderr.
`oauth`: log in as the admin, set OAuth (Keycloak) as the authentication method. PUT
/api/settings replaces the same fields every run, so re-running changes nothing.
`gitops`: find the Swarm endpoint and its SwarmID, then create the Git-backed stack unless a
stack of that name exists (then only report it: Portainer owns its redeploys/polling).

Environment: PT_URL, PT_CONNECT (optional IP, keeping the URL host for SNI and Host),
PT_INSECURE ("1"), PT_CA_FILE, PT_USER, PT_PASSWORD; for oauth: OAUTH_JSON (public settings),
OAUTH_CLIENT_SECRET; for gitops: GIT_JSON (public settings), GIT_TOKEN (optional),
CONNECTORS_JSON (the fleet's connectors: a stack that runs one again is refused); for
password: PULUMI_COMMAND_STDOUT (optional: the previous run's stdout).
Usage: python3 portainerctl.py password | oauth | gitops | gitops-delete
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


class PortainerError(Exception):
    def __init__(self, message: str, status: int = 0) -> None:
        super().__init__(message)
        self.status = status


# POST /api/auth answers 422 "Invalid credentials" for a wrong password.
REFUSED = 422


class Api:
    def __init__(self) -> None:
        self.url = os.environ["PT_URL"].rstrip("/")
        self.connect_to = os.environ.get("PT_CONNECT") or None
        self.insecure = os.environ.get("PT_INSECURE") == "1"
        self.ca_file = os.environ.get("PT_CA_FILE") or None
        self.jwt: str | None = None

    def _conn(self) -> http.client.HTTPConnection:
        return connect(self.url, self.connect_to, self.insecure, self.ca_file, timeout=60)

    def call(self, method: str, path: str, body: Any = None) -> Any:
        u = urllib.parse.urlsplit(self.url)
        headers = {"Host": u.netloc, "Content-Type": "application/json"}
        if self.jwt:
            headers["Authorization"] = f"Bearer {self.jwt}"
        data = json.dumps(body) if body is not None else None
        status, raw = fetch(self._conn(), method, u.path + path, headers, data)
        if status >= 300:
            raise PortainerError(f"{method} {path}: HTTP {status}{_message(raw)}", status)
        return json.loads(raw) if raw else None

    def login(self, password: str | None = None) -> None:
        self.jwt = None
        body = {"Username": os.environ["PT_USER"], "Password": password or os.environ["PT_PASSWORD"]}
        self.jwt = self.call("POST", "/api/auth", body)["jwt"]


def _message(raw: bytes) -> str:
    """Portainer's own error text ({"message", "details"}), never the request."""
    try:
        m = json.loads(raw).get("message")
    except (ValueError, AttributeError):
        return ""
    return f" ({m})" if isinstance(m, str) and m else ""


def previous_password(stdout: str | None) -> str | None:
    """The password a previous `password` run left in force, from its stdout."""
    try:
        prev = json.loads(stdout or "").get("admin_password")
    except (ValueError, AttributeError):
        return None
    return prev if isinstance(prev, str) and prev else None


def _refused(api: Api, password: str) -> str | None:
    """None when `password` logs in; Portainer's refusal otherwise."""
    try:
        api.login(password)
    except PortainerError as e:
        if e.status != REFUSED:
            raise
        return str(e)
    return None


def ensure_password(api: Api, new: str, previous: str | None) -> str:
    """Make `new` the admin password; returns what was done. A server that already takes
    `new` is left alone (no write)."""
    refused = _refused(api, new)
    if refused is None:
        return "unchanged"
    hint = (
        "If the password was changed outside Pulumi, set portainerAdminPassword to the one "
        "Portainer has, run `pulumi up`, then set the new one"
    )
    if not previous or previous == new:
        raise PortainerError(
            f"Portainer refused the configured admin password ({refused}) and no previous password "
            f"is known to this step. {hint}"
        )
    refused_previous = _refused(api, previous)
    if refused_previous is not None:
        raise PortainerError(
            f"Portainer refused both the configured admin password ({refused}) and the previous "
            f"one ({refused_previous}). {hint}"
        )
    me = api.call("GET", "/api/users/me")
    api.call("PUT", f"/api/users/{int(me['Id'])}/passwd", {"Password": previous, "NewPassword": new})
    # The change revokes every token issued before it: log in again, which also proves it.
    refused = _refused(api, new)
    if refused is not None:
        raise PortainerError(f"the password change was accepted but the new password is refused ({refused})")
    return "changed from the previous password"


def oauth(api: Api) -> str:
    s = json.loads(os.environ["OAUTH_JSON"])
    settings = {
        "AuthenticationMethod": 3,  # OAuth
        "OAuthSettings": {
            "ClientID": s["client_id"],
            "ClientSecret": os.environ["OAUTH_CLIENT_SECRET"],
            "AuthorizationURI": s["authorization_uri"],
            "AccessTokenURI": s["token_uri"],
            "ResourceURI": s["userinfo_uri"],
            "RedirectURI": s["redirect_uri"],
            "LogoutURI": s["logout_uri"],
            "UserIdentifier": "preferred_username",
            "Scopes": "openid profile email",
            "OAuthAutoCreateUsers": True,
            "SSO": True,
            "AuthStyle": 1,  # client secret in the POST body
        },
    }
    api.call("PUT", "/api/settings", settings)
    return "oauth configured"


def _endpoint(api: Api, name: str) -> int:
    endpoints = api.call("GET", "/api/endpoints") or []
    for e in endpoints:
        if e.get("Name") == name:
            return int(e["Id"])
    names = ", ".join(sorted(str(e.get("Name")) for e in endpoints)) or "none yet (is the agent up?)"
    raise PortainerError(f"no Portainer environment named {name!r} (there are: {names})")


def _stack(api: Api, name: str) -> dict[str, Any] | None:
    return next((s for s in api.call("GET", "/api/stacks") or [] if s.get("Name") == name), None)


def _refuse_duplicates(api: Api, endpoint_id: int, stack: str, stack_id: Any, created: bool) -> None:
    dups = duplicated_connectors(api, endpoint_id, stack)
    if not dups:
        return
    if created:
        api.call("DELETE", f"/api/stacks/{stack_id}?endpointId={endpoint_id}")
        raise PortainerError(
            f"stack {stack} would run connectors the fleet layer already runs ({', '.join(dups)}); "
            "it was removed again. Keep connectors out of the GitOps repository: agent-os deploys them."
        )
    raise PortainerError(f"stack {stack} runs connectors agent-os runs too: {', '.join(dups)}")


def _create(api: Api, g: dict[str, Any], endpoint_id: int) -> str:
    swarm = api.call("GET", f"/api/endpoints/{endpoint_id}/docker/swarm")
    token = os.environ.get("GIT_TOKEN", "")
    body = {
        "Name": g["stack_name"],
        "SwarmID": swarm["ID"],
        "RepositoryURL": g["repo_url"],
        "RepositoryReferenceName": g["ref"],
        "ComposeFile": g["path"],
        "RepositoryAuthentication": bool(token),
        "RepositoryUsername": "git" if token else "",
        "RepositoryPassword": token,
        "AutoUpdate": {"Interval": g["poll_interval"], "ForcePullImage": False},
    }
    created = api.call("POST", f"/api/stacks/create/swarm/repository?endpointId={endpoint_id}", body)
    _refuse_duplicates(api, endpoint_id, g["stack_name"], created.get("Id"), created=True)
    return f"stack {g['stack_name']} created (id {created.get('Id')})"


def gitops(api: Api) -> str:
    """Create the Git-backed stack, or bring an existing one to the configured settings: a
    new ref (or token, or poll interval) updates it in place and redeploys; a new repository
    or file path (which Portainer cannot change) replaces it. Unchanged: no write at all."""
    g = json.loads(os.environ["GIT_JSON"])
    endpoint_id = _endpoint(api, g["endpoint"])
    st = _stack(api, g["stack_name"])
    if st is None:
        return _create(api, g, endpoint_id)
    sid, git = st.get("Id"), st.get("GitConfig") or {}
    if git.get("URL") != g["repo_url"] or git.get("ConfigFilePath") != g["path"]:
        api.call("DELETE", f"/api/stacks/{sid}?endpointId={endpoint_id}")
        return _create(api, g, endpoint_id)
    _refuse_duplicates(api, endpoint_id, g["stack_name"], sid, created=False)
    if git.get("ReferenceName") == g["ref"]:
        return f"stack {g['stack_name']} unchanged (id {sid})"
    token = os.environ.get("GIT_TOKEN", "")
    body = {
        "RepositoryReferenceName": g["ref"],
        "RepositoryAuthentication": bool(token),
        "RepositoryUsername": "git" if token else "",
        "RepositoryPassword": token,
        "AutoUpdate": {"Interval": g["poll_interval"], "ForcePullImage": False},
    }
    api.call("POST", f"/api/stacks/{sid}/git?endpointId={endpoint_id}", body)
    api.call("PUT", f"/api/stacks/{sid}/git/redeploy?endpointId={endpoint_id}", {"PullImage": False})
    return f"stack {g['stack_name']} updated to {g['ref']} (id {sid})"


def gitops_delete(api: Api) -> str:
    """On destroy: remove the stack (and so its services); absent is fine."""
    g = json.loads(os.environ["GIT_JSON"])
    st = _stack(api, g["stack_name"])
    if st is None:
        return f"stack {g['stack_name']}: nothing to remove"
    api.call("DELETE", f"/api/stacks/{st.get('Id')}?endpointId={st.get('EndpointId')}")
    return f"stack {g['stack_name']} removed"


def _repo(image: str) -> str:
    """Image repository without registry default, tag or digest (docker.io/x/y:1 -> x/y)."""
    ref = image.split("@", 1)[0]
    last = ref.rsplit("/", 1)
    if ":" in last[-1]:
        ref = ref.rsplit(":", 1)[0]
    return ref.removeprefix("docker.io/").removeprefix("library/")


def duplicated_connectors(api: Api, endpoint_id: int, stack: str) -> list[str]:
    """Connectors (CONNECTORS_JSON: name, image) that a service of `stack` runs again, by its
    name inside the stack or by its image."""
    connectors = json.loads(os.environ.get("CONNECTORS_JSON") or "[]")
    by_repo = {_repo(c["image"]): c["name"] for c in connectors}
    names = {c["name"] for c in connectors}
    label = json.dumps({"label": [f"com.docker.stack.namespace={stack}"]})
    services = api.call(
        "GET", f"/api/endpoints/{endpoint_id}/docker/services?filters={urllib.parse.quote(label)}"
    )
    found: set[str] = set()
    for s in services or []:
        spec = s.get("Spec", {})
        if (spec.get("Labels") or {}).get("com.docker.stack.namespace") != stack:
            continue
        base = str(spec.get("Name", "")).removeprefix(f"{stack}_")
        image = str(spec.get("TaskTemplate", {}).get("ContainerSpec", {}).get("Image", ""))
        if base in names:
            found.add(base)
        if _repo(image) in by_repo:
            found.add(by_repo[_repo(image)])
    return sorted(found)


def main(argv: list[str]) -> int:
    steps = {"oauth": oauth, "gitops": gitops, "gitops-delete": gitops_delete}
    if len(argv) != 2 or argv[1] not in (*steps, "password"):
        print("usage: portainerctl.py password | oauth | gitops | gitops-delete", file=sys.stderr)
        return 2
    if argv[1] == "password":
        try:
            new = os.environ["PT_PASSWORD"]
            done = ensure_password(Api(), new, previous_password(os.environ.get("PULUMI_COMMAND_STDOUT")))
        except (PortainerError, OSError, KeyError, ValueError, TypeError) as e:
            print(f"agent-os: portainer admin password: {e}", file=sys.stderr)
            return 1
        print(f"agent-os: portainer admin password {done}", file=sys.stderr)
        print(json.dumps({"admin_password": new}))
        return 0
    try:
        api = Api()
        api.login()
        print(steps[argv[1]](api))
    except (PortainerError, OSError, KeyError, ValueError) as e:
        print(f"agent-os: portainer {argv[1]}: {e}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
