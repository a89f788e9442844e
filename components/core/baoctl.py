"""OpenBao's one-time init and the scoped admin login that replaces the root token (stdlib
only; each subcommand is run by a pulumi-command resource, components/core/openbao.py).

Secrets arrive on stdin as one JSON object, never in argv or the environment. stdout is one
JSON line; errors go to stderr and never carry a token, a key or a reply body. Nothing is
printed before a step has succeeded: pulumi-command puts a failed command's output into
its error message.

`init` (stdin: {"reply_key": base64 of 32 bytes, "adopt_token": optional root token})
- not initialised: writes a `pending` record to BAO_INIT_REPLY_FILE (atomic, 0600), then
  `PUT /v1/sys/init` with recovery shares (the static seal auto-unseals, so OpenBao returns
  recovery keys, not unseal keys), then replaces the record with the reply encrypted under
  reply_key (a key derived from the stack's seal secret), then prints the reply. A reply
  lost in between (the process or `pulumi up` dies) is found on the next run;
- already initialised, with an encrypted reply on disk: prints it again (resumed);
- already initialised, with adopt_token (agent-os:openbaoRootToken): prints that token;
- already initialised, with only a `pending` record: the reply was lost; fails with the
  reset procedure (nothing was stored in the cluster yet), never re-initialises;
- already initialised, no record, no token: fails with the generate-root procedure.

`admin` (stdin: {"root_token", "role_id", "secret_id"})
Makes sure the AppRole BAO_ADMIN_MOUNT/BAO_ADMIN_ROLE exists with exactly the policy
BAO_ADMIN_POLICY (its token carries that policy only), and that role_id/secret_id log in
to it. When all of that already holds, the root token is not needed; otherwise it is used
to set it up (and to destroy any other secret id of the role). Then the root token is
revoked (whatever token was handed in as root_token), and the init reply file is removed:
its content is in the stack's state by now (Pulumi checkpoints init before this step
starts). A revoked root token with a change to make fails with the generate-root procedure.

Environment (no secrets): BAO_URL, BAO_CONNECT (optional IP to connect to, keeping the URL
host for SNI and Host), BAO_INSECURE ("1"), BAO_CA_FILE, BAO_INIT_REPLY_FILE; for init
BAO_RECOVERY_SHARES, BAO_RECOVERY_THRESHOLD, BAO_MEMBERS (JSON [[service, volume], ...]);
both BAO_ADMIN_MOUNT; for admin BAO_ADMIN_ROLE, BAO_ADMIN_POLICY_NAME, BAO_ADMIN_POLICY,
BAO_ADMIN_TOKEN_TTL (seconds). Usage: python3 baoctl.py init|admin < secrets.json
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import secrets
import sys
import urllib.parse
from pathlib import Path
from typing import Any

if __package__:  # imported as part of the package (tests)
    from ..swarm.pinned_http import connect, fetch
else:  # run as a file by a pulumi-command resource: load the stdlib-only helper directly
    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "swarm"))
    from pinned_http import connect, fetch  # type: ignore[import-not-found]


class BaoError(Exception):
    pass


README = "README.md, 'OpenBao: root token and recovery'"


# --- HTTP ------------------------------------------------------------------------------


def request(
    method: str, path: str, body: dict[str, Any] | None = None, token: str | None = None
) -> tuple[int, dict[str, Any]]:
    url = os.environ["BAO_URL"].rstrip("/")
    u = urllib.parse.urlsplit(url)
    conn = connect(
        url,
        os.environ.get("BAO_CONNECT") or None,
        os.environ.get("BAO_INSECURE") == "1",
        os.environ.get("BAO_CA_FILE") or None,
    )
    headers = {"Host": u.netloc, "Content-Type": "application/json"}
    if token:
        headers["X-Vault-Token"] = token
    data = json.dumps(body).encode() if body is not None else None
    status, raw = fetch(conn, method, path, headers, data)
    if not raw.strip():
        return status, {}
    try:
        out = json.loads(raw)
    except ValueError:
        raise BaoError(f"{method} {path}: HTTP {status}, reply is not JSON") from None
    return status, out if isinstance(out, dict) else {}


def _errors(reply: dict[str, Any]) -> str:
    """OpenBao's own error strings (never a request value), shortened."""
    errs = reply.get("errors")
    if not isinstance(errs, list) or not errs:
        return ""
    return ": " + "; ".join(str(e).strip() for e in errs)[:300]


