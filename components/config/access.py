"""How the machine running `pulumi up` reaches the admin endpoints of services it creates.

Readiness gates and the postgresql/keycloak/vault providers use these addresses.
They are plain values known at preview, so a first preview on an empty stack works.
"""

from __future__ import annotations

import ipaddress
import re
from typing import Annotated

from pydantic import AfterValidator, Field

from .base import ConfigModel

_LABEL = r"[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?"
_HOSTNAME = re.compile(rf"^(?=.{{1,253}}$){_LABEL}(?:\.{_LABEL})*$")


def host_or_address(v: str) -> str:
    try:
        ipaddress.ip_address(v)
        return v
    except ValueError:
        pass
    if not _HOSTNAME.match(v):
        raise ValueError("must be a hostname or an IP address")
    return v


class AccessConfig(ConfigModel):
    # Postgres is never published. With `adminTunnel` the program runs a loopback-bound
    # socat container on the manager (data network is attachable for that reason only);
    # the operator reaches it directly on the manager or through `ssh -L`.
    # A hostname or an IP address, nothing else (it reaches the gates' scripts and psql).
    postgres_host: Annotated[str, AfterValidator(host_or_address)] = "127.0.0.1"
    postgres_port: Annotated[int, Field(ge=1, le=65535)] = 15432
    admin_tunnel: bool = True
    # HTTP admin endpoints go through Caddy (https://<svc>.<zone>). `tls internal` means
    # the operator either trusts Caddy's root (caFile) or accepts it unverified.
    ca_file: str | None = None
    insecure_tls: bool = True
    gate_timeout_seconds: Annotated[int, Field(ge=10, le=3600)] = 600
    gate_interval_seconds: Annotated[int, Field(ge=1, le=60)] = 5
