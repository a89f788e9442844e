"""Inventory validation: one pulumi.RunError naming the host or label, before any resource."""

from __future__ import annotations

import copy
from collections.abc import Callable
from typing import Any

import pulumi
import pytest

from components.config import StackConfig
from tests.day0.conftest import config_of
from tools import mockrun

INV = "agent-os:inventory"


def _enterprise_inventory() -> dict[str, Any]:
    values, _ = mockrun.stack_config("enterprise")
    return copy.deepcopy(values[INV])


def _with(edit: Callable[[dict[str, Any]], object]) -> dict[str, Any]:
    inv = _enterprise_inventory()
    edit(inv)
    return {INV: inv}


def _host(inv: dict[str, Any], name: str) -> dict[str, Any]:
    return next(h for h in inv["hosts"] if h["name"] == name)


def _drop_label(name: str, label: str) -> Callable[[dict[str, Any]], object]:
    return lambda inv: _host(inv, name)["labels"].pop(label)


def _set(host: str, **kw: Any) -> Callable[[dict[str, Any]], object]:
    return lambda inv: _host(inv, host).update(kw)


def _extra_managers(n: int) -> Callable[[dict[str, Any]], None]:
    def edit(inv: dict[str, Any]) -> None:
        inv["hosts"] += [
            {"name": f"mgr-x{i}", "address": f"10.40.0.{100 + i}", "role": "manager"} for i in range(n)
        ]

    return edit


BAD: list[tuple[str, dict[str, Any], str, str]] = [
    ("even managers", _with(_set("wrk-4", role="manager")), INV, "odd number of managers from 1 to 7"),
    ("nine managers", _with(_extra_managers(6)), INV, "got 9"),
    ("no manager", _with(lambda inv: [h.update(role="worker") for h in inv["hosts"]]), INV, "got 0 (none)"),
    (
        "duplicate address",
        _with(_set("wrk-4", address="10.40.0.12")),
        INV,
        "host wrk-4: address 10.40.0.12 is also host mgr-2's",
    ),
    ("duplicate name", _with(_set("wrk-4", name="wrk-3")), INV, "host wrk-3: duplicate name"),
    (
        "no edge tier",
        _with(lambda inv: [h["labels"].pop("edge", None) for h in inv["hosts"]]),
        "agent-os:inventory.hosts",
        "no host in tier edge (label edge=true)",
    ),
    (
        "missing broker label",
        _with(_drop_label("mgr-3", "kafka-broker")),
        "agent-os:inventory.hosts",
        "no host carries label kafka-broker=3, which placement of kafka-3 requires",
    ),
    (
        "missing postgres label",
        _with(_drop_label("mgr-1", "postgres")),
        "agent-os:inventory.hosts",
        "label postgres=true, which placement of pg-age",
    ),
    (
        "missing shard label",
        _with(_drop_label("wrk-3", "kg-shard-3")),
        "agent-os:inventory.hosts",
        "no host carries label kg-shard-3=true, which placement of kg-shard-3 requires",
    ),
    (
        "reserved label",
        _with(lambda inv: _host(inv, "wrk-4")["labels"].update({"agent-os.managed-labels": "x"})),
        INV,
        "reserved",
    ),
    (
        "bad label key",
        _with(lambda inv: _host(inv, "wrk-4")["labels"].update({"Bad Key": "x"})),
        INV,
        "label key 'Bad Key'",
    ),
    (
        "dns name when provisioning",
        _with(_set("wrk-4", address="node4.example.arpa")),
        INV,
        "host wrk-4: address 'node4.example.arpa' must be an IP",
    ),
    ("provision without hosts", {INV: {"provision": True}}, INV, "no hosts are listed"),
    (
        "ingress not on an edge host",
        _with(_drop_label("wrk-2", "edge")),
        "agent-os:edge.ingressAddresses",
        "10.40.0.22 is not the address of an inventory host labelled edge=true",
    ),
]


