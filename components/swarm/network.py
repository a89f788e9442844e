"""Encrypted overlay networks, one per layer."""

from __future__ import annotations

import pulumi
import pulumi_docker as docker

from ..config import StackConfig
from ..config.swarm import Layer


class Networks(pulumi.ComponentResource):
    """`<ns>-<layer>` overlays. Encrypted (IPsec/ESP between nodes), not attachable unless
    config gives a reason (the data network's admin tunnel)."""

    networks: dict[Layer, docker.Network]

    def __init__(
        self, cfg: StackConfig, layers: list[Layer], opts: pulumi.ResourceOptions | None = None
    ) -> None:
        super().__init__("agent-os:swarm:Networks", "networks", None, opts)
        self.networks = {}
        for layer in layers:
            net = cfg.swarm.networks.get(layer)
            options = {"encrypted": "true"}
            if net and net.mtu:
                options["com.docker.network.driver.mtu"] = str(net.mtu)
            # The admin tunnel is a plain container on the data overlay: the engine refuses
            # to start it ("not manually attachable") unless that network is attachable.
            tunnel = layer is Layer.DATA and cfg.access.admin_tunnel
            self.networks[layer] = docker.Network(
                f"net-{layer.value}",
                name=f"{cfg.swarm.namespace}-{layer.value}",
                driver="overlay",
                attachable=bool(net and net.attachable) or tunnel,
                options=options,
                ipam_configs=[docker.NetworkIpamConfigArgs(subnet=net.subnet)]
                if net and net.subnet
                else None,
                labels=[
                    docker.NetworkLabelArgs(label="com.docker.stack.namespace", value=cfg.swarm.namespace)
                ],
                opts=pulumi.ResourceOptions(parent=self),
            )
        self.register_outputs({layer.value: n.id for layer, n in self.networks.items()})
