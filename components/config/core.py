"""Core layer settings: OpenBao, Keycloak, Portainer and LGTM (per-component knobs).

The integration toggles themselves live in `integrations`; this section sizes and tunes
what the toggles switch on. Admin URLs default to the Caddy route (https://<host>.<zone>);
set them when the operator's machine reaches the service another way (a tunnel).
"""

from __future__ import annotations

import re
from typing import Annotated

from pydantic import AfterValidator, Field, model_validator

from .base import ConfigModel, HttpUrl, Loc, NodeLabel, PgName, PgRole, no_url_credentials, raise_all
from .resources import Resources

# A Vault/OpenBao path: lowercase segments joined by single slashes.
PATH = r"^[a-z0-9][a-z0-9_/-]{0,62}[a-z0-9]$"
_SEGMENTS = re.compile(r"^[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?(?:/[a-z0-9](?:[a-z0-9_-]*[a-z0-9])?)*$")
# OpenBao's own paths (system backend, auth methods, identity, cubbyhole, the token auth
# method): no mount of this program goes at or below them.
OPENBAO_SYSTEM_PATHS = ("sys", "auth", "identity", "cubbyhole", "token")
# OpenBao's built-in policies: `root` is immutable, and rewriting `default` would hand every
# token the app's read access to the platform secrets.
BUILTIN_POLICIES = ("root", "default", "response-wrapping")
# The program's own admin login: its AppRole mount, and its role and policy name
# (components/core/openbao.py ADMIN_MOUNT, ADMIN_ROLE, ADMIN_POLICY). Restated, since config
# imports no other project package; tests/config/test_config_declarations.py holds both to
# the same refusals.
ADMIN_LOGIN_NAMES = ("approle-admin", "agent-os-admin")
# Keycloak's administration realm: the platform's users never live there.
ADMIN_REALM = "master"


def _segments(v: str) -> str:
    if not _SEGMENTS.match(v):
        raise ValueError(
            "must be lowercase segments joined by single slashes (no '//', no '/' at either end)"
        )
    return v


def _mount(v: str) -> str:
    _segments(v)
    if v.split("/", 1)[0] in OPENBAO_SYSTEM_PATHS:
        raise ValueError(f"collides with OpenBao's own paths ({', '.join(OPENBAO_SYSTEM_PATHS)})")
    return v


def _admin_login(v: str) -> str:
    if v in ADMIN_LOGIN_NAMES:
        raise ValueError(
            f"is reserved for the program's own OpenBao admin login ({', '.join(ADMIN_LOGIN_NAMES)})"
        )
    return v


def _auth_mount(v: str) -> str:
    _mount(v)
    if v in ("root", "default"):
        raise ValueError("is a built-in policy name, kept apart from the mounts")
    return _admin_login(v)


def _policy(v: str) -> str:
    if v in BUILTIN_POLICIES:
        raise ValueError(f"is the name of a built-in OpenBao policy ({', '.join(BUILTIN_POLICIES)})")
    return _admin_login(v)


def _realm(v: str) -> str:
    if v == ADMIN_REALM:
        raise ValueError("is Keycloak's administration realm; the platform needs its own")
    return v


_UNITS = {"s": 1, "m": 60, "h": 3600}


def _seconds(v: str) -> int:
    return int(v[:-1]) * _UNITS[v[-1]]


# A git ref Portainer checks out: a branch or a tag (git check-ref-format, strictly).
GIT_REF = r"^refs/(heads|tags)/[A-Za-z0-9._-]+(/[A-Za-z0-9._-]+)*$"


def _git_ref(v: str) -> str:
    if ".." in v or v.endswith((".lock", ".")) or "/." in v:
        raise ValueError("is not a valid git ref (no '..', no segment starting with '.', no '.lock' end)")
    return v


def _repo_file(v: str) -> str:
    if any(part in ("", ".", "..") for part in v.split("/")):
        raise ValueError("must be a path inside the repository (relative, no '.', '..' or '//')")
    return v


class OpenBaoConfig(ConfigModel):
    # Raft members, one Swarm service each (bao-1..N), pinned by node label openbao==N.
    # Odd, so a quorum survives (N-1)/2 failures.
    members: Annotated[int, Field(ge=1, le=7)] = 1
    resources: Resources = Resources(memory="512m", cpus=0.5)
    node_label: NodeLabel = "openbao"
    kv_mount: Annotated[str, Field(pattern=PATH), AfterValidator(_mount)] = "secret"
    # Everything this stack writes to KV lives under <kvMount>/<pathPrefix>/...
    path_prefix: Annotated[str, Field(pattern=PATH), AfterValidator(_segments)] = "platform"
    approle_mount: Annotated[str, Field(pattern=PATH), AfterValidator(_auth_mount)] = "approle"
    # The AppRole role and the policy of agent-utilities (the same name).
    app_role: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,62}$"), AfterValidator(_policy)] = (
        "agent-utilities"
    )
    token_ttl: Annotated[str, Field(pattern=r"^[0-9]+[smh]$")] = "1h"
    token_max_ttl: Annotated[str, Field(pattern=r"^[0-9]+[smh]$")] = "24h"
    # Recovery shares returned by the one-time init (auto-unseal: recovery keys, not unseal keys).
    recovery_shares: Annotated[int, Field(ge=1, le=10)] = 1
    recovery_threshold: Annotated[int, Field(ge=1, le=10)] = 1
    seal_key_id: Annotated[str, Field(pattern=r"^[A-Za-z0-9_.-]{1,64}$")] = "agent-os-1"
    admin_url: HttpUrl | None = None  # default https://openbao.<zone>

    @model_validator(mode="after")
    def _ttls(self) -> OpenBaoConfig:
        found: list[tuple[Loc, str]] = []
        if _seconds(self.token_ttl) > _seconds(self.token_max_ttl):
            found.append((("tokenTtl",), f"{self.token_ttl} exceeds tokenMaxTtl ({self.token_max_ttl})"))
        raise_all(found, self.model_dump(by_alias=True))
        return self

    @property
    def member_names(self) -> list[str]:
        return [f"bao-{n}" for n in range(1, self.members + 1)]


