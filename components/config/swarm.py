"""Cluster-wide settings: namespace, endpoint mode, Docker host, overlay networks."""

from __future__ import annotations

import ipaddress
import re
import urllib.parse
from enum import StrEnum
from typing import Annotated

from pydantic import AfterValidator, Field, field_validator

from .base import ConfigModel, Loc, host_or_address, raise_all, socket_path


class EndpointMode(StrEnum):
    VIP = "vip"
    DNSRR = "dnsrr"


class Layer(StrEnum):
    """The overlay network layers, bottom-up."""

    EDGE = "edge"
    DATA = "data"
    CORE = "core"
    AGENTS = "agents"
    FLEET = "fleet"


class NetworkConfig(ConfigModel):
    subnet: str | None = None
    mtu: Annotated[int, Field(ge=576, le=9000)] | None = None
    # Attachable only where a design reason exists (see README: admin tunnel on data).
    attachable: bool = False

    @field_validator("subnet")
    @classmethod
    def _cidr(cls, v: str | None) -> str | None:
        if v is not None:
            ipaddress.ip_network(v, strict=True)
        return v


NAME = r"^[a-z][a-z0-9-]{0,30}[a-z0-9]$"


def docker_host_url(v: str) -> str:
    """DOCKER_HOST of the provider and the day-0 commands: a local socket, tcp or ssh."""
    u = urllib.parse.urlsplit(v)
    usage = "must be unix:///path/docker.sock, tcp://host:port or ssh://user@host[:port]"
    if u.query or u.fragment or any(c.isspace() for c in v):
        raise ValueError(usage)
    if u.scheme == "unix":
        if u.netloc:
            raise ValueError(usage)
        socket_path(u.path)
        return v
    if u.scheme not in ("tcp", "ssh") or not u.hostname or u.path not in ("", "/"):
        raise ValueError(usage)
    if u.password is not None:
        raise ValueError("must not carry a password (ssh uses agent-os:sshPrivateKey)")
    try:
        u.port  # noqa: B018 (parses and range-checks the port)
    except ValueError:
        raise ValueError(usage) from None
    host_or_address(u.hostname)
    if u.username is not None and not re.fullmatch(r"[a-z_][a-z0-9_-]{0,31}", u.username):
        raise ValueError("has a user name that is not a login name ([a-z_][a-z0-9_-]*)")
    return v


# `ssh` options of the Docker provider's connection. Only options that tune the connection:
# never one that runs a command (ProxyCommand, LocalCommand, KnownHostsCommand, ...) or
# reads another configuration (-F, Include).
SSH_OPTIONS = frozenset(
    o.lower()
    for o in [
        "AddressFamily",
        "BatchMode",
        "BindAddress",
        "BindInterface",
        "CertificateFile",
        "CheckHostIP",
        "Ciphers",
        "Compression",
        "ConnectTimeout",
        "ConnectionAttempts",
        "ControlMaster",
        "ControlPath",
        "ControlPersist",
        "GlobalKnownHostsFile",
        "HashKnownHosts",
        "HostKeyAlgorithms",
        "HostKeyAlias",
        "IdentitiesOnly",
        "IdentityFile",
        "IPQoS",
        "KbdInteractiveAuthentication",
        "KexAlgorithms",
        "LogLevel",
        "MACs",
        "NumberOfPasswordPrompts",
        "PasswordAuthentication",
        "Port",
        "PreferredAuthentications",
        "PubkeyAcceptedAlgorithms",
        "PubkeyAcceptedKeyTypes",
        "RekeyLimit",
        "ServerAliveCountMax",
        "ServerAliveInterval",
        "StrictHostKeyChecking",
        "TCPKeepAlive",
        "UpdateHostKeys",
        "User",
        "UserKnownHostsFile",
        "VerifyHostKeyDNS",
    ]
)
SSH_FLAGS = frozenset({"-4", "-6", "-C", "-q", "-v", "-vv", "-vvv"})
SSH_FLAGS_WITH_VALUE = frozenset({"-i", "-l", "-p", "-o"})
_SSH_VALUE = re.compile(r"^[A-Za-z0-9_.,/:@+~%=-]{1,1024}$")


def ssh_opts_problems(opts: list[str]) -> list[tuple[Loc, str]]:
    found: list[tuple[Loc, str]] = []
    i = 0
    while i < len(opts):
        opt, at = opts[i], i
        i += 1
        if opt in SSH_FLAGS:
            continue
        if opt[:2] == "-o" and len(opt) > 2:
            flag, value = "-o", opt[2:]
        elif opt in SSH_FLAGS_WITH_VALUE:
            if i >= len(opts):
                found.append(((at,), f"{opt} needs a value"))
                break
            flag, value, at = opt, opts[i], i
            i += 1
        else:
            allowed = ", ".join(sorted(SSH_FLAGS | SSH_FLAGS_WITH_VALUE))
            found.append(((at,), f"{opt!r} is not allowed (allowed: {allowed})"))
            if opt.startswith("-") and i < len(opts) and not opts[i].startswith("-"):
                i += 1  # its value
            continue
        name = value.split("=", 1)[0]
        if flag == "-o" and ("=" not in value or name.lower() not in SSH_OPTIONS):
            found.append(
                (
                    (at,),
                    f"ssh option {name!r} is not allowed: only Name=value options that tune the "
                    "connection (StrictHostKeyChecking, UserKnownHostsFile, ConnectTimeout, ...; "
                    "SSH_OPTIONS in components/config/swarm.py), never one that runs a command",
                )
            )
        elif not _SSH_VALUE.match(value):
            found.append(((at,), "has characters an ssh argument here never needs (spaces, quotes, $, ...)"))
    return found


class SwarmConfig(ConfigModel):
    namespace: Annotated[str, Field(pattern=NAME)] = "agent-os"
    endpoint_mode: EndpointMode = EndpointMode.VIP
    docker_host: Annotated[str, AfterValidator(docker_host_url)] = "unix:///var/run/docker.sock"
    ssh_opts: list[str] = Field(default_factory=list)
    converge_timeout: Annotated[str, Field(pattern=r"^[0-9]+[smh]$")] = "5m"
    networks: dict[Layer, NetworkConfig] = Field(default_factory=dict)

    @field_validator("ssh_opts")
    @classmethod
    def _ssh_opts(cls, v: list[str]) -> list[str]:
        raise_all(ssh_opts_problems(v), v)
        return v

    @field_validator("networks")
    @classmethod
    def _disjoint(cls, v: dict[Layer, NetworkConfig]) -> dict[Layer, NetworkConfig]:
        nets = [(k, ipaddress.ip_network(n.subnet)) for k, n in v.items() if n.subnet]
        for i, (a, na) in enumerate(nets):
            for b, nb in nets[i + 1 :]:
                if na.overlaps(nb):
                    raise ValueError(f"subnets of {a} and {b} overlap ({na} / {nb})")
        return v
