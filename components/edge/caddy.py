"""Caddy: the only HTTPS ingress. One task per edge node (global), host-mode 80/443, so
every ingress address has a Caddy; all of them issue certificates from one root CA that
the stack mints once (`caddy-root-ca`) and hands them as Docker secrets, so clients trust
one root wherever Swarm runs a task. /data persisted per node (leaf certificates)."""

from __future__ import annotations

import json

import pulumi
import pulumi_command as command
import pulumi_docker as docker

from ..config.swarm import Layer
from ..model import Placement, Route
from ..swarm import (
    ConfigFile,
    HealthCheck,
    Platform,
    SecretFile,
    ServiceSpec,
    VolumeMount,
    swarm_service,
)
from .caddyfile import ADMIN_PORT, ROOT_CERT_FILE, ROOT_KEY_FILE, render_caddyfile

# Mint the stack's root CA on the machine running `pulumi up` (openssl), once: no triggers,
# so it lives as long as the stack. Nothing from config reaches the script (a subject with
# the zone would also break on long zones: a CN holds at most 64 characters).
ROOT_CA_SCRIPT = """set -eu
d=$(mktemp -d); trap 'rm -rf "$d"' EXIT
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 3650 \\
  -subj "/CN=agent-os stack root" -addext "basicConstraints=critical,CA:TRUE" \\
  -addext "keyUsage=critical,keyCertSign,cRLSign" -keyout "$d/key" -out "$d/cert" 2>/dev/null
python3 -c 'import json, sys; print(json.dumps({"cert": open(sys.argv[1]).read(), "key": open(sys.argv[2]).read()}))' \\
  "$d/cert" "$d/key"
"""


def root_ca(platform: Platform, parent: pulumi.Resource) -> command.local.Command:
    return command.local.Command(
        "caddy-root-ca",
        create=ROOT_CA_SCRIPT,
        interpreter=["/bin/sh", "-c"],
        logging=command.local.Logging.NONE,
        opts=pulumi.ResourceOptions(parent=parent, additional_secret_outputs=["stdout"]),
    )


def root_pem(root: command.local.Command) -> pulumi.Output[dict[str, str]]:
    """The step's output, parsed once: {"cert", "key"}, secret (it holds the key)."""
    return pulumi.Output.secret(root.stdout).apply(
        lambda out: {k: str(v) for k, v in json.loads(out).items()}
    )


def root_certificate(pem: pulumi.Output[dict[str, str]]) -> pulumi.Output[str]:
    """The root's certificate (public; the key stays a secret)."""
    return pulumi.Output.unsecret(pem.apply(lambda d: d["cert"]))


def root_ca_file(
    platform: Platform, cert: pulumi.Output[str], parent: pulumi.Resource
) -> command.local.Command:
    """Write the stack's root certificate where the admin clients read it (project-relative)."""
    write = 'mkdir -p "$(dirname "$CA_PATH")" && printf \'%s\' "$CA_PEM" > "$CA_PATH"'
    return command.local.Command(
        "caddy-root-ca-file",
        create=write,
        update=write,
        delete='rm -f "$CA_PATH"',
        interpreter=["/bin/sh", "-c"],
        environment={"CA_PATH": platform.stack_root_file, "CA_PEM": cert},
        opts=pulumi.ResourceOptions(parent=parent),
    )


def caddy(
    platform: Platform,
    placement: Placement,
    routes: list[Route],
    pem: pulumi.Output[dict[str, str]],
    parent: pulumi.Resource,
) -> docker.Service:
    c = platform.edge.caddy
    cert = platform.secret("caddy-root-cert", pem.apply(lambda d: d["cert"]), parent)
    key = platform.secret("caddy-root-key", pem.apply(lambda d: d["key"]), parent)
    caddyfile = platform.config_file(
        "caddyfile",
        render_caddyfile(
            routes, platform.edge.zone, c.http_port, c.https_port, platform.edge.admin_allowlist
        ),
        parent,
    )
    spec = ServiceSpec(
        placement=placement,  # global: one per edge node, each on that node's ports
        image=platform.image("caddy"),
        args=("caddy", "run", "--config", "/etc/caddy/Caddyfile", "--adapter", "caddyfile"),
        resources=c.resources,
        networks=(Layer.EDGE,),
        configs=(ConfigFile(config=caddyfile, target="/etc/caddy/Caddyfile"),),
        secrets=(
            SecretFile(secret=cert, target=ROOT_CERT_FILE),
            SecretFile(secret=key, target=ROOT_KEY_FILE),
        ),
        volumes=(
            VolumeMount(source=f"{platform.namespace}-caddy-data", target="/data"),
            VolumeMount(source=f"{platform.namespace}-caddy-config", target="/config"),
        ),
        cap_add=("NET_BIND_SERVICE",),
        health=HealthCheck.wget(ADMIN_PORT, "/config/", start_period="10s"),
    )
    return swarm_service(platform, spec, parent)
