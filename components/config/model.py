"""The root of the stack-config tree: everything under the `agent-os:` namespace, and the
validation of a whole config, which reports every problem it finds at once.

Order: the top-level keys (unknown, secret set in plain text, not an object), every
section's field errors (pydantic collects them all), then the rules across sections (each
declares the sections it reads and is skipped when one of them is invalid, so a broken
section never yields a second, misleading report), then the credentials the features need
and the loader's extra checks. Everything found becomes one ConfigError, which the loader
turns into one pulumi.RunError before any resource exists.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError
from pydantic_core import ErrorDetails

from .access import AccessConfig, Trust
from .app import AppConfig, QueueBackend
from .base import ConfigModel, credential_in, label_key_problem, shows_credential
from .core import CoreConfig
from .data import APP_DATABASES, SYSTEM_DATABASES, DataConfig
from .edge import EdgeConfig
from .fleet import Actuator, FleetConfig
from .images import ImagesConfig
from .integrations import Integrations
from .inventory import InventoryConfig
from .secrets import SECRET_KEYS
from .shards import CapacityConfig, ShardsConfig, Sizing, resolve_sizing, shards_problem
from .swarm import SwarmConfig

NAMESPACE = "agent-os"
# Relative file paths in config (tenantsFile, registryPath, desiredStatePath, caFile) are
# relative to the project directory, where Pulumi.yaml is.
PROJECT_DIR = Path(__file__).resolve().parents[2]

Problem = tuple[str, str]  # (key path, reason)


class ConfigError(Exception):
    """Config problems, each at a key path; turned into one pulumi.RunError by the loader."""

    def __init__(self, path: str, reason: str, *more: Problem) -> None:
        self.problems: tuple[Problem, ...] = ((path, reason), *more)
        super().__init__("\n  ".join(f"{p}: {r}" for p, r in self.problems))
        self.path = path
        self.reason = reason

    @staticmethod
    def of(problems: Sequence[Problem]) -> ConfigError:
        (path, reason), *more = problems
        return ConfigError(path, reason, *more)


class StackConfig(ConfigModel):
    swarm: SwarmConfig = SwarmConfig()
    images: ImagesConfig = ImagesConfig()
    integrations: Integrations = Integrations()
    edge: EdgeConfig = EdgeConfig()
    data: DataConfig = DataConfig()
    access: AccessConfig = AccessConfig()
    app: AppConfig = AppConfig()
    shards: ShardsConfig = ShardsConfig()
    capacity: CapacityConfig = CapacityConfig()
    fleet: FleetConfig = FleetConfig()
    core: CoreConfig = CoreConfig()
    inventory: InventoryConfig = InventoryConfig()
    # Set by the loader from the Pulumi stack name; not a config key.
    stack: str = Field(default="dev", exclude=True)

    @property
    def trust(self) -> Trust:
        """The root the admin clients verify TLS against: agent-os:access.caFile, else the
        stack's own Caddy root, written by the edge layer (project-relative path)."""
        a = self.access
        return Trust(insecure=a.insecure_tls, ca_file=a.ca_file or self.stack_root_file)

    @property
    def stack_root_file(self) -> str:
        """Where the edge layer writes the stack's Caddy root certificate (public)."""
        return f".agent-os/{self.stack}/caddy-root.pem"

    def sizing(self) -> Sizing:
        """Shard count, workers, Kafka partitions: explicit config wins over agent-os:capacity."""
        return resolve_sizing(self.shards, self.capacity)

    def problems(self, invalid: frozenset[str] = frozenset()) -> list[Problem]:
        """Every cross-section rule's findings, skipping rules that read an `invalid` section."""
        return [p for r in RULES if not r.sections & invalid for p in r.check(self)]

    def check_consistency(self) -> None:
        """Cross-section rules; raises one ConfigError naming each key that has to change."""
        if found := self.problems():
            raise ConfigError.of(found)

    def external_secrets(self) -> list[tuple[str, str]]:
        """Secret keys the enabled features need from outside (never generated): (key, why)."""
        out: list[tuple[str, str]] = []
        if self.integrations.langfuse:
            why = "when agent-os:integrations.langfuse is true (keys of your Langfuse project)"
            out += [("langfusePublicKey", why), ("langfuseSecretKey", why)]
        return out


