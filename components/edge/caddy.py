"""Caddy: the only HTTPS ingress. Host-mode 80/443 on edge nodes, /data persisted."""

from __future__ import annotations

import pulumi
import pulumi_docker as docker

from ..config.swarm import Layer
from ..swarm import (
    ConfigFile,
    HealthCheck,
    Platform,
    Port,
    ServiceSpec,
    VolumeMount,
    swarm_service,
)
from ..swarm.routes import Route
from .caddyfile import ADMIN_PORT, render_caddyfile

EDGE_LABEL = "edge"


def caddy(platform: Platform, routes: list[Route], parent: pulumi.Resource) -> docker.Service:
    cfg = platform.cfg
    c = cfg.edge.caddy
    caddyfile = platform.config_file(
        "caddyfile", render_caddyfile(routes, cfg.edge.zone, c.http_port, c.https_port), parent
    )
    spec = ServiceSpec(
        name="caddy",
        layer=Layer.EDGE,
        image=platform.image("caddy"),
        args=("caddy", "run", "--config", "/etc/caddy/Caddyfile", "--adapter", "caddyfile"),
        resources=c.resources,
        networks=(Layer.EDGE,),
        # One replica: with `tls internal` every replica would mint its own root CA.
        replicas=1,
        stateful=True,
        ports=(
            Port(target=c.http_port, published=c.http_port),
            Port(target=c.https_port, published=c.https_port),
            Port(target=c.https_port, published=c.https_port, protocol="udp"),
        ),
        configs=(ConfigFile(config=caddyfile, target="/etc/caddy/Caddyfile"),),
        volumes=(
            VolumeMount(source=f"{platform.namespace}-caddy-data", target="/data"),
            VolumeMount(source=f"{platform.namespace}-caddy-config", target="/config"),
        ),
        constraints=(f"node.labels.{EDGE_LABEL}==true",),
        cap_add=("NET_BIND_SERVICE",),
        health=HealthCheck.wget(ADMIN_PORT, "/config/", start_period="10s"),
    )
    return swarm_service(platform, spec, parent)
