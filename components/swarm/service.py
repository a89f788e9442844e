"""The one place a ServiceSpec becomes a hardened `docker.Service`."""

from __future__ import annotations

import pulumi
import pulumi_docker as docker

from ..config.swarm import EndpointMode
from .context import Platform
from .spec import ServiceSpec

STACK_LABEL = "com.docker.stack.namespace"


def _update(order: str) -> docker.ServiceUpdateConfigArgs:
    return docker.ServiceUpdateConfigArgs(
        parallelism=1,
        delay="10s",
        failure_action="rollback",
        monitor="30s",
        max_failure_ratio="0",
        order=order,
    )


def _rollback(order: str) -> docker.ServiceRollbackConfigArgs:
    return docker.ServiceRollbackConfigArgs(
        parallelism=1,
        delay="0s",
        failure_action="pause",
        monitor="30s",
        max_failure_ratio="0",
        order=order,
    )


def _mounts(spec: ServiceSpec, namespace: str) -> list[docker.ServiceTaskSpecContainerSpecMountArgs]:
    mounts = [
        docker.ServiceTaskSpecContainerSpecMountArgs(
            type="volume",
            source=v.source,
            target=v.target,
            read_only=v.read_only,
            volume_options=docker.ServiceTaskSpecContainerSpecMountVolumeOptionsArgs(
                driver_name="local",
                labels=[
                    docker.ServiceTaskSpecContainerSpecMountVolumeOptionsLabelArgs(
                        label=STACK_LABEL, value=namespace
                    )
                ],
            ),
        )
        for v in spec.volumes
    ]
    mounts += [
        docker.ServiceTaskSpecContainerSpecMountArgs(
            type="bind", source=b.source, target=b.target, read_only=b.read_only
        )
        for b in spec.binds
    ]
    mounts += [
        docker.ServiceTaskSpecContainerSpecMountArgs(
            type="tmpfs",
            target=t.target,
            tmpfs_options=docker.ServiceTaskSpecContainerSpecMountTmpfsOptionsArgs(
                size_bytes=t.size_bytes, mode=t.mode
            ),
        )
        for t in spec.tmpfs
    ]
    return mounts


def swarm_service(platform: Platform, spec: ServiceSpec, parent: pulumi.Resource) -> docker.Service:
    """Register `spec` as a Swarm service with the hardened defaults every service shares."""
    ns = platform.namespace
    order = "stop-first" if spec.stateful or spec.ports else "start-first"
    res = spec.resources
    mode = (
        docker.ServiceModeArgs(global_=True)
        if spec.replicas is None
        else docker.ServiceModeArgs(replicated=docker.ServiceModeReplicatedArgs(replicas=spec.replicas))
    )
    endpoint_mode = platform.swarm.endpoint_mode
    ports = [
        docker.ServiceEndpointSpecPortArgs(
            target_port=p.target,
            published_port=p.published,
            protocol=p.protocol,
            # Host mode keeps client IPs and works without IPVS (dnsrr).
            publish_mode="host",
        )
        for p in spec.ports
    ]
    labels = {STACK_LABEL: ns, "agent-os.layer": spec.layer.value, **spec.labels}
    h = spec.health
    container = docker.ServiceTaskSpecContainerSpecArgs(
        image=spec.image,
        commands=list(spec.command) or None,
        args=list(spec.args) or None,
        env=dict(spec.env) or None,
        user=spec.user,
        read_only=spec.read_only or None,
        cap_drops=list(spec.cap_drop) or None,
        cap_adds=list(spec.cap_add) or None,
        init=spec.init,
        hostname=spec.hostname,
        stop_grace_period=spec.stop_grace_period,
        stop_signal="SIGTERM",
        healthcheck=docker.ServiceTaskSpecContainerSpecHealthcheckArgs(
            tests=list(h.test),
            interval=h.interval,
            timeout=h.timeout,
            retries=h.retries,
            start_period=h.start_period,
        ),
        secrets=[
            docker.ServiceTaskSpecContainerSpecSecretArgs(
                secret_id=s.secret.id,
                secret_name=s.secret.name,
                file_name=s.target,
                file_uid=s.uid,
                file_gid=s.gid,
                file_mode=s.mode,
            )
            for s in spec.secrets
        ]
        or None,
        configs=[
            docker.ServiceTaskSpecContainerSpecConfigArgs(
                config_id=c.config.id,
                config_name=c.config.name,
                file_name=c.target,
                file_uid=c.uid,
                file_gid=c.gid,
                file_mode=c.mode,
            )
            for c in spec.configs
        ]
        or None,
        mounts=_mounts(spec, ns) or None,
        labels=[docker.ServiceTaskSpecContainerSpecLabelArgs(label=STACK_LABEL, value=ns)],
    )
    task = docker.ServiceTaskSpecArgs(
        container_spec=container,
        networks_advanceds=[
            docker.ServiceTaskSpecNetworksAdvancedArgs(
                id=platform.networks[layer].id, aliases=list(spec.aliases) or None
            )
            for layer in spec.networks
        ],
        placement=docker.ServiceTaskSpecPlacementArgs(
            constraints=list(spec.constraints) or None,
            prefs=[f"spread={s}" for s in spec.spread] or None,
            max_replicas=spec.max_replicas_per_node,
        ),
        resources=docker.ServiceTaskSpecResourcesArgs(
            limits=docker.ServiceTaskSpecResourcesLimitsArgs(
                memory_bytes=res.memory_bytes, nano_cpus=res.nano_cpus
            ),
            reservation=docker.ServiceTaskSpecResourcesReservationArgs(
                memory_bytes=int(res.memory_bytes * res.reserve),
                nano_cpus=int(res.nano_cpus * res.reserve),
            ),
        ),
        # Explicit delay/window: the provider otherwise shows a perpetual "0s" diff
        # (pulumi/pulumi-docker#1285).
        restart_policy=docker.ServiceTaskSpecRestartPolicyArgs(
            condition="any", delay="5s", max_attempts=0, window="120s"
        ),
        log_driver=docker.ServiceTaskSpecLogDriverArgs(
            name="json-file", options={"max-size": "10m", "max-file": "3"}
        ),
    )
    return docker.Service(
        spec.name,
        name=spec.name,
        mode=mode,
        task_spec=task,
        endpoint_spec=docker.ServiceEndpointSpecArgs(mode=endpoint_mode.value, ports=ports or None),
        update_config=_update(order),
        rollback_config=_rollback(order),
        # `up` waits for replicated tasks to converge (or reports the rollback). Global
        # services have no replica target to converge on, so they stay detached.
        converge_config=None
        if spec.replicas is None
        else docker.ServiceConvergeConfigArgs(delay="7s", timeout=platform.swarm.converge_timeout),
        labels=[docker.ServiceLabelArgs(label=k, value=v) for k, v in sorted(labels.items())],
        opts=pulumi.ResourceOptions(parent=parent, depends_on=list(spec.depends_on) or None),
    )


__all__ = ["STACK_LABEL", "EndpointMode", "swarm_service"]
