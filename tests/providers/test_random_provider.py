"""verify/providers/random.py through the real Pulumi CLI and engine: RandomPassword as
terraform-provider-random makes it (see the module's docstring for the upstream evidence),
its result a secret in the stack state."""

from __future__ import annotations

import string
import textwrap
from pathlib import Path

import pytest

from tests.engine.enginehelp import build_toolchain, changes, mini_project

pytestmark = pytest.mark.engine

STACK = "mini-test"
UPSTREAM_SPECIAL = "!@#$%&*()-_=+[]{}<>:?"  # terraform-provider-random internal/random/string.go
ALNUM = set(string.ascii_letters + string.digits)

PROGRAM = textwrap.dedent(
    """
    import pulumi, pulumi_random as random
    cfg = pulumi.Config()
    explicit = cfg.get_bool("explicit") or False
    defaults = {"upper": True, "lower": True, "numeric": True, "min_upper": 0} if explicit else {}
    a = random.RandomPassword("a", length=cfg.require_int("length"), special=False, **defaults)
    b = random.RandomPassword("b", length=40, min_upper=5, min_lower=5, min_numeric=5, min_special=5)
    c = random.RandomPassword("c", length=12, override_special="_%", min_special=3)
    d = random.RandomPassword("d", length=400, upper=False, lower=False, numeric=False)
    for name, pw in {"a": a, "b": b, "c": c, "d": d}.items():
        pulumi.export(name, pw.result)
    """
)


@pytest.fixture(scope="module")
def toolchain() -> Path:
    return build_toolchain()


def test_random_password_classes_secrecy_and_replacement(toolchain: Path, tmp_path: Path) -> None:
    ws = mini_project(tmp_path, toolchain, PROGRAM)
    ws.pulumi("config", "set", "length", "32")
    ws.pulumi("up", "--yes", "--skip-preview")
    pw = ws.pulumi("stack", "output", "--json", "--show-secrets").json()

    # Length and classes.
    assert len(pw["a"]) == 32 and set(pw["a"]) <= ALNUM
    b = pw["b"]
    assert len(b) == 40 and set(b) <= ALNUM | set(UPSTREAM_SPECIAL)
    for alphabet in (string.ascii_uppercase, string.ascii_lowercase, string.digits, UPSTREAM_SPECIAL):
        assert sum(ch in alphabet for ch in b) >= 5, (alphabet, b)
    c = pw["c"]
    assert len(c) == 12 and set(c) <= ALNUM | {"_", "%"} and sum(ch in "_%" for ch in c) >= 3
    # Specials only, 400 of them: every one of the upstream's default set shows up (a
    # missing one has odds below 1e-7), and nothing else.
    assert set(pw["d"]) == set(UPSTREAM_SPECIAL)

    # A secret: hidden by `stack output`, encrypted in the state.
    hidden = ws.pulumi("stack", "output", "--json").json()
    assert hidden == {k: "[secret]" for k in "abcd"}
    exported = ws.pulumi("stack", "export").stdout
    assert "ciphertext" in exported
    for value in pw.values():
        assert value not in exported
    assert pw["a"] in ws.pulumi("stack", "export", "--show-secrets").stdout  # it is there

    # Re-up: no changes; writing the defaults out is no change either.
    res = ws.pulumi("preview", "--expect-no-changes", "--json")
    assert set(changes(res)) == {"same"}
    ws.pulumi("config", "set", "--type", "bool", "explicit", "true")
    res = ws.pulumi("preview", "--expect-no-changes", "--json")
    assert set(changes(res)) == {"same"}
    ws.pulumi("up", "--yes", "--skip-preview")
    assert ws.pulumi("stack", "output", "--json", "--show-secrets").json() == pw

    # A new length replaces the password (and only that one).
    ws.pulumi("config", "set", "length", "20")
    assert changes(ws.pulumi("preview", "--json")) == {"replace": ["a"], "same": [STACK]}
    ws.pulumi("up", "--yes", "--skip-preview")
    after = ws.pulumi("stack", "output", "--json", "--show-secrets").json()
    assert len(after["a"]) == 20 and set(after["a"]) <= ALNUM and after["a"] not in pw["a"]
    assert {k: after[k] for k in "bcd"} == {k: pw[k] for k in "bcd"}
