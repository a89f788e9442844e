"""Schema conformance of every registered resource, both stacks (verify/schema.py)."""

from __future__ import annotations

import copy
from typing import Any

import pytest

from tests.conftest import STACKS
from tools import mockrun
from verify import schema

_runs: dict[tuple[str, bool], mockrun.Run] = {}


def run_of(stack: str, preview: bool = False) -> mockrun.Run:
    if (stack, preview) not in _runs:
        _runs[(stack, preview)] = schema.evaluate(stack, preview)
    return _runs[(stack, preview)]


def _docker() -> schema.Schema:
    s = schema.load_schema("docker", str(schema.schema_dir()))
    if s is None:
        pytest.skip(f"no docker schema in {schema.schema_dir()} (set {schema.ENV_VAR})")
    return s


@pytest.mark.parametrize("preview", [False, True])
@pytest.mark.parametrize("stack", STACKS)
def test_every_resource_conforms_to_its_provider_schema(stack: str, preview: bool) -> None:
    _docker()
    run = run_of(stack, preview)
    report = schema.check_run(run)
    custom = [r for r in run.resources if r.custom]
    print(
        f"\n{stack} preview={preview}: {len(report.checked)} resources schema-checked, "
        f"{len(report.skipped)} skipped ({sorted(set(report.skipped.values()))})"
    )
    assert not report.violations, "\n".join(map(str, report.violations))
    assert len(report.checked) + len(report.skipped) == len(custom)
    # Only packages without a published schema (vault) are skipped.
    assert {schema.package_of(u.split("::")[2].split("$")[-1]) for u in report.skipped} <= {"vault"}
    assert any(r.type == "docker:index/service:Service" for r in custom if r.urn in report.checked)


def _service(stack: str = "staging") -> mockrun.Registered:
    return next(iter(run_of(stack).services().values()))


def _violations(type_: str, inputs: dict[str, Any]) -> list[tuple[str, str]]:
    return _docker().check_resource(type_, inputs)


SERVICE = "docker:index/service:Service"


def test_the_captured_service_is_clean_before_breaking_it() -> None:
    assert _violations(SERVICE, _service().inputs) == []


def test_misspelt_nested_property_is_caught() -> None:
    inputs = copy.deepcopy(_service().inputs)
    inputs["taskSpec"]["networksAdvanced"] = inputs["taskSpec"].pop("networksAdvanceds")
    errs = _violations(SERVICE, inputs)
    assert ("taskSpec.networksAdvanced", errs[0][1]) in errs and "unknown property" in errs[0][1]


def test_wrong_type_is_caught() -> None:
    inputs = copy.deepcopy(_service().inputs)
    inputs["mode"] = {"replicated": {"replicas": "one"}}
    inputs["taskSpec"]["containerSpec"]["healthcheck"]["retries"] = 2.5
    paths = {p for p, _ in _violations(SERVICE, inputs)}
    assert paths == {"mode.replicated.replicas", "taskSpec.containerSpec.healthcheck.retries"}


def test_missing_required_is_caught() -> None:
    inputs = copy.deepcopy(_service().inputs)
    del inputs["taskSpec"]["containerSpec"]["image"]
    assert _violations(SERVICE, inputs) == [("taskSpec.containerSpec.image", "required property missing")]


def test_secret_wrapped_and_unknown_values_are_checked_as_their_content() -> None:
    secret = {mockrun.SIG_KEY: mockrun.SECRET_VALUE_SIG, "value": 5}
    errs = _violations("docker:index/secret:Secret", {"data": secret, "name": mockrun.UNKNOWN})
    assert errs == [("data", "expected string, got int")]


def test_enum_is_checked() -> None:
    cmd = schema.load_schema("command", str(schema.schema_dir()))
    if cmd is None:
        pytest.skip("no command schema")
    assert cmd.check_resource("command:local:Command", {"create": "true", "logging": "stdout"}) == []
    errs = cmd.check_resource("command:local:Command", {"create": "true", "logging": "everything"})
    assert len(errs) == 1 and errs[0][0] == "logging" and "not in enum" in errs[0][1]


def test_provider_config_is_checked_against_config_variables() -> None:
    d = _docker()
    assert d.check_resource("pulumi:providers:docker", {"host": "unix:///x", "sshOpts": '["-v"]'}) == []
    errs = d.check_resource("pulumi:providers:docker", {"hots": "unix:///x", "sshOpts": "not json"})
    assert {p for p, _ in errs} == {"hots", "sshOpts"}


def test_a_misspelt_property_in_a_plain_dict_passes_mocks_but_not_the_schema() -> None:
    """The pitfall from pulumi-practice.md: a dict input with a wrong nested key is accepted
    by the mocks; the schema check is what catches it."""
    import pulumi
    import pulumi_docker as docker

    def program() -> None:
        provider = docker.Provider("d", host="unix:///var/run/docker.sock")
        task: Any = {"containerSpec": {"image": "busybox:1"}, "networksAdvanced": [{"name": "n"}]}
        docker.Service("svc", name="svc", task_spec=task, opts=pulumi.ResourceOptions(provider=provider))

    run = mockrun.run("staging", program=program)
    report = schema.check_run(run)
    assert [(v.path, v.message.split(" (")[0]) for v in report.violations] == [
        ("taskSpec.networksAdvanced", "unknown property")
    ]
