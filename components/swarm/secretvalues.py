"""Secret values: from `pulumi config set --secret agent-os:<key>`, else generated once.

Generated values live in Pulumi state as secrets (random.RandomPassword.result), so
re-running changes nothing and no value ever appears in plaintext.
"""

from __future__ import annotations

import pulumi
import pulumi_random as random

from ..config import NAMESPACE
from ..config.secrets import SECRET_KEYS


class StackSecrets(pulumi.ComponentResource):
    def __init__(self, opts: pulumi.ResourceOptions | None = None) -> None:
        super().__init__("agent-os:swarm:Secrets", "secrets", None, opts)
        self._config = pulumi.Config(NAMESPACE)
        self._values: dict[str, pulumi.Output[str]] = {}
        self.generated: dict[str, random.RandomPassword] = {}
        self.register_outputs({})

    def value(self, key: str) -> pulumi.Output[str]:
        """The secret `key` (see config/secrets.py), always a Pulumi secret Output."""
        if key not in SECRET_KEYS:
            raise KeyError(f"unknown secret key {key!r}")
        if key not in self._values:
            configured = self._config.get_secret(key)
            spec = SECRET_KEYS[key]
            if configured is None and not spec.generate:
                # The config check requires it wherever it is used; reaching here is a bug.
                raise pulumi.RunError(
                    f"{NAMESPACE}:{key} ({spec.description}) is not set and is never generated"
                )
            if configured is None:
                pw = random.RandomPassword(
                    key,
                    length=spec.length,
                    special=spec.special,
                    opts=pulumi.ResourceOptions(parent=self),
                )
                self.generated[key] = pw
                configured = pw.result
            self._values[key] = pulumi.Output.secret(configured)
        return self._values[key]

    def optional(self, key: str) -> pulumi.Output[str] | None:
        """An external credential that may be absent (e.g. gitToken for a public repository)."""
        if SECRET_KEYS[key].generate:
            raise KeyError(f"{key!r} is generated when unset; use value()")
        return self.value(key) if self._config.get_secret(key) is not None else None
