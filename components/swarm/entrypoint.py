"""`with-secrets`: hand Docker secret files to programs that only read their env.

Some programs (the epistemic-graph engine, agent-utilities for
GRAPH_SERVICE_AUTH_SECRET) read a secret from an environment variable and have no
`*_FILE` variant. We never put secret values into a service's env (they would show in
`docker service inspect`, the Pulumi state's plain inputs, and the task spec). Instead the
service's entrypoint becomes a tiny POSIX shell script, shipped as a content-hashed Swarm
config, that exports each listed `/run/secrets/<file>` as a variable inside the
container and then `exec`s the real command:

    SECRETS_TO_ENV=GRAPH_SERVICE_AUTH_SECRET=/run/secrets/graph_service_auth_secret
    command: /bin/sh /usr/local/bin/with-secrets      (replaces the image ENTRYPOINT)
    args:    <the real program and its flags>          (replaces the image CMD)

A listed file that is missing or empty stops the container with a message naming the
variable and the path, before the program starts (never a half-configured start).

Usage (any layer):

    entry = secrets_entrypoint(platform, "kg-shards", parent)
    wrapped = entry.wrap([SecretEnv(env="X", secret=s, file_name="x")], uid="10001", gid="10001")
    ServiceSpec(..., command=wrapped.command, args=(program, *flags),
                env={**plain_env, **wrapped.env}, secrets=wrapped.secrets, configs=wrapped.configs)

Each caller passes its own `owner`, because Swarm config names are cluster-unique and the
script is content-hashed (two layers creating the same logical name would collide).
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

import pulumi
import pulumi_docker as docker

from .context import Platform
from .spec import SECRETS_DIR, ConfigFile, SecretFile

SCRIPT_PATH = "/usr/local/bin/with-secrets"
ENV_VAR = "SECRETS_TO_ENV"
SHELL = "/bin/sh"
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_FILE_NAME = re.compile(r"^[A-Za-z0-9_.-]+$")

# POSIX sh (dash, busybox ash, bash). Never prints a secret value.
SCRIPT = r"""#!/bin/sh
# with-secrets (agent-os): export Docker secret files as environment variables, then exec.
#   SECRETS_TO_ENV="NAME=/run/secrets/file[,OTHER=/run/secrets/other...]"
# A listed file that is missing, unreadable or empty stops the start (exit 78).
set -eu
die() { echo "with-secrets: $*" >&2; exit 78; }
[ "$#" -gt 0 ] || die "no command given to exec"
specs=${SECRETS_TO_ENV:-}
[ -n "$specs" ] || die "SECRETS_TO_ENV is unset or empty; nothing to export"
set -f
old_ifs=$IFS
IFS=,
for spec in $specs; do
  IFS=$old_ifs
  name=${spec%%=*}
  file=${spec#*=}
  case $name in
    '' | [0-9]* | *[!A-Za-z0-9_]*) die "bad variable name '$name' in SECRETS_TO_ENV" ;;
  esac
  if [ "$file" = "$spec" ] || [ -z "$file" ]; then die "$name: no secret file given"; fi
  [ -e "$file" ] || die "$name: secret file $file is missing"
  [ -f "$file" ] && [ -r "$file" ] || die "$name: secret file $file is not a readable file"
  value=$(cat -- "$file") || die "$name: cannot read secret file $file"
  [ -n "$value" ] || die "$name: secret file $file is empty"
  export "$name=$value"
done
IFS=$old_ifs
set +f
unset SECRETS_TO_ENV specs spec name file value old_ifs
exec "$@"
"""


@dataclass(frozen=True, kw_only=True)
class SecretEnv:
    """One Docker secret that the entrypoint exports as one environment variable."""

    env: str  # variable name the program reads, e.g. GRAPH_SERVICE_AUTH_SECRET
    secret: docker.Secret
    file_name: str  # file under /run/secrets, e.g. graph_service_auth_secret

    def __post_init__(self) -> None:
        if not _ENV_NAME.match(self.env):
            raise ValueError(f"{self.env!r} is not an environment variable name")
        if not _FILE_NAME.match(self.file_name):
            raise ValueError(f"secret file name {self.file_name!r} must be a plain file name")

    @property
    def path(self) -> str:
        return f"{SECRETS_DIR}/{self.file_name}"


@dataclass(frozen=True)
class Wrapped:
    """The ServiceSpec fields that make a service start through `with-secrets`."""

    command: tuple[str, ...]
    env: dict[str, str]
    secrets: tuple[SecretFile, ...]
    configs: tuple[ConfigFile, ...]


def secrets_to_env(secrets: Sequence[SecretEnv]) -> str:
    """The SECRETS_TO_ENV value: `NAME=/run/secrets/file` pairs, comma-separated (paths only)."""
    return ",".join(f"{s.env}={s.path}" for s in secrets)


@dataclass(frozen=True)
class Entrypoint:
    """The `with-secrets` script as one Swarm config, ready to wrap services."""

    config: docker.ServiceConfig

    def wrap(self, secrets: Sequence[SecretEnv], *, uid: str, gid: str, mode: int = 0o400) -> Wrapped:
        """Mount `secrets` (readable only by uid:gid) and the script; export them at start."""
        if not secrets:
            raise ValueError("with-secrets needs at least one secret to export")
        for what, keys in (("variable", [s.env for s in secrets]), ("file", [s.path for s in secrets])):
            if len(set(keys)) != len(keys):
                raise ValueError(f"duplicate secret {what} in {keys}")
        return Wrapped(
            command=(SHELL, SCRIPT_PATH),
            env={ENV_VAR: secrets_to_env(secrets)},
            secrets=tuple(
                SecretFile(secret=s.secret, target=s.path, uid=uid, gid=gid, mode=mode) for s in secrets
            ),
            configs=(ConfigFile(config=self.config, target=SCRIPT_PATH, mode=0o555),),
        )


def secrets_entrypoint(platform: Platform, owner: str, parent: pulumi.Resource) -> Entrypoint:
    """Create the script config for `owner` (a layer or service group), named by content."""
    return Entrypoint(platform.config_file(f"{owner}-with-secrets", SCRIPT, parent))


__all__ = [
    "ENV_VAR",
    "SCRIPT",
    "SCRIPT_PATH",
    "SHELL",
    "Entrypoint",
    "SecretEnv",
    "Wrapped",
    "secrets_entrypoint",
    "secrets_to_env",
]