def call(
    method: str, path: str, body: dict[str, Any] | None = None, token: str | None = None
) -> dict[str, Any]:
    status, out = request(method, path, body, token)
    if status not in (200, 204):
        raise BaoError(f"{method} {path}: HTTP {status}{_errors(out)}")
    return out


def token_valid(token: str) -> bool:
    if not token:
        return False
    status, out = request("GET", "/v1/auth/token/lookup-self", token=token)
    if status == 200:
        return True
    if status in (400, 401, 403):
        return False
    raise BaoError(f"GET /v1/auth/token/lookup-self: HTTP {status}{_errors(out)}")


def login(mount: str, role_id: str, secret_id: str) -> str | None:
    """A token from the AppRole at `mount`, or None when the mount, role or credentials are
    not (or no longer) there."""
    status, out = request("POST", f"/v1/auth/{mount}/login", {"role_id": role_id, "secret_id": secret_id})
    if status == 200:
        token = (out.get("auth") or {}).get("client_token")
        if isinstance(token, str) and token:
            return token
        raise BaoError(f"POST /v1/auth/{mount}/login: reply has no token")
    if status in (400, 403, 404):
        return None
    raise BaoError(f"POST /v1/auth/{mount}/login: HTTP {status}{_errors(out)}")


# --- the init reply on disk --------------------------------------------------------------


def _subkeys(key: bytes) -> tuple[bytes, bytes]:
    enc = hmac.new(key, b"agent-os openbao-init reply: encryption", hashlib.sha256).digest()
    mac = hmac.new(key, b"agent-os openbao-init reply: authentication", hashlib.sha256).digest()
    return enc, mac


def _keystream(enc: bytes, nonce: bytes, n: int) -> bytes:
    """HMAC-SHA256 in counter mode (a PRF-based stream cipher)."""
    blocks = (n + 31) // 32
    return b"".join(
        hmac.new(enc, nonce + i.to_bytes(8, "big"), hashlib.sha256).digest() for i in range(blocks)
    )


def seal_reply(key: bytes, reply: dict[str, Any]) -> dict[str, Any]:
    """Encrypt-then-MAC: the record holds no readable secret."""
    enc, mac = _subkeys(key)
    plain = json.dumps(reply, sort_keys=True).encode()
    nonce = secrets.token_bytes(16)
    ct = bytes(a ^ b for a, b in zip(plain, _keystream(enc, nonce, len(plain)), strict=False))
    tag = hmac.new(mac, nonce + ct, hashlib.sha256).digest()
    b64 = base64.b64encode
    return {
        "v": 1,
        "state": "reply",
        "nonce": b64(nonce).decode(),
        "ct": b64(ct).decode(),
        "tag": b64(tag).decode(),
    }


def open_reply(key: bytes, record: dict[str, Any]) -> dict[str, Any]:
    enc, mac = _subkeys(key)
    try:
        nonce, ct, tag = (base64.b64decode(str(record[k])) for k in ("nonce", "ct", "tag"))
    except (KeyError, ValueError):
        raise BaoError("the stored init reply is damaged") from None
    if not hmac.compare_digest(tag, hmac.new(mac, nonce + ct, hashlib.sha256).digest()):
        raise BaoError(
            "the stored init reply does not open with this stack's key "
            "(was agent-os:openbaoSealSecret changed since init?)"
        )
    plain = bytes(a ^ b for a, b in zip(ct, _keystream(enc, nonce, len(ct)), strict=False))
    out = json.loads(plain)
    if not isinstance(out, dict) or not out.get("root_token"):
        raise BaoError("the stored init reply is damaged")
    return out


