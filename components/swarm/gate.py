"""Readiness gates: a bounded wait, run where `pulumi up` runs, between a service and the
provider that talks to it. `depends_on` orders creation; only a gate orders readiness."""

from __future__ import annotations

import shlex
from dataclasses import dataclass

import pulumi
import pulumi_command as command
import pulumi_docker as docker

from ..config.access import AccessConfig, Trust

# bash's /dev/tcp connect with the host and port as positional parameters.
TCP_CONNECT = 'exec 3<>"/dev/tcp/$1/$2"'


@dataclass(frozen=True)
class Probe:
    """What 'ready' means, as one shell test that exits 0 when ready."""

    describe: str
    test: str

    @staticmethod
    def tcp(host: str, port: int) -> Probe:
        # Host and port are arguments of the inner shell ($1, $2), never part of its code.
        return Probe(
            f"tcp://{host}:{port}",
            f"timeout 3 bash -c {shlex.quote(TCP_CONNECT)} probe {shlex.quote(host)} {int(port)}",
        )

    @staticmethod
    def http(url: str, trust: Trust, resolve: str | None = None) -> Probe:
        """`resolve` ("host:port:ip") pins the name before internal DNS exists."""
        pin = f"--resolve {shlex.quote(resolve)} " if resolve else ""
        tls = "-k" if trust.insecure else f"--cacert {shlex.quote(trust.ca_file)}"
        return Probe(url, f"curl -fsS -o /dev/null --max-time 5 {pin}{tls} {shlex.quote(url)}")


def gate_script(what: str, probe: Probe, timeout_s: int, interval_s: int) -> str:
    tries = max(1, timeout_s // interval_s)
    msg = f"agent-os: {what} not ready at {probe.describe} after {timeout_s}s ({tries} probes)"
    return (
        f"for i in $(seq 1 {tries}); do "
        f"if {probe.test}; then echo ready; exit 0; fi; sleep {interval_s}; done; "
        f"echo {shlex.quote(msg)} >&2; exit 1"
    )


def version_of(r: pulumi.Resource) -> pulumi.Input[object]:
    """What changes when `r` changes: a service's task spec (updated in place, same ID),
    else the ID (a replaced container or command gets a new one)."""
    if isinstance(r, docker.Service):
        return r.task_spec
    if isinstance(r, pulumi.CustomResource):
        return r.id
    return r.urn


def readiness_gate(
    name: str,
    what: str,
    probe: Probe,
    access: AccessConfig,
    after: list[pulumi.Resource],
    parent: pulumi.Resource,
) -> command.local.Command:
    """A local command that succeeds once `probe` passes, created after `after`, and run
    again whenever one of them changes (a replaced or updated service is gated too)."""
    return command.local.Command(
        name,
        create=gate_script(what, probe, access.gate_timeout_seconds, access.gate_interval_seconds),
        interpreter=["/bin/bash", "-c"],
        triggers=[version_of(r) for r in after],
        opts=pulumi.ResourceOptions(parent=parent, depends_on=after),
    )
