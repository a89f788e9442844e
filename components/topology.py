"""The topology manifest (recipe step 9: graph-os materialises the topology in the KG).

Hosts, services, networks, endpoints and placement as one JSON document: always a stack
output; with `inventory.topology.post` also POSTed to graph-os by a local command, after
every layer is up, with a token read from OpenBao (AppRole login, then the KV entry).
"""

from __future__ import annotations

import json
import shlex
from collections.abc import Mapping, Sequence
from typing import Any

import pulumi
import pulumi_command as command
import pulumi_docker as docker

from .config import StackConfig
from .config.swarm import Layer
from .core.outputs import KeycloakOutputs, OpenBaoOutputs
from .day0.plan import placement_table
from .model import Placement

SCHEMA = "agent-os/topology/v1"


def topology_manifest(
    cfg: StackConfig,
    placements: Sequence[Placement],
    network_ids: Mapping[str, str],
    endpoints: Mapping[str, Any],
) -> dict[str, Any]:
    """Pure: the manifest from config plus resolved network IDs and endpoints."""
    table = placement_table(placements, cfg.inventory.hosts)
    ns = cfg.swarm.namespace
    networks = []
    for layer, net_id in sorted(network_ids.items()):
        net = cfg.swarm.networks.get(Layer(layer))
        networks.append(
            {
                "name": f"{ns}-{layer}",
                "id": net_id,
                "layer": layer,
                "driver": "overlay",
                "encrypted": True,
                "attachable": bool(net and net.attachable),
                "subnet": net.subnet if net else None,
            }
        )
    return {
        "schema": SCHEMA,
        "stack": cfg.stack,
        "namespace": ns,
        "provisioned": cfg.inventory.provision,
        "hosts": [{"name": n, **h} for n, h in table["hosts"].items()],
        "services": [{"name": n, **s} for n, s in table["services"].items()],
        "networks": networks,
        "endpoints": dict(endpoints),
        "placement": {n: h["services"] for n, h in table["hosts"].items()},
    }


# The KV entry (core layer, OpenBaoOutputs.refs) holding the agent-utilities client secret.
CLIENT_SECRET_KEY = "agentUtilitiesClientSecret"


def post_script(tls: str) -> str:
    """AppRole login -> KV read of the agent-utilities client secret (under the AppRole's
    granted prefix, written by the core layer) -> a client-credentials JWT from Keycloak
    (graph-os verifies Keycloak JWTs, nothing else) -> POST the manifest. Secrets come in env
    vars (secret inputs) and reach curl on stdin or in a 0600 temp file, never argv."""
    return "\n".join(
        [
            "set -eu",
            "pick() { python3 -c 'import json, sys\nd = json.load(sys.stdin)\n"
            'for k in sys.argv[1:]: d = d[k]\nprint(d)\' "$@"; }',
            'login=$(printf \'{"role_id":"%s","secret_id":"%s"}\' "$BAO_ROLE_ID" "$BAO_SECRET_ID" | '
            f'curl -fsS --max-time 15 {tls} -X POST --data-binary @- "$BAO_ADDR/v1/auth/approle/login")',
            "bao=$(printf '%s' \"$login\" | pick auth client_token)",
            "entry=$(printf 'X-Vault-Token: %s\\n' \"$bao\" | "
            f'curl -fsS --max-time 15 {tls} -H @- "$BAO_ADDR/v1/$KV_MOUNT/data/$SECRET_PATH")',
            'secret=$(printf \'%s\' "$entry" | pick data data "$SECRET_FIELD")',
            "jwt=$(printf 'grant_type=client_credentials&client_id=%s&client_secret=%s' "
            '"$CLIENT_ID" "$secret" | '
            f'curl -fsS --max-time 15 {tls} -X POST --data-binary @- "$TOKEN_URL")',
            "token=$(printf '%s' \"$jwt\" | pick access_token)",
            "hdrs=$(mktemp); trap 'rm -f \"$hdrs\"' EXIT",
            'printf \'Authorization: Bearer %s\\n\' "$token" > "$hdrs"',
            f'printf \'%s\' "$TOPOLOGY" | curl -fsS --max-time 30 {tls} -X POST -H @"$hdrs" '
            "-H 'Content-Type: application/json' --data-binary @- \"$GRAPH_OS_URL\" >/dev/null",
            "echo posted",
            "",
        ]
    )


class Topology(pulumi.ComponentResource):
    """`manifest`: the JSON string (stack output `topology`); `post`: the optional POST."""

    post: command.local.Command | None = None

    def __init__(
        self,
        cfg: StackConfig,
        placements: Sequence[Placement],
        networks: Mapping[Layer, docker.Network],
        endpoints: Mapping[str, pulumi.Input[Any]],
        after: Sequence[pulumi.Resource],
        openbao: OpenBaoOutputs | None = None,
        keycloak: KeycloakOutputs | None = None,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("agent-os:day0:Topology", "topology", None, opts)
        ids = pulumi.Output.all(**{layer.value: n.id for layer, n in networks.items()})
        eps = pulumi.Output.from_input(dict(endpoints))
        self.manifest: pulumi.Output[str] = pulumi.Output.all(ids, eps).apply(
            lambda a: json.dumps(topology_manifest(cfg, placements, a[0], a[1]), sort_keys=True)
        )
        t = cfg.inventory.topology
        if t.post:
            if openbao is None or keycloak is None or t.url is None:
                raise pulumi.RunError(
                    "agent-os:inventory.topology.post needs OpenBao, Keycloak and a url (config check)"
                )
            secret_path, secret_field = openbao.refs[CLIENT_SECRET_KEY].removeprefix("vault://").split("#")
            tls = "-k" if cfg.trust.insecure else f"--cacert {shlex.quote(cfg.trust.ca_file)}"
            self.post = command.local.Command(
                "topology-post",
                create=post_script(tls),
                interpreter=["/bin/sh", "-c"],
                environment={
                    "TOPOLOGY": self.manifest,
                    "GRAPH_OS_URL": t.url,
                    "BAO_ADDR": openbao.url,
                    "KV_MOUNT": openbao.kv_mount,
                    "SECRET_PATH": secret_path,
                    "SECRET_FIELD": secret_field,
                    "TOKEN_URL": f"{keycloak.issuer}/protocol/openid-connect/token",
                    "CLIENT_ID": keycloak.api_client_id,
                    "BAO_ROLE_ID": pulumi.Output.secret(openbao.approle_role_id),
                    "BAO_SECRET_ID": pulumi.Output.secret(openbao.approle_secret_id),
                },
                # Re-posted whenever the manifest changes.
                triggers=[self.manifest],
                opts=pulumi.ResourceOptions(parent=self, depends_on=[*after, openbao.ready]),
            )
        self.register_outputs({"manifest": self.manifest})