SECTIONS = frozenset(f.alias or name for name, f in StackConfig.model_fields.items() if not f.exclude)

# --- Rules across sections ------------------------------------------------------------

RuleCheck = Callable[[StackConfig], Iterable[Problem]]


@dataclass(frozen=True)
class Rule:
    sections: frozenset[str]  # what the rule reads: skipped when one of them is invalid
    check: RuleCheck
    files: bool  # reads files; the loader's checks read them too, so they wait for these


RULES: list[Rule] = []


def rule(*sections: str, files: bool = False) -> Callable[[RuleCheck], RuleCheck]:
    def register(check: RuleCheck) -> RuleCheck:
        unknown = set(sections) - SECTIONS
        if unknown:
            raise AssertionError(f"rule {check.__name__} reads unknown section(s) {sorted(unknown)}")
        RULES.append(Rule(frozenset(sections), check, files))
        return check

    return register


@rule("shards", "capacity")
def _shards(c: StackConfig) -> Iterator[Problem]:
    if (problem := shards_problem(c.shards, c.capacity)) is not None:
        yield problem
    if why := label_key_problem(c.shards.node_label):
        yield "agent-os:shards.nodeLabel", f"is not a node label name: {why}"


@rule("inventory", "swarm", "integrations")
def _day0(c: StackConfig) -> Iterator[Problem]:
    """Inventory vs. swarm/integrations. The inventory vs. the placement plan is day 0's check."""
    inv = c.inventory
    if inv.provision and "docker_host" in c.swarm.model_fields_set:
        yield (
            "agent-os:swarm.dockerHost",
            "is derived from the first manager when agent-os:inventory.provision is true; remove it",
        )
    topo = inv.topology
    if topo.post and not topo.url:
        yield "agent-os:inventory.topology.url", "is required when topology.post is true"
    if topo.post and not (c.integrations.openbao and c.integrations.keycloak):
        yield (
            "agent-os:inventory.topology.post",
            "signs in to graph-os with a Keycloak token whose client secret it reads from OpenBao; "
            "turn on agent-os:integrations.openbao and agent-os:integrations.keycloak",
        )


@rule("app", "integrations")
def _queue_backend(c: StackConfig) -> Iterator[Problem]:
    if c.app.task_queue_backend is QueueBackend.KAFKA and not c.integrations.kafka:
        yield (
            "agent-os:app.taskQueueBackend",
            "is 'kafka' but agent-os:integrations.kafka is false; turn kafka on or choose 'postgres'",
        )


@rule("integrations")
def _integrations(c: StackConfig) -> Iterator[Problem]:
    i = c.integrations
    if not i.keycloak and not i.allow_unauthenticated:
        yield (
            "agent-os:integrations.keycloak",
            "is false, which leaves the REST/MCP APIs and the connectors unauthenticated; "
            "set agent-os:integrations.allowUnauthenticated: true to accept that",
        )
    if i.gitops and not i.portainer:
        yield (
            "agent-os:integrations.gitops",
            "needs agent-os:integrations.portainer (GitOps stacks live in Portainer)",
        )


@rule("integrations", "core")
def _gitops_repo(c: StackConfig) -> Iterator[Problem]:
    if c.integrations.gitops and not c.core.portainer.gitops.repo_url:
        yield (
            "agent-os:core.portainer.gitops.repoUrl",
            "is required when agent-os:integrations.gitops is true (your repository of stack files)",
        )


