"""The whole-config validation (components/config/model.py `validate`): files the config
names, the loader's extra checks, and values the rules must keep accepting."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from components.config import ConfigError, StackConfig, parse
from components.config.model import field_problem, idle_kg_ingest_consumers, validate
from components.config.secrets import SECRET_KEYS
from tools import mockrun

CERT = "-----BEGIN CERTIFICATE-----\nMIIBszCCAVmgAwIBAgIU\n-----END CERTIFICATE-----\n"


def check(raw: dict[str, Any], checks: tuple[Any, ...] = ()) -> StackConfig:
    return validate(raw, "t", {k for k in raw if k in SECRET_KEYS}, checks, "connectorCredentials")


def problems(raw: dict[str, Any], checks: tuple[Any, ...] = ()) -> list[tuple[str, str]]:
    """(key path, reason) of every problem, as the loader reports them."""
    try:
        check(raw, checks)
    except ConfigError as e:
        return list(e.problems)
    except ValidationError as e:  # field errors alone
        return [field_problem(err)[0] for err in e.errors()]
    raise AssertionError(f"{raw} passed")


def test_a_tenants_file_that_is_not_utf8_is_named(tmp_path: Path) -> None:
    f = tmp_path / "tenants.txt"
    f.write_bytes(b"acme\n\xff\xfe\n")
    [(path, reason)] = problems({"shards": {"tenantsFile": str(f)}})
    assert path == "agent-os:shards.tenantsFile"
    assert reason.startswith(f"cannot read tenants file {str(f)!r}")


def test_relative_files_are_read_from_the_project_dir() -> None:
    cfg = parse({"shards": {"tenantsFile": "README.md"}}, "t")  # a file at the project root
    assert cfg.shards.tenants_file == "README.md"


def test_a_registry_path_that_is_a_directory_cannot_be_read(tmp_path: Path) -> None:
    [(path, reason)] = problems({"fleet": {"registryPath": str(tmp_path)}})
    assert path == "agent-os:fleet.registryPath"
    assert reason.startswith(f"{tmp_path}: cannot read the registry file")


def test_a_ca_file_with_a_private_key_is_refused_and_not_shown(tmp_path: Path) -> None:
    f = tmp_path / "ca.pem"
    f.write_text(CERT + "-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49\n-----END PRIVATE KEY-----\n")
    [(path, reason)] = problems({"access": {"caFile": str(f)}})
    assert path == "agent-os:access.caFile" and "private key" in reason
    assert "MIGHAgEAMBMGByqGSM49" not in reason


def test_a_ca_file_with_certificates_is_accepted(tmp_path: Path) -> None:
    f = tmp_path / "ca.pem"
    f.write_text(CERT)
    assert parse({"access": {"caFile": str(f)}}, "t").trust.ca_file == str(f)


def test_checks_run_on_a_valid_config_and_add_their_problems() -> None:
    def check(cfg: StackConfig) -> None:
        raise ConfigError("agent-os:inventory.hosts", "no host in tier edge", ("agent-os:edge", "x"))

    found = problems({"core": {"openbao": {"members": 2}}}, (check,))
    assert [p for p, _ in found] == [
        "agent-os:core.openbao.members",
        "agent-os:inventory.hosts",
        "agent-os:edge",
    ]


def test_checks_wait_for_valid_sections_and_readable_files() -> None:
    called: list[StackConfig] = []
    found = problems({"data": {"kafka": {"brokers": 0}}}, (called.append,))
    found += problems({"fleet": {"registryPath": "/nonexistent/registry.yml"}}, (called.append,))
    assert called == []
    assert [p for p, _ in found] == ["agent-os:data.kafka.brokers", "agent-os:fleet.registryPath"]


def test_a_check_tripped_by_a_reported_problem_does_not_hide_the_report() -> None:
    def crashes(cfg: StackConfig) -> None:
        raise KeyError("kafka-4")

    assert [p for p, _ in problems({"core": {"openbao": {"members": 2}}}, (crashes,))] == [
        "agent-os:core.openbao.members"
    ]
    with pytest.raises(KeyError):  # alone it is a bug, shown as one
        check({}, (crashes,))


def test_a_credential_object_is_checked_against_the_declared_names() -> None:
    fleet = {"connectorSecrets": {"caddy-mcp": ["CADDY_API_TOKEN", "CADDY_USER_TOKEN"]}}
    found = problems({"fleet": fleet, "connectorCredentials": {"caddy-mcp": ["CADDY_API_TOKEN"]}})
    assert found == [
        (
            "agent-os:connectorCredentials.caddy-mcp.CADDY_USER_TOKEN",
            "is not set; `pulumi config set --secret --path 'agent-os:connectorCredentials.caddy-mcp.CADDY_USER_TOKEN'`",
        )
    ]


# Values next to the refused ones that must stay valid (no false positives).
GOOD: list[dict[str, Any]] = [
    {
        "app": {
            "extra": {
                "max_tokens": 4096,
                "token_url": "https://sso.example.org/token",
                "api_key_ref": "vault://platform/openai#key",
                "tags": ["a", "b"],
                "upstream": "https://api.example.org/v1?region=eu",
                "oauth": {"token_endpoint": "https://sso.example.org/token", "token_type": "bearer"},
            },
            "extraEnv": {
                "LOG_LEVEL": "debug",
                "OPENAI_API_KEY_FILE": "/run/secrets/openai",
                "LLM_MAX_TOKENS": "1",
            },
        }
    },
    {
        "swarm": {
            "sshOpts": [
                "-o",
                "StrictHostKeyChecking=accept-new",
                "-i",
                "/home/ops/.ssh/id_ed25519",
                "-p",
                "2222",
            ],
        }
    },
    {
        "swarm": {
            "sshOpts": ["-oConnectTimeout=5", "-v", "-o", "UserKnownHostsFile=~/.ssh/known_hosts_agents"]
        }
    },
    {"swarm": {"dockerHost": "tcp://10.0.0.1:2376"}},
    {"swarm": {"dockerHost": "ssh://deploy@10.40.0.11:22"}},
    {"swarm": {"dockerHost": "unix:///run/user/1000/docker.sock"}},
    {
        "edge": {
            "dns": {
                "forwarders": [
                    "1.1.1.1",
                    "dns.quad9.net",
                    "9.9.9.9:53",
                    "[2606:4700::1111]:53",
                    "2606:4700::1111",
                ]
            }
        }
    },
    {
        "fleet": {
            "autonomy": {"actuator": "docker", "dockerSocket": "/run/docker.sock", "dockerSocketGid": 998}
        }
    },
    {"fleet": {"connectorNodeLabel": "mcp.fleet", "kgDaemonNodeLabel": "kg-daemon-2"}},
    {
        "fleet": {"connectorSecrets": {"caddy-mcp": ["CADDY_API_TOKEN"]}},
        "connectorCredentials": {"caddy-mcp": ["CADDY_API_TOKEN"]},
    },
    {"data": {"postgres": {"superuser": "pgadmin", "appRole": "agent_app", "nodeLabel": "pg"}}},
    {"core": {"keycloak": {"database": "kc", "dbRole": "kc_app", "realm": "agents-prod"}}},
    {"core": {"openbao": {"kvMount": "platform/kv", "approleMount": "approle-agents", "appRole": "agents"}}},
    {"core": {"openbao": {"tokenTtl": "24h", "tokenMaxTtl": "24h"}}},
    {
        "integrations": {"gitops": True},
        "core": {
            "portainer": {
                "adminUser": "ops.admin",
                "gitops": {
                    "repoUrl": "https://git.example/org/stacks.git",
                    "ref": "refs/tags/v1.2.3",
                    "path": "deploy/compose.yaml",
                },
            }
        },
    },
    {
        "app": {
            "langfuseHost": "https://langfuse.example.org/?region=eu",
            "authJwtAudience": "https://api.agents.arpa",
        }
    },
    {"fleet": {"mcpUrlTemplate": "https://{name}.mcp.agents.arpa/mcp"}},
    {"edge": {"caddy": {"httpPort": 8080, "httpsPort": 8443}}},
]


@pytest.mark.parametrize("raw", GOOD, ids=[next(iter(g)) + str(i) for i, g in enumerate(GOOD)])
def test_valid_values_stay_valid(raw: dict[str, Any]) -> None:
    check(raw)


def test_more_kg_ingest_consumers_than_kg_tasks_partitions_is_named() -> None:
    """Kafka gives each partition to one consumer of a group: past the partition count a
    consumer gets none (seen: the worker fleet starved while the kg-daemon's pool held all 3).
    A warning, not an error: the capacity model sizes workers past the partitions on purpose."""
    fleet = {"ingestWorkers": {"replicas": 2, "processes": 2}, "kgDaemonIngestWorkers": 1}
    idle = idle_kg_ingest_consumers(
        check({"data": {"kafka": {"partitions": {"kgTasks": 4}}}, "fleet": fleet})
    )
    assert idle is not None and idle.startswith("agent-os:data.kafka.partitions.kgTasks: ")
    assert "4 partitions for 5 kg-ingest consumers" in idle and "so 1 idle" in idle, idle
    assert (
        idle_kg_ingest_consumers(check({"data": {"kafka": {"partitions": {"kgTasks": 5}}}, "fleet": fleet}))
        is None
    )
    # Autosized threads count as the app's floor of 2 per replica.
    fleet = {"ingestWorkers": {"replicas": 3}, "kgDaemonIngestWorkers": 1}
    idle = idle_kg_ingest_consumers(
        check({"data": {"kafka": {"partitions": {"kgTasks": 6}}}, "fleet": fleet})
    )
    assert idle is not None and "6 partitions for 7 kg-ingest consumers" in idle, idle


def test_the_stacks_give_every_kg_ingest_consumer_a_partition() -> None:
    for stack in ("staging", "enterprise"):
        assert idle_kg_ingest_consumers(mockrun.stack_model(stack)) is None, stack
