"""How the machine running `pulumi up` reaches the admin endpoints of services it creates.

Readiness gates and the postgresql/keycloak/vault providers use these addresses.
They are plain values known at preview, so a first preview on an empty stack works.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from .base import ConfigModel, Loc, host_or_address, raise_all


@dataclass(frozen=True)
class Trust:
    """How the admin clients check TLS: against `ca_file`, or not at all when `insecure`."""

    insecure: bool
    ca_file: str


class AccessConfig(ConfigModel):
    # Postgres is never published. With `adminTunnel` the program runs a loopback-bound
    # socat container on the manager (data network is attachable for that reason only);
    # the operator reaches it directly on the manager or through `ssh -L`.
    # A hostname or an IP address, nothing else (it reaches the gates' scripts and psql).
    postgres_host: Annotated[str, AfterValidator(host_or_address)] = "127.0.0.1"
    postgres_port: Annotated[int, Field(ge=1, le=65535)] = 15432
    admin_tunnel: bool = True
    # HTTP admin endpoints go through Caddy (https://<svc>.<zone>), whose certificates come
    # from the stack's own root CA: the program writes it to .agent-os/<stack>/caddy-root.pem
    # and verifies TLS against it. `caFile` trusts another root instead (your own endpoints);
    # `insecureTls` (explicit opt-in) skips verification.
    # A file path (project-relative or absolute): it reaches the gates' scripts and env.
    ca_file: Annotated[str, Field(pattern=r"^[A-Za-z0-9_./][A-Za-z0-9_./@+-]{0,1023}$")] | None = None
    insecure_tls: bool = False
    gate_timeout_seconds: Annotated[int, Field(ge=10, le=3600)] = 600
    gate_interval_seconds: Annotated[int, Field(ge=1, le=60)] = 5

    @model_validator(mode="after")
    def _one_trust(self) -> AccessConfig:
        found: list[tuple[Loc, str]] = []
        if self.insecure_tls and self.ca_file is not None:
            found.append(
                (("caFile",), "is never used: agent-os:access.insecureTls skips verification; set one")
            )
        raise_all(found, self.model_dump(by_alias=True))
        return self