@rule("integrations", "app")
def _langfuse(c: StackConfig) -> Iterator[Problem]:
    if c.integrations.langfuse and not c.app.langfuse_host:
        yield (
            "agent-os:app.langfuseHost",
            "is required when agent-os:integrations.langfuse is true (Langfuse runs outside this stack)",
        )


@rule("app")
def _state_db(c: StackConfig) -> Iterator[Problem]:
    if c.app.task_queue_backend is QueueBackend.POSTGRES and not c.app.state_db:
        yield "agent-os:app.stateDb", "is false but agent-os:app.taskQueueBackend 'postgres' needs it"


@rule("fleet", "images", "app")
def _fleet(c: StackConfig) -> Iterator[Problem]:
    """agent-utilities tier rules (components/fleet)."""
    if c.fleet.webui.enabled and "agent-webui" not in c.images.overrides:
        yield (
            "agent-os:fleet.webui.enabled",
            "agent-webui 0.43.0 (the default image) cannot run as this service: no console "
            "script, an undeclared agent_utilities import, HOST/PORT and OIDC_* ignored; set "
            "agent-os:images.overrides.agent-webui to an image you verified",
        )
    if c.fleet.terminal_ui.enabled and c.app.kg_auth_required:
        yield (
            "agent-os:fleet.terminalUi.enabled",
            "agent-terminal-ui 0.16.0 sends no credentials, so with agent-os:app.kgAuthRequired "
            "every call is refused (401); run it on a workstation against the gateway instead",
        )
    auto = c.fleet.autonomy
    if auto.actuator is Actuator.DOCKER and not auto.docker_socket:
        yield (
            "agent-os:fleet.autonomy.dockerSocket",
            "is required for actuator 'docker' (the KG daemon's node must have the Docker socket)",
        )


@rule("core")
def _openbao(c: StackConfig) -> Iterator[Problem]:
    bao = c.core.openbao
    if bao.members % 2 == 0:
        yield (
            "agent-os:core.openbao.members",
            f"is {bao.members}; a raft cluster needs an odd member count (1, 3, 5, 7)",
        )
    if bao.recovery_threshold > bao.recovery_shares:
        yield "agent-os:core.openbao.recoveryThreshold", "exceeds agent-os:core.openbao.recoveryShares"


@rule("data", "core", "integrations")
def _postgres_names(c: StackConfig) -> Iterator[Problem]:
    """One Postgres cluster: the superuser, the app's role and Keycloak's role are three roles,
    and Keycloak's database is none of the app's or the cluster's own."""
    if not c.integrations.keycloak:
        return
    pg, kc = c.data.postgres, c.core.keycloak
    if kc.db_role == pg.superuser:
        yield (
            "agent-os:core.keycloak.dbRole",
            f"is the Postgres superuser ({pg.superuser}); Keycloak needs its own role",
        )
    elif kc.db_role == pg.app_role:
        yield (
            "agent-os:core.keycloak.dbRole",
            f"is also agent-os:data.postgres.appRole ({pg.app_role}); each needs its own role (password, grants)",
        )
    if kc.database in APP_DATABASES:
        yield "agent-os:core.keycloak.database", f"is one of the app's databases ({', '.join(APP_DATABASES)})"
    elif kc.database in SYSTEM_DATABASES:
        yield (
            "agent-os:core.keycloak.database",
            f"is one of Postgres' own databases ({', '.join(SYSTEM_DATABASES)}); Keycloak needs its own",
        )


# --- Files the config names: unreadable is a config error, not a traceback later ------


def project_path(path: str) -> Path:
    p = Path(path)
    return p if p.is_absolute() else (PROJECT_DIR / p).resolve()


def read_problem(path: Path) -> str | None:
    """Why `path` is not a readable UTF-8 text file, or None."""
    try:
        path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return None


@rule("shards", files=True)
def _tenants_file(c: StackConfig) -> Iterator[Problem]:
    if c.shards.tenants_file and (why := read_problem(path := project_path(c.shards.tenants_file))):
        yield "agent-os:shards.tenantsFile", f"cannot read tenants file {str(path)!r}: {why}"


