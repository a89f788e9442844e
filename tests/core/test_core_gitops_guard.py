"""A GitOps stack can never run the connector fleet a second time under other names: the
gitops step compares the stack's services (Portainer's Docker proxy, real API shapes) with
the connectors the fleet deploys, removes a stack it just created, and fails naming them."""

from __future__ import annotations

import json
from typing import Any

import pytest

from components.core import portainerctl
from tools import mockrun

GIT = {"stack_name": "mcp-fleet", "repo_url": "https://git.example/s.git", "ref": "refs/heads/main"}
GIT |= {"path": "stack.yml", "poll_interval": "5m", "endpoint": "primary"}
CONNECTORS = [{"name": "github-mcp", "image": "docker.io/knucklessg1/github-mcp"}]


def _service(name: str, image: str, stack: str) -> dict[str, Any]:
    return {
        "ID": name,
        "Spec": {
            "Name": name,
            "Labels": {"com.docker.stack.namespace": stack},
            "TaskTemplate": {"ContainerSpec": {"Image": image}},
        },
    }


class FakePortainer:
    def __init__(self, stack_services: list[dict[str, Any]]) -> None:
        self.stacks: list[dict[str, Any]] = []
        self.stack_services = stack_services
        self.calls: list[tuple[str, str]] = []

    def call(self, method: str, path: str, body: Any = None) -> Any:
        self.calls.append((method, path))
        if (method, path) == ("GET", "/api/stacks"):
            return self.stacks
        if (method, path) == ("GET", "/api/endpoints"):
            return [{"Id": 2, "Name": "local"}, {"Id": 7, "Name": "primary"}]
        if path == "/api/endpoints/7/docker/swarm":
            return {"ID": "swarm-1"}
        if path.startswith("/api/stacks/create/swarm/repository"):
            assert path.endswith("endpointId=7"), path  # the configured endpoint, by name
            git = {"URL": body["RepositoryURL"], "ReferenceName": body["RepositoryReferenceName"]}
            git |= {"ConfigFilePath": body["ComposeFile"]}
            self.stacks.append({"Id": 3, "Name": body["Name"], "EndpointId": 7, "GitConfig": git})
            return {"Id": 3}
        if method == "POST" and path == "/api/stacks/3/git?endpointId=7":
            self.stacks[0]["GitConfig"]["ReferenceName"] = body["RepositoryReferenceName"]
            return {"Id": 3}
        if method == "PUT" and path == "/api/stacks/3/git/redeploy?endpointId=7":
            return {"Id": 3}
        if path.startswith("/api/endpoints/7/docker/services"):
            return self.stack_services if self.stacks else []
        if method == "DELETE" and path.startswith("/api/stacks/3"):
            self.stacks = []
            return None
        raise AssertionError(f"unexpected {method} {path}")


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_JSON", json.dumps(GIT))
    monkeypatch.setenv("CONNECTORS_JSON", json.dumps(CONNECTORS))


@pytest.mark.parametrize(
    "service",
    [
        _service("mcp-fleet_github-mcp", "docker.io/knucklessg1/github-mcp:1.2.0", "mcp-fleet"),  # same name
        _service("mcp-fleet_gh", "knucklessg1/github-mcp:latest", "mcp-fleet"),  # another name, same image
    ],
)
def test_a_stack_that_duplicates_a_connector_is_removed_and_named(service: dict[str, Any]) -> None:
    api = FakePortainer([service])
    with pytest.raises(portainerctl.PortainerError, match="github-mcp"):
        portainerctl.gitops(api)  # type: ignore[arg-type]
    assert api.stacks == [] and ("DELETE", "/api/stacks/3?endpointId=7") in api.calls


def test_a_stack_of_other_workloads_stays() -> None:
    api = FakePortainer([_service("mcp-fleet_wiki", "docker.io/library/wiki:2", "mcp-fleet")])
    assert "created" in portainerctl.gitops(api)  # type: ignore[arg-type]
    assert [s["Name"] for s in api.stacks] == ["mcp-fleet"]


def test_the_gitops_step_knows_every_connector_the_fleet_deploys() -> None:
    values, _ = mockrun.stack_config("staging")
    run = mockrun.run(
        "staging",
        overrides={
            "agent-os:integrations": {**values["agent-os:integrations"], "gitops": True},
            "agent-os:core": {"portainer": {"gitops": {"repoUrl": "https://git.example/org/stacks.git"}}},
        },
    )
    env = run.one("command:local:Command", "portainer-gitops").plain["environment"]
    listed = {c["name"] for c in json.loads(env["CONNECTORS_JSON"])}
    deployed = {
        n
        for n, svc in run.services().items()
        if {"label": "agent-os.kind", "value": "connector"} in (svc.plain.get("labels") or [])
    }
    assert listed == deployed and len(listed) == 7


def test_a_changed_ref_updates_the_stack_and_a_changed_repo_recreates_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    api = FakePortainer([])
    portainerctl.gitops(api)  # type: ignore[arg-type]
    monkeypatch.setenv("GIT_JSON", json.dumps(GIT | {"ref": "refs/tags/v2"}))
    assert "updated" in portainerctl.gitops(api)  # type: ignore[arg-type]
    assert api.stacks[0]["GitConfig"]["ReferenceName"] == "refs/tags/v2"
    assert ("PUT", "/api/stacks/3/git/redeploy?endpointId=7") in api.calls
    monkeypatch.setenv("GIT_JSON", json.dumps(GIT | {"repo_url": "https://git.example/other.git"}))
    assert "created" in portainerctl.gitops(api)  # type: ignore[arg-type]
    assert api.stacks[0]["GitConfig"]["URL"] == "https://git.example/other.git"
    assert ("DELETE", "/api/stacks/3?endpointId=7") in api.calls


def test_unchanged_settings_change_nothing() -> None:
    api = FakePortainer([])
    portainerctl.gitops(api)  # type: ignore[arg-type]
    before = list(api.calls)
    assert "unchanged" in portainerctl.gitops(api)  # type: ignore[arg-type]
    assert all(m == "GET" for m, _ in api.calls[len(before) :])


def test_destroy_removes_the_stack_and_tolerates_its_absence() -> None:
    api = FakePortainer([])
    portainerctl.gitops(api)  # type: ignore[arg-type]
    assert "removed" in portainerctl.gitops_delete(api)  # type: ignore[arg-type]
    assert api.stacks == []
    assert "nothing" in portainerctl.gitops_delete(api)  # type: ignore[arg-type]


def test_an_unknown_endpoint_is_named(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("GIT_JSON", json.dumps(GIT | {"endpoint": "prod"}))
    with pytest.raises(portainerctl.PortainerError, match=r"prod.*local, primary"):
        portainerctl.gitops(FakePortainer([]))  # type: ignore[arg-type]
