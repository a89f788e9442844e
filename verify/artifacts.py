"""Real validators for the artifacts the program renders, found generically in a mock run.

Each validator runs the real tool that reads the artifact (or, for HCL, a real parser):

  * Caddyfile            -> `caddy adapt` + `caddy validate` (configs named *caddyfile*)
  * Prometheus config    -> `promtool check config --syntax-only` (*prometheus* YAML with
                            scrape_configs/global)
  * Prometheus rules     -> `promtool check rules` (*rules* YAML with `groups`)
  * Alertmanager config  -> `amtool check-config` (*alertmanager*)
  * OpenBao HCL          -> python-hcl2 parse + the keys the server needs (*openbao*/*bao*)

Artifacts are the decoded `data` of captured ServiceConfigs, so validators activate for
whatever layer renders them. `find` returns (logical name, content) pairs.
"""

from __future__ import annotations

import base64
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from components.edge.caddyfile import ROOT_CERT_FILE, ROOT_KEY_FILE
from tools import mockrun

CONFIG = "docker:index/serviceConfig:ServiceConfig"
TIMEOUT = 60


@dataclass(frozen=True)
class Result:
    ok: bool
    output: str


class ToolMissingError(Exception):
    pass


def configs(run: mockrun.Run) -> list[tuple[str, str]]:
    """(logical name, decoded content) of every captured ServiceConfig."""
    out = []
    for r in run.by_type(CONFIG):
        data = r.plain.get("data")
        if isinstance(data, str):
            out.append((r.name, base64.b64decode(data).decode(errors="replace")))
    return out


def _yaml(text: str) -> Any:
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError:
        return None


def kind_of(name: str, content: str) -> str | None:
    """Classify an artifact by its logical name and shape; None when no validator applies."""
    n = name.lower()
    if "caddyfile" in n:
        return "caddyfile"
    if "alertmanager" in n:
        return "alertmanager"
    if "openbao" in n or re.search(r"(^|-)bao-", n) or n.endswith(".hcl"):
        return "openbao-hcl"
    if "prometheus" in n or "rules" in n:
        doc = _yaml(content)
        if isinstance(doc, dict) and "groups" in doc:
            return "prometheus-rules"
        if isinstance(doc, dict) and ("scrape_configs" in doc or "global" in doc):
            return "prometheus-config"
    return None


def _tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise ToolMissingError(f"{name} is not installed (tools/ci-setup.sh installs it)")
    return path


def _run(cmd: list[str], env: dict[str, str] | None = None) -> Result:
    p = subprocess.run(cmd, capture_output=True, text=True, timeout=TIMEOUT, env=env)
    return Result(p.returncode == 0, (p.stdout + p.stderr).strip())


def _in_tmp(content: str, filename: str, fn: Callable[[Path], Result]) -> Result:
    with tempfile.TemporaryDirectory(prefix="agent-os-artifact-") as d:
        path = Path(d) / filename
        path.write_text(content)
        return fn(path)


def check_caddyfile(content: str) -> Result:
    caddy = _tool("caddy")

    def go(path: Path) -> Result:
        env = {**os.environ, "XDG_DATA_HOME": str(path.parent / "data"), "XDG_CONFIG_HOME": str(path.parent)}
        env["HOME"] = str(path.parent)
        # The root CA the Caddyfile names is a Docker secret in the stack: mint one with the
        # stack's own step and point the file at it, so validation provisions the real CA.
        pem = mockrun.mint_root_ca()
        text = path.read_text()
        for target, body in ((ROOT_CERT_FILE, pem["cert"]), (ROOT_KEY_FILE, pem["key"])):
            local = path.parent / Path(target).name
            local.write_text(body)
            text = text.replace(target, str(local))
        path.write_text(text)
        adapt = _run([caddy, "adapt", "--config", str(path), "--adapter", "caddyfile"], env)
        if not adapt.ok:
            return adapt
        return _run([caddy, "validate", "--config", str(path), "--adapter", "caddyfile"], env)

    return _in_tmp(content, "Caddyfile", go)


