"""One-time, idempotent OpenBao initialisation (stdlib only; run by a pulumi-command resource).

`init` asks `GET /v1/sys/init` first:
- not initialised: `PUT /v1/sys/init` with recovery shares (the static seal auto-unseals,
  so OpenBao returns recovery keys, not unseal keys) and prints the reply as ONE JSON line;
- already initialised: prints `{"root_token": $BAO_ROOT_TOKEN, "adopted": true}` when the
  operator supplied the token (agent-os:openbaoRootToken), else fails with instructions.

stdout is captured by Pulumi as a secret output (additionalSecretOutputs) and the command's
logging is off, so nothing printed here reaches logs. Errors never include the reply body.

Environment: BAO_URL, BAO_CONNECT (optional IP to connect to, keeping the URL host for SNI and
Host), BAO_INSECURE ("1"), BAO_CA_FILE, BAO_RECOVERY_SHARES, BAO_RECOVERY_THRESHOLD,
BAO_ROOT_TOKEN (optional). Usage: python3 baoctl.py init
"""

from __future__ import annotations

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


class BaoError(Exception):
    pass


def call(method: str, path: str, body: dict[str, Any] | None = None) -> dict[str, Any]:
    url = os.environ["BAO_URL"].rstrip("/")
    u = urllib.parse.urlsplit(url)
    conn = connect(
        url,
        os.environ.get("BAO_CONNECT") or None,
        os.environ.get("BAO_INSECURE") == "1",
        os.environ.get("BAO_CA_FILE") or None,
    )
    data = json.dumps(body).encode() if body is not None else None
    status, raw = fetch(conn, method, path, {"Host": u.netloc, "Content-Type": "application/json"}, data)
    if status != 200:
        raise BaoError(f"{method} {path}: HTTP {status}")
    try:
        out: dict[str, Any] = json.loads(raw)
    except ValueError:
        raise BaoError(f"{method} {path}: reply is not JSON") from None
    return out


def init() -> dict[str, Any]:
    if call("GET", "/v1/sys/init").get("initialized"):
        token = os.environ.get("BAO_ROOT_TOKEN", "")
        if not token:
            raise BaoError(
                "OpenBao is already initialised but this stack has no root token in its state. "
                "Set it once with `pulumi config set --secret agent-os:openbaoRootToken <token>` "
                "and run `pulumi up` again (the token is then adopted, never printed)."
            )
        return {"root_token": token, "adopted": True}
    shares = int(os.environ.get("BAO_RECOVERY_SHARES", "1"))
    threshold = int(os.environ.get("BAO_RECOVERY_THRESHOLD", "1"))
    reply = call("PUT", "/v1/sys/init", {"recovery_shares": shares, "recovery_threshold": threshold})
    if not reply.get("root_token"):
        raise BaoError("PUT /v1/sys/init: reply has no root_token")
    return {
        "root_token": reply["root_token"],
        "recovery_keys_b64": reply.get("recovery_keys_base64") or [],
        "adopted": False,
    }


def main(argv: list[str]) -> int:
    if argv[1:] != ["init"]:
        print("usage: baoctl.py init", file=sys.stderr)
        return 2
    try:
        out = init()
    except (BaoError, OSError, KeyError) as e:
        print(f"agent-os: openbao init: {e}", file=sys.stderr)
        return 1
    print(json.dumps(out, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