@rule("fleet", files=True)
def _fleet_files(c: StackConfig) -> Iterator[Problem]:
    f = c.fleet
    for key, value, what in (
        ("registryPath", f.registry_path, "registry"),
        ("desiredStatePath", f.desired_state_path, "desired-state"),
    ):
        if not value:
            continue
        path = project_path(value)
        if not path.exists():
            yield f"agent-os:fleet.{key}", f"{path}: {what} file not found"
        elif why := read_problem(path):
            yield f"agent-os:fleet.{key}", f"{path}: cannot read the {what} file ({why})"


@rule("access", files=True)
def _ca_file(c: StackConfig) -> Iterator[Problem]:
    if not c.access.ca_file:
        return
    path = project_path(c.access.ca_file)
    if why := read_problem(path):
        yield "agent-os:access.caFile", f"cannot read {str(path)!r}: {why}"
        return
    text = path.read_text(encoding="utf-8")
    if credential_in(text):
        yield (
            "agent-os:access.caFile",
            "holds a private key; it must hold only the public root certificate(s)",
        )
    elif "-----BEGIN CERTIFICATE-----" not in text:
        yield "agent-os:access.caFile", "is not a PEM certificate (-----BEGIN CERTIFICATE-----)"


# --- The whole config -----------------------------------------------------------------


def key_path(loc: Sequence[int | str]) -> str:
    out = f"{NAMESPACE}:"
    for i, part in enumerate(loc):
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += ("." if i else "") + part
    return out


def field_problem(e: ErrorDetails) -> tuple[Problem, bool]:
    """A pydantic error as (key path, reason), formatted as the loader's
    format_validation_error does, and whether the value shown was withheld (a credential)."""
    reason = e["msg"].removeprefix("Value error, ")
    withheld = False
    if e["type"] == "extra_forbidden":
        reason = "unknown key"
    elif "input" in e and not isinstance(e["input"], dict | list):
        if isinstance(e["input"], str) and shows_credential(e["input"]):
            withheld = True  # never repeat a credential in the error (it reaches logs)
        else:
            reason += f" (got {e['input']!r})"
    return (key_path(tuple(e["loc"])), reason), withheld


def _top_level(raw: dict[str, Any], secret_keys: set[str]) -> tuple[list[Problem], dict[str, Any], set[str]]:
    problems: list[Problem] = []
    sections: dict[str, Any] = {}
    invalid: set[str] = set()
    for key, value in raw.items():
        path = f"{NAMESPACE}:{key}"
        if key in SECRET_KEYS:
            if key not in secret_keys:
                problems.append((path, f"is a secret; set it with `pulumi config set --secret {path}`"))
        elif key not in SECTIONS:
            known = sorted(SECTIONS | set(SECRET_KEYS))
            problems.append((path, f"unknown key (known keys: {', '.join(known)})"))
        elif not isinstance(value, dict):
            problems.append((path, "must be an object (use `pulumi config set --path`)"))
            invalid.add(key)
        else:
            sections[key] = value
    return problems, sections, invalid


def _credentials(c: StackConfig, raw: dict[str, Any], credentials_key: str) -> Iterator[Problem]:
    declared = c.fleet.connector_secrets
    if not declared:
        return
    shape = raw.get(credentials_key)
    if not isinstance(shape, dict):
        yield (
            f"{NAMESPACE}:{credentials_key}",
            "is required by agent-os:fleet.connectorSecrets (a secret object {connector: {VAR: value}})",
        )
        return
    for connector, names in sorted(declared.items()):
        for name in names:
            if name not in shape.get(connector, []):
                path = f"{NAMESPACE}:{credentials_key}.{connector}.{name}"
                yield path, f"is not set; `pulumi config set --secret --path '{path}'`"


def _unique(problems: Iterable[Problem]) -> list[Problem]:
    return list(dict.fromkeys(problems))