def check_prometheus_config(content: str) -> Result:
    promtool = _tool("promtool")
    return _in_tmp(
        content, "prometheus.yml", lambda p: _run([promtool, "check", "config", "--syntax-only", str(p)])
    )


def check_prometheus_rules(content: str) -> Result:
    promtool = _tool("promtool")
    return _in_tmp(content, "rules.yml", lambda p: _run([promtool, "check", "rules", str(p)]))


# Fields newer than the amtool at hand (Debian bookworm ships 0.25; the image is newer):
# (minimum Alertmanager version, key inside http_config). Stripped before checking with an
# older amtool, and reported, so the rest of the file is still checked by the real tool.
AM_NEWER_HTTP_KEYS = (((0, 28), "http_headers"),)


def amtool_version(amtool: str) -> tuple[int, int]:
    out = _run([amtool, "--version"]).output
    m = re.search(r"version (\d+)\.(\d+)", out)
    return (int(m.group(1)), int(m.group(2))) if m else (0, 0)


def _strip_http_keys(node: Any, keys: set[str], found: list[str]) -> Any:
    if isinstance(node, dict):
        out = {}
        for k, v in node.items():
            if k == "http_config" and isinstance(v, dict):
                for key in keys & set(v):
                    found.append(key)
                v = {a: b for a, b in v.items() if a not in keys}
            out[k] = _strip_http_keys(v, keys, found)
        return out
    if isinstance(node, list):
        return [_strip_http_keys(x, keys, found) for x in node]
    return node


def check_alertmanager(content: str) -> Result:
    amtool = _tool("amtool")
    version = amtool_version(amtool)
    newer = {key for need, key in AM_NEWER_HTTP_KEYS if version < need}
    note = ""
    if newer:
        found: list[str] = []
        doc = _strip_http_keys(_yaml(content), newer, found)
        if found:
            content = yaml.safe_dump(doc, sort_keys=False)
            note = f"\n(not checked: {sorted(set(found))} need a newer amtool than {version[0]}.{version[1]})"
    res = _in_tmp(content, "alertmanager.yml", lambda p: _run([amtool, "check-config", str(p)]))
    return Result(res.ok, res.output + note)


# The server refuses to start without storage and a listener; raft also needs the
# addresses peers and clients use.
BAO_REQUIRED = ("storage", "listener")
BAO_RAFT_REQUIRED = ("api_addr", "cluster_addr")


def check_openbao_hcl(content: str) -> Result:
    import hcl2  # python-hcl2

    try:
        doc = hcl2.loads(content)
    except Exception as e:
        return Result(False, f"HCL parse error: {e}")
    missing = [k for k in BAO_REQUIRED if k not in doc]
    storage = doc.get("storage") or []
    kinds = {k.strip('"') for block in storage for k in block}
    if "raft" in kinds:
        missing += [k for k in BAO_RAFT_REQUIRED if k not in doc]
    if missing:
        return Result(False, f"missing top-level keys the server needs: {missing}")
    return Result(True, f"parsed: {sorted(doc)}; storage {sorted(kinds)}")


VALIDATORS: dict[str, Callable[[str], Result]] = {
    "caddyfile": check_caddyfile,
    "prometheus-config": check_prometheus_config,
    "prometheus-rules": check_prometheus_rules,
    "alertmanager": check_alertmanager,
    "openbao-hcl": check_openbao_hcl,
}


def validate_run(run: mockrun.Run) -> list[tuple[str, str, Result]]:
    """(artifact name, kind, result) for every artifact of the run a validator applies to."""
    out = []
    for name, content in configs(run):
        kind = kind_of(name, content)
        if kind is not None:
            out.append((name, kind, VALIDATORS[kind](content)))
    return out


__all__ = [
    "VALIDATORS",
    "Result",
    "ToolMissingError",
    "check_alertmanager",
    "check_caddyfile",
    "check_openbao_hcl",
    "check_prometheus_config",
    "check_prometheus_rules",
    "configs",
    "kind_of",
    "validate_run",
]
