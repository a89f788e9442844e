"""Each of keycloak/openbao/portainer/lgtm off: clean degrade, a warning, no dangling references."""

from __future__ import annotations

from collections.abc import Iterator

import pulumi
import pytest
import yaml

from tests.conftest import STACKS
from tools import mockrun

CONFIG = "docker:index/serviceConfig:ServiceConfig"
ALL_ON = {"keycloak": True, "openbao": True, "portainer": True, "lgtm": True}
OWNED = {
    "keycloak": ({"keycloak"}, ("keycloak:",), "sso"),
    "openbao": ({"bao-1"}, ("vault:", "pulumi:providers:vault"), "openbao"),
    "portainer": ({"portainer", "portainer-agent"}, (), "portainer"),
    "lgtm": (
        {"prometheus", "grafana", "alertmanager", "loki", "tempo", "cadvisor", "node-exporter"},
        (),
        "grafana",
    ),
}


@pytest.fixture
def warnings(monkeypatch: pytest.MonkeyPatch) -> Iterator[list[str]]:
    seen: list[str] = []
    real = pulumi.log.warn

    def warn(msg: str, *a: object, **kw: object) -> None:
        seen.append(msg)
        real(msg, *a, **kw)  # type: ignore[arg-type]

    monkeypatch.setattr(pulumi.log, "warn", warn)
    yield seen


_cache: dict[tuple[str, bool, str], mockrun.Run] = {}


def _run(stack: str, preview: bool, **toggles: bool) -> mockrun.Run:
    key = (stack, preview, repr(sorted(toggles.items())))
    if key not in _cache:
        _cache[key] = _evaluate(stack, preview, **toggles)
    return _cache[key]


def _evaluate(stack: str, preview: bool, **toggles: bool) -> mockrun.Run:
    from tools.mockrun import PROJECT_DIR

    raw = yaml.safe_load((PROJECT_DIR / f"Pulumi.{stack}.yaml").read_text())["config"][
        "agent-os:integrations"
    ]
    integrations = {**raw, **ALL_ON, **toggles}
    if not integrations.get("portainer"):
        integrations["gitops"] = False
    if not integrations.get("keycloak"):
        integrations["allowUnauthenticated"] = True  # the explicit acceptance it needs
    return mockrun.run(stack, preview=preview, overrides={"agent-os:integrations": integrations})


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("preview", [False, True])
@pytest.mark.parametrize("toggle", sorted(OWNED))
def test_toggle_off_degrades_cleanly(stack: str, preview: bool, toggle: str, warnings: list[str]) -> None:
    run = _run(stack, preview, **{toggle: False})
    services, types, host = OWNED[toggle]
    assert not services & set(run.services()), toggle
    assert not [r.name for r in run.resources if types and r.type.startswith(types)]
    assert host not in run.outputs.get("urls", {}) or preview
    assert any(f"integrations.{toggle} is off" in w for w in warnings)
    # Everything else from the core layer is still there.
    for other, (svcs, _, _) in OWNED.items():
        if other != toggle:
            assert svcs <= set(run.services()), (toggle, other)


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("preview", [False, True])
def test_all_on_evaluates_without_core_warnings(stack: str, preview: bool, warnings: list[str]) -> None:
    run = mockrun.run(stack, preview=preview)  # both stack files switch all four on
    for svcs, _, _ in OWNED.values():
        assert svcs <= set(run.services())
    assert not [w for w in warnings if "is off" in w and any(f"integrations.{t}" in w for t in OWNED)]


def test_keycloak_off_removes_every_sso_reference() -> None:
    run = _run("staging", False, keycloak=False)
    grafana = run.services()["grafana"].plain["taskSpec"]["containerSpec"]["env"]
    assert not [k for k in grafana if k.startswith("GF_AUTH_GENERIC_OAUTH")]
    assert not [r for r in run.resources if r.name in ("portainer-oauth", "keycloak-ready", "db-keycloak")]
    kv = {s.inputs["name"] for s in run.by_type("vault:kv/secretV2:SecretV2")}
    assert not [k for k in kv if k.startswith("platform/oidc/")]
    assert "sso." not in mockrun.b64decode(
        run.one("docker:index/serviceConfig:ServiceConfig", "caddyfile").inputs["data"]
    )


def test_openbao_off_hands_no_approle_secrets_up() -> None:
    run = _run("staging", False, openbao=False)
    core = [r for r in run.resources if "agent-os:core:Core" in r.urn]
    assert core and not [r.name for r in core if r.name.startswith(("openbao-", "bao-", "kv-", "approle"))]
    assert "openbaoRootToken" not in run.outputs


@pytest.mark.parametrize("stack", STACKS)
def test_without_keycloak_alertmanager_fetches_no_token(stack: str) -> None:
    run = _run(stack, False, keycloak=False)
    am = yaml.safe_load(mockrun.b64decode(run.one(CONFIG, "alertmanager-yml").inputs["data"]))
    (hook,) = am["receivers"][0]["webhook_configs"]
    assert "oauth2" not in hook["http_config"]  # no Keycloak: no client to fetch a token with
    assert "X-Fleet-Events-Token" in hook["http_config"]["http_headers"]
    cs = run.services()["alertmanager"].plain["taskSpec"]["containerSpec"]
    assert [s["fileName"] for s in cs["secrets"]] == ["/run/secrets/fleet_events_token"]
