"""Bad config fails before any resource is registered, naming the key path and reason."""

from __future__ import annotations

from collections.abc import Callable

import pulumi
import pytest

from tools import mockrun

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
        {"agent-os:integrations": {"gitops": True, "portainer": False}},
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
]


@pytest.mark.parametrize(("overrides", "path", "reason"), BAD, ids=[b[1] + ":" + b[2] for b in BAD])
def test_bad_config_is_one_run_error_naming_path_and_reason(
    overrides: dict[str, object], path: str, reason: str
) -> None:
    with pytest.raises(pulumi.RunError) as exc:
        mockrun.run("staging", overrides=overrides)
    msg = str(exc.value)
    assert path in msg
    assert reason in msg
    assert "Traceback" not in msg


def test_bad_config_registers_no_resource(run_with: Callable[..., mockrun.Run]) -> None:
    captured: list[mockrun.Registered] = []

    class Spy(mockrun.PlatformMocks):
        def new_resource(self, args: pulumi.runtime.MockResourceArgs):  # type: ignore[override]
            captured.append(mockrun.Registered(args.name, args.typ, args.name, True, "", "", [], {}))
            return super().new_resource(args)

    with pytest.raises(pulumi.RunError):
        mockrun.run("staging", overrides={"agent-os:data": {"kafka": {"brokers": 0}}}, mocks=Spy())
    assert captured == []


def test_all_errors_reported_at_once() -> None:
    with pytest.raises(pulumi.RunError) as exc:
        mockrun.run("staging", overrides={"agent-os:data": {"kafka": {"brokers": 0, "retentionHours": 0}}})
    assert "agent-os:data.kafka.brokers" in str(exc.value)
    assert "agent-os:data.kafka.retentionHours" in str(exc.value)


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
