"""Alertmanager: routes alerts to the fleet events webhook with the token from a file."""

from __future__ import annotations

import pulumi_docker as docker

from ..config.core import LgtmConfig
from ..config.swarm import Layer
from ..model import Placement
from ..swarm import ConfigFile, HealthCheck, Platform, SecretFile, ServiceSpec, VolumeMount
from .lgtm_config import EVENTS_TOKEN_FILE, NOBODY
from .plan import ALERTMANAGER_PORT


def alertmanager_spec(
    platform: Platform,
    lg: LgtmConfig,
    config: docker.ServiceConfig,
    events_token: docker.Secret,
    placement: Placement,
) -> ServiceSpec:
    return ServiceSpec(
        placement=placement,
        image=platform.image("alertmanager"),
        args=(
            "--config.file=/etc/alertmanager/alertmanager.yml",
            "--storage.path=/alertmanager",
            f"--web.listen-address=:{ALERTMANAGER_PORT}",
        ),
        configs=(ConfigFile(config=config, target="/etc/alertmanager/alertmanager.yml"),),
        secrets=(SecretFile(secret=events_token, target=EVENTS_TOKEN_FILE, uid=NOBODY, gid=NOBODY),),
        volumes=(VolumeMount(source=f"{platform.namespace}-alertmanager-data", target="/alertmanager"),),
        resources=lg.alertmanager,
        # The webhook target (agent-gateway) is reachable on the core overlay.
        networks=(Layer.CORE,),
        stateful=True,
        health=HealthCheck.wget(ALERTMANAGER_PORT, "/-/ready"),
    )
