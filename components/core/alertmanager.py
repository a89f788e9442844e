"""Alertmanager: routes alerts to the fleet events webhook with the token from a file and,
with Keycloak, a bearer token fetched with its own client's credentials (secret from a file)."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_docker as docker

from ..config.core import LgtmConfig
from ..config.swarm import Layer
from ..model import Placement
from ..swarm import ConfigFile, HealthCheck, Platform, SecretFile, ServiceSpec, VolumeMount
from .lgtm_config import CLIENT_SECRET_FILE, EVENTS_TOKEN_FILE, NOBODY, TokenClient
from .plan import ALERTMANAGER_PORT


@dataclass(frozen=True)
class AlertmanagerOAuth:
    """The Keycloak client Alertmanager fetches the webhook's bearer token with."""

    client: TokenClient
    client_secret: pulumi.Output[str]


def alertmanager_spec(
    platform: Platform,
    lg: LgtmConfig,
    config: docker.ServiceConfig,
    events_token: docker.Secret,
    client_secret: docker.Secret | None,
    placement: Placement,
) -> ServiceSpec:
    """`client_secret`: the Keycloak client's secret, when alertmanager.yml names a client."""
    secrets = [SecretFile(secret=events_token, target=EVENTS_TOKEN_FILE, uid=NOBODY, gid=NOBODY)]
    if client_secret is not None:
        secrets.append(SecretFile(secret=client_secret, target=CLIENT_SECRET_FILE, uid=NOBODY, gid=NOBODY))
    return ServiceSpec(
        placement=placement,
        image=platform.image("alertmanager"),
        args=(
            "--config.file=/etc/alertmanager/alertmanager.yml",
            "--storage.path=/alertmanager",
            f"--web.listen-address=:{ALERTMANAGER_PORT}",
        ),
        configs=(ConfigFile(config=config, target="/etc/alertmanager/alertmanager.yml"),),
        secrets=tuple(secrets),
        volumes=(VolumeMount(source=f"{platform.namespace}-alertmanager-data", target="/alertmanager"),),
        resources=lg.alertmanager,
        # The webhook target (agent-gateway) and Keycloak's token endpoint are reachable on
        # the core overlay.
        networks=(Layer.CORE,),
        stateful=True,
        health=HealthCheck.wget(ALERTMANAGER_PORT, "/-/ready"),
    )
