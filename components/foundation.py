"""Steps 1-4 of the recipe's bootstrap: explicit providers, secrets, overlay networks."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_command as command
import pulumi_docker as docker
import pulumi_random as random

from .config import StackConfig
from .config.swarm import Layer
from .swarm import Networks, Platform
from .swarm.secretvalues import StackSecrets


@dataclass(frozen=True)
class Foundation:
    docker: docker.Provider
    platform: Platform
    secrets: StackSecrets
    opts: pulumi.ResourceOptions  # hands the explicit providers down to every layer


def layers_in_use(cfg: StackConfig) -> list[Layer]:
    return list(Layer)


def foundation(cfg: StackConfig) -> Foundation:
    # Explicit providers only (the stack files set pulumi:disable-default-providers).
    docker_provider = docker.Provider(
        "docker", host=cfg.swarm.docker_host, ssh_opts=cfg.swarm.ssh_opts or None
    )
    providers: dict[str, pulumi.ProviderResource] = {
        "docker": docker_provider,
        "command": command.Provider("command"),
        "random": random.Provider("random"),
    }
    opts = pulumi.ResourceOptions(providers=providers)
    secrets = StackSecrets(opts)
    networks = Networks(cfg, layers_in_use(cfg), opts)
    return Foundation(
        docker=docker_provider,
        platform=Platform(cfg=cfg, networks=networks.networks),
        secrets=secrets,
        opts=opts,
    )
