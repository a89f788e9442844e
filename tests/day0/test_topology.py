"""The topology manifest: always a stack output; POSTed to graph-os only when toggled on."""

from __future__ import annotations

import json
import os
import re
import subprocess
from pathlib import Path
from typing import Any

from tests.conftest import evaluate
from tools import mockrun
from tools.graph import Dag

LOCAL = "command:local:Command"


def test_manifest_lists_hosts_services_networks_endpoints_placement(enterprise: mockrun.Run) -> None:
    m = json.loads(enterprise.outputs["topology"])
    assert m["schema"] == "agent-os/topology/v1" and m["provisioned"] is True
    assert [h["name"] for h in m["hosts"]] == ["mgr-1", "mgr-2", "mgr-3", "wrk-1", "wrk-2", "wrk-3", "wrk-4"]
    assert {h["name"]: h["role"] for h in m["hosts"]}["mgr-2"] == "manager"
    services = {s["name"]: s for s in m["services"]}
    assert set(services) == set(enterprise.services())
    assert services["kafka-3"]["hosts"] == ["mgr-3"]
    nets = {n["layer"]: n for n in m["networks"]}
    assert nets["data"] == {
        "name": "agent-os-data",
        "id": "net-data-id",
        "layer": "data",
        "driver": "overlay",
        "encrypted": True,
        "attachable": True,
        "subnet": "10.210.1.0/24",
    }
    assert m["endpoints"]["urls"] == enterprise.outputs["urls"]
    assert m["endpoints"]["kafkaBootstrap"] == enterprise.outputs["kafkaBootstrap"]
    assert "pg-age" in m["placement"]["mgr-1"]
    assert not enterprise.by_type(LOCAL) or "topology-post" not in {r.name for r in enterprise.by_type(LOCAL)}


def test_staging_manifest_is_an_output_only() -> None:
    run = evaluate("staging")
    m = json.loads(run.outputs["topology"])
    assert m["provisioned"] is False and [h["name"] for h in m["hosts"]] == ["local"]
    assert "topology-post" not in {r.name for r in run.by_type(LOCAL)}


def _post_run() -> mockrun.Run:
    values, _ = mockrun.stack_config("enterprise")
    inv = {
        **values["agent-os:inventory"],
        "topology": {"post": True, "url": "https://graph-os.agents.arpa/api/topology"},
    }
    return mockrun.run("enterprise", overrides={"agent-os:inventory": inv})


def test_post_runs_after_every_layer_with_secret_credentials() -> None:
    run = _post_run()
    post = run.one(LOCAL, "topology-post")
    env = post.inputs["environment"]
    assert mockrun.is_secret(env["BAO_ROLE_ID"]) and mockrun.is_secret(env["BAO_SECRET_ID"])
    assert env["GRAPH_OS_URL"] == "https://graph-os.agents.arpa/api/topology"
    assert env["BAO_ADDR"].startswith("https://")
    assert env["TOKEN_URL"] == "https://sso.agents.arpa/realms/agents/protocol/openid-connect/token"
    assert json.loads(mockrun.unwrap(env["TOPOLOGY"])) == json.loads(run.outputs["topology"])
    dag = Dag.of(run)
    for name in ("caddy", "pg-age", "kafka-3", "bao-3", "kg-shard-3", "grafana"):
        assert dag.reaches(run.services()[name].urn, post.urn), name


def test_post_script_logs_in_reads_the_token_and_posts(tmp_path: Path) -> None:
    """Run the rendered script against a fake curl that plays OpenBao and graph-os."""
    post = _post_run().one(LOCAL, "topology-post")
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    calls = tmp_path / "calls.jsonl"
    (bin_dir / "curl").write_text(
        "#!/usr/bin/env python3\n"
        "import json, sys\n"
        "args = sys.argv[1:]\n"
        "url = args[-1]\n"
        "hdrs = []\n"
        "for i, a in enumerate(args):\n"
        "    if a == '-H':\n"
        "        v = args[i + 1]\n"
        "        hdrs += open(v[1:]).read().splitlines() if v.startswith('@') and v != '@-' else [v]\n"
        "body = sys.stdin.read() if '@-' in args else ''\n"
        "if '-H' in args and '@-' in args and args[args.index('-H') + 1] == '@-':\n"
        "    hdrs += body.splitlines(); body = ''\n"
        f"open({str(calls)!r}, 'a').write(json.dumps({{'url': url, 'hdrs': hdrs, 'body': body}}) + '\\n')\n"
        "if url.endswith('/v1/auth/approle/login'):\n"
        "    assert json.loads(body) == {'role_id': 'rid', 'secret_id': 'sid'}, body\n"
        "    print(json.dumps({'auth': {'client_token': 'bao-tok'}}))\n"
        "elif '/v1/secret/data/platform/oidc/agent-utilities' in url:\n"
        "    assert 'X-Vault-Token: bao-tok' in hdrs, hdrs\n"
        "    print(json.dumps({'data': {'data': {'client_secret': 'cs-1'}}}))\n"
        "elif url.endswith('/protocol/openid-connect/token'):\n"
        "    form = dict(kv.split('=', 1) for kv in body.split('&'))\n"
        "    assert form == {'grant_type': 'client_credentials', 'client_id': 'agent-utilities',"
        " 'client_secret': 'cs-1'}, form\n"
        "    print(json.dumps({'access_token': 'graph-tok', 'token_type': 'Bearer'}))\n"
    )
    (bin_dir / "curl").chmod(0o755)
    env: dict[str, Any] = {k: str(mockrun.unwrap(v)) for k, v in post.inputs["environment"].items()}
    env.update(BAO_ROLE_ID="rid", BAO_SECRET_ID="sid", PATH=f"{bin_dir}:{os.environ['PATH']}")
    done = subprocess.run(
        ["/bin/sh", "-c", post.inputs["create"]], env=env, capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "posted"
    sent = [json.loads(line) for line in calls.read_text().splitlines()]
    assert [c["url"] for c in sent][-1] == "https://graph-os.agents.arpa/api/topology"
    assert "Authorization: Bearer graph-tok" in sent[-1]["hdrs"]
    assert json.loads(sent[-1]["body"])["schema"] == "agent-os/topology/v1"
    # No credential on a command line.
    assert all("sid" not in c["url"] and "graph-tok" not in c["url"] and "cs-1" not in c["url"] for c in sent)


def test_post_reads_only_what_the_approle_policy_grants_and_the_stack_writes() -> None:
    """The KV entry the script reads is written by the program and under the policy's path."""
    run = _post_run()
    env = run.one(LOCAL, "topology-post").inputs["environment"]
    policy = run.one("vault:index/policy:Policy", "policy-agent-utilities").inputs["policy"]
    granted = re.findall(r'path "([^"]+)/\*" \{\n  capabilities = \["read"\]', policy)
    read = f"{env['KV_MOUNT']}/data/{env['SECRET_PATH']}"
    assert any(read.startswith(g + "/") for g in granted), (read, granted)
    written = {r.inputs["name"] for r in run.by_type("vault:kv/secretV2:SecretV2")}
    assert env["SECRET_PATH"] in written
