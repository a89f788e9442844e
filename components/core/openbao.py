"""OpenBao: raft members bao-1..N, static auto-unseal, one-time init, then KV/AppRole as code."""

from __future__ import annotations

import base64
import hashlib
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass

import pulumi
import pulumi_command as command
import pulumi_docker as docker
import pulumi_vault as vault
from pulumi_vault import approle, kv

from ..config.swarm import Layer
from ..swarm import (
    ConfigFile,
    HealthCheck,
    Platform,
    Probe,
    SecretFile,
    ServiceSpec,
    VolumeMount,
    readiness_gate,
    swarm_service,
)
from ..swarm.adminscript import admin_script
from ..swarm.names import OPENBAO_PORT
from .openbao_hcl import CONFIG_DIR, DATA_DIR, SEAL_KEY_FILE, render_openbao_hcl
from .routes import OPENBAO_HOST

BAOCTL = admin_script(__file__, "baoctl.py")
# OpenBao forked from Vault 1.14; the provider gates features on the server version.
VAULT_API_VERSION = "1.14.0"


def seal_key(seed: pulumi.Input[str]) -> pulumi.Output[str]:
    """The static seal's 32-byte AES key (base64), derived from a secret seed. The seed is a
    generated RandomPassword (or `agent-os:openbaoSealSecret`), so the key is stable."""
    return pulumi.Output.secret(
        pulumi.Output.from_input(seed).apply(
            lambda s: base64.b64encode(hashlib.sha256(s.encode()).digest()).decode()
        )
    )


def admin_url(platform: Platform) -> str:
    b = platform.cfg.core.openbao
    return (b.admin_url or f"https://{platform.cfg.edge.host(OPENBAO_HOST)}").rstrip("/")


def _resolve(platform: Platform, url: str) -> str | None:
    """Pin the route's name to the first ingress address when going through Caddy."""
    if platform.cfg.core.openbao.admin_url:
        return None
    host = url.split("://", 1)[1].split("/", 1)[0]
    return f"{host}:443:{platform.cfg.edge.ingress_addresses[0]}"


# Every member answers to this name too: in-cluster clients reach whichever members run
# (a standby forwards to the active node), never one fixed member.
MEMBERS_ALIAS = "openbao"


def internal_url() -> str:
    return f"http://{MEMBERS_ALIAS}:{OPENBAO_PORT}"


def member_service(
    platform: Platform, n: int, seal_secret: docker.Secret, parent: pulumi.Resource
) -> docker.Service:
    b = platform.cfg.core.openbao
    name = f"bao-{n}"
    hcl = platform.config_file(
        f"openbao-{name}", render_openbao_hcl(name, b.member_names, b.seal_key_id), parent
    )
    health_url = f"http://127.0.0.1:{OPENBAO_PORT}/v1/sys/health?standbyok=true&uninitcode=200&sealedcode=200"
    spec = ServiceSpec(
        name=name,
        layer=Layer.CORE,
        image=platform.image("openbao"),
        # The image's default CMD is `server -dev`; `server` makes the entrypoint add
        # -config=/openbao/config (every file there is loaded).
        args=("server",),
        env={"SKIP_SETCAP": "true", "BAO_ADDR": f"http://127.0.0.1:{OPENBAO_PORT}"},
        configs=(ConfigFile(config=hcl, target=f"{CONFIG_DIR}/server.hcl"),),
        # 0444: the entrypoint drops to the image's `openbao` user before bao reads it; the
        # file lives on the task's tmpfs and nothing else runs in the container.
        secrets=(SecretFile(secret=seal_secret, target=SEAL_KEY_FILE, mode=0o444),),
        volumes=(VolumeMount(source=f"{platform.namespace}-{name}-data", target=DATA_DIR),),
        resources=b.resources,
        networks=(Layer.CORE, Layer.EDGE),
        aliases=(MEMBERS_ALIAS,),
        replicas=1,
        stateful=True,
        constraints=(f"node.labels.{b.node_label}=={n}",),
        # The entrypoint chowns the data dir on first start, then su-execs to `openbao`.
        cap_add=("CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"),
        stop_grace_period="30s",
        # Healthy = answering, sealed or not: a new cluster is uninitialised until the
        # init step runs, which needs the tasks up (the gates check the real state).
        health=HealthCheck.shell(
            f"wget -q -O /dev/null '{health_url}' || exit 1", interval="10s", start_period="30s"
        ),
    )
    return swarm_service(platform, spec, parent)


