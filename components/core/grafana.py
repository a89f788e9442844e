"""Grafana: provisioned Prometheus/Loki/Tempo datasources, Keycloak SSO when on."""

from __future__ import annotations

from dataclasses import dataclass

import pulumi
import pulumi_docker as docker

from ..config.core import LgtmConfig
from ..config.swarm import Layer
from ..model import Placement
from ..swarm import ConfigFile, HealthCheck, Platform, SecretFile, ServiceSpec, VolumeMount
from .lgtm_config import GRAFANA_UID
from .plan import GRAFANA_HOST, GRAFANA_PORT

# Keycloak realm role -> Grafana org role, first match wins. A realm user with none of these
# roles is refused at login (allowed_groups + role_attribute_strict), never made a Viewer.
# admin:cluster-read reads the cluster: Viewer (dashboards read-only; no Explore, no edits).
ROLE_MAP: tuple[tuple[str, str], ...] = (("webui:admin", "Admin"), ("admin:cluster-read", "Viewer"))
ROLES_CLAIM = "roles"  # the realm-roles mapper's claim (keycloak.py), ID token and userinfo


def role_attribute_path(role_map: tuple[tuple[str, str], ...] = ROLE_MAP) -> str:
    """JMESPath for GF_AUTH_GENERIC_OAUTH_ROLE_ATTRIBUTE_PATH: the first mapped role, else ''
    (no role: with role_attribute_strict the login is denied; a missing claim counts as [])."""
    claim = f"({ROLES_CLAIM} || `[]`)"
    return " || ".join([*(f"contains({claim}, '{kc}') && '{gf}'" for kc, gf in role_map), "''"])


@dataclass(frozen=True)
class GrafanaSso:
    """Public settings for Grafana's generic OAuth against Keycloak."""

    client_id: str
    auth_url: str  # public (browser)
    token_url: str  # internal (core overlay)
    api_url: str  # internal userinfo
    client_secret: pulumi.Output[str]


# The admin password. GF_SECURITY_ADMIN_PASSWORD__FILE is applied only when Grafana creates
# its database (first start), so a rotated secret would never reach it: the service's
# entrypoint becomes this POSIX sh script (a content-hashed Swarm config), which on every
# later start sets the admin's password from the same secret file with `grafana cli admin
# reset-admin-password --password-from-stdin` (the value on stdin, never in argv), then
# execs the image's entrypoint. A reset that fails stops the start (exit 78), so a rotation
# never silently keeps the old password: `up` waits for the task and reports it.
ADMIN_PASSWORD_FILE = "/run/secrets/grafana_admin_password"
START_SCRIPT_PATH = "/usr/local/bin/agent-os-grafana-start"
IMAGE_ENTRYPOINT = "/run.sh"  # grafana/grafana's ENTRYPOINT
START_SCRIPT = r"""#!/bin/sh
# agent-os-grafana-start: make the admin's password the one in $GF_SECURITY_ADMIN_PASSWORD__FILE
# (Grafana applies that file only when it creates its database), then exec "$@".
set -u
die() { echo "agent-os-grafana-start: $*" >&2; exit 78; }
[ "$#" -gt 0 ] || die "no command given to exec"
file=${GF_SECURITY_ADMIN_PASSWORD__FILE:-}
[ -n "$file" ] || die "GF_SECURITY_ADMIN_PASSWORD__FILE is unset"
[ -r "$file" ] && [ -s "$file" ] || die "the admin password file $file is missing, unreadable or empty"
db="${GF_PATHS_DATA:-/var/lib/grafana}/grafana.db"
if [ -s "$db" ]; then
  # Not the first start: the file has not been applied by Grafana itself.
  if ! grafana cli --homepath "${GF_PATHS_HOME:-/usr/share/grafana}" \
      --config "${GF_PATHS_CONFIG:-/etc/grafana/grafana.ini}" \
      admin reset-admin-password --password-from-stdin <"$file" >&2; then
    die "could not set the admin password from $file (grafana cli admin reset-admin-password failed)"
  fi
  echo "agent-os-grafana-start: admin password set from $file" >&2
fi
exec "$@"
"""


