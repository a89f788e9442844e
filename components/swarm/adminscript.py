"""Where the stdlib admin-API scripts (dnsctl, baoctl, portainerctl) are, as pulumi-command
runs them: relative to the project directory, which is the working directory of `pulumi up`
and `pulumi preview`. An absolute path would make resource inputs depend on where the
repository is checked out, so a CI preview and the operator's `up` would disagree."""

from __future__ import annotations

from pathlib import Path

PROJECT_DIR = Path(__file__).resolve().parents[2]


def admin_script(module_file: str, name: str) -> Path:
    """The script `name` beside `module_file` (a `__file__`), relative to the project."""
    return Path(module_file).resolve().with_name(name).relative_to(PROJECT_DIR)
