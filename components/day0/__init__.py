"""Day 0: from bare hosts (or an existing swarm) to a labelled, checked swarm, and the
placement table. It receives the placements from the stack plan and imports no layer.
See README "Day 0"."""

from .labels import apply_locally, label_script
from .plan import placement_markdown, placement_table, required_labels
from .provision import Day0, Day0Outputs, docker_host_of, ssh_private_key

__all__ = [
    "Day0",
    "Day0Outputs",
    "apply_locally",
    "docker_host_of",
    "label_script",
    "placement_markdown",
    "placement_table",
    "required_labels",
    "ssh_private_key",
]