def parse_init(stdout: str) -> dict[str, object]:
    try:
        out = json.loads(stdout)
    except ValueError:
        raise ValueError("openbao-init printed no JSON; see the command's error output") from None
    if not isinstance(out, dict) or not out.get("root_token"):
        raise ValueError("openbao-init output has no root_token")
    return out


def render_policy(kv_mount: str, prefix: str) -> str:
    """Read-only on the platform's KV subtree (data + metadata for listing/versions)."""
    return (
        f'path "{kv_mount}/data/{prefix}/*" {{\n  capabilities = ["read"]\n}}\n'
        f'path "{kv_mount}/metadata/{prefix}/*" {{\n  capabilities = ["read", "list"]\n}}\n'
    )


def seconds(duration: str) -> int:
    m = re.fullmatch(r"([0-9]+)([smh])", duration)
    if not m:
        raise ValueError(f"{duration!r} is not a duration like 30s, 5m, 1h")
    return int(m.group(1)) * {"s": 1, "m": 60, "h": 3600}[m.group(2)]


@dataclass(frozen=True)
class KvEntry:
    path: str  # under <prefix>/, e.g. "postgres"
    field: str
    value: pulumi.Output[str]


@dataclass(frozen=True)
class OpenBaoCluster:
    services: list[docker.Service]
    reachable: command.local.Command
    init: command.local.Command
    unsealed: command.local.Command
    root_token: pulumi.Output[str]
    recovery_keys: pulumi.Output[list[str]]


def openbao_cluster(
    platform: Platform,
    seal_seed: pulumi.Output[str],
    adopt_token: pulumi.Output[str] | None,
    after: list[pulumi.Resource],
    parent: pulumi.Resource,
) -> OpenBaoCluster:
    """Members, then: reachable gate -> init (once) -> unsealed gate."""
    cfg = platform.cfg
    b = cfg.core.openbao
    acc = cfg.access
    seal_secret = platform.secret("openbao-seal-key", seal_key(seal_seed), parent)
    services = [member_service(platform, n, seal_secret, parent) for n in range(1, b.members + 1)]
    url = admin_url(platform)
    resolve = _resolve(platform, url)
    reachable = readiness_gate(
        "openbao-reachable",
        "OpenBao API (answering, sealed or not)",
        Probe.http(
            f"{url}/v1/sys/health?standbyok=true&uninitcode=200&sealedcode=200", platform.cfg.trust, resolve
        ),
        acc,
        [*services, *after],
        parent,
    )
    env: dict[str, pulumi.Input[str]] = {
        "BAO_URL": url,
        "BAO_CONNECT": resolve.rsplit(":", 1)[1] if resolve else "",
        "BAO_INSECURE": "1" if platform.cfg.trust.insecure else "0",
        "BAO_CA_FILE": platform.cfg.trust.ca_file,
        "BAO_RECOVERY_SHARES": str(b.recovery_shares),
        "BAO_RECOVERY_THRESHOLD": str(b.recovery_threshold),
    }
    if adopt_token is not None:
        env["BAO_ROOT_TOKEN"] = pulumi.Output.secret(adopt_token)
    # Create-only: runs once per stack (ignore_changes: a changed URL or TLS setting must not
    # re-run it, or the root token in state would be replaced by an adoption attempt).
    # stdout (root token, recovery keys) is stored as a secret output and never logged.
    init = command.local.Command(
        "openbao-init",
        create=f"python3 {BAOCTL} init",
        environment=env,
        logging=command.local.Logging.NONE,
        opts=pulumi.ResourceOptions(
            parent=parent,
            depends_on=[reachable],
            additional_secret_outputs=["stdout"],
            ignore_changes=["create", "environment"],
        ),
    )
    parsed = init.stdout.apply(parse_init)
    root_token = pulumi.Output.secret(parsed.apply(lambda o: str(o["root_token"])))
    recovery = pulumi.Output.secret(
        parsed.apply(lambda o: [str(k) for k in o.get("recovery_keys_b64") or []])  # type: ignore[union-attr]
    )
    unsealed = readiness_gate(
        "openbao-unsealed",
        "OpenBao (initialised, unsealed, active or standby)",
        Probe.http(f"{url}/v1/sys/health?standbyok=true", platform.cfg.trust, resolve),
        acc,
        [init],
        parent,
    )
    return OpenBaoCluster(services, reachable, init, unsealed, root_token, recovery)


