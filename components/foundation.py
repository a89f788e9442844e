"""Steps 1-4 of the recipe's bootstrap: explicit providers, secrets, overlay networks."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_command as command
import pulumi_docker as docker
import pulumi_random as random

from .config import StackConfig
from .config.swarm import Layer
from .day0.provision import Day0, ssh_private_key
from .model import Placement
from .swarm import Networks, Platform
from .swarm.secretvalues import StackSecrets


@dataclass(frozen=True)
class Foundation:
    docker: docker.Provider
    platform: Platform
    secrets: StackSecrets
    opts: pulumi.ResourceOptions  # hands the explicit providers down to every layer
    day0: Day0  # swarm provisioning (or check of an existing swarm), placement plan


def layers_in_use(cfg: StackConfig) -> list[Layer]:
    return list(Layer)


def foundation(cfg: StackConfig, placements: Sequence[Placement]) -> Foundation:
    # Explicit providers only (the stack files set pulumi:disable-default-providers).
    ssh_key = ssh_private_key(cfg)  # a missing key is a config error before any resource
    command_provider = command.Provider("command")
    # Day 0: provision the swarm over SSH (init, tokens, joins, labels, check), or check the
    # existing one has the labels the placement plan needs. The docker provider comes after.
    day0 = Day0(cfg, placements, ssh_key, pulumi.ResourceOptions(providers={"command": command_provider}))
    docker_provider = docker.Provider(
        "docker",
        host=day0.outputs.docker_host,
        ssh_opts=cfg.swarm.ssh_opts or None,
        opts=pulumi.ResourceOptions(depends_on=[day0.outputs.ready]),
    )
    providers: dict[str, pulumi.ProviderResource] = {
        "docker": docker_provider,
        "command": command_provider,
        "random": random.Provider("random"),
    }
    opts = pulumi.ResourceOptions(providers=providers)
    secrets = StackSecrets(opts)
    networks = Networks(cfg, layers_in_use(cfg), opts)
    return Foundation(
        docker=docker_provider,
        platform=Platform.of(cfg, networks.networks),
        secrets=secrets,
        opts=opts,
        day0=day0,
    )
