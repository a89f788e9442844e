"""The MCP connector fleet: one Swarm service per registry entry of the selected profile,
named exactly as the registry names it (the app's actuator runs `docker service scale
<name>` verbatim, so no stack prefix), streamable-http on the container port, JWT auth
from Keycloak. Connectors publish no ports; graph-os reaches them on the fleet overlay."""

from __future__ import annotations

from collections.abc import Mapping

import pulumi

from ..config import StackConfig
from ..config.swarm import Layer
from ..model import Placement
from ..swarm import HealthCheck, ServiceSpec, TmpfsMount
from ..swarm.entrypoint import Wrapped
from .registry import Connector

KIND_LABEL = "agent-os.kind"
KIND = "connector"
# Set when the stack allows `latest` connector images (agent-os:images.allowLatestConnectors):
# the policy pack reads the opt-in here, because analyzers receive no stack config.
LATEST_ALLOWED_LABEL = "agent-os.image.latest-allowed"
TRANSPORT = "streamable-http"


def tcp_health(port: int) -> HealthCheck:
    return HealthCheck.python_tcp(port, interval="30s", timeout="10s", retries=3, start_period="30s")


def connector_spec(
    cfg: StackConfig,
    c: Connector,
    placement: Placement,
    image: str,
    mcp_auth: Mapping[str, str],
    depends_on: tuple[pulumi.Resource, ...] = (),
    credentials: Wrapped | None = None,
) -> ServiceSpec:
    """`credentials`: the connector's own secrets, exported to env by with-secrets."""
    f = cfg.fleet
    env = {
        "HOST": "0.0.0.0",
        "PORT": str(c.container_port),
        "TRANSPORT": TRANSPORT,
        **mcp_auth,
    }
    if f.eunomia_remote_url:
        env |= {"EUNOMIA_TYPE": "remote", "EUNOMIA_REMOTE_URL": f.eunomia_remote_url}
    return ServiceSpec(
        placement=placement,
        image=image,
        # The stack template's `command: <name>` (compose command = the image CMD).
        command=credentials.command if credentials else (),
        args=(c.console_script,),
        env={**env, **(credentials.env if credentials else {})},
        secrets=credentials.secrets if credentials else (),
        configs=credentials.configs if credentials else (),
        hostname=c.name,
        resources=f.connector_resources,
        networks=(Layer.FLEET,),
        spread=("node.id",),
        tmpfs=(TmpfsMount(target="/tmp", size_bytes=128 * 1024**2),),
        # The generated stack template's probe: TCP on the container port, 30s/10s/3, with
        # the image's Python (python:slim has neither nc nor a /dev/tcp shell).
        health=tcp_health(c.container_port),
        labels={
            KIND_LABEL: KIND,
            "agent-os.connector.package": c.package,
            "agent-os.connector.desired": c.desired,
            **({LATEST_ALLOWED_LABEL: "true"} if cfg.images.allow_latest_connectors else {}),
        },
        depends_on=depends_on,
    )