def vault_provider(platform: Platform, cluster: OpenBaoCluster, parent: pulumi.Resource) -> vault.Provider:
    """Address is preview-known config; the token only exists after init, so on the very first
    preview it is unknown and the vault resources show as creates with unknown outputs."""
    return vault.Provider(
        "vault",
        address=admin_url(platform),
        token=cluster.root_token,
        # The root token cannot expire; a child token would add a 20-minute TTL for nothing.
        skip_child_token=True,
        skip_get_vault_version=True,
        vault_version_override=VAULT_API_VERSION,
        skip_tls_verify=platform.cfg.trust.insecure,
        ca_cert_file=platform.cfg.trust.ca_file,
        max_retries=5,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[cluster.unsealed]),
    )


class OpenBaoConfig(pulumi.ComponentResource):
    """Everything written through the vault provider. Depending on this component waits for
    all of it (mount, AppRole, policy, KV secrets)."""

    def __init__(
        self,
        platform: Platform,
        provider: vault.Provider,
        entries: Mapping[str, KvEntry],
        role_id: pulumi.Output[str],
        secret_id: pulumi.Output[str],
        parent: pulumi.Resource,
    ) -> None:
        super().__init__(
            "agent-os:core:OpenBaoConfig", "openbao-config", None, pulumi.ResourceOptions(parent=parent)
        )
        b = platform.cfg.core.openbao
        opts = pulumi.ResourceOptions(parent=self, provider=provider)
        self.kv = vault.Mount(
            "kv",
            path=b.kv_mount,
            type="kv",
            options={"version": "2"},
            description="agent-os platform secrets (KV v2)",
            opts=opts,
        )
        self.approle = vault.AuthBackend("approle", type="approle", path=b.approle_mount, opts=opts)
        self.policy = vault.Policy(
            f"policy-{b.app_role}",
            name=b.app_role,
            policy=render_policy(b.kv_mount, b.path_prefix),
            opts=opts,
        )
        self.role = approle.AuthBackendRole(
            f"approle-{b.app_role}",
            backend=self.approle.path,
            role_name=b.app_role,
            role_id=role_id,
            bind_secret_id=True,
            token_policies=[self.policy.name],
            token_ttl=seconds(b.token_ttl),
            token_max_ttl=seconds(b.token_max_ttl),
            opts=opts,
        )
        self.secret_id = approle.AuthBackendRoleSecretId(
            f"approle-{b.app_role}-secret-id",
            backend=self.approle.path,
            role_name=self.role.role_name,
            secret_id=secret_id,
            opts=opts,
        )
        by_path: dict[str, dict[str, pulumi.Output[str]]] = {}
        for e in entries.values():
            by_path.setdefault(e.path, {})[e.field] = e.value
        self.secrets = [
            kv.SecretV2(
                f"kv-{path.replace('/', '-')}",
                mount=self.kv.path,
                name=f"{b.path_prefix}/{path}",
                data_json=pulumi.Output.secret(
                    pulumi.Output.all(**fields).apply(lambda d: json.dumps(d, sort_keys=True))
                ),
                opts=opts,
            )
            for path, fields in sorted(by_path.items())
        ]
        self.register_outputs({"kvMount": b.kv_mount})


def vault_ref(path: str, field: str) -> str:
    """The app's ref syntax: vault://<path>#<field>, relative to the KV mount (platform.md §8)."""
    return f"vault://{path}#{field}"
