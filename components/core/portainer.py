"""Portainer: server (one pinned replica, /data) + global agent with the Docker socket;
admin from a secret file at first start; Keycloak SSO and the GitOps stack via its API.

Server and agents share AGENT_SECRET (a generated stack secret, `portainerAgentSecret`): an
agent then answers only requests signed with it, never the first Portainer that reaches it.
Both read it only from their environment, so the `with-secrets` entrypoint exports it from a
Docker secret file inside the container; the value is never in a service spec."""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_command as command
import pulumi_docker as docker

from ..config.swarm import Layer
from ..model import Placement
from ..swarm import (
    BindMount,
    HealthCheck,
    Probe,
    SecretFile,
    ServiceSpec,
    VolumeMount,
    readiness_gate,
    swarm_service,
)
from ..swarm.adminpassword import admin_password_step
from ..swarm.adminscript import admin_script
from ..swarm.context import CorePlatform
from ..swarm.entrypoint import Entrypoint, SecretEnv, secrets_entrypoint
from .plan import PORTAINER_AGENT_PORT as AGENT_PORT
from .plan import PORTAINER_HOST, PORTAINER_HTTP_PORT

PORTAINERCTL = admin_script(__file__, "portainerctl.py")
ADMIN_PASSWORD_FILE = "/run/secrets/portainer_admin_password"

# The shared AGENT_SECRET: a generated stack secret (config/secrets.py), one Docker secret
# file that both services mount, exported as AGENT_SECRET by `with-secrets`.
AGENT_SECRET_KEY = "portainerAgentSecret"
AGENT_SECRET_ENV = "AGENT_SECRET"
AGENT_SECRET_FILE = "portainer_agent_secret"  # under /run/secrets

# AGENT_SECRET has no *_FILE variant (server: os.Getenv in api/cmd/portainer/main.go; agent:
# kingpin .Envar in os/options.go), so `with-secrets` exports it, which needs /bin/sh: the
# pins are Portainer's `<tag>-alpine` images (the same binaries on Alpine; the plain tags
# are FROM scratch). An `images.overrides` entry must have /bin/sh too.
AGENT_BINARY = "/app/agent"  # WORKDIR /app, ENTRYPOINT ./agent (build/linux/alpine.Dockerfile)
SERVER_BINARY = "/portainer"


def agent_service(
    platform: CorePlatform,
    placement: Placement,
    entry: Entrypoint,
    agent_secret: docker.Secret,
    parent: pulumi.Resource,
) -> docker.Service:
    p = platform.core.portainer
    # Secret mode: the agent verifies every request's signature against AGENT_SECRET (no
    # trust-on-first-use association, no 72-hour unassociated shutdown).
    wrapped = entry.wrap(
        [SecretEnv(env=AGENT_SECRET_ENV, secret=agent_secret, file_name=AGENT_SECRET_FILE)], uid="0", gid="0"
    )
    spec = ServiceSpec(
        placement=placement,  # global: one per node
        image=platform.image("portainer-agent"),
        command=wrapped.command,
        args=(AGENT_BINARY,),
        env={"AGENT_CLUSTER_ADDR": f"tasks.{placement.service}", "LOG_LEVEL": "INFO", **wrapped.env},
        secrets=wrapped.secrets,
        configs=wrapped.configs,
        # The agent drives the local engine: read-write socket and volume directory.
        binds=(
            BindMount(source="/var/run/docker.sock", target="/var/run/docker.sock", read_only=False),
            BindMount(source="/var/lib/docker/volumes", target="/var/lib/docker/volumes", read_only=False),
        ),
        resources=p.agent_resources,
        networks=(Layer.CORE,),
        health=HealthCheck.tcp(AGENT_PORT),
    )
    return swarm_service(platform, spec, parent)


def server_service(
    platform: CorePlatform,
    placement: Placement,
    agent: Placement,
    admin_password: pulumi.Output[str],
    entry: Entrypoint,
    agent_secret: docker.Secret,
    parent: pulumi.Resource,
) -> docker.Service:
    p = platform.core.portainer
    secret = platform.secret("portainer-admin-password", admin_password, parent)
    # The server signs each agent request with AGENT_SECRET (the agents' shared secret).
    wrapped = entry.wrap(
        [SecretEnv(env=AGENT_SECRET_ENV, secret=agent_secret, file_name=AGENT_SECRET_FILE)], uid="0", gid="0"
    )
    spec = ServiceSpec(
        placement=placement,
        image=platform.image("portainer"),
        command=wrapped.command,
        env=wrapped.env,
        # The admin exists from the first start (no 5-minute init window to race).
        # --tlsskipverify stays: a (non-Edge) agent serves a fresh self-signed certificate it
        # makes at each start (crypto/tls.go) and offers no way to give it one, so there is
        # nothing to verify against; Portainer's API requires TLSSkipVerify for agent
        # environments. AGENT_SECRET is what authenticates the server to the agents.
        args=(
            SERVER_BINARY,
            "-H",
            f"tcp://tasks.{agent.at(AGENT_PORT)}",
            "--tlsskipverify",
            "--admin-password-file",
            ADMIN_PASSWORD_FILE,
        ),
        secrets=(SecretFile(secret=secret, target=ADMIN_PASSWORD_FILE), *wrapped.secrets),
        configs=wrapped.configs,
        volumes=(VolumeMount(source=f"{platform.namespace}-portainer-data", target="/data"),),
        resources=p.resources,
        networks=(Layer.CORE, Layer.EDGE),
        stateful=True,  # BoltDB: never two tasks on /data
        # The binary answers; the readiness gate and Caddy's health_uri check
        # /api/system/status through the route.
        health=HealthCheck(test=("CMD", "/portainer", "--version"), start_period="30s"),
    )
    return swarm_service(platform, spec, parent)


