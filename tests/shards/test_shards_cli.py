# pyright: strict
"""``python -m shards`` end to end, via subprocess."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.shards.oracle import ref_choose

REPO = Path(__file__).resolve().parents[2]
LOCAL = ["tcp://localhost:9101", "tcp://localhost:9102", "tcp://localhost:9103"]


def run(*args: str) -> subprocess.CompletedProcess[str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), *([env["PYTHONPATH"]] if env.get("PYTHONPATH") else [])])
    return subprocess.run(
        [sys.executable, "-m", "shards", *args],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def ok_json(*args: str) -> dict[str, object]:
    proc = run(*args)
    assert proc.returncode == 0, proc.stderr
    assert proc.stderr == ""
    data = json.loads(proc.stdout)
    assert isinstance(data, dict)
    return data  # pyright: ignore[reportUnknownVariableType]


# --- endpoints ---------------------------------------------------------------------


def test_endpoints() -> None:
    assert ok_json("endpoints", "--count", "3") == {
        "endpoints": [
            "tcp://kg-shard-1:9101",
            "tcp://kg-shard-2:9102",
            "tcp://kg-shard-3:9103",
        ]
    }


def test_endpoints_base_port() -> None:
    assert ok_json("endpoints", "--count", "2", "--base-port", "9201") == {
        "endpoints": ["tcp://kg-shard-1:9201", "tcp://kg-shard-2:9202"]
    }


# --- route -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("tenant", "graph", "shard"),
    [
        ("acme", "tenant__acme____bus__", "tcp://localhost:9103"),
        ("globex", "tenant__globex____bus__", "tcp://localhost:9101"),
        ("initech", "tenant__initech____bus__", "tcp://localhost:9102"),
        (None, "__bus__", "tcp://localhost:9103"),
    ],
)
def test_route_sample_vectors(tenant: str | None, graph: str, shard: str) -> None:
    args = ["route", "--endpoints", ",".join(LOCAL), "--base", "__bus__"]
    if tenant is not None:
        args += ["--tenant", tenant]
    assert ok_json(*args) == {"graph": graph, "endpoint": shard}


def test_route_default_base_is_commons() -> None:
    out = ok_json("route", "--endpoints", ",".join(LOCAL))
    assert out == {"graph": "__commons__", "endpoint": ref_choose(LOCAL, "__commons__")}
    out = ok_json("route", "--endpoints", ",".join(LOCAL), "--tenant", "Acme Corp/EU")
    g = "tenant__acme_corp_eu____commons__"
    assert out == {"graph": g, "endpoint": ref_choose(LOCAL, g)}


def test_route_graph_verbatim() -> None:
    g = "Some Graph/with:odd chars"
    out = ok_json("route", "--endpoints", ",".join(LOCAL), "--graph", g, "--tenant", "acme")
    assert out == {"graph": g, "endpoint": ref_choose(LOCAL, g)}


def test_route_single_endpoint_and_whitespace() -> None:
    out = ok_json("route", "--endpoints", " tcp://only:1 ,", "--tenant", "x")
    assert out == {"graph": "tenant__x____commons__", "endpoint": "tcp://only:1"}


# --- reshard -----------------------------------------------------------------------


def test_reshard(tmp_path: Path) -> None:
    tenants = [f"cust-{i}" for i in range(300)]
    f = tmp_path / "tenants.txt"
    f.write_text("# tenants\n\n" + "\n".join(tenants + tenants[:5]) + "\n", encoding="utf-8")
    out = ok_json("reshard", "--from", "3", "--to", "4", "--tenants-file", str(f))
    old = [f"tcp://kg-shard-{n}:{9100 + n}" for n in range(1, 4)]
    new = [f"tcp://kg-shard-{n}:{9100 + n}" for n in range(1, 5)]
    expected: list[dict[str, str]] = []
    for t in tenants:
        g = f"tenant__{t}____commons__"
        src, dst = ref_choose(old, g), ref_choose(new, g)
        if src != dst:
            expected.append({"tenant": t, "graph": g, "from": src, "to": dst})
    assert expected
    assert out["moved"] == expected
    assert out["moved_fraction"] == pytest.approx(len(expected) / len(tenants))  # pyright: ignore[reportUnknownMemberType]
    assert out["total"] == len(tenants)


def test_reshard_base_and_port(tmp_path: Path) -> None:
    f = tmp_path / "t.txt"
    f.write_text("\n".join(f"t{i}" for i in range(200)), encoding="utf-8")
    out = ok_json(
        "reshard",
        "--from", "2", "--to", "3",
        "--tenants-file", str(f),
        "--base-port", "7001",
        "--base", "kg",
    )  # fmt: skip
    old = ["tcp://kg-shard-1:7001", "tcp://kg-shard-2:7002"]
    new = [*old, "tcp://kg-shard-3:7003"]
    moved = out["moved"]
    assert isinstance(moved, list)
    expected = [
        {"tenant": f"t{i}", "graph": f"tenant__t{i}__kg", "from": s, "to": d}
        for i in range(200)
        if (s := ref_choose(old, f"tenant__t{i}__kg")) != (d := ref_choose(new, f"tenant__t{i}__kg"))
    ]
    assert moved == expected


# --- errors ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "args",
    [
        ["endpoints", "--count", "0"],
        ["endpoints", "--count", "65"],
        ["endpoints", "--count", "three"],
        ["endpoints", "--count", "2", "--base-port", "65535"],
        ["endpoints"],
        ["route", "--endpoints", ""],
        ["route", "--endpoints", ",,"],
        ["route", "--endpoints", " , "],
        ["route", "--endpoints", "tcp://a:1", "--base", ""],
        [
            "reshard",
            "--from",
            "3",
            "--to",
            "4",
            "--tenants-file",
            "/nonexistent/tenants.txt",
        ],
        ["reshard", "--from", "0", "--to", "4", "--tenants-file", "/dev/null"],
        ["reshard", "--from", "3", "--to", "99", "--tenants-file", "/dev/null"],
        ["nosuchcommand"],
        [],
    ],
)
def test_bad_input_exits_2_with_one_line(args: list[str]) -> None:
    proc = run(*args)
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert proc.stderr.endswith("\n")
    assert proc.stderr.count("\n") == 1, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.startswith("shards: error: ")


def test_unreadable_tenants_file_is_named(tmp_path: Path) -> None:
    proc = run("reshard", "--from", "3", "--to", "4", "--tenants-file", str(tmp_path))
    assert proc.returncode == 2
    assert proc.stdout == ""
    assert str(tmp_path) in proc.stderr
    assert proc.stderr.count("\n") == 1