def grafana_spec(
    platform: Platform,
    lg: LgtmConfig,
    datasources: docker.ServiceConfig,
    admin_password: docker.Secret,
    sso: GrafanaSso | None,
    placement: Placement,
    parent: pulumi.Resource,
) -> ServiceSpec:
    secrets = [SecretFile(secret=admin_password, target=ADMIN_PASSWORD_FILE, uid=GRAFANA_UID)]
    env: dict[str, pulumi.Input[str]] = {
        "GF_SERVER_ROOT_URL": f"https://{platform.edge.host(GRAFANA_HOST)}/",
        "GF_SECURITY_ADMIN_USER": "admin",
        "GF_SECURITY_ADMIN_PASSWORD__FILE": ADMIN_PASSWORD_FILE,
        "GF_ANALYTICS_REPORTING_ENABLED": "false",
        "GF_USERS_ALLOW_SIGN_UP": "false",
        # A user created without a mapped role gets no basic role (the default is Viewer).
        "GF_USERS_AUTO_ASSIGN_ORG_ROLE": "None",
    }
    if sso is not None:
        oidc = platform.secret("grafana-oidc-secret", sso.client_secret, parent)
        secrets.append(SecretFile(secret=oidc, target="/run/secrets/grafana_oidc_secret", uid=GRAFANA_UID))
        env |= {
            "GF_AUTH_GENERIC_OAUTH_ENABLED": "true",
            "GF_AUTH_GENERIC_OAUTH_NAME": "Keycloak",
            # Sign-up creates the Grafana user of a realm user who passes the checks below.
            "GF_AUTH_GENERIC_OAUTH_ALLOW_SIGN_UP": "true",
            "GF_AUTH_GENERIC_OAUTH_CLIENT_ID": sso.client_id,
            "GF_AUTH_GENERIC_OAUTH_CLIENT_SECRET__FILE": "/run/secrets/grafana_oidc_secret",
            "GF_AUTH_GENERIC_OAUTH_SCOPES": "openid profile email",
            "GF_AUTH_GENERIC_OAUTH_AUTH_URL": sso.auth_url,
            "GF_AUTH_GENERIC_OAUTH_TOKEN_URL": sso.token_url,
            "GF_AUTH_GENERIC_OAUTH_API_URL": sso.api_url,
            "GF_AUTH_GENERIC_OAUTH_USE_PKCE": "true",
            # Only holders of a mapped realm role get in: the roles claim is the group list,
            # and a login with none of the allowed groups is refused.
            "GF_AUTH_GENERIC_OAUTH_GROUPS_ATTRIBUTE_PATH": ROLES_CLAIM,
            "GF_AUTH_GENERIC_OAUTH_ALLOWED_GROUPS": " ".join(kc for kc, _ in ROLE_MAP),
            # The org role comes from the realm roles at every login (a removed role demotes
            # or refuses); no mapped role = no login (never the auto_assign_org_role default).
            "GF_AUTH_GENERIC_OAUTH_ROLE_ATTRIBUTE_PATH": role_attribute_path(),
            "GF_AUTH_GENERIC_OAUTH_ROLE_ATTRIBUTE_STRICT": "true",
            "GF_AUTH_GENERIC_OAUTH_SKIP_ORG_ROLE_SYNC": "false",
            # Grafana server admin stays the local break-glass admin only.
            "GF_AUTH_GENERIC_OAUTH_ALLOW_ASSIGN_GRAFANA_ADMIN": "false",
        }
    start = platform.config_file("grafana-start", START_SCRIPT, parent)
    return ServiceSpec(
        placement=placement,
        image=platform.image("grafana"),
        command=("/bin/sh", START_SCRIPT_PATH),
        args=(IMAGE_ENTRYPOINT,),
        env=env,
        configs=(
            ConfigFile(
                config=datasources,
                target="/etc/grafana/provisioning/datasources/agent-os.yaml",
                uid=GRAFANA_UID,
            ),
            ConfigFile(config=start, target=START_SCRIPT_PATH, mode=0o555),
        ),
        secrets=tuple(secrets),
        volumes=(VolumeMount(source=f"{platform.namespace}-grafana-data", target="/var/lib/grafana"),),
        resources=lg.grafana,
        networks=(Layer.CORE, Layer.EDGE),
        # Grafana 12's search index holds a file lock: never two tasks (stop-first).
        stateful=True,
        health=HealthCheck.wget(GRAFANA_PORT, "/api/health"),
    )
