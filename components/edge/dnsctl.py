"""Idempotent Technitium DNS zone sync (stdlib only; run by a pulumi-command resource).

Every Technitium API call answers HTTP 200, errors included, so each reply's JSON
`status` is checked. Records this tool manages carry a comment marker; `sync` adds what
is missing, leaves what is right, and deletes managed records no longer desired.

`password` makes the admin password the configured one. Technitium reads its password
file only on first start, so after a rotation the server still has the previous password:
log in with the configured password and, if refused, with the previous one (this step's
own last stdout, which pulumi-command hands back as PULUMI_COMMAND_STDOUT), then change it
through the API. Its stdout is the password now in force (a secret output, never logged).

Environment: DNS_API_URL, DNS_API_CONNECT (optional IP to connect to, keeping the URL's
host for SNI and Host), DNS_API_USER, DNS_API_PASSWORD, DNS_ZONE, DNS_RECORDS (JSON list
of {"name", "ip"}), DNS_TTL, DNS_API_INSECURE ("1"), DNS_API_CA_FILE; for `password`,
PULUMI_COMMAND_STDOUT (optional: the previous run's stdout).
Usage: python3 dnsctl.py sync | prune | password
"""

from __future__ import annotations

import http.client
import json
import os
import sys
import urllib.parse
from dataclasses import dataclass
from pathlib import Path
from typing import Any

if __package__:  # imported as part of the package (tests)
    from ..swarm.pinned_http import connect, fetch
else:  # run as a file by a pulumi-command resource: load the stdlib-only helper directly
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "swarm"))
    from pinned_http import connect, fetch  # type: ignore[import-not-found]

MARKER = "managed-by agent-os"


class ApiError(Exception):
    pass


class LoginRefusedError(ApiError):
    """The server answered the login and said no (wrong password, or blocked)."""


@dataclass(frozen=True)
class Client:
    base_url: str
    connect_to: str | None = None
    insecure: bool = False
    ca_file: str | None = None
    timeout: float = 10.0

    def _conn(self) -> http.client.HTTPConnection:
        return connect(self.base_url, self.connect_to, self.insecure, self.ca_file, self.timeout)

    def call(self, path: str, **params: str) -> dict[str, Any]:
        """POST form (Technitium takes either): the password and the session token stay out
        of URLs, so no access log or proxy ever records them."""
        u = urllib.parse.urlsplit(self.base_url)
        form = urllib.parse.urlencode(params)
        headers = {"Host": u.netloc, "Content-Type": "application/x-www-form-urlencoded"}
        status, body = fetch(self._conn(), "POST", f"{u.path.rstrip('/')}{path}", headers, form)
        if status != 200:
            raise ApiError(f"{path}: HTTP {status}")
        try:
            data: dict[str, Any] = json.loads(body)
        except ValueError:
            raise ApiError(f"{path}: reply is not JSON") from None
        # Technitium answers 200 on failure; the JSON status is the truth.
        if data.get("status") != "ok":
            msg = data.get("errorMessage") or data.get("status") or "no status"
            err = LoginRefusedError if path == "/api/user/login" else ApiError
            raise err(f"{path}: {data.get('status')}: {msg}")
        return data


def login_info(c: Client, user: str, password: str) -> tuple[str, str]:
    """Session token and server version (`info.version`, e.g. "13.6")."""
    reply = c.call("/api/user/login", user=user, includeInfo="true", **{"pass": password})
    token = reply.get("token")
    if not token:
        raise ApiError("/api/user/login: no token in reply")
    info = reply.get("info")
    version = info.get("version") if isinstance(info, dict) else None
    return str(token), str(version or "")


def login(c: Client, user: str, password: str) -> str:
    return login_info(c, user, password)[0]


def change_password(c: Client, token: str, version: str, current: str, new: str) -> None:
    """/api/user/changePassword for the logged-in user. Up to v13 (the pinned 13.6.0) `pass`
    is the new password; from v14 `pass` is the current one and `newPass` the new one."""
    try:
        major = int(version.split(".", 1)[0])
    except ValueError:
        major = 13
    if major >= 14:
        c.call("/api/user/changePassword", token=token, newPass=new, **{"pass": current})
    else:
        c.call("/api/user/changePassword", token=token, **{"pass": new})


def previous_password(stdout: str | None) -> str | None:
    """The password a previous `password` run left in force, from its stdout."""
    try:
        prev = json.loads(stdout or "").get("admin_password")
    except (ValueError, AttributeError):
        return None
    return prev if isinstance(prev, str) and prev else None


