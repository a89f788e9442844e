"""random: RandomPassword, as terraform-provider-random makes it.

Every input forces a new password (the upstream marks them all RequiresReplace). The
password draws from the classes the inputs enable, honours the minimums, and is shuffled
with `secrets.SystemRandom`; `bcryptHash` is not computed (no bcrypt in the stdlib) and is
refused if the program ever reads it."""

from __future__ import annotations

import secrets
import string
from typing import Any, ClassVar

from verify.providers.base import Provider, ProviderError, Resource

SPECIAL = "!@#$%&*()-_=+[]{}<>:?"  # the upstream's default special set


def password(inputs: dict[str, Any]) -> str:
    length = int(inputs["length"])
    classes: list[tuple[str, int]] = []
    if inputs.get("upper", True):
        classes.append((string.ascii_uppercase, int(inputs.get("minUpper", 0))))
    if inputs.get("lower", True):
        classes.append((string.ascii_lowercase, int(inputs.get("minLower", 0))))
    if inputs.get("numeric", inputs.get("number", True)):
        classes.append((string.digits, int(inputs.get("minNumeric", 0))))
    if inputs.get("special", True):
        classes.append((inputs.get("overrideSpecial") or SPECIAL, int(inputs.get("minSpecial", 0))))
    if not classes:
        raise ProviderError("random: every character class is disabled")
    if sum(n for _, n in classes) > length:
        raise ProviderError(f"random: the minimums add up to more than length {length}")
    rng = secrets.SystemRandom()
    chars = [rng.choice(alphabet) for alphabet, n in classes for _ in range(n)]
    pool = "".join(alphabet for alphabet, _ in classes)
    chars += [rng.choice(pool) for _ in range(length - len(chars))]
    rng.shuffle(chars)
    return "".join(chars)


class RandomPassword(Resource):
    type_token = "random:index/randomPassword:RandomPassword"
    replace_on: ClassVar[frozenset[str]] = frozenset({"*"})

    def create(self, inputs: dict[str, Any], preview: bool) -> tuple[str, dict[str, Any]]:
        if preview:
            return "", dict(inputs)
        return "none", {**inputs, "result": password(inputs)}

    def update(
        self, id_: str, old_inputs: dict[str, Any], state: dict[str, Any], news: dict[str, Any], preview: bool
    ) -> dict[str, Any]:
        return {**state, **news}  # only reached for no-op changes: every input replaces

    def delete(self, id_: str, state: dict[str, Any]) -> None:
        return None

    def read(
        self, id_: str, state: dict[str, Any], inputs: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]] | None:
        return state, inputs  # a password lives only in the state


class RandomProvider(Provider):
    package = "random"
    resource_types = (RandomPassword,)


PROVIDER = RandomProvider