def read_record(path: Path) -> dict[str, Any] | None:
    try:
        out = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except ValueError:
        raise BaoError(f"{path} is not a record this script wrote; move it away and run again") from None
    if not isinstance(out, dict) or out.get("state") not in ("pending", "reply"):
        raise BaoError(f"{path} is not a record this script wrote; move it away and run again")
    return out


def write_record(path: Path, record: dict[str, Any]) -> None:
    """Durable and atomic: a private temp file, fsync, rename over the old one, fsync the
    directory. A crash leaves either the old record or the new one."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, json.dumps(record, sort_keys=True).encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    dfd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dfd)
    finally:
        os.close(dfd)


# --- what an operator has to do ------------------------------------------------------------


def generate_root_steps(url: str, admin_mount: str) -> str:
    """Every line here is run by tests/core/test_core_openbao_admin.py against a real bao."""
    return (
        "Generate a root token with the recovery keys (stack output openbaoRecoveryKeys, or your\n"
        "offline copy), then hand it to one `pulumi up`, which uses it and revokes it:\n"
        f"  export BAO_ADDR={url}\n"
        "  # OpenBao 2.6+ only (its generate-root endpoints need a token): this stack's admin login\n"
        '  export BAO_TOKEN="$(pulumi stack output --show-secrets openbaoAdminLogin'
        f' | bao write -field=token auth/{admin_mount}/login -)"\n'
        "  bao operator generate-root -generate-otp > otp.txt\n"
        '  bao operator generate-root -init -otp="$(cat otp.txt)"\n'
        "  bao operator generate-root            # once per recovery key; it prompts for the key\n"
        '  bao operator generate-root -decode=<Encoded Token> -otp="$(cat otp.txt)"\n'
        "  pulumi config set --secret agent-os:openbaoRootToken   # it prompts for the token\n"
        "  pulumi up && pulumi config rm agent-os:openbaoRootToken && rm otp.txt\n"
        f"Details, and what to do without this stack's state: {README}."
    )


def reset_steps(record_file: Path, members: list[tuple[str, str]]) -> str:
    services = " ".join(s for s, _ in members) or "<every bao-N service>"
    lines = [
        "Only a reset brings it back (it holds no data: this stack never got past init):",
        f"  docker service scale {' '.join(f'{s}=0' for s, _ in members) or '<bao-N>=0'}",
    ]
    lines += [f"  docker volume rm {v}   # on the node that runs {s}" for s, v in members]
    lines += [
        f"  docker service scale {' '.join(f'{s}=1' for s, _ in members) or '<bao-N>=1'}",
        f"  rm {record_file}",
        "  pulumi up",
        f"Services: {services}. Details: {README}.",
    ]
    return "\n".join(lines)


# --- init ----------------------------------------------------------------------------------


def _stdin_json() -> dict[str, Any]:
    try:
        out = json.loads(sys.stdin.read() or "{}")
    except ValueError:
        raise BaoError("stdin is not one JSON object") from None
    if not isinstance(out, dict):
        raise BaoError("stdin is not one JSON object")
    return out


def _reply_key(value: object) -> bytes:
    try:
        key = base64.b64decode(str(value), validate=True)
    except ValueError:
        key = b""
    if len(key) != 32:
        raise BaoError("reply_key on stdin is not 32 bytes of base64")
    return key


def _members() -> list[tuple[str, str]]:
    raw = json.loads(os.environ.get("BAO_MEMBERS") or "[]")
    return [(str(s), str(v)) for s, v in raw]


def init(secrets_in: dict[str, Any]) -> dict[str, Any]:
    key = _reply_key(secrets_in.get("reply_key"))
    adopt = str(secrets_in.get("adopt_token") or "")
    url = os.environ["BAO_URL"].rstrip("/")
    record_file = Path(os.environ["BAO_INIT_REPLY_FILE"])
    record = read_record(record_file)
    if call("GET", "/v1/sys/init").get("initialized"):
        if record is not None and record["state"] == "reply":
            return {**open_reply(key, record), "adopted": False, "resumed": True}
        if adopt:
            if not token_valid(adopt):
                raise BaoError(
                    "agent-os:openbaoRootToken is not a valid token on this cluster (revoked, expired "
                    "or from another cluster).\n"
                    + generate_root_steps(url, os.environ.get("BAO_ADMIN_MOUNT") or "<admin mount>")
                )
            return {"root_token": adopt, "adopted": True}
        if record is not None:  # pending: we asked OpenBao to initialise and lost its reply
            raise BaoError(
                f"OpenBao at {url} is initialised, but the reply of this stack's own init (root token, "
                f"recovery keys) was lost: {record_file} records an init that was started and never "
                "completed. No token or key exists anywhere, so nothing can administer this cluster. "
                "It was not initialised again.\n" + reset_steps(record_file, _members())
            )
        raise BaoError(
            f"OpenBao at {url} is already initialised, and this stack has neither its init reply "
            f"({record_file}) nor a root token (agent-os:openbaoRootToken). It was not initialised "
            "again.\n" + generate_root_steps(url, os.environ.get("BAO_ADMIN_MOUNT") or "<admin mount>")
        )
    shares = int(os.environ.get("BAO_RECOVERY_SHARES", "1"))
    threshold = int(os.environ.get("BAO_RECOVERY_THRESHOLD", "1"))
    write_record(record_file, {"v": 1, "state": "pending", "url": url})
    # From here until the reply is on disk, a lost reply leaves the `pending` record behind.
    status, reply = request(
        "PUT", "/v1/sys/init", {"recovery_shares": shares, "recovery_threshold": threshold}
    )
    if status != 200:  # OpenBao answered and refused: it did not initialise for us
        record_file.unlink(missing_ok=True)
        raise BaoError(f"PUT /v1/sys/init: HTTP {status}{_errors(reply)}")
    if not reply.get("root_token"):
        raise BaoError("PUT /v1/sys/init: reply has no root_token")
    out = {"root_token": reply["root_token"], "recovery_keys_b64": reply.get("recovery_keys_base64") or []}
    write_record(record_file, seal_reply(key, out))
    return {**out, "adopted": False}


# --- admin ---------------------------------------------------------------------------------


def role_settings(policy: str, ttl: int) -> dict[str, Any]:
    """The admin role: its tokens carry `policy` only, live `ttl` seconds and are never
    renewed past it; its secret ids never expire (they live in the stack's state)."""
    return {
        "token_policies": [policy],
        "token_no_default_policy": True,
        "token_type": "service",
        "token_ttl": ttl,
        "token_max_ttl": ttl,
        "token_num_uses": 0,
        "bind_secret_id": True,
        "secret_id_ttl": 0,
        "secret_id_num_uses": 0,
    }


def drift(token: str | None, mount: str, role: str, policy_name: str, policy: str, ttl: int) -> str | None:
    """Why the admin login is not what this program needs, or None when it is. Reads only what
    the admin policy lets the admin token read about itself."""
    if token is None:
        return f"no login to auth/{mount} with this stack's role_id/secret_id (not set up yet, or rotated)"
    me = call("GET", "/v1/auth/token/lookup-self", token=token).get("data") or {}
    if sorted(me.get("policies") or []) != [policy_name]:
        return "its token carries other policies"
    status, got = request("GET", f"/v1/sys/policies/acl/{policy_name}", token=token)
    if status != 200 or (got.get("data") or {}).get("policy") != policy:
        return f"policy {policy_name} differs from the one this program needs"
    status, got = request("GET", f"/v1/auth/{mount}/role/{role}", token=token)
    have = got.get("data") or {}
    want = role_settings(policy_name, ttl)
    if status != 200 or any(have.get(k) != v for k, v in want.items()):
        return f"role {role} differs from the one this program needs"
    return None


def configure(
    root: str, mount: str, role: str, policy_name: str, policy: str, ttl: int, ids: tuple[str, str]
) -> None:
    role_id, secret_id = ids
    auths = call("GET", "/v1/sys/auth", token=root)
    have = auths.get("data") if isinstance(auths.get("data"), dict) else auths
    existing = (have or {}).get(f"{mount}/")
    if existing is None:
        call(
            "POST",
            f"/v1/sys/auth/{mount}",
            {"type": "approle", "description": "agent-os: the Pulumi program's admin login"},
            root,
        )
    elif existing.get("type") != "approle":
        raise BaoError(f"auth/{mount} exists and is not an AppRole mount; move it away or pick another")
    call("PUT", f"/v1/sys/policies/acl/{policy_name}", {"policy": policy}, root)
    base = f"/v1/auth/{mount}/role/{role}"
    call("POST", base, role_settings(policy_name, ttl), root)
    call("POST", f"{base}/role-id", {"role_id": role_id}, root)
    status, out = request("POST", f"{base}/secret-id/lookup", {"secret_id": secret_id}, root)
    if status == 200 and (out.get("data") or {}).get("secret_id_accessor"):
        keep = str(out["data"]["secret_id_accessor"])
    else:
        keep = str(
            call("POST", f"{base}/custom-secret-id", {"secret_id": secret_id}, root)["data"][
                "secret_id_accessor"
            ]
        )
    # A rotated-out secret id must stop working.
    status, listed = request("LIST", f"{base}/secret-id", token=root)
    accessors = (listed.get("data") or {}).get("keys") or [] if status == 200 else []
    for accessor in accessors:
        if accessor != keep:
            call("POST", f"{base}/secret-id-accessor/destroy", {"secret_id_accessor": accessor}, root)


def revoke(root: str) -> str:
    if not root or not token_valid(root):
        return "already revoked"
    call("POST", "/v1/auth/token/revoke-self", {}, root)
    if token_valid(root):
        raise BaoError("the root token still works after revoke-self")
    return "revoked"


def admin(secrets_in: dict[str, Any]) -> dict[str, Any]:
    url = os.environ["BAO_URL"].rstrip("/")
    mount = os.environ["BAO_ADMIN_MOUNT"]
    role = os.environ["BAO_ADMIN_ROLE"]
    policy_name = os.environ["BAO_ADMIN_POLICY_NAME"]
    policy = os.environ["BAO_ADMIN_POLICY"]
    ttl = int(os.environ["BAO_ADMIN_TOKEN_TTL"])
    role_id, secret_id = str(secrets_in.get("role_id") or ""), str(secrets_in.get("secret_id") or "")
    if not role_id or not secret_id:
        raise BaoError("role_id and secret_id are required on stdin")
    root = str(secrets_in.get("root_token") or "")
    reason = drift(login(mount, role_id, secret_id), mount, role, policy_name, policy, ttl)
    action = "unchanged"
    if reason is not None:
        if not token_valid(root):
            raise BaoError(
                f"The admin login auth/{mount}/role/{role} needs a change ({reason}), which only a root "
                "token may make, and the root token this stack holds is revoked.\n"
                + generate_root_steps(url, mount)
            )
        configure(root, mount, role, policy_name, policy, ttl, (role_id, secret_id))
        again = drift(login(mount, role_id, secret_id), mount, role, policy_name, policy, ttl)
        if again is not None:
            raise BaoError(f"the admin login was set up but does not check out: {again}")
        action = "configured"
    root_state = revoke(root)
    if record_file := os.environ.get("BAO_INIT_REPLY_FILE"):
        Path(record_file).unlink(missing_ok=True)
    return {"admin": action, "login": f"auth/{mount}/role/{role}", "root_token": root_state}


def main(argv: list[str]) -> int:
    steps = {"init": init, "admin": admin}
    if len(argv) != 2 or argv[1] not in steps:
        print("usage: baoctl.py init|admin < secrets.json", file=sys.stderr)
        return 2
    try:
        out = steps[argv[1]](_stdin_json())
    except (BaoError, OSError, KeyError, ValueError) as e:
        print(f"agent-os: openbao {argv[1]}: {e}", file=sys.stderr)
        return 1
    print(json.dumps(out, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
