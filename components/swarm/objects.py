"""Swarm configs and secrets are immutable: name them by content so a change creates a
new object, the service switches to it, and Pulumi deletes the old one afterwards."""

from __future__ import annotations

import base64
import hashlib

import pulumi
import pulumi_docker as docker


def digest(content: str | bytes, length: int = 12) -> str:
    data = content.encode() if isinstance(content, str) else content
    return hashlib.sha256(data).hexdigest()[:length]


def _labels(namespace: str) -> list[docker.ServiceConfigLabelArgs]:
    return [docker.ServiceConfigLabelArgs(label="com.docker.stack.namespace", value=namespace)]


def hashed_config(
    namespace: str, logical: str, content: str, opts: pulumi.ResourceOptions
) -> docker.ServiceConfig:
    """A ServiceConfig named `<ns>-<logical>-<sha256[:12]>` (create-before-delete)."""
    return docker.ServiceConfig(
        logical,
        name=f"{namespace}-{logical}-{digest(content)}",
        data=base64.b64encode(content.encode()).decode(),
        labels=_labels(namespace),
        opts=opts,
    )


def hashed_secret(
    namespace: str, logical: str, value: pulumi.Input[str], opts: pulumi.ResourceOptions
) -> docker.Secret:
    """A Secret named by a digest of its value. Value and name both stay Pulumi secrets."""
    secret_value = pulumi.Output.secret(value)
    return docker.Secret(
        logical,
        name=secret_value.apply(lambda v: f"{namespace}-{logical}-{digest(v)}"),
        data=secret_value.apply(lambda v: base64.b64encode(v.encode()).decode()),
        labels=[docker.SecretLabelArgs(label="com.docker.stack.namespace", value=namespace)],
        opts=opts,
    )