def ensure_password(c: Client, user: str, new: str, previous: str | None) -> str:
    """Make `new` the admin password; returns what was done. Idempotent: a server that
    already takes `new` is left alone."""
    try:
        login(c, user, new)
        return "unchanged"
    except LoginRefusedError as e:
        refused = str(e)
    if not previous or previous == new:
        raise ApiError(
            f"the server refused the configured admin password ({refused}) and no previous "
            "password is known to this step. If the password was changed outside Pulumi, set "
            "technitiumAdminPassword to the one the server has, run `pulumi up`, then set the new one"
        )
    try:
        token, version = login_info(c, user, previous)
    except LoginRefusedError as e:
        raise ApiError(
            f"the server refused both the configured admin password ({refused}) and the previous "
            f"one ({e}). Set technitiumAdminPassword to the password the server has, run "
            "`pulumi up`, then set the new one"
        ) from None
    change_password(c, token, version, previous, new)
    try:
        login(c, user, new)
    except LoginRefusedError as e:
        raise ApiError(f"the password change was accepted but the new password is refused ({e})") from None
    return "changed from the previous password"


def response(reply: dict[str, Any], path: str, key: str) -> list[dict[str, Any]]:
    """`reply["response"][key]`, a list; anything else is a malformed reply, said as such."""
    body = reply.get("response")
    items = body.get(key) if isinstance(body, dict) else None
    if not isinstance(items, list):
        raise ApiError(f"{path}: malformed reply (no response.{key} list)")
    return items


def zone_exists(c: Client, token: str, zone: str) -> bool:
    zones = response(c.call("/api/zones/list", token=token), "/api/zones/list", "zones")
    return any(z.get("name") == zone for z in zones)


def ensure_zone(c: Client, token: str, zone: str) -> bool:
    if zone_exists(c, token, zone):
        return False
    c.call("/api/zones/create", token=token, zone=zone, type="Primary")
    return True


def managed_records(c: Client, token: str, zone: str) -> set[tuple[str, str]]:
    path = "/api/zones/records/get"
    reply = c.call(path, token=token, domain=zone, zone=zone, listZone="true")
    out: set[tuple[str, str]] = set()
    for r in response(reply, path, "records"):
        if r.get("type") == "A" and r.get("comments") == MARKER:
            out.add((str(r["name"]), str(r.get("rData", {}).get("ipAddress"))))
    return out


def sync(c: Client, token: str, zone: str, desired: set[tuple[str, str]], ttl: int) -> dict[str, int]:
    ensure_zone(c, token, zone)
    have = managed_records(c, token, zone)
    added = removed = 0
    for name, ip in sorted(desired - have):
        c.call(
            "/api/zones/records/add",
            token=token,
            zone=zone,
            domain=name,
            type="A",
            ipAddress=ip,
            ttl=str(ttl),
            overwrite="false",
            comments=MARKER,
        )
        added += 1
    for name, ip in sorted(have - desired):
        c.call(
            "/api/zones/records/delete",
            token=token,
            zone=zone,
            domain=name,
            type="A",
            ipAddress=ip,
        )
        removed += 1
    return {"added": added, "removed": removed, "kept": len(desired & have)}


def prune(c: Client, token: str, zone: str) -> dict[str, int]:
    """Remove the managed records; a zone that is not there is left not there."""
    if not zone_exists(c, token, zone):
        return {"added": 0, "removed": 0, "kept": 0}
    return sync(c, token, zone, set(), 0)


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[1] not in ("sync", "prune", "password"):
        print("usage: dnsctl.py sync|prune|password", file=sys.stderr)
        return 2
    env = os.environ
    needed = ("DNS_API_URL", "DNS_API_PASSWORD") + (() if argv[1] == "password" else ("DNS_ZONE",))
    missing = [k for k in needed if not env.get(k)]
    if missing:
        print(f"dnsctl: missing environment variable(s) {', '.join(missing)}", file=sys.stderr)
        return 2
    client = Client(
        env["DNS_API_URL"],
        env.get("DNS_API_CONNECT") or None,
        env.get("DNS_API_INSECURE") == "1",
        env.get("DNS_API_CA_FILE") or None,
    )
    if argv[1] == "password":
        user, new = env.get("DNS_API_USER", "admin"), env["DNS_API_PASSWORD"]
        try:
            done = ensure_password(client, user, new, previous_password(env.get("PULUMI_COMMAND_STDOUT")))
        except (ApiError, OSError) as e:
            print(f"dnsctl: admin password: {e}", file=sys.stderr)
            return 1
        print(f"dnsctl: admin password {done}", file=sys.stderr)
        print(json.dumps({"admin_password": new}))
        return 0
    zone = env["DNS_ZONE"]
    try:
        records = json.loads(env.get("DNS_RECORDS", "[]")) if argv[1] == "sync" else []
        desired = {(str(r["name"]), str(r["ip"])) for r in records}
        token = login(client, env.get("DNS_API_USER", "admin"), env["DNS_API_PASSWORD"])
        if argv[1] == "prune":
            result = prune(client, token, zone)
        else:
            result = sync(client, token, zone, desired, int(env.get("DNS_TTL", "300")))
    except (ApiError, OSError, ValueError, KeyError, TypeError) as e:
        print(f"dnsctl: {e}", file=sys.stderr)
        return 1
    print(json.dumps({"zone": zone, **result}, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
