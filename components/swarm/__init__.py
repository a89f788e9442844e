"""The shared Swarm service model used by every layer."""

from .context import Platform
from .gate import Probe, readiness_gate
from .network import Networks
from .service import STACK_LABEL, swarm_service
from .spec import (
    BindMount,
    ConfigFile,
    HealthCheck,
    Port,
    SecretFile,
    ServiceSpec,
    TmpfsMount,
    VolumeMount,
)

__all__ = [
    "STACK_LABEL",
    "BindMount",
    "ConfigFile",
    "HealthCheck",
    "Networks",
    "Platform",
    "Port",
    "Probe",
    "SecretFile",
    "ServiceSpec",
    "TmpfsMount",
    "VolumeMount",
    "readiness_gate",
    "swarm_service",
]