@pytest.mark.parametrize(("overrides", "path", "reason"), [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_inventory_is_one_run_error_naming_host_or_label(
    overrides: dict[str, Any], path: str, reason: str
) -> None:
    with pytest.raises(pulumi.RunError) as exc:
        mockrun.run("enterprise", overrides=overrides)
    msg = str(exc.value)
    assert path in msg and reason in msg, msg
    assert "Traceback" not in msg


def test_overlay_subnet_must_not_contain_a_host_address() -> None:
    values, _ = mockrun.stack_config("enterprise")
    swarm = copy.deepcopy(values["agent-os:swarm"])
    swarm["networks"]["core"] = {"subnet": "10.40.0.0/24"}
    with pytest.raises(pulumi.RunError) as exc:
        mockrun.run("enterprise", overrides={"agent-os:swarm": swarm})
    assert (
        "agent-os:swarm.networks.core.subnet: 10.40.0.0/24 contains host mgr-1's address 10.40.0.11"
        in str(exc.value)
    )


def test_provision_derives_the_docker_host() -> None:
    values, _ = mockrun.stack_config("enterprise")
    swarm = {**values["agent-os:swarm"], "dockerHost": "ssh://someone@10.9.9.9:22"}
    with pytest.raises(
        pulumi.RunError, match=r"agent-os:swarm.dockerHost: is derived from the first manager"
    ):
        mockrun.run("enterprise", overrides={"agent-os:swarm": swarm})


def test_missing_ssh_key_is_a_config_error_before_any_resource() -> None:
    captured: list[mockrun.Registered] = []

    class Spy(mockrun.PlatformMocks):
        def new_resource(self, args: Any) -> Any:
            captured.append(args)
            return super().new_resource(args)

    with pytest.raises(pulumi.RunError) as exc:
        mockrun.run("enterprise", overrides={"agent-os:sshPrivateKey": None}, mocks=Spy())
    msg = str(exc.value)
    assert "agent-os:sshPrivateKey: required when agent-os:inventory.provision is true" in msg
    assert "pulumi config set --secret agent-os:sshPrivateKey" in msg
    assert captured == []


def test_ssh_key_is_not_generated() -> None:
    from components.config.secrets import SECRET_KEYS

    assert SECRET_KEYS["sshPrivateKey"].generate is False


def test_topology_post_needs_a_url_openbao_and_keycloak() -> None:
    with pytest.raises(pulumi.RunError, match=r"agent-os:inventory.topology.url: is required"):
        mockrun.run("enterprise", overrides=_with(lambda inv: inv.update(topology={"post": True})))
    over = _with(lambda inv: inv.update(topology={"post": True, "url": "https://graph-os.agents.arpa/x"}))
    values, _ = mockrun.stack_config("enterprise")
    for off in ("openbao", "keycloak"):
        over["agent-os:integrations"] = {**values["agent-os:integrations"], off: False}
        with pytest.raises(pulumi.RunError, match=r"agent-os:inventory.topology.post: signs in to graph-os"):
            mockrun.run("enterprise", overrides=over)


def test_valid_inventories_parse() -> None:
    ent: StackConfig = config_of("enterprise")
    assert [h.name for h in ent.inventory.managers] == ["mgr-1", "mgr-2", "mgr-3"]
    assert len(ent.inventory.workers) == 4
    assert ent.inventory.leader.name == "mgr-1"
    # YAML scalars become label strings.
    assert ent.inventory.hosts[0].labels["kafka-broker"] == "1"
    assert ent.inventory.hosts[0].labels["postgres"] == "true"
    stg = config_of("staging")
    assert not stg.inventory.provision and [h.name for h in stg.inventory.hosts] == ["local"]
    # No inventory at all (attach to an existing swarm, nothing to validate locally).
    assert config_of("staging", {INV: None}).inventory.hosts == []
