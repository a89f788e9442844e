"""A fake `docker` CLI for the day-0 script tests: one swarm kept in a JSON file.

Env: FAKE_DOCKER_STATE (state file), FAKE_DOCKER_LOG (one line per invocation),
FAKE_DOCKER_HOST (the address of the host this "docker" runs on). Implements exactly the
subcommands the day-0 scripts use; anything else exits 2 so a script change is noticed.
"""

from __future__ import annotations

import json
import os
import sys
from pathlib import Path
from typing import Any


def main(argv: list[str]) -> int:
    state_file = Path(os.environ["FAKE_DOCKER_STATE"])
    state: dict[str, Any] = json.loads(state_file.read_text()) if state_file.exists() else {}
    nodes: dict[str, Any] = state.setdefault("nodes", {})  # node id -> {addr, role, state, labels}
    local: dict[str, Any] = state.setdefault("local", {})  # host address -> node id
    here = os.environ.get("FAKE_DOCKER_HOST", "127.0.0.1")
    with open(os.environ["FAKE_DOCKER_LOG"], "a") as log:
        log.write(" ".join(argv) + "\n")

    def opt(name: str) -> str:
        return argv[argv.index(name) + 1]

    me = local.get(here)
    out: list[str] = []
    match argv[:2]:
        case ["info", "--format"]:
            f = argv[2]
            if "LocalNodeState" in f:
                out.append("active" if me else "inactive")
            elif "ControlAvailable" in f:
                out.append("true" if me and nodes[me]["role"] == "manager" else "false")
            elif "NodeID" in f:
                out.append(me or "")
            else:
                return 2
        case ["swarm", "init"]:
            if me:
                print("Error: this node is already part of a swarm", file=sys.stderr)
                return 1
            me = local[here] = f"node-{opt('--advertise-addr')}"
            nodes[me] = {"addr": here, "role": "manager", "state": "ready", "labels": {}}
            state["tokens"] = {"manager": "SWMTKN-1-manager", "worker": "SWMTKN-1-worker"}
        case ["swarm", "join"]:
            if me:
                print("Error: This node is already part of a swarm.", file=sys.stderr)
                return 1
            token = opt("--token")
            role = next((r for r, t in state.get("tokens", {}).items() if t == token), None)
            if role is None:
                print("Error: invalid join token", file=sys.stderr)
                return 1
            me = local[here] = f"node-{opt('--advertise-addr')}"
            nodes[me] = {"addr": here, "role": role, "state": "ready", "labels": {}}
        case ["swarm", "join-token"]:
            out.append(state["tokens"][argv[-1]])
        case ["node", "ls"]:
            if not me or nodes[me]["role"] != "manager":
                print("Error: not a swarm manager", file=sys.stderr)
                return 1
            out += (
                list(nodes) if "-q" in argv else [f"{i} {n['state']} {n['role']}" for i, n in nodes.items()]
            )
        case ["node", "inspect"]:
            fmt, ids = argv[3], argv[4:]
            for i in ids:
                if i not in nodes:
                    print(f"Error: No such node: {i}", file=sys.stderr)
                    return 1
                n = nodes[i]
                labels = sorted(n["labels"].items())  # Go templates range over sorted keys
                if ".Status.State" in fmt:
                    out.append(" ".join([n["state"], n["role"], *(f"{k}={v}" for k, v in labels)]))
                else:
                    out.append("".join(f"{k}={v}\n" for k, v in labels).rstrip("\n"))
        case ["node", "update"]:
            node = nodes[argv[-1]]
            args = argv[2:-1]
            for flag, val in zip(args[::2], args[1::2], strict=True):
                if flag == "--label-add":
                    k, _, v = val.partition("=")
                    node["labels"][k] = v
                elif flag == "--label-rm":
                    if val not in node["labels"]:
                        print(f"Error: key {val} doesn't exist in node's labels", file=sys.stderr)
                        return 1
                    del node["labels"][val]
                else:
                    return 2
            out.append(argv[-1])
        case _:
            print(f"fake docker: unsupported {argv}", file=sys.stderr)
            return 2
    state_file.write_text(json.dumps(state))
    if out:
        print("\n".join(out))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
