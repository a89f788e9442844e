"""Day 0: from bare hosts (or an existing swarm) to a labelled, checked swarm, the placement
plan, and the topology manifest. See README "Day 0"."""

from .labels import apply_locally, label_script
from .placement import Placement, placement_markdown, placement_plan, placement_table, required_labels
from .provision import Day0, Day0Outputs, docker_host_of, ssh_private_key
from .topology import Topology, topology_manifest

__all__ = [
    "Day0",
    "Day0Outputs",
    "Placement",
    "Topology",
    "apply_locally",
    "docker_host_of",
    "label_script",
    "placement_markdown",
    "placement_plan",
    "placement_table",
    "required_labels",
    "ssh_private_key",
    "topology_manifest",
]
