"""Inventory rules that need the stack plan (the placements) and the rest of the config.

Run by __main__.py on the stack plan right after config is loaded, so a violation is one
pulumi.RunError naming the host or label, raised before any resource exists. Single-section
rules (odd managers 1..7, unique names and addresses, label syntax) live in
config/inventory.py.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence

from ..config import ConfigError, StackConfig
from ..config.swarm import Layer
from ..model import Placement, tier_label
from .plan import required_labels, required_tiers

KEY = "agent-os:inventory.hosts"


def check_inventory(cfg: StackConfig, plan: Sequence[Placement]) -> None:
    inv = cfg.inventory
    if not inv.hosts:
        return
    hosts = inv.hosts
    for tier, services in required_tiers(plan).items():
        label = tier_label(tier)
        if not any(h.has(label, "true") for h in hosts):
            raise ConfigError(
                KEY,
                f"no host in tier {tier.value} (label {label}=true); the enabled layers run "
                f"{', '.join(services)} there",
            )
    for (label, value), services in required_labels(plan).items():
        if not any(h.has(label, value) for h in hosts):
            raise ConfigError(
                KEY,
                f"no host carries label {label}={value}, which placement of {', '.join(services)} requires",
            )
    for p in plan:
        # A global service with a label constraint must have somewhere to run too.
        if (p.replicas is not None or p.labels()) and not any(p.eligible(h) for h in hosts):
            raise ConfigError(KEY, f"no host satisfies all constraints of {p.service}: {list(p.constraints)}")
    edge_addresses = {h.address for h in hosts if h.has(tier_label(Layer.EDGE), "true")}
    for addr in cfg.edge.ingress_addresses:
        if addr not in edge_addresses:
            raise ConfigError(
                "agent-os:edge.ingressAddresses",
                f"{addr} is not the address of an inventory host labelled edge=true "
                "(Caddy and Technitium publish host-mode ports only there)",
            )
    for layer, net in cfg.swarm.networks.items():
        if not net.subnet:
            continue
        subnet = ipaddress.ip_network(net.subnet)
        for h in hosts:
            if h.ip is not None and h.ip in subnet:
                raise ConfigError(
                    f"agent-os:swarm.networks.{layer.value}.subnet",
                    f"{subnet} contains host {h.name}'s address {h.address}; "
                    "overlay subnets must not collide with the hosts' networks",
                )
