"""Admin surfaces answer only the operators' allow-list (edge.adminAllowlist), read from the
rendered Caddyfile of both stacks with `caddy adapt`, as Caddy reads it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pulumi
import pytest

from tests.conftest import STACKS, evaluate
from tests.edge.caddyhelp import adapt, caddyfile_of, site
from tools import mockrun

ALLOW = {"staging": ["127.0.0.1/32", "172.18.0.1/32"], "enterprise": ["10.40.0.0/24"]}


def _denials(routes: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The matchers of the 403 responders that run before the proxy ({} = unconditional;
    Caddy then puts the responder first in the proxy's own handler chain)."""
    proxy = next(i for i, r in enumerate(routes) if any(h["handler"] == "reverse_proxy" for h in r["handle"]))
    out = []
    deny = {"handler": "static_response", "status_code": 403}
    for r in routes[: proxy + 1]:
        names = [h["handler"] for h in r["handle"]]
        stop = names.index("reverse_proxy") if "reverse_proxy" in names else len(names)
        if deny in r["handle"][:stop]:
            out.append(r["match"][0] if r.get("match") else {})
    return out


def _allowed(match: dict[str, Any]) -> list[str]:
    """The remote_ip ranges a denial exempts (its `not remote_ip`)."""
    return [rng for n in match.get("not", []) for rng in n.get("remote_ip", {}).get("ranges", [])]


def _not_paths(match: dict[str, Any]) -> list[str]:
    return [p for n in match.get("not", []) for p in n.get("path", [])]


@pytest.fixture(scope="module")
def adapted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[str, dict[str, Any]]]:
    out = {}
    for stack in STACKS:
        run = evaluate(stack)
        caddyfile = caddyfile_of(run)
        out[stack] = (run.outputs["zone"], adapt(caddyfile, tmp_path_factory.mktemp(stack)))
    return out


@pytest.mark.parametrize("stack", STACKS)
def test_keycloak_admin_console_api_and_master_realm_only_from_the_allow_list(
    stack: str, adapted: dict[str, tuple[str, dict[str, Any]]]
) -> None:
    zone, doc = adapted[stack]
    denials = _denials(site(doc, f"sso.{zone}"))
    admin = next(m for m in denials if "path" in m)
    assert set(admin["path"]) == {"/admin", "/admin/*", "/realms/master", "/realms/master/*"}
    assert _allowed(admin) == ALLOW[stack]
    # Everything but the realms' public endpoints is restricted too.
    rest = next(m for m in denials if "path" not in m)
    assert set(_not_paths(rest)) == {
        "/realms",
        "/realms/*",
        "/resources",
        "/resources/*",
        "/js",
        "/js/*",
        "/.well-known",
        "/.well-known/*",
    }
    assert _allowed(rest) == ALLOW[stack]


@pytest.mark.parametrize("stack", STACKS)
def test_openbao_ui_and_system_backend_only_from_the_allow_list(
    stack: str, adapted: dict[str, tuple[str, dict[str, Any]]]
) -> None:
    zone, doc = adapted[stack]
    [admin] = _denials(site(doc, f"openbao.{zone}"))
    assert set(admin["path"]) == {"/ui", "/ui/*", "/v1/sys", "/v1/sys/*"}
    assert _allowed(admin) == ALLOW[stack]


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("host", ["portainer", "dns"])
def test_portainer_and_the_dns_console_are_admin_only(
    stack: str, host: str, adapted: dict[str, tuple[str, dict[str, Any]]]
) -> None:
    zone, doc = adapted[stack]
    [everything] = _denials(site(doc, f"{host}.{zone}"))
    assert "path" not in everything and not _not_paths(everything)
    assert _allowed(everything) == ALLOW[stack]


@pytest.mark.parametrize("stack", STACKS)
@pytest.mark.parametrize("host", ["grafana", "gateway", "graph-os"])
def test_sso_protected_and_api_hosts_stay_public(
    stack: str, host: str, adapted: dict[str, tuple[str, dict[str, Any]]]
) -> None:
    zone, doc = adapted[stack]
    assert _denials(site(doc, f"{host}.{zone}")) == []


def test_an_empty_allow_list_denies_every_admin_surface(tmp_path: Path) -> None:
    """With admin URLs that bypass the ingress, an empty list is allowed: then nobody."""
    over = {
        "agent-os:edge": {
            "zone": "staging.agents.arpa",
            "ingressAddresses": ["127.0.0.1"],
            "adminAllowlist": [],
            "dns": {"apiUrl": "https://127.0.0.1:5380"},
        },
        "agent-os:core": {
            "keycloak": {"adminUrl": "https://127.0.0.1:8443"},
            "openbao": {"adminUrl": "https://127.0.0.1:8200"},
            "portainer": {"adminUrl": "https://127.0.0.1:9443"},
        },
    }
    run = mockrun.run("staging", overrides=over)
    doc = adapt(caddyfile_of(run), tmp_path)
    zone = run.outputs["zone"]
    for host in ("sso", "openbao", "portainer", "dns"):
        denials = _denials(site(doc, f"{host}.{zone}"))
        assert denials and all(_allowed(m) == [] for m in denials), host
    [portainer] = _denials(site(doc, f"portainer.{zone}"))
    assert portainer == {}  # unconditional


def test_admin_steps_through_caddy_need_an_allow_list() -> None:
    over = {"agent-os:edge": {"zone": "staging.agents.arpa", "ingressAddresses": ["127.0.0.1"]}}
    with pytest.raises(pulumi.RunError, match=r"agent-os:edge.adminAllowlist: is empty") as e:
        mockrun.run("staging", overrides=over)
    for host in ("dns", "sso", "openbao", "portainer"):
        assert f"{host}.staging.agents.arpa" in str(e.value)


def test_the_allow_list_takes_only_addresses() -> None:
    over = {"agent-os:edge": {"zone": "staging.agents.arpa", "adminAllowlist": ["0.0.0.0/0 { }"]}}
    with pytest.raises(pulumi.RunError, match=r"agent-os:edge.adminAllowlist"):
        mockrun.run("staging", overrides=over)
