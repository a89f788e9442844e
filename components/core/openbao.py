"""OpenBao: raft members bao-1..N, static auto-unseal, one-time init, a scoped admin login that
replaces the root token (which is then revoked), then KV/AppRole as code."""

from __future__ import annotations

import base64
import hashlib
import hmac
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
from ..model import Placement
from ..swarm import (
    ConfigFile,
    HealthCheck,
    Probe,
    SecretFile,
    ServiceSpec,
    VolumeMount,
    readiness_gate,
    swarm_service,
)
from ..swarm.adminscript import admin_script
from ..swarm.context import CorePlatform
from .openbao_hcl import CONFIG_DIR, DATA_DIR, SEAL_KEY_FILE, render_openbao_hcl
from .plan import OPENBAO_ALIAS, OPENBAO_HOST, OPENBAO_PORT

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


def admin_url(platform: CorePlatform) -> str:
    b = platform.core.openbao
    return (b.admin_url or f"https://{platform.edge.host(OPENBAO_HOST)}").rstrip("/")


def _resolve(platform: CorePlatform, url: str) -> str | None:
    """Pin the route's name to the first ingress address when going through Caddy."""
    if platform.core.openbao.admin_url:
        return None
    host = url.split("://", 1)[1].split("/", 1)[0]
    return f"{host}:443:{platform.edge.ingress_addresses[0]}"


# Every member answers to OPENBAO_ALIAS too: in-cluster clients reach whichever members
# run (a standby forwards to the active node), never one fixed member.
MEMBERS_ALIAS = OPENBAO_ALIAS


def internal_url() -> str:
    return f"http://{MEMBERS_ALIAS}:{OPENBAO_PORT}"


def _edge_subnet(platform: CorePlatform) -> str | None:
    """The edge overlay's configured subnet (Caddy's side of every member), if any."""
    net = platform.swarm.networks.get(Layer.EDGE)
    return net.subnet if net else None


