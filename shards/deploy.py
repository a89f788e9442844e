"""Shards layer: N epistemic-graph engine shards on the agents overlay, and the typed
contract every graph client uses (endpoint list, shared auth secret, telemetry).

Order inside the layer: the re-shard guard runs first (shards/guard.py); when it refuses,
the program stops before any shard resource is registered.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

import pulumi
import pulumi_docker as docker

from components.config.shards import ShardsConfig, Sizing
from components.config.swarm import Layer
from components.model import Placement
from components.observability import Telemetry
from components.swarm import HealthCheck, Platform, ServiceSpec, TmpfsMount, VolumeMount, swarm_service
from components.swarm.context import ShardsPlatform
from components.swarm.entrypoint import ENV_VAR, SCRIPT_PATH, Entrypoint, SecretEnv, secrets_entrypoint
from components.swarm.secretvalues import StackSecrets
from shards import guard
from shards.endpoints import ShardMode
from shards.plan import ShardsPlan, host_and_port
from shards.telemetry import ShardAddress

IMAGE_KEY = "epistemic-graph"
PROGRAM = "epistemic-graph-server"
PERSIST_DIR = "/var/lib/epistemic-graph/data"
#: The engine (and every client) reads the shared HMAC secret from this variable only.
AUTH_ENV = "GRAPH_SERVICE_AUTH_SECRET"
AUTH_FILE = "graph_service_auth_secret"
AUTH_SECRET_KEY = "graphServiceAuthSecret"  # components/config/secrets.py
USER = "10001"
ENGINE_ENV: dict[str, str] = {
    "EPISTEMIC_GRAPH_PERSIST_BACKEND": "redb",
    "EPISTEMIC_GRAPH_REQUIRE_VERIFIED_CONTEXT": "1",
    "EPISTEMIC_GRAPH_REQUIRE_SIGNED": "1",
    "EPISTEMIC_GRAPH_RLS_DEFAULT_DENY": "1",
}


@dataclass(frozen=True)
class ShardsOutputs:
    """What clients (fleet layer) and the LGTM component use. Never re-derive endpoints."""

    # THE endpoint list, in shard order. Clients hash these exact strings (HRW), so
    # config.json `graph_service_endpoints`, GRAPH_SERVICE_ENDPOINTS, alert labels and the
    # `shardEndpoints` stack output are all this tuple.
    endpoints: tuple[str, ...]
    mode: ShardMode  # "single" (1 shard) or "sharded" (HRW)
    services: dict[str, docker.Service]  # by service (= DNS) name, in shard order
    # The ONE Docker secret holding GRAPH_SERVICE_AUTH_SECRET; every shard and client mounts it.
    auth_secret: docker.Secret
    # The same secret as an env export for `with-secrets` (components/swarm/entrypoint.py).
    auth: SecretEnv
    entrypoint: Entrypoint  # the shards' `with-secrets` config (clients may reuse it)
    telemetry: Telemetry  # scrape targets + alert rules, for components/core LGTM
    sizing: Sizing  # shard count source; derived workers/Kafka partitions (explicit wins)
    reshard_plan: dict[str, Any]  # the `reshardPlan` stack output

    @property
    def count(self) -> int:
        return len(self.endpoints)

    def stack_outputs(self) -> dict[str, Any]:
        """The guard's memory (`__main__.py` exports it): the next run compares against
        shardCount/shardEndpoints, read back from the stack's own previous outputs."""
        return {
            guard.OUTPUT_ENDPOINTS: list(self.endpoints),
            guard.OUTPUT_COUNT: self.count,
            guard.OUTPUT_MODE: self.mode,
            guard.OUTPUT_PLAN: self.reshard_plan,
            guard.OUTPUT_CAPACITY: self.sizing.plan(),
        }

    @property
    def endpoints_json(self) -> str:
        """GRAPH_SERVICE_ENDPOINTS value: a JSON array of the exact strings."""
        return json.dumps(list(self.endpoints), separators=(",", ":"))


