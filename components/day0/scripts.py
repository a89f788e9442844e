"""The check-first shell scripts of day 0, as pure functions of the inventory.

Each script looks at the current state before it changes anything, so a re-run changes
nothing and a half-done run resumes: init only on an inactive leader, joins only on inactive
hosts, labels only where they differ (labels.py). Scripts are POSIX sh and need only the
docker CLI on the host they run on.
"""

from __future__ import annotations

import shlex
from collections.abc import Mapping, Sequence

from ..config.inventory import HostConfig, Role
from ..model import Placement

SWARM_PORT = 2377
_STATE = "docker info --format '{{.Swarm.LocalNodeState}}'"
_IS_MANAGER = "docker info --format '{{.Swarm.ControlAvailable}}'"
_NODE_ID = "docker info --format '{{.Swarm.NodeID}}'"


def _fail(msg: str) -> str:
    return f"{{ echo {shlex.quote('agent-os: ' + msg)} >&2; exit 1; }}"


def _addr_flags(h: HostConfig) -> str:
    a = shlex.quote(h.address)
    return f"--advertise-addr {a} --data-path-addr {a}"


def init_script(leader: HostConfig) -> str:
    """`docker swarm init` on the first manager unless it is already an active manager.
    Prints the node ID."""
    who = f"{leader.name} ({leader.address})"
    return "\n".join(
        [
            "set -eu",
            f"state=$({_STATE})",
            'case "$state" in',
            f'  active) [ "$({_IS_MANAGER})" = true ] || '
            + _fail(f"{who} is in a swarm but not a manager; it must be the first manager")
            + " ;;",
            f"  inactive) docker swarm init {_addr_flags(leader)} >/dev/null ;;",
            "  *) "
            + _fail(f"{who}: swarm state is not active/inactive; resolve it by hand, then re-run")
            + " ;;",
            "esac",
            _NODE_ID,
            "",
        ]
    )


def token_script(role: Role) -> str:
    """The join token for `role`, read on the first manager (stdout is a secret output)."""
    return f"docker swarm join-token -q {role.value}\n"


def join_script(host: HostConfig, leader: HostConfig) -> str:
    """Join `host` to the leader's swarm unless it is already in one. The join token comes on
    stdin (a secret, never in the script). Prints the node ID."""
    who = f"{host.name} ({host.address})"
    lines = [
        "set -eu",
        "IFS= read -r token || true",
        f"state=$({_STATE})",
        'case "$state" in',
        "  active) ;;",
        f'  inactive) [ -n "$token" ] || {_fail("no join token on stdin")}; '
        f'docker swarm join --token "$token" {_addr_flags(host)} '
        f"{shlex.quote(f'{leader.address}:{SWARM_PORT}')} >/dev/null ;;",
        "  *) "
        + _fail(f"{who}: swarm state is not active/inactive; resolve it by hand, then re-run")
        + " ;;",
        "esac",
    ]
    if host.role is Role.MANAGER:
        lines.append(
            f'[ "$({_IS_MANAGER})" = true ] || '
            + _fail(f"{who} is a worker but the inventory says manager; run docker node promote on a manager")
        )
    lines += [_NODE_ID, ""]
    return "\n".join(lines)


LABELS_FMT = "{{.Status.State}} {{.Spec.Role}}{{range $k, $v := .Spec.Labels}} {{$k}}={{$v}}{{end}}"


def check_script(nodes: Mapping[str, str], hosts: Sequence[HostConfig], retries: int, interval: int) -> str:
    """Bounded wait until every inventory host is a Ready node with its role and labels.
    `nodes`: host name -> node ID (from init/join). Prints `docker node ls` when done."""
    checks = [
        " ".join(
            [
                "  check",
                shlex.quote(h.name),
                shlex.quote(nodes[h.name]),
                shlex.quote(h.role.value),
                *(shlex.quote(f" {k}={v} ") for k, v in sorted(h.labels.items())),
            ]
        )
        for h in hosts
    ]
    total = retries * interval
    return "\n".join(
        [
            "set -u",
            "# check HOST NODE ROLE ' label=value ' ...: is NODE Ready, with ROLE and every label?",
            "check() {",
            f'  line="$(docker node inspect --format {shlex.quote(LABELS_FMT)} "$2" 2>/dev/null || true) "',
            '  case "$line" in "ready $3 "*) ;; *) bad="$bad $1"; return ;; esac',
            "  name=$1; shift 3",
            '  for w in "$@"; do case "$line" in *"$w"*) ;; *) bad="$bad $name"; return ;; esac; done',
            "}",
            "i=0",
            "while :; do",
            '  bad=""',
            *checks,
            '  [ -z "$bad" ] && break',
            "  i=$((i + 1))",
            f'  if [ "$i" -ge {retries} ]; then',
            f'    echo "agent-os: after {total}s these hosts are not Ready with their role and labels:$bad" >&2',
            "    docker node ls >&2 || true",
            "    exit 1",
            "  fi",
            f"  sleep {interval}",
            "done",
            "docker node ls",
            "",
        ]
    )


def labels_ready_script(plan: Sequence[Placement]) -> str:
    """Provision off: the existing swarm (DOCKER_HOST) must have, for every service pinned by
    labels, a Ready node carrying all of them (a global service pinned by a label, like
    Caddy on edge nodes, too: on no node it would silently run nowhere). Fails naming the
    labels and services."""
    needs: dict[tuple[str, tuple[tuple[str, str], ...]], list[str]] = {}
    for p in plan:
        if p.labels():
            role = p.role()
            needs.setdefault((role.value if role else "", tuple(sorted(p.labels()))), []).append(p.service)
    lines = [
        "set -eu",
        'nodes=$(docker node ls -q) || { echo "agent-os: cannot list swarm nodes at '
        '${DOCKER_HOST:-the local engine}; is it a swarm manager?" >&2; exit 1; }',
        f'have=$(docker node inspect --format {shlex.quote(LABELS_FMT)} $nodes | awk \'$1 == "ready"\' | sed "s/$/ /")',
        'missing=""',
    ]
    for (role, labels), services in sorted(needs.items()):
        greps = [f"grep -F -- {shlex.quote(' ' + k + '=' + v + ' ')}" for k, v in labels]
        if role:
            greps.insert(0, f"grep -- {shlex.quote('^ready ' + role + ' ')}")
        grep = " | ".join(greps)
        want = "+".join([*([role] if role else []), *(f"{k}={v}" for k, v in labels)])
        lines.append(
            f"printf '%s\\n' \"$have\" | {grep} >/dev/null || "
            f'missing="$missing {want} ({",".join(services)})"'
        )
    lines += [
        'if [ -n "$missing" ]; then',
        '  echo "agent-os: no Ready swarm node carries:$missing. Label nodes with '
        "docker node update --label-add <label>=<value> <node> (README: Day 0), or turn on "
        'agent-os:inventory.provision" >&2',
        "  exit 1",
        "fi",
        "echo ready",
        "",
    ]
    return "\n".join(lines)