def member_service(
    platform: CorePlatform, placement: Placement, seal_secret: docker.Secret, parent: pulumi.Resource
) -> docker.Service:
    b = platform.core.openbao
    name = placement.service
    hcl = platform.config_file(
        f"openbao-{name}",
        render_openbao_hcl(name, b.member_names, b.seal_key_id, _edge_subnet(platform)),
        parent,
    )
    health_url = f"http://127.0.0.1:{OPENBAO_PORT}/v1/sys/health?standbyok=true&uninitcode=200&sealedcode=200"
    spec = ServiceSpec(
        placement=placement,
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
        stateful=True,
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


# --- the admin login (replaces the root token after init) -----------------------------
# An AppRole of its own (the program manages the `approle` mount itself): the vault provider
# logs in with it on every run and gets a short-lived token carrying ADMIN_POLICY only.
ADMIN_MOUNT = "approle-admin"
ADMIN_ROLE = "agent-os-admin"
ADMIN_POLICY = "agent-os-admin"
ADMIN_TOKEN_TTL = "1h"  # one `pulumi up`; the provider logs in afresh on the next


def _hcl_str(s: str) -> str:
    return json.dumps(s)  # an HCL string literal: JSON escaping is valid HCL


def render_admin_policy(kv_mount: str, prefix: str, approle_mount: str, app_role: str) -> str:
    """Exactly what the vault provider does for OpenBaoConfig with the admin login, path by
    path (terraform-provider-vault: mount, auth backend, policy, AppRole role and custom
    secret id, KV v2 secret), and nothing else: no other mount, auth method, policy or sys
    path. Where a write could widen what a managed object grants, its parameters are pinned:
    the agent-utilities policy only ever has the text this program renders, its role only
    ever carries that policy, the mounts only their own type. Reading its own policy and
    role lets the admin step compare them without a root token."""
    for name in (approle_mount, app_role):
        if name in (ADMIN_MOUNT, ADMIN_POLICY, ADMIN_ROLE, "root", "default"):
            raise ValueError(f"{name!r} is reserved for the admin login; choose another name")
    for mount in (kv_mount, approle_mount):
        if mount.split("/", 1)[0] in ("sys", "auth", "identity", "cubbyhole", "token"):
            raise ValueError(f"{mount!r} is an OpenBao system path, not a mount this program may own")
    app_policy = render_policy(kv_mount, prefix)
    if app_policy.startswith("*") or app_policy.endswith("*"):
        raise ValueError("a pinned policy text must not start or end with * (OpenBao globs it)")
    crud = '["create", "read", "update", "delete"]'
    blocks = [
        (
            "KV v2 mount of the platform's secrets (vault.Mount kv)",
            f"sys/mounts/{kv_mount}",
            crud,
            '{ "type" = ["kv"], "*" = [] }',
            None,
        ),
        (None, f"sys/mounts/{kv_mount}/tune", '["read", "update"]', None, None),
        ("The platform's secrets (kv.SecretV2)", f"{kv_mount}/data/{prefix}/*", crud, None, None),
        (None, f"{kv_mount}/metadata/{prefix}/*", '["read"]', None, None),
        (
            "AppRole auth for agent-utilities (vault.AuthBackend); enabling one needs sudo",
            f"sys/auth/{approle_mount}",
            '["create", "read", "update", "delete", "sudo"]',
            '{ "type" = ["approle"], "*" = [] }',
            None,
        ),
        (None, f"sys/mounts/auth/{approle_mount}/tune", '["read", "update"]', None, None),
        (
            "Its role, carrying its own policy only, and its secret ids",
            f"auth/{approle_mount}/role/{app_role}",
            crud,
            f'{{ "token_policies" = [[{_hcl_str(app_role)}], {_hcl_str(app_role)}], "*" = [] }}',
            '{ "policies" = [] }',
        ),
        (None, f"auth/{approle_mount}/role/{app_role}/role-id", '["read", "update"]', None, None),
        (None, f"auth/{approle_mount}/role/{app_role}/custom-secret-id", '["update"]', None, None),
        (None, f"auth/{approle_mount}/role/{app_role}/secret-id-accessor/lookup", '["update"]', None, None),
        (None, f"auth/{approle_mount}/role/{app_role}/secret-id-accessor/destroy", '["update"]', None, None),
        (
            "Its policy (vault.Policy), only ever with the text this program renders",
            f"sys/policies/acl/{app_role}",
            crud,
            f'{{ "policy" = [{_hcl_str(app_policy)}] }}',
            None,
        ),
        (
            "The provider's token check; the admin login's own policy and role, read-only",
            "auth/token/lookup-self",
            '["read"]',
            None,
            None,
        ),
        (None, f"sys/policies/acl/{ADMIN_POLICY}", '["read"]', None, None),
        (None, f"auth/{ADMIN_MOUNT}/role/{ADMIN_ROLE}", '["read"]', None, None),
        (
            "Break glass on OpenBao 2.6+: a root token also takes the recovery keys (README)",
            "sys/generate-root-token/attempt",
            '["read", "update", "delete"]',
            None,
            None,
        ),
        (None, "sys/generate-root-token/update", '["update"]', None, None),
    ]
    lines = ["# Generated by agent-os (components/core/openbao.py): the Pulumi program's admin login."]
    for comment, path, caps, allowed, denied in blocks:
        if comment:
            lines += ["", f"# {comment}"]
        lines += [f"path {_hcl_str(path)} {{", f"  capabilities = {caps}"]
        if allowed:
            lines.append(f"  allowed_parameters = {allowed}")
        if denied:
            lines.append(f"  denied_parameters = {denied}")
        lines.append("}")
    return "\n".join(lines) + "\n"


def init_reply_file(stack: str) -> str:
    """Where openbao-init keeps its reply (encrypted) until openbao-admin has run: relative
    to the project directory, beside the stack's Caddy root (.agent-os/ is git-ignored)."""
    return f".agent-os/{stack}/openbao-init.json"


def init_reply_key(seed: pulumi.Input[str]) -> pulumi.Output[str]:
    """The key that encrypts the init reply on disk: derived from the seal secret, so the
    file is as protected as the stack's state, and no new secret is needed."""
    return pulumi.Output.secret(
        pulumi.Output.from_input(seed).apply(
            lambda s: base64.b64encode(
                hmac.new(s.encode(), b"agent-os openbao-init reply", hashlib.sha256).digest()
            ).decode()
        )
    )


@dataclass(frozen=True)
class AdminLogin:
    """The admin AppRole's credentials (generated secrets, or agent-os:openbaoAdminRoleId /
    openbaoAdminSecretId)."""

    role_id: pulumi.Output[str]
    secret_id: pulumi.Output[str]


@dataclass(frozen=True)
class OpenBaoAdmin:
    step: command.local.Command  # openbao-admin
    login: AdminLogin


@dataclass(frozen=True)
class OpenBaoCluster:
    services: list[docker.Service]
    reachable: command.local.Command
    init: command.local.Command
    unsealed: command.local.Command
    root_token: pulumi.Output[str]  # revoked by openbao-admin: kept only to hand it over
    recovery_keys: pulumi.Output[list[str]]


def openbao_cluster(
    platform: CorePlatform,
    members: tuple[Placement, ...],
    seal_seed: pulumi.Output[str],
    adopt_token: pulumi.Output[str] | None,
    after: list[pulumi.Resource],
    parent: pulumi.Resource,
) -> OpenBaoCluster:
    """Members, then: reachable gate -> init (once) -> unsealed gate."""
    b = platform.core.openbao
    acc = platform.access
    seal_secret = platform.secret("openbao-seal-key", seal_key(seal_seed), parent)
    services = [member_service(platform, m, seal_secret, parent) for m in members]
    url = admin_url(platform)
    resolve = _resolve(platform, url)
    reachable = readiness_gate(
        "openbao-reachable",
        "OpenBao API (answering, sealed or not)",
        Probe.http(
            f"{url}/v1/sys/health?standbyok=true&uninitcode=200&sealedcode=200", platform.trust, resolve
        ),
        acc,
        [*services, *after],
        parent,
    )
    env = {
        **admin_env(platform),
        "BAO_RECOVERY_SHARES": str(b.recovery_shares),
        "BAO_RECOVERY_THRESHOLD": str(b.recovery_threshold),
        # For the reset procedure a lost init reply needs (service, data volume per member).
        "BAO_MEMBERS": json.dumps([[m, f"{platform.namespace}-{m}-data"] for m in b.member_names]),
    }
    # Secrets only on stdin (never argv or the environment, which /proc shows).
    stdin = pulumi.Output.json_dumps(
        {"reply_key": init_reply_key(seal_seed), "adopt_token": adopt_token or ""}
    )
    # Create-only: runs once per stack (ignore_changes: a changed URL, TLS setting or root
    # token must not re-run it; an input added later must not either, on stacks that ran it).
    # stdout (root token, recovery keys) is stored as a secret output and never logged; the
    # previous stdout is never handed to a later run's environment.
    init = command.local.Command(
        "openbao-init",
        create=f"python3 {BAOCTL} init",
        environment=env,
        stdin=pulumi.Output.secret(stdin),
        add_previous_output_in_env=False,
        logging=command.local.Logging.NONE,
        opts=pulumi.ResourceOptions(
            parent=parent,
            depends_on=[reachable],
            additional_secret_outputs=["stdout"],
            ignore_changes=["create", "environment", "stdin", "addPreviousOutputInEnv", "logging"],
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
        Probe.http(f"{url}/v1/sys/health?standbyok=true", platform.trust, resolve),
        acc,
        [init],
        parent,
    )
    return OpenBaoCluster(services, reachable, init, unsealed, root_token, recovery)


def admin_env(platform: CorePlatform) -> dict[str, str]:
    """What baoctl.py needs to reach OpenBao (no secrets)."""
    url = admin_url(platform)
    resolve = _resolve(platform, url)
    return {
        "BAO_URL": url,
        "BAO_CONNECT": resolve.rsplit(":", 1)[1] if resolve else "",
        "BAO_INSECURE": "1" if platform.trust.insecure else "0",
        "BAO_CA_FILE": platform.trust.ca_file,
        "BAO_INIT_REPLY_FILE": init_reply_file(platform.stack),
        "BAO_ADMIN_MOUNT": ADMIN_MOUNT,
    }


def openbao_admin(
    platform: CorePlatform,
    cluster: OpenBaoCluster,
    adopt_token: pulumi.Output[str] | None,
    login: AdminLogin,
    parent: pulumi.Resource,
) -> OpenBaoAdmin:
    """The admin login (AppRole ADMIN_MOUNT/ADMIN_ROLE, policy ADMIN_POLICY), set up with the
    root token, which is then revoked. Runs again when the policy or any setting changes; with
    nothing to change it needs no root token. Root token: agent-os:openbaoRootToken when set
    (a token generated with the recovery keys, README), else the one from init."""
    b = platform.core.openbao
    env = {
        **admin_env(platform),
        "BAO_ADMIN_ROLE": ADMIN_ROLE,
        "BAO_ADMIN_POLICY_NAME": ADMIN_POLICY,
        "BAO_ADMIN_POLICY": render_admin_policy(b.kv_mount, b.path_prefix, b.approle_mount, b.app_role),
        "BAO_ADMIN_TOKEN_TTL": str(seconds(ADMIN_TOKEN_TTL)),
    }
    root = adopt_token if adopt_token is not None else cluster.root_token
    stdin = pulumi.Output.json_dumps(
        {"root_token": root, "role_id": login.role_id, "secret_id": login.secret_id}
    )
    step = command.local.Command(
        "openbao-admin",
        create=f"python3 {BAOCTL} admin",
        update=f"python3 {BAOCTL} admin",
        environment=env,
        stdin=pulumi.Output.secret(stdin),
        add_previous_output_in_env=False,
        # Prints no secret (what it did); its errors carry the recovery procedure.
        logging=command.local.Logging.STDOUT_AND_STDERR,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[cluster.unsealed]),
    )
    return OpenBaoAdmin(step, login)


def vault_provider(
    platform: CorePlatform, cluster: OpenBaoCluster, admin: OpenBaoAdmin, parent: pulumi.Resource
) -> vault.Provider:
    """Address is preview-known config. The provider logs in with the admin AppRole (never the
    root token, which openbao-admin revokes) and uses that short-lived token directly. Its
    credentials are handed over only once openbao-admin has run, so on a preview before that
    (first deployment, or a stack upgraded to the admin login) they are unknown and the vault
    resources show as unknown instead of failing to log in."""
    done = admin.step.stdout

    def after_admin(value: pulumi.Output[str]) -> pulumi.Output[str]:
        return pulumi.Output.secret(pulumi.Output.all(done, value).apply(lambda v: str(v[1])))

    return vault.Provider(
        "vault",
        address=admin_url(platform),
        auth_login=vault.ProviderAuthLoginArgs(
            path=f"auth/{ADMIN_MOUNT}/login",
            parameters={
                "role_id": after_admin(admin.login.role_id),
                "secret_id": after_admin(admin.login.secret_id),
            },
        ),
        # A child token would need auth/token/create, which the admin policy does not grant.
        skip_child_token=True,
        skip_get_vault_version=True,
        vault_version_override=VAULT_API_VERSION,
        skip_tls_verify=platform.trust.insecure,
        ca_cert_file=platform.trust.ca_file,
        max_retries=5,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=[cluster.unsealed, admin.step]),
    )


class OpenBaoConfig(pulumi.ComponentResource):
    """Everything written through the vault provider. Depending on this component waits for
    all of it (mount, AppRole, policy, KV secrets)."""

    def __init__(
        self,
        platform: CorePlatform,
        provider: vault.Provider,
        entries: Mapping[str, KvEntry],
        role_id: pulumi.Output[str],
        secret_id: pulumi.Output[str],
        parent: pulumi.Resource,
    ) -> None:
        super().__init__(
            "agent-os:core:OpenBaoConfig", "openbao-config", None, pulumi.ResourceOptions(parent=parent)
        )
        b = platform.core.openbao
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