def shard_spec(
    platform: ShardsPlatform, shard: ShardAddress, placement: Placement, auth: SecretEnv, entry: Entrypoint
) -> ServiceSpec:
    """One engine shard. `auth` is required: a shard without the shared secret refuses to
    start, so no spec can be built without the secret file and its env export."""
    host, rpc = host_and_port(shard.endpoint)
    if host != shard.service:
        raise ValueError(f"shard {shard.n}: service {shard.service!r} is not the endpoint host {host!r}")
    s = platform.shards
    wrapped = entry.wrap([auth], uid=USER, gid=USER)
    spec = ServiceSpec(
        placement=placement,
        image=platform.image(IMAGE_KEY),
        # command replaces the image ENTRYPOINT with `with-secrets`; args is the full command.
        command=wrapped.command,
        args=(
            PROGRAM,
            "--tcp-addr",
            f"0.0.0.0:{rpc}",
            "--persist-dir",
            PERSIST_DIR,
            "--metrics-addr",
            f"0.0.0.0:{shard.metrics_port}",
        ),
        env={**ENGINE_ENV, **wrapped.env},
        secrets=wrapped.secrets,
        configs=wrapped.configs,
        volumes=(VolumeMount(source=f"{platform.namespace}-{shard.service}-data", target=PERSIST_DIR),),
        tmpfs=(TmpfsMount(target="/tmp", size_bytes=64 * 1024**2),),
        resources=s.resources,
        networks=(Layer.AGENTS,),
        stateful=True,
        user=f"{USER}:{USER}",
        read_only=True,
        init=True,
        stop_grace_period="60s",
        labels={"agent-os.shard": str(shard.n), "agent-os.shard-endpoint": shard.endpoint},
        health=HealthCheck.python_tcp(rpc, interval="15s", timeout="5s", retries=5, start_period="20s"),
    )
    _require_auth(spec, auth)
    return spec


def _require_auth(spec: ServiceSpec, auth: SecretEnv) -> None:
    exported = spec.env.get(ENV_VAR, "")
    mounted = any(f.secret is auth.secret and f.target == auth.path for f in spec.secrets)
    if spec.command[-1:] != (SCRIPT_PATH,) or f"{auth.env}={auth.path}" not in str(exported) or not mounted:
        raise ValueError(f"engine shard {spec.name} would start without {auth.env}")


class ShardsLayer(pulumi.ComponentResource):
    def __init__(
        self,
        shared: Platform,
        config: ShardsConfig,
        secrets: StackSecrets,
        plan: ShardsPlan,
        opts: pulumi.ResourceOptions | None = None,
    ) -> None:
        super().__init__("agent-os:shards:Shards", "shards", None, opts)
        platform = ShardsPlatform.on(shared, config)
        s = config
        eps, sizing = plan.endpoints, plan.sizing

        # Re-shard guard, during program evaluation: raises pulumi.RunError (at preview)
        # before any shard resource below is registered.
        decision = guard.check(s, eps, self)

        self.auth_secret = platform.secret("graph-service-auth-secret", secrets.value(AUTH_SECRET_KEY), self)
        auth = SecretEnv(env=AUTH_ENV, secret=self.auth_secret, file_name=AUTH_FILE)
        self.entrypoint = secrets_entrypoint(platform, "kg-shards", self)
        self.services = {
            p.address.service: swarm_service(
                platform, shard_spec(platform, p.address, p.placement, auth, self.entrypoint), self
            )
            for p in plan.shards
        }
        self.outputs = ShardsOutputs(
            endpoints=eps,
            mode=plan.mode,
            services=self.services,
            auth_secret=self.auth_secret,
            auth=auth,
            entrypoint=self.entrypoint,
            telemetry=plan.telemetry,
            sizing=sizing,
            reshard_plan=guard.plan_output(decision),
        )
        o = self.outputs
        self.register_outputs({"endpoints": list(o.endpoints), "mode": o.mode})