@dataclass(frozen=True)
class Portainer:
    server: docker.Service
    agent: docker.Service
    ready: command.local.Command
    oauth: command.local.Command | None
    gitops: command.local.Command | None
    admin_password: command.local.Command | None = None


def _api_env(
    platform: CorePlatform, admin_password: pulumi.Output[str]
) -> tuple[str, dict[str, pulumi.Input[str]]]:
    p = platform.core.portainer
    url = (p.admin_url or f"https://{platform.edge.host(PORTAINER_HOST)}").rstrip("/")
    return url, {
        "PT_URL": url,
        "PT_CONNECT": "" if p.admin_url else platform.edge.ingress_addresses[0],
        "PT_INSECURE": "1" if platform.trust.insecure else "0",
        "PT_CA_FILE": platform.trust.ca_file,
        "PT_USER": p.admin_user,
        "PT_PASSWORD": admin_password,
    }


def portainer(
    platform: CorePlatform,
    plan: tuple[Placement, Placement],  # (agent, server)
    admin_password: pulumi.Output[str],
    sso: dict[str, str] | None,
    sso_secret: pulumi.Output[str] | None,
    git_token: pulumi.Output[str] | None,
    after: list[pulumi.Resource],
    sso_after: list[pulumi.Resource],
    parent: pulumi.Resource,
    agent_secret: pulumi.Output[str],
    connectors: Sequence[tuple[str, str]] = (),
) -> Portainer:
    """`sso`: public OAuth settings (Keycloak on); `git_token`: set when GitOps is on.
    `after` gates the API; `sso_after` (the Keycloak realm with the portainer client) gates
    only the SSO step, so the admin API and GitOps never wait for Keycloak.
    `agent_secret`: the shared AGENT_SECRET (stack secret `portainerAgentSecret`)."""
    agent_at, server_at = plan
    shared = platform.secret("portainer-agent-secret", agent_secret, parent)
    entry = secrets_entrypoint(platform, "portainer", parent)
    agent = agent_service(platform, agent_at, entry, shared, parent)
    server = server_service(platform, server_at, agent_at, admin_password, entry, shared, parent)
    url, env = _api_env(platform, admin_password)
    resolve = (
        None
        if platform.core.portainer.admin_url
        else f"{platform.edge.host(PORTAINER_HOST)}:443:{platform.edge.ingress_addresses[0]}"
    )
    gate = readiness_gate(
        "portainer-ready",
        "Portainer API",
        Probe.http(f"{url}/api/system/status", platform.trust, resolve),
        platform.access,
        [server, agent, *after],
        parent,
    )
    # Every API step logs in with the configured password: it is made the one in force first.
    rotate = admin_password_step("portainer-admin-password", f"{PORTAINERCTL} password", env, [gate], parent)
    oauth = None
    if sso is not None and sso_secret is not None:
        public = json.dumps(sso, sort_keys=True)
        oauth = command.local.Command(
            "portainer-oauth",
            create=f"python3 {PORTAINERCTL} oauth",
            update=f"python3 {PORTAINERCTL} oauth",
            environment={**env, "OAUTH_JSON": public, "OAUTH_CLIENT_SECRET": sso_secret},
            triggers=[public],
            logging=command.local.Logging.STDERR,
            opts=pulumi.ResourceOptions(parent=parent, depends_on=[gate, rotate, *sso_after]),
        )
    gitops = None
    if platform.integrations.gitops:
        g = platform.core.portainer.gitops
        public = json.dumps(
            {
                "stack_name": g.stack_name,
                "repo_url": g.repo_url,
                "ref": g.ref,
                "path": g.path,
                "poll_interval": g.poll_interval,
                "endpoint": g.endpoint,
            },
            sort_keys=True,
        )
        # A settings change runs `update` (reconcile in place or re-create), never a replace:
        # a replace would create the new stack and then delete it as "the old one".
        gitops = command.local.Command(
            "portainer-gitops",
            create=f"python3 {PORTAINERCTL} gitops",
            update=f"python3 {PORTAINERCTL} gitops",
            delete=f"python3 {PORTAINERCTL} gitops-delete",
            environment={
                **env,
                "GIT_JSON": public,
                "GIT_TOKEN": git_token or "",
                # The fleet's connectors (name, image): a GitOps stack that runs one again is refused.
                "CONNECTORS_JSON": json.dumps([{"name": n, "image": i} for n, i in connectors]),
            },
            logging=command.local.Logging.STDERR,
            opts=pulumi.ResourceOptions(parent=parent, depends_on=[gate, rotate]),
        )
    return Portainer(
        server=server, agent=agent, ready=gate, oauth=oauth, gitops=gitops, admin_password=rotate
    )


def portainer_sso_settings(
    platform: CorePlatform, public_sso: str, internal_sso: str, realm: str, client_id: str
) -> dict[str, str]:
    """Browser goes to the public URL; token/userinfo go over the core overlay."""
    base_pub = f"{public_sso}/realms/{realm}/protocol/openid-connect"
    base_int = f"{internal_sso}/realms/{realm}/protocol/openid-connect"
    origin = f"https://{platform.edge.host(PORTAINER_HOST)}"
    return {
        "client_id": client_id,
        "authorization_uri": f"{base_pub}/auth",
        "token_uri": f"{base_int}/token",
        "userinfo_uri": f"{base_int}/userinfo",
        "logout_uri": f"{base_pub}/logout",
        "redirect_uri": f"{origin}/",
    }


__all__ = ["PORTAINER_HTTP_PORT", "Portainer", "portainer", "portainer_sso_settings"]
