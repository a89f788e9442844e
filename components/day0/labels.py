"""Node labels from the inventory, as one check-first POSIX sh script.

The same script is what the provisioning `remote.Command` runs on the first manager and
what `apply_locally` runs on this machine (the stack tests label their single node with
it, as the README's Day 0 has an operator do). It needs only the docker CLI on a manager:

- reads the node's labels (`docker node inspect`);
- adds/changes only labels whose value differs from the inventory;
- removes labels it applied before (recorded in the node label `agent-os.managed-labels`)
  that are no longer in the inventory; labels set by anyone else are never touched;
- runs `docker node update` only if something changes, so a re-run changes nothing.

It prints `labels unchanged on <node>` or `labels changed on <node>: <args>`.
"""

from __future__ import annotations

import shlex
import subprocess
from collections.abc import Mapping

from ..config.inventory import MANAGED_LABELS, HostConfig

# The node the script runs on (for a local run, e.g. a single-node swarm).
SELF = "$(docker info --format '{{.Swarm.NodeID}}')"
_LABELS_FMT = "{{range $k, $v := .Spec.Labels}}{{$k}}={{$v}}\n{{end}}"


def label_script(host: HostConfig | Mapping[str, str], node: str | None = None) -> str:
    """The script that makes `node`'s managed labels equal `host`'s labels.

    `host`: an inventory host (its `labels`) or a plain label mapping. `node`: a node ID or
    hostname as `docker node` accepts it; None means the node the script runs on.
    """
    labels = dict(host.labels if isinstance(host, HostConfig) else host)
    if MANAGED_LABELS in labels:
        raise ValueError(f"label {MANAGED_LABELS} is reserved")
    desired = dict(sorted(labels.items()))
    if labels:
        desired[MANAGED_LABELS] = ",".join(sorted(labels))
    node_expr = SELF if node is None else shlex.quote(node)
    lines = [
        "set -eu",
        f"node={node_expr}",
        f'current=$(docker node inspect --format {shlex.quote(_LABELS_FMT)} "$node")',
        # get KEY -> value ("" if absent); has KEY -> status
        'get() { printf \'%s\\n\' "$current" | awk -v k="$1" '
        "'index($0, k \"=\") == 1 { print substr($0, length(k) + 2); exit }'; }",
        'has() { printf \'%s\\n\' "$current" | awk -v k="$1" '
        "'index($0, k \"=\") == 1 { f = 1 } END { exit !f }'; }",
        "set --",
    ]
    for key, value in desired.items():
        k, kv = shlex.quote(key), shlex.quote(f"{key}={value}")
        lines.append(
            f'if ! has {k} || [ "$(get {k})" != {shlex.quote(value)} ]; then set -- "$@" --label-add {kv}; fi'
        )
    keep = " ".join(sorted(labels))
    lines += [
        # Stale: managed before, not in the inventory now.
        f'for k in $(get {shlex.quote(MANAGED_LABELS)} | tr "," " "); do',
        f'  case " {keep} " in *" $k "*) ;; *) if has "$k"; then set -- "$@" --label-rm "$k"; fi ;; esac',
        "done",
    ]
    if not labels:  # nothing managed any more: drop the bookkeeping label too
        m = shlex.quote(MANAGED_LABELS)
        lines.append(f'if has {m}; then set -- "$@" --label-rm {m}; fi')
    lines += [
        'if [ "$#" -eq 0 ]; then echo "labels unchanged on $node"; exit 0; fi',
        'docker node update "$@" "$node" >/dev/null',
        'echo "labels changed on $node: $*"',
    ]
    return "\n".join(lines) + "\n"


def apply_locally(
    host: HostConfig | Mapping[str, str],
    node: str | None = None,
    env: Mapping[str, str] | None = None,
) -> str:
    """Run `label_script` here with /bin/sh (DOCKER_HOST etc. from `env`); returns stdout."""
    done = subprocess.run(
        ["/bin/sh", "-c", label_script(host, node)],
        capture_output=True,
        text=True,
        env=dict(env) if env is not None else None,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"labelling failed ({done.returncode}): {done.stderr.strip()}")
    return done.stdout