class KeycloakConfig(ConfigModel):
    resources: Resources = Resources(memory="1g", cpus=1.0)
    replicas: Annotated[int, Field(ge=1, le=5)] = 1
    realm: Annotated[str, Field(pattern=r"^[a-z][a-z0-9-]{0,62}$"), AfterValidator(_realm)] = "agents"
    database: PgName = "keycloak"
    db_role: PgRole = "keycloak"
    admin_user: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,62}$")] = "admin"
    # The realm's first person (kg:admin, webui:admin), so a fresh stack can be used at all.
    # Password: agent-os:platformAdminPassword (secret), generated when unset.
    platform_admin: Annotated[str, Field(pattern=r"^[a-z][a-z0-9._-]{0,62}$")] = "platform-admin"
    # Its email (Keycloak's user profile requires one); default: <platformAdmin>@<zone>.
    platform_admin_email: Annotated[str, Field(pattern=r"^[a-z0-9._+-]{1,64}@[a-z0-9.-]{1,190}$")] | None = (
        None
    )
    start_period: Annotated[str, Field(pattern=r"^[0-9]+[smh]$")] = "180s"
    admin_url: HttpUrl | None = None  # default https://sso.<zone>
    client_timeout_seconds: Annotated[int, Field(ge=5, le=300)] = 30


class GitOpsConfig(ConfigModel):
    # The repository holding your stack files: nothing in this stack serves one, so there is
    # no default (required when agent-os:integrations.gitops is on). No credentials inside.
    repo_url: Annotated[
        str | None, Field(pattern=r"^(https|ssh)://[^/@\s]+/\S+$"), AfterValidator(no_url_credentials)
    ] = None
    # The stack file inside the repository, and the branch or tag to follow.
    path: Annotated[
        str, Field(pattern=r"^[A-Za-z0-9_][A-Za-z0-9._/-]{0,254}\.ya?ml$"), AfterValidator(_repo_file)
    ] = "stacks/connectors/docker-compose.yml"
    ref: Annotated[str, Field(pattern=GIT_REF), AfterValidator(_git_ref)] = "refs/heads/main"
    stack_name: Annotated[str, Field(pattern=r"^[a-z][a-z0-9_-]{0,62}$")] = "mcp-fleet"
    # The Portainer environment the stack goes to, by name (the agent the server starts
    # with is "primary"), never "whichever comes first".
    endpoint: Annotated[str, Field(pattern=r"^[A-Za-z0-9][A-Za-z0-9 ._-]{0,62}$")] = "primary"
    # Portainer polls the repository at this interval (Portainer duration syntax).
    poll_interval: Annotated[str, Field(pattern=r"^[0-9]+[smh]$")] = "5m"


class PortainerConfig(ConfigModel):
    resources: Resources = Resources(memory="512m", cpus=0.5)
    agent_resources: Resources = Resources(memory="128m", cpus=0.25)
    node_label: NodeLabel = "portainer"
    admin_user: Annotated[str, Field(pattern=r"^[a-z][a-z0-9._-]{0,62}$")] = "admin"
    admin_url: HttpUrl | None = None  # default https://portainer.<zone>
    gitops: GitOpsConfig = GitOpsConfig()


class AlertThresholds(ConfigModel):
    # The pinned release's gauge of unclaimed dispatched turns (agent_turns queue), not
    # the kg-ingest one (agent_utilities.observability.gateway_metrics, 0.52.0).
    dispatch_queue_metric: Annotated[str, Field(pattern=r"^[a-zA-Z_:][a-zA-Z0-9_:]*$")] = (
        "agent_utilities_dispatch_queue_depth"
    )
    dispatch_queue_depth: Annotated[int, Field(ge=1)] = 500
    ingest_consumer_lag: Annotated[int, Field(ge=1)] = 10_000


class LgtmConfig(ConfigModel):
    # Stateful LGTM members (prometheus, alertmanager, loki, tempo, grafana) are pinned
    # to node.labels.<nodeLabel>==true; Prometheus additionally to a manager (Swarm SD).
    node_label: NodeLabel = "observability"
    retention: Annotated[str, Field(pattern=r"^[0-9]+[hdw]$")] = "15d"
    scrape_interval: Annotated[str, Field(pattern=r"^[0-9]+[sm]$")] = "15s"
    prometheus: Resources = Resources(memory="2g", cpus=1.0)
    alertmanager: Resources = Resources(memory="256m", cpus=0.25)
    loki: Resources = Resources(memory="1g", cpus=0.5)
    tempo: Resources = Resources(memory="1g", cpus=0.5)
    grafana: Resources = Resources(memory="512m", cpus=0.5)
    exporters: Resources = Resources(memory="128m", cpus=0.25)
    thresholds: AlertThresholds = AlertThresholds()


class CoreConfig(ConfigModel):
    openbao: OpenBaoConfig = OpenBaoConfig()
    keycloak: KeycloakConfig = KeycloakConfig()
    portainer: PortainerConfig = PortainerConfig()
    lgtm: LgtmConfig = LgtmConfig()
