"""Admin password rotation steps: services that read their admin password only on first
start (Technitium, Portainer, Keycloak's bootstrap admin) get a step that makes the
configured password the one in force, through the service's own API.

The step logs in with the configured password and, if that is refused, with the previous
one, then changes it. The previous password is the step's own last stdout: pulumi-command
hands a resource's previous stdout to an update as PULUMI_COMMAND_STDOUT. So stdout (the
password now in force, as JSON) is a secret output and never logged; only stderr (what was
done, no secret) is shown. The step has no triggers: a replace would run `create` without a
previous stdout, and every other input change is an in-place update that sees it."""

from __future__ import annotations

import json

import pulumi
import pulumi_command as command

STDOUT_KEY = "admin_password"


def admin_password_step(
    name: str,
    script: str,
    env: dict[str, pulumi.Input[str]],
    after: list[pulumi.Resource],
    parent: pulumi.Resource,
) -> command.local.Command:
    """`script`: a stdlib admin script and its mode, run with `python3` (e.g.
    `components/edge/dnsctl.py password`); secrets only in `env`, never in the command."""
    cmd = f"python3 {script}"
    return command.local.Command(
        name,
        create=cmd,
        update=cmd,
        environment=env,
        add_previous_output_in_env=True,
        logging=command.local.Logging.STDERR,
        opts=pulumi.ResourceOptions(parent=parent, depends_on=after, additional_secret_outputs=["stdout"]),
    )


def applied(stdout: str) -> str:
    """The password a step's stdout says is in force (tests and tools)."""
    return str(json.loads(stdout)[STDOUT_KEY])


__all__ = ["STDOUT_KEY", "admin_password_step", "applied"]
