"""random: RandomPassword, as terraform-provider-random makes it (pulumi-random 4.21.4 bridges
its plugin-framework `random_password`; internal/random/string.go, internal/provider/
resource_password.go).

* The password: `length` characters (at least 1, and at least the sum of the minimums);
  first `minUpper`/`minLower`/`minNumeric`/`minSpecial` characters from each class (the
  upstream draws the minimums whether or not the class is enabled), then the rest from
  the enabled classes together, shuffled; the special set is `!@#$%&*()-_=+[]{}<>:?` unless
  `overrideSpecial` is given. Drawn with `secrets.SystemRandom`.
* Defaults as the upstream's schema: `upper`, `lower`, `numeric` (alias `number`),
  `special` true, the minimums 0. The state carries them, like the upstream's, and the
  diff compares inputs with the defaults filled in (so writing a default explicitly is no
  change).
* Every change replaces (the upstream's RequiresReplace on every argument); id "none".
* `result` is secret through the SDK's `additional_secret_outputs` (the engine encrypts it
  in the state). `bcryptHash` is not computed (no bcrypt here); the program never reads it.
"""

from __future__ import annotations

import secrets
import string
from typing import Any

from verify.providers.base import UNKNOWN, Diff, Provider, ProviderError, Resource, changed_keys

SPECIAL = "!@#$%&*()-_=+[]{}<>:?"  # the upstream's default special set
DEFAULTS: dict[str, Any] = {
    "upper": True,
    "lower": True,
    "special": True,
    "minUpper": 0,
    "minLower": 0,
    "minNumeric": 0,
    "minSpecial": 0,
}


def with_defaults(inputs: dict[str, Any]) -> dict[str, Any]:
    """The inputs as the upstream plans them: defaults filled, `number`/`numeric` in step."""
    out = {**DEFAULTS, **{k: v for k, v in inputs.items() if v is not None}}
    numeric = out.get("numeric", out.get("number", True))
    out["numeric"] = out["number"] = numeric
    return out


def password(inputs: dict[str, Any]) -> str:
    p = with_defaults(inputs)
    length = int(p["length"])
    special = str(p.get("overrideSpecial") or SPECIAL)
    minimums = {
        string.ascii_uppercase: int(p["minUpper"]),
        string.ascii_lowercase: int(p["minLower"]),
        string.digits: int(p["minNumeric"]),
        special: int(p["minSpecial"]),
    }
    if length < 1:
        raise ProviderError(f"random: length must be at least 1, got {length}")
    if sum(minimums.values()) > length:
        raise ProviderError(
            f"random: length ({length}) must be at least the sum of min_upper, min_lower, "
            f"min_numeric and min_special ({sum(minimums.values())})"
        )
    pool = "".join(
        alphabet
        for alphabet, on in (
            (string.ascii_uppercase, p["upper"]),
            (string.ascii_lowercase, p["lower"]),
            (string.digits, p["numeric"]),
            (special, p["special"]),
        )
        if on
    )
    if not pool:
        raise ProviderError("random: the character set specified is empty")
    rng = secrets.SystemRandom()
    chars = [rng.choice(alphabet) for alphabet, n in minimums.items() for _ in range(n)]
    chars += [rng.choice(pool) for _ in range(length - len(chars))]
    rng.shuffle(chars)
    return "".join(chars)


class RandomPassword(Resource):
    type_token = "random:index/randomPassword:RandomPassword"

    def diff(self, id_: str, old_inputs: dict[str, Any], state: dict[str, Any], news: dict[str, Any]) -> Diff:
        keys = changed_keys(with_defaults(old_inputs), with_defaults(news))
        return Diff(updates=keys, replaces=keys)

    def create(self, inputs: dict[str, Any], preview: bool) -> tuple[str, dict[str, Any]]:
        if preview:
            return "", {**with_defaults(inputs), "result": UNKNOWN}
        return "none", {**with_defaults(inputs), "result": password(inputs)}

    def update(
        self, id_: str, old_inputs: dict[str, Any], state: dict[str, Any], news: dict[str, Any], preview: bool
    ) -> dict[str, Any]:
        return {**state, **with_defaults(news)}  # not reached: every change replaces

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
