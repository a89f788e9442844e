"""The policy pack as the Pulumi engine talks to it: `policy/__main__.py` is started as the
analyzer process and driven over its gRPC Analyzer interface (no Pulumi CLI needed)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import empty_pb2, json_format, struct_pb2
from pulumi.runtime.proto import analyzer_pb2, analyzer_pb2_grpc

from policy import rules
from tests.conftest import STACKS, evaluate
from tests.policy.test_policy_rules import UNKNOWN, service

ROOT = Path(__file__).resolve().parents[2]


class Analyzer:
    def __init__(self, stack_config: dict[str, Any]) -> None:
        env = {k: v for k, v in os.environ.items() if not k.startswith("PULUMI_")}
        env["PULUMI_CONFIG"] = json.dumps({k: json.dumps(v) for k, v in stack_config.items()})
        # Started the way the engine starts it: the pack directory as working directory.
        self.proc = subprocess.Popen(
            [sys.executable, "-u", "__main__.py"],
            cwd=ROOT / "policy",
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        assert self.proc.stdout is not None
        port = self.proc.stdout.readline().strip()
        if not port.isdigit():
            self.proc.kill()
            raise AssertionError(f"analyzer did not start: {port!r} {self.proc.communicate()[1]}")
        self.channel = grpc.insecure_channel(f"127.0.0.1:{port}")
        self.stub = analyzer_pb2_grpc.AnalyzerStub(self.channel)

    def info(self) -> analyzer_pb2.AnalyzerInfo:
        return self.stub.GetAnalyzerInfo(empty_pb2.Empty(), timeout=30)

    def analyze(self, type_: str, wire_props: dict[str, Any], name: str = "r") -> list[tuple[str, str, int]]:
        props = struct_pb2.Struct()
        json_format.ParseDict(wire_props, props)
        req = analyzer_pb2.AnalyzeRequest(
            type=type_, properties=props, urn=f"urn:pulumi:s::agent-os::{type_}::{name}", name=name
        )
        resp = self.stub.Analyze(req, timeout=30)
        return [(d.policyName, d.message, d.enforcementLevel) for d in resp.diagnostics]

    def close(self) -> None:
        self.channel.close()
        self.proc.kill()
        self.proc.communicate(timeout=10)


@pytest.fixture(scope="module")
def analyzer() -> Iterator[Analyzer]:
    a = Analyzer({})
    yield a
    a.close()


@pytest.fixture(scope="module")
def allow_latest_analyzer() -> Iterator[Analyzer]:
    a = Analyzer({"agent-os:images": {"allowLatestConnectors": True}})
    yield a
    a.close()


def test_pack_serves_every_policy_as_mandatory(analyzer: Analyzer) -> None:
    info = analyzer.info()
    assert info.name == "agent-os-hardened"
    assert {p.name for p in info.policies} == {p.name for p in rules.POLICIES}
    assert {p.enforcementLevel for p in info.policies} == {analyzer_pb2.MANDATORY}


def test_pack_reports_violations_as_mandatory(analyzer: Analyzer) -> None:
    assert analyzer.analyze(rules.SERVICE, service()) == []
    bad = service()
    del bad["taskSpec"]["containerSpec"]["healthcheck"]
    bad["taskSpec"]["containerSpec"]["env"]["DB_PASSWORD"] = "hunter2"
    found = analyzer.analyze(rules.SERVICE, bad)
    assert {(p, lvl) for p, _, lvl in found} == {
        ("service-healthcheck", analyzer_pb2.MANDATORY),
        ("service-no-secret-env", analyzer_pb2.MANDATORY),
    }
    assert any("DB_PASSWORD" in m and "hunter2" not in m for p, m, _ in found if p == "service-no-secret-env")


def test_pack_skips_unknown_values_instead_of_aborting(analyzer: Analyzer) -> None:
    s = service()
    s["taskSpec"]["containerSpec"]["image"] = UNKNOWN
    del s["taskSpec"]["containerSpec"]["healthcheck"]
    # The unknown image is skipped by image-pinned; the missing healthcheck is still found,
    # and no "can't run policy during preview" advisory replaces the checks.
    assert [p for p, _, _ in analyzer.analyze(rules.SERVICE, s)] == ["service-healthcheck"]


def test_pack_reads_allow_latest_connectors_from_stack_config(
    analyzer: Analyzer, allow_latest_analyzer: Analyzer
) -> None:
    s = service(**{"agent-os.kind": "connector"})
    s["taskSpec"]["containerSpec"]["image"] = "knucklessg1/arr-mcp:latest"
    assert [p for p, _, _ in analyzer.analyze(rules.SERVICE, s)] == ["image-pinned"]
    assert allow_latest_analyzer.analyze(rules.SERVICE, s) == []


@pytest.mark.parametrize("stack", STACKS)
def test_pack_passes_every_registered_resource_in_wire_form(stack: str) -> None:
    """Raw captured inputs (secrets still wrapped) through the real analyzer, with the stack's
    own config: zero diagnostics of any level."""
    from tools import mockrun

    values, _ = mockrun.stack_config(stack)
    a = Analyzer({k: v for k, v in values.items() if k.startswith("agent-os:")})
    try:
        run = evaluate(stack)
        checked = [r for r in run.resources if any(r.type in p.resource_types for p in rules.POLICIES)]
        assert len(checked) >= 10
        found = [(r.name, *d) for r in checked for d in a.analyze(r.type, r.inputs, r.name)]
        assert found == []
    finally:
        a.close()
