"""Bad config fails before any resource is registered, naming the key path and reason."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pulumi
import pytest

from tools import mockrun

STAGING, _ = mockrun.stack_config("staging")
LOCAL_HOST: dict[str, Any] = STAGING["agent-os:inventory"]["hosts"][0]
LOCAL_LABELS: dict[str, Any] = LOCAL_HOST["labels"]


def app(**keys: Any) -> dict[str, Any]:
    return {"agent-os:app": keys}


def docker_socket(path: str) -> dict[str, Any]:
    return {"agent-os:fleet": {"autonomy": {"actuator": "docker", "dockerSocket": path}}}


BAD = [
    ({"agent-os:data": {"kafka": {"brokers": "three"}}}, "agent-os:data.kafka.brokers", "integer"),
    ({"agent-os:data": {"kafka": {"brokers": 12}}}, "agent-os:data.kafka.brokers", "less than or equal to 9"),
    ({"agent-os:data": {"kafka": {"broker": 3}}}, "agent-os:data.kafka.broker", "unknown key"),
    ({"agent-os:edge": {"zone": "agents.example.com"}}, "agent-os:edge.zone", "arpa"),
    ({"agent-os:edge": {"ingressAddresses": ["10.0.0.300"]}}, "agent-os:edge.ingressAddresses", "IPv4"),
    ({"agent-os:swarm": {"endpointMode": "ipvs"}}, "agent-os:swarm.endpointMode", "'vip' or 'dnsrr'"),
    (
        {
            "agent-os:swarm": {
                "networks": {"edge": {"subnet": "10.1.0.0/16"}, "data": {"subnet": "10.1.2.0/24"}}
            }
        },
        "agent-os:swarm.networks",
        "overlap",
    ),
    ({"agent-os:images": {"overrides": {"caddy": "caddy:latest"}}}, "agent-os:images.overrides", "pinned"),
    ({"agent-os:frobnicate": {"x": 1}}, "agent-os:frobnicate", "unknown key"),
    ({"agent-os:data": "big"}, "agent-os:data", "must be an object"),
    (
        {"agent-os:app": {"taskQueueBackend": "kafka"}, "agent-os:integrations": {"kafka": False}},
        "agent-os:app.taskQueueBackend",
        "integrations.kafka is false",
    ),
    (
        {
            "agent-os:integrations": {"gitops": True, "portainer": False},
            "agent-os:core": {"portainer": {"gitops": {"repoUrl": "https://git.example/org/stacks.git"}}},
        },
        "agent-os:integrations.gitops",
        "portainer",
    ),
    ({"agent-os:postgresPassword": "hunter2hunter2"}, "agent-os:postgresPassword", "--secret"),
    # Nothing invented: a feature that needs an outside endpoint or credential names it.
    (
        {"agent-os:integrations": {"gitops": True, "portainer": True}},
        "agent-os:core.portainer.gitops.repoUrl",
        "required",
    ),
    (
        {
            "agent-os:integrations": {"gitops": True, "portainer": True},
            "agent-os:core": {"portainer": {"gitops": {"repoUrl": "https://bot:tok@git.example/x.git"}}},
        },
        "agent-os:core.portainer.gitops.repoUrl",
        "pattern",
    ),
    (
        {"agent-os:integrations": {"langfuse": True}, "agent-os:app": {"langfuseHost": "https://lf.example"}},
        "agent-os:langfusePublicKey",
        "required when agent-os:integrations.langfuse is true",
    ),
    # Keycloak off leaves the APIs and connectors open: only with an explicit acceptance.
    (
        {"agent-os:integrations": {"keycloak": False}},
        "agent-os:integrations.keycloak",
        "allowUnauthenticated",
    ),
    # Image references: the registry grammar (lowercase repository, tag or digest).
    ({"agent-os:images": {"overrides": {"caddy": "Caddy:2.10.2"}}}, "agent-os:images.overrides", "reference"),
    ({"agent-os:images": {"overrides": {"caddy": "caddy:2.10 2"}}}, "agent-os:images.overrides", "reference"),
    (
        {"agent-os:images": {"overrides": {"caddy": "caddy@sha256:abc"}}},
        "agent-os:images.overrides",
        "reference",
    ),
    (
        {"agent-os:images": {"mirror": "https://registry.internal:5000"}},
        "agent-os:images.mirror",
        "host[:port]",
    ),
    ({"agent-os:images": {"mirror": "registry internal"}}, "agent-os:images.mirror", "host[:port]"),
    # DNS names: every label 1-63 characters, no leading or trailing hyphen.
    ({"agent-os:edge": {"zone": "agents-.arpa"}}, "agent-os:edge.zone", "label"),
    ({"agent-os:edge": {"zone": "x" * 64 + ".arpa"}}, "agent-os:edge.zone", "label"),
    # URLs: scheme and host present, no credentials inside.
    (
        {"agent-os:core": {"keycloak": {"adminUrl": "sso.example.org"}}},
        "agent-os:core.keycloak.adminUrl",
        "URL",
    ),
    (
        {"agent-os:core": {"openbao": {"adminUrl": "https://root:hunter2@bao.example.org"}}},
        "agent-os:core.openbao.adminUrl",
        "credentials",
    ),
    (
        {"agent-os:app": {"langfuseHost": "https://pk:sk@langfuse.example.org"}},
        "agent-os:app.langfuseHost",
        "credentials",
    ),
    (
        {"agent-os:fleet": {"eunomiaRemoteUrl": "ftp://eunomia.example.org"}},
        "agent-os:fleet.eunomiaRemoteUrl",
        "URL",
    ),
    # --- Credentials in plain places: env values, config.json pass-through, URLs. Secret-named
    # keys (*_ACCESS_KEY, *API_KEY*, *TOKEN, *PASSWORD*, *SECRET*) and credential-looking
    # values belong in secret config.
    (app(extraEnv={"OPENAI_API_KEY": "x"}), "agent-os:app.extraEnv.OPENAI_API_KEY", "names a secret"),
    (app(extraEnv={"MINIO_ACCESS_KEY": "x"}), "agent-os:app.extraEnv.MINIO_ACCESS_KEY", "names a secret"),
    (app(extraEnv={"SLACK_BOT_TOKEN": "x"}), "agent-os:app.extraEnv.SLACK_BOT_TOKEN", "names a secret"),
    (app(extraEnv={"SMTP_PASSWORD_V2": "x"}), "agent-os:app.extraEnv.SMTP_PASSWORD_V2", "names a secret"),
    (app(extraEnv={"WEBHOOK_SECRET_V1": "x"}), "agent-os:app.extraEnv.WEBHOOK_SECRET_V1", "names a secret"),
    (
        app(extraEnv={"UPSTREAM_URL": "https://svc:hunter2@api.example.org"}),
        "agent-os:app.extraEnv.UPSTREAM_URL",
        "URL carrying credentials (user:password@)",
    ),
    (
        app(extraEnv={"NOTES": "ghp_0123456789abcdefghijABCDEFGHIJ"}),
        "agent-os:app.extraEnv.NOTES",
        "looks like a GitHub token",
    ),
    (app(extra={"openai_api_key": "x"}), "agent-os:app.extra.openai_api_key", "names a secret"),
    (app(extra={"llm": {"api_key": "x"}}), "agent-os:app.extra.llm.api_key", "names a secret"),
    (
        app(extra={"callback_url": "https://cb.example.org/hook?access_token=abc"}),
        "agent-os:app.extra.callback_url",
        "query parameter 'access_token'",
    ),
    (
        app(extra={"upstreams": ["https://ok.example.org", "https://u:p@bad.example.org"]}),
        "agent-os:app.extra.upstreams[1]",
        "user:password@",
    ),
    (
        app(extra={"signer": "-----BEGIN EC PRIVATE KEY-----\nMHc...\n-----END EC PRIVATE KEY-----"}),
        "agent-os:app.extra.signer",
        "looks like a private key",
    ),
    (
        app(langfuseHost="https://langfuse.example.org/?token=abc"),
        "agent-os:app.langfuseHost",
        "query parameter 'token'",
    ),
    (
        {"agent-os:fleet": {"eunomiaRemoteUrl": "https://eunomia.example.org/?api_key=abc"}},
        "agent-os:fleet.eunomiaRemoteUrl",
        "query parameter 'api_key'",
    ),
    (
        {"agent-os:fleet": {"mcpUrlTemplate": "http://bot:pw@{name}:8000/mcp"}},
        "agent-os:fleet.mcpUrlTemplate",
        "credentials",
    ),
    ({"agent-os:fleet": {"mcpUrlTemplate": "ftp://{name}:8000/mcp"}}, "agent-os:fleet.mcpUrlTemplate", "URL"),
    (
        {"agent-os:edge": {"dns": {"apiUrl": "https://admin:pw@dns.example.org"}}},
        "agent-os:edge.dns.apiUrl",
        "credentials",
    ),
    (
        {
            "agent-os:core": {
                "portainer": {"gitops": {"repoUrl": "https://git.example/x.git?private_token=t"}}
            }
        },
        "agent-os:core.portainer.gitops.repoUrl",
        "query parameter 'private_token'",
    ),
    (
        {"agent-os:connectorCredentials": {"github-mcp": {"GITHUB_TOKEN": "x"}}},
        "agent-os:connectorCredentials",
        "--secret",
    ),
    # --- Settings the program manages: env and config.json keys it sets itself.
    (app(extraEnv={"OIDC_ISSUER": "https://evil.example"}), "agent-os:app.extraEnv.OIDC_ISSUER", "OIDC_*"),
    (
        app(extraEnv={"WEBUI_OIDC_CLIENT_ID": "x"}),
        "agent-os:app.extraEnv.WEBUI_OIDC_CLIENT_ID",
        "set by the program",
    ),
    (
        app(extraEnv={"FASTMCP_SERVER_AUTH_JWT_ISSUER": "x"}),
        "agent-os:app.extraEnv.FASTMCP_SERVER_AUTH_JWT_ISSUER",
        "set by the program",
    ),
    (app(extraEnv={"WEBUI_PUBLIC_URL": "x"}), "agent-os:app.extraEnv.WEBUI_PUBLIC_URL", "set by the program"),
    (app(extraEnv={"STATE_DB_URI": "x"}), "agent-os:app.extraEnv.STATE_DB_URI", "set by the program"),
    (
        app(extraEnv={"KG_TASKS_PARTITIONS": "1"}),
        "agent-os:app.extraEnv.KG_TASKS_PARTITIONS",
        "set by the program",
    ),
    (
        app(extra={"agent_turns_partitions": 1}),
        "agent-os:app.extra.agent_turns_partitions",
        "rendered by the program",
    ),
    (app(extra={"oidc_client_id": "x"}), "agent-os:app.extra.oidc_client_id", "sets per process"),
    (app(extraEnv={"LD_PRELOAD": "/x.so"}), "agent-os:app.extraEnv.LD_PRELOAD", "image's runtime"),
    (app(extraEnv={"PYTHONPATH": "/x"}), "agent-os:app.extraEnv.PYTHONPATH", "image's runtime"),
    (
        {"agent-os:fleet": {"connectorSecrets": {"github-mcp": ["HOST"]}}},
        "agent-os:fleet.connectorSecrets.github-mcp[0]",
        "set on every connector by the program",
    ),
    (
        {
            "agent-os:fleet": {
                "connectorSecrets": {"github-mcp": ["GITHUB_TOKEN", "FASTMCP_SERVER_AUTH_JWT_AUDIENCE"]}
            }
        },
        "agent-os:fleet.connectorSecrets.github-mcp[1]",
        "set on every connector by the program",
    ),
    (
        {"agent-os:fleet": {"connectorSecrets": {"github-mcp": ["LD_PRELOAD"]}}},
        "agent-os:fleet.connectorSecrets.github-mcp[0]",
        "image's runtime",
    ),
    (
        {"agent-os:fleet": {"connectorSecrets": {"github-mcp": ["GITHUB_TOKEN", "GITHUB_TOKEN"]}}},
        "agent-os:fleet.connectorSecrets.github-mcp[1]",
        "listed twice",
    ),
    # --- Free text that becomes placement constraints, label names, users or script arguments.
    (
        {"agent-os:fleet": {"connectorNodeLabel": "fleet nodes"}},
        "agent-os:fleet.connectorNodeLabel",
        "node label",
    ),
    (
        {"agent-os:fleet": {"kgDaemonNodeLabel": "com.docker.kg"}},
        "agent-os:fleet.kgDaemonNodeLabel",
        "namespace Docker reserves",
    ),
    (
        {"agent-os:data": {"postgres": {"nodeLabel": "Postgres"}}},
        "agent-os:data.postgres.nodeLabel",
        "node label",
    ),
    (
        {"agent-os:core": {"openbao": {"nodeLabel": "openbao==1"}}},
        "agent-os:core.openbao.nodeLabel",
        "node label",
    ),
    (
        {"agent-os:core": {"lgtm": {"nodeLabel": "agent-os.managed-labels"}}},
        "agent-os:core.lgtm.nodeLabel",
        "reserved for day 0",
    ),
    (
        {"agent-os:core": {"portainer": {"nodeLabel": "port ainer"}}},
        "agent-os:core.portainer.nodeLabel",
        "node label",
    ),
    ({"agent-os:shards": {"nodeLabel": "kg shard"}}, "agent-os:shards.nodeLabel", "node label"),
    (
        {
            "agent-os:inventory": {
                "hosts": [{**LOCAL_HOST, "labels": {**LOCAL_LABELS, "com.docker.swarm.x": "1"}}]
            }
        },
        "agent-os:inventory.hosts[0].labels.com.docker.swarm.x",
        "namespace Docker reserves",
    ),
    (
        {"agent-os:core": {"portainer": {"adminUser": "admin; reboot"}}},
        "agent-os:core.portainer.adminUser",
        "pattern",
    ),
    (
        {"agent-os:core": {"portainer": {"gitops": {"ref": "main"}}}},
        "agent-os:core.portainer.gitops.ref",
        "pattern",
    ),
    (
        {"agent-os:core": {"portainer": {"gitops": {"ref": "refs/heads/a..b"}}}},
        "agent-os:core.portainer.gitops.ref",
        "not a valid git ref",
    ),
    (
        {"agent-os:core": {"portainer": {"gitops": {"path": "../../etc/stack.yml"}}}},
        "agent-os:core.portainer.gitops.path",
        "pattern",
    ),
    (
        {"agent-os:core": {"portainer": {"gitops": {"path": "stacks/../../x.yml"}}}},
        "agent-os:core.portainer.gitops.path",
        "inside the repository",
    ),
    (
        {"agent-os:core": {"keycloak": {"realm": "master"}}},
        "agent-os:core.keycloak.realm",
        "administration realm",
    ),
    (app(authJwtAudience="aud ience"), "agent-os:app.authJwtAudience", "pattern"),
    (
        {
            "agent-os:fleet": {
                "autonomy": {"actionPolicy": {"rules": [{"kind": "x; rm -rf /", "tier": "auto"}]}}
            }
        },
        "agent-os:fleet.autonomy.actionPolicy.rules[0].kind",
        "pattern",
    ),
    (
        {"agent-os:swarm": {"sshOpts": ["-o", "ProxyCommand=sh"]}},
        "agent-os:swarm.sshOpts[1]",
        "'ProxyCommand'",
    ),
    ({"agent-os:swarm": {"sshOpts": ["-oLocalCommand=id"]}}, "agent-os:swarm.sshOpts[0]", "'LocalCommand'"),
    (
        {"agent-os:swarm": {"sshOpts": ["-F", "/tmp/ssh_config"]}},
        "agent-os:swarm.sshOpts[0]",
        "'-F' is not allowed",
    ),
    ({"agent-os:swarm": {"sshOpts": ["-o", "User=root id"]}}, "agent-os:swarm.sshOpts[1]", "characters"),
    ({"agent-os:swarm": {"dockerHost": "http://docker:2375"}}, "agent-os:swarm.dockerHost", "unix:///"),
    ({"agent-os:swarm": {"dockerHost": "ssh://ops:pw@10.0.0.1"}}, "agent-os:swarm.dockerHost", "password"),
    (
        {"agent-os:swarm": {"dockerHost": "unix:///var/run/../docker.sock"}},
        "agent-os:swarm.dockerHost",
        "socket file",
    ),
    (
        {"agent-os:edge": {"dns": {"forwarders": ["1.1.1.1", "1.1.1.1,8.8.8.8"]}}},
        "agent-os:edge.dns.forwarders[1]",
        "IP address or a hostname",
    ),
    ({"agent-os:edge": {"caddy": {"httpPort": 443}}}, "agent-os:edge.caddy.httpsPort", "own ports"),
    ({"agent-os:access": {"caFile": "ca file.pem"}}, "agent-os:access.caFile", "pattern"),
    # --- Host path mounts: only the Docker socket, only for the docker actuator, only a socket.
    (docker_socket("/"), "agent-os:fleet.autonomy.dockerSocket", "socket file"),
    (docker_socket("/etc/passwd"), "agent-os:fleet.autonomy.dockerSocket", "socket file"),
    (docker_socket("var/run/docker.sock"), "agent-os:fleet.autonomy.dockerSocket", "absolute"),
    (docker_socket("/var/run/../../etc/x.sock"), "agent-os:fleet.autonomy.dockerSocket", "no '..'"),
    (
        {"agent-os:fleet": {"autonomy": {"dockerSocket": "/var/run/docker.sock"}}},
        "agent-os:fleet.autonomy.dockerSocket",
        "only mounted for actuator 'docker'",
    ),
    (
        {"agent-os:fleet": {"autonomy": {"dockerSocketGid": 998}}},
        "agent-os:fleet.autonomy.dockerSocketGid",
        "not set",
    ),
    # --- Postgres: identifiers, never the superuser as the app, no shared roles or databases.
    ({"agent-os:data": {"postgres": {"appRole": "postgres"}}}, "agent-os:data.postgres.appRole", "superuser"),
    (
        {"agent-os:data": {"postgres": {"superuser": "admin", "appRole": "admin"}}},
        "agent-os:data.postgres.appRole",
        "superuser (admin)",
    ),
    (
        {"agent-os:data": {"postgres": {"appRole": "user"}}},
        "agent-os:data.postgres.appRole",
        "reserved SQL key word",
    ),
    ({"agent-os:data": {"postgres": {"appRole": "pg_monitor"}}}, "agent-os:data.postgres.appRole", "pg_*"),
    (
        {"agent-os:data": {"postgres": {"appRole": "public"}}},
        "agent-os:data.postgres.appRole",
        "reserved by Postgres",
    ),
    (
        {"agent-os:data": {"postgres": {"superuser": "Admin"}}},
        "agent-os:data.postgres.superuser",
        "Postgres identifier",
    ),
    (
        {"agent-os:core": {"keycloak": {"dbRole": "agent"}}},
        "agent-os:core.keycloak.dbRole",
        "appRole (agent)",
    ),
    ({"agent-os:core": {"keycloak": {"dbRole": "postgres"}}}, "agent-os:core.keycloak.dbRole", "superuser"),
    (
        {"agent-os:core": {"keycloak": {"database": "agent_state"}}},
        "agent-os:core.keycloak.database",
        "app's databases",
    ),
    (
        {"agent-os:core": {"keycloak": {"database": "template1"}}},
        "agent-os:core.keycloak.database",
        "Postgres' own",
    ),
    (
        {"agent-os:core": {"keycloak": {"database": "select"}}},
        "agent-os:core.keycloak.database",
        "reserved SQL",
    ),
    # --- OpenBao mounts and names: valid paths, none of OpenBao's own.
    (
        {"agent-os:core": {"openbao": {"kvMount": "sys"}}},
        "agent-os:core.openbao.kvMount",
        "OpenBao's own paths",
    ),
    (
        {"agent-os:core": {"openbao": {"kvMount": "cubbyhole/kv"}}},
        "agent-os:core.openbao.kvMount",
        "OpenBao's own paths",
    ),
    (
        {"agent-os:core": {"openbao": {"kvMount": "secret//kv"}}},
        "agent-os:core.openbao.kvMount",
        "single slashes",
    ),
    (
        {"agent-os:core": {"openbao": {"kvMount": "token"}}},
        "agent-os:core.openbao.kvMount",
        "OpenBao's own paths",
    ),
    (
        {"agent-os:core": {"openbao": {"approleMount": "token"}}},
        "agent-os:core.openbao.approleMount",
        "OpenBao's own paths",
    ),
    (
        {"agent-os:core": {"openbao": {"approleMount": "approle-admin"}}},
        "agent-os:core.openbao.approleMount",
        "the program's own OpenBao admin login",
    ),
    (
        {"agent-os:core": {"openbao": {"appRole": "agent-os-admin"}}},
        "agent-os:core.openbao.appRole",
        "the program's own OpenBao admin login",
    ),
    (
        {"agent-os:core": {"openbao": {"appRole": "default"}}},
        "agent-os:core.openbao.appRole",
        "built-in OpenBao policy",
    ),
    (
        {"agent-os:core": {"openbao": {"appRole": "root"}}},
        "agent-os:core.openbao.appRole",
        "built-in OpenBao policy",
    ),
    (
        {"agent-os:core": {"openbao": {"pathPrefix": "a//b"}}},
        "agent-os:core.openbao.pathPrefix",
        "single slashes",
    ),
    (
        {"agent-os:core": {"openbao": {"tokenTtl": "48h"}}},
        "agent-os:core.openbao.tokenTtl",
        "exceeds tokenMaxTtl",
    ),
    # --- Files the config names: unreadable is a config error before anything, not a
    # traceback (caFile) or an error after other layers registered resources (tenantsFile).
    (
        {"agent-os:shards": {"tenantsFile": "no-such-tenants.txt"}},
        "agent-os:shards.tenantsFile",
        "cannot read",
    ),
    (
        {"agent-os:fleet": {"registryPath": "/nonexistent/mcp-fleet.registry.yml"}},
        "agent-os:fleet.registryPath",
        "registry file not found",
    ),
    (
        {"agent-os:fleet": {"desiredStatePath": "no-such-desired.yml"}},
        "agent-os:fleet.desiredStatePath",
        "desired-state file not found",
    ),
    ({"agent-os:access": {"caFile": "no-such-ca.pem"}}, "agent-os:access.caFile", "cannot read"),
    ({"agent-os:access": {"caFile": "README.md"}}, "agent-os:access.caFile", "not a PEM certificate"),
    (
        {"agent-os:access": {"caFile": "README.md", "insecureTls": True}},
        "agent-os:access.caFile",
        "never used",
    ),
]


class Spy(mockrun.PlatformMocks):
    """Records every resource registration."""

    def __init__(self) -> None:
        super().__init__()
        self.registered: list[str] = []

    def new_resource(self, args: pulumi.runtime.MockResourceArgs) -> tuple[str | None, dict[str, Any]]:
        self.registered.append(f"{args.typ}::{args.name}")
        return super().new_resource(args)


def reported(msg: str) -> list[str]:
    """The `path: reason` lines of an "invalid stack config" RunError."""
    head, *lines = msg.splitlines()
    assert head == "invalid stack config:", msg
    return [line.strip() for line in lines if line.startswith("  ") and not line.startswith("   ")]


def run_bad(overrides: dict[str, Any]) -> str:
    """Evaluate staging with `overrides`: one RunError, no resource registered."""
    spy = Spy()
    with pytest.raises(pulumi.RunError) as exc:
        mockrun.run("staging", overrides=overrides, mocks=spy)
    assert spy.registered == []
    msg = str(exc.value)
    assert "Traceback" not in msg
    return msg


@pytest.mark.parametrize(("overrides", "path", "reason"), BAD, ids=[b[1] + ":" + b[2] for b in BAD])
def test_bad_config_is_one_run_error_naming_path_and_reason(
    overrides: dict[str, Any], path: str, reason: str
) -> None:
    msg = run_bad(overrides)
    lines = reported(msg)
    assert any(line.startswith(path) and reason in line for line in lines), msg
    # The case's problem and no other (one rule may name sibling keys, e.g. both Langfuse
    # keys): without that rule the config would pass.
    assert all(reason in line for line in lines), msg


def test_bad_config_registers_no_resource() -> None:
    run_bad({"agent-os:data": {"kafka": {"brokers": 0}}})  # asserts nothing was registered


def test_all_errors_reported_at_once() -> None:
    with pytest.raises(pulumi.RunError) as exc:
        mockrun.run("staging", overrides={"agent-os:data": {"kafka": {"brokers": 0, "retentionHours": 0}}})
    assert "agent-os:data.kafka.brokers" in str(exc.value)
    assert "agent-os:data.kafka.retentionHours" in str(exc.value)


def test_every_kind_of_problem_is_reported_in_one_run_error() -> None:
    """A top-level key, a plain secret, field errors (two in one map) and rules across
    sections: all of them in the one RunError, each at its key path, nothing registered."""
    msg = run_bad(
        {
            "agent-os:frobnicate": {"x": 1},
            "agent-os:postgresPassword": "hunter2hunter2",
            "agent-os:data": {"kafka": {"brokers": 0}},
            "agent-os:app": {"extraEnv": {"OIDC_ISSUER": "https://evil.example", "API_TOKEN": "t"}},
            "agent-os:integrations": {**STAGING["agent-os:integrations"], "gitops": True, "portainer": False},
            "agent-os:core": {"openbao": {"members": 2}},
            "agent-os:shards": {"count": 1, "basePort": 9200, "metricsBasePort": 9200},
        }
    )
    paths = [line.split(": ", 1)[0] for line in reported(msg)]
    assert sorted(paths) == sorted(
        [
            "agent-os:frobnicate",
            "agent-os:postgresPassword",
            "agent-os:data.kafka.brokers",
            "agent-os:app.extraEnv.OIDC_ISSUER",
            "agent-os:app.extraEnv.API_TOKEN",
            "agent-os:integrations.gitops",
            "agent-os:core.portainer.gitops.repoUrl",
            "agent-os:shards.metricsBasePort",
            "agent-os:core.openbao.members",
        ]
    ), msg
    assert "hunter2" not in msg


def test_three_different_errors_name_three_key_paths() -> None:
    msg = run_bad(
        {
            "agent-os:edge": {"zone": "agents.example.com"},
            "agent-os:fleet": {"autonomy": {"actuator": "docker", "dockerSocket": "/etc"}},
            "agent-os:core": {"openbao": {"kvMount": "sys"}},
        }
    )
    assert [line.split(": ", 1)[0] for line in reported(msg)] == [
        "agent-os:edge.zone",
        "agent-os:fleet.autonomy.dockerSocket",
        "agent-os:core.openbao.kvMount",
    ], msg


def test_a_rule_on_valid_sections_runs_next_to_field_errors() -> None:
    msg = run_bad({"agent-os:data": {"kafka": {"brokers": 0}}, "agent-os:core": {"openbao": {"members": 2}}})
    assert [line.split(": ", 1)[0] for line in reported(msg)] == [
        "agent-os:data.kafka.brokers",
        "agent-os:core.openbao.members",
    ], msg


def test_a_rule_reading_an_invalid_section_says_nothing() -> None:
    # app is invalid, so the queue rule would read the default backend ('kafka') instead of
    # the configured 'postgres' and report "kafka is off": only the field error is reported.
    msg = run_bad(
        {
            "agent-os:integrations": {**STAGING["agent-os:integrations"], "kafka": False},
            "agent-os:app": {"taskQueueBackend": "postgres", "enableOtel": "maybe"},
        }
    )
    assert [line.split(": ", 1)[0] for line in reported(msg)] == ["agent-os:app.enableOtel"], msg


@pytest.mark.parametrize(
    ("overrides", "secret"),
    [
        ({"agent-os:core": {"openbao": {"adminUrl": "https://root:hunter2@bao.example.org"}}}, "hunter2"),
        (app(langfuseHost="https://langfuse.example.org/?token=s3cr3t-value"), "s3cr3t-value"),
        (
            {"agent-os:core": {"portainer": {"gitops": {"repoUrl": "https://bot:tok3n@git.example/x.git"}}}},
            "tok3n",
        ),
        ({"agent-os:swarm": {"dockerHost": "ssh://ops:pw0rd@10.0.0.1"}}, "pw0rd"),
        (app(extraEnv={"UPSTREAM_URL": "https://svc:hunter2@api.example.org"}), "hunter2"),
        (app(extra={"note": "ghp_0123456789abcdefghijABCDEFGHIJ"}), "ghp_0123456789"),
        ({"agent-os:postgresPassword": "hunter2hunter2"}, "hunter2"),
    ],
    ids=["adminUrl", "langfuseHost", "repoUrl", "dockerHost", "extraEnv", "extra", "plain-secret"],
)
def test_a_credential_in_bad_config_is_never_repeated(overrides: dict[str, Any], secret: str) -> None:
    msg = run_bad(overrides)
    assert reported(msg) and secret not in msg, msg


def test_configured_secret_is_used_and_not_generated(run_with: Callable[..., mockrun.Run]) -> None:
    run = run_with("staging", secrets={"agent-os:postgresPassword": "configured-pg-password-0123"})
    generated = {r.name for r in run.by_type("random:index/randomPassword:RandomPassword")}
    assert "postgresPassword" not in generated
    assert "agentDbPassword" in generated
    secret = run.one("docker:index/secret:Secret", "postgres-password")
    assert mockrun.is_secret(secret.inputs["data"])
    assert mockrun.b64decode(secret.plain["data"]) == "configured-pg-password-0123"


def test_staging_is_small_enterprise_is_the_recipe() -> None:
    from components.config import parse

    st, _ = mockrun.stack_config("staging")
    en, en_secret = mockrun.stack_config("enterprise")
    strip = lambda d: {k.split(":", 1)[1]: v for k, v in d.items() if k.startswith("agent-os:")}  # noqa: E731
    s = parse(strip(st), "staging")
    e = parse(strip(en), "enterprise", set(strip(dict.fromkeys(en_secret))))  # sshPrivateKey: secure
    assert s.data.kafka.brokers == 1
    assert e.data.kafka.brokers == 3
    assert e.data.kafka.replication_factor == 3 and s.data.kafka.replication_factor == 1


EXTERNAL = ("langfusePublicKey", "langfuseSecretKey", "gitToken")


def test_external_credentials_are_never_generated() -> None:
    values, _ = mockrun.stack_config("staging")
    run = mockrun.run(
        "staging",
        overrides={
            "agent-os:integrations": {**values["agent-os:integrations"], "gitops": True, "langfuse": True},
            "agent-os:app": {"langfuseHost": "https://langfuse.example"},
            "agent-os:core": {"portainer": {"gitops": {"repoUrl": "https://git.example/org/stacks.git"}}},
        },
        secrets={"agent-os:langfusePublicKey": "pk-lf-test", "agent-os:langfuseSecretKey": "sk-lf-test"},
    )
    generated = {r.name for r in run.by_type("random:index/randomPassword:RandomPassword")}
    assert generated and not generated & set(EXTERNAL)
    # A public repository: no token is configured, none is sent.
    gitops = run.one("command:local:Command", "portainer-gitops").plain
    assert gitops["environment"]["GIT_TOKEN"] == ""
    assert "https://git.example/org/stacks.git" in gitops["environment"]["GIT_JSON"]