def validate(
    raw: dict[str, Any],
    stack: str,
    secret_keys: set[str],
    checks: Sequence[Callable[[StackConfig], None]],
    credentials_key: str,
) -> StackConfig:
    """Validate a `{key: value}` map (keys without namespace) and report every problem at
    once: one ConfigError listing them. Field errors alone stay pydantic's ValidationError
    (the loader formats it identically) unless a value had to be withheld.
    `checks`: further rules on the valid config; each raises ConfigError.
    `credentials_key`: the secret object holding the connectors' credentials (its shape)."""
    problems, sections, invalid = _top_level(raw, secret_keys)
    fields: list[Problem] = []
    field_error: ValidationError | None = None
    withheld = False
    try:
        cfg = StackConfig.model_validate({**sections, "stack": stack})
    except ValidationError as e:
        field_error = e
        for err in e.errors():
            problem, hidden = field_problem(err)
            fields.append(problem)
            withheld |= hidden
            if err["loc"]:
                invalid.add(str(err["loc"][0]))
        # The valid sections, with defaults for the rest: the rules that read only valid
        # sections still run.
        valid = {k: v for k, v in sections.items() if k not in invalid}
        try:
            cfg = StackConfig.model_validate({**valid, "stack": stack})
        except ValidationError:
            raise ConfigError.of(_unique([*problems, *fields])) from None
    ruled = [(r, list(r.check(cfg))) for r in RULES if not r.sections & invalid]
    later = [p for _, found in ruled for p in found]
    if "fleet" not in invalid:
        later += _credentials(cfg, raw, credentials_key)
    if "integrations" not in invalid:
        for key, why in cfg.external_secrets():
            if key not in raw:
                path = f"{NAMESPACE}:{key}"
                later.append((path, f"is required {why}; set it with `pulumi config set --secret {path}`"))
    files_ok = not any(found for r, found in ruled if r.files)
    if not invalid and files_ok:
        for check in checks:
            try:
                check(cfg)
            except ConfigError as e:
                later += e.problems
            except Exception:
                # A problem reported above can trip a later check; the report stands alone.
                if not (problems or later):
                    raise
    if field_error is not None and not problems and not later and not withheld:
        raise field_error
    if found := _unique([*problems, *fields, *later]):
        raise ConfigError.of(found)
    return cfg


# The app autosizes a worker's consumer threads (`--workers` unset) to at least this many.
APP_MIN_INGEST_WORKERS = 2


def idle_kg_ingest_consumers(c: StackConfig) -> str | None:
    """A warning when group kg-ingest has more consumers than kg_tasks has partitions: Kafka
    gives each partition to one consumer, the rest idle, and nothing says which (seen: the
    worker fleet got none while the kg-daemon's pool held all 3). Not an error: the capacity
    model (platform.md §13) sizes workers past the partitions on purpose."""
    if c.app.task_queue_backend is not QueueBackend.KAFKA or not c.integrations.kafka:
        return None
    sizing = c.sizing()
    partitions = sizing.partitions_for(c.data.kafka).kg_tasks
    w = c.fleet.ingest_workers
    replicas = sizing.workers_for(w.replicas)
    per = w.processes or APP_MIN_INGEST_WORKERS
    consumers = replicas * per + c.fleet.kg_daemon_ingest_workers
    if partitions >= consumers:
        return None
    return (
        f"agent-os:data.kafka.partitions.kgTasks: {partitions} partitions for {consumers} kg-ingest "
        f"consumers ({replicas} kg-ingest-worker replica(s) x {per} threads"
        f"{'' if w.processes else f' (autosized: at least {APP_MIN_INGEST_WORKERS})'} + the kg-daemon's "
        f"{c.fleet.kg_daemon_ingest_workers}): Kafka gives each partition to one consumer, so "
        f"{consumers - partitions} idle, possibly the whole worker fleet; raise the partitions to "
        f"{consumers} to give each one"
    )
