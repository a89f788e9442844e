"""Base class for every stack-config model: camelCase keys, unknown keys rejected.

Also the shared value types and checks. Each error names what a valid value looks like, and
none repeats a credential it found.
"""

from __future__ import annotations

import ipaddress
import posixpath
import re
import urllib.parse
from collections.abc import Sequence
from typing import Annotated, Any

from pydantic import AfterValidator, BaseModel, ConfigDict, ValidationError
from pydantic.alias_generators import to_camel
from pydantic_core import InitErrorDetails, PydanticCustomError


class ConfigModel(BaseModel):
    """Stack config is written in camelCase (Pulumi convention) and read in snake_case."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        validate_default=True,
    )


Loc = tuple[str | int, ...]


def raise_all(found: Sequence[tuple[Loc, str]], container: Any) -> None:
    """Report every problem found inside one field at once, each at its own key path below
    the field (a validator raises one error; a ValidationError raised in it carries many,
    which pydantic places under the field). `container` is the field's whole value, so the
    report never repeats a single (maybe secret) value."""
    if found:
        raise ValidationError.from_exception_data(
            "stack config",
            [
                InitErrorDetails(
                    type=PydanticCustomError("value_error", "{reason}", {"reason": reason}),
                    loc=loc,
                    input=container,
                )
                for loc, reason in found
            ],
        )


# --- Credentials: where they must never be (config.json, env, URLs) --------------------

# Names that say "credential" (platform.md appendix A): such a key never holds a plain value
# in config.json or a service's env; the value belongs in secret config. A `*_REF` key holds
# a reference (vault://...), and what names or describes a credential (where it lives, its
# header, type or lifetime) is not the credential.
_SECRET_PARTS = (
    "PASSWORD",
    "PASSWD",
    "PASSPHRASE",
    "SECRET",
    "API_KEY",
    "APIKEY",
    "ACCESS_KEY",
    "ACCESSKEY",
    "PRIVATE_KEY",
    "SIGNING_KEY",
    "ENCRYPTION_KEY",
    "HMAC_KEY",
    "CREDENTIAL",
)
_NOT_A_CREDENTIAL = (
    "_REF",
    "_FILE",
    "_PATH",
    "_URL",
    "_URI",
    "_ENDPOINT",
    "_HEADER",
    "_NAME",
    "_TYPE",
    "_TTL",
)
# Query parameters that carry a credential under a short name.
_SECRET_QUERY = frozenset({"key", "auth", "sig", "signature"})


def is_secret_name(name: str) -> bool:
    """`*PASSWORD*`, `*SECRET*`, `*API_KEY*`, `*ACCESS_KEY`, `*TOKEN` (a word ending in TOKEN:
    MAX_TOKENS is not one), private/signing/encryption keys; not `*_REF`, `*_FILE`, `*_URL`,
    `*_ENDPOINT`, `*_HEADER`, `*_NAME`, `*_TYPE`, `*_TTL`."""
    n = re.sub(r"[^A-Z0-9]+", "_", name.upper())
    if n.endswith(_NOT_A_CREDENTIAL):
        return False
    if any(part in n for part in _SECRET_PARTS):
        return True
    return any(word.endswith("TOKEN") for word in n.split("_"))


_CREDENTIAL_VALUES: tuple[tuple[re.Pattern[str], str], ...] = (
    (re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://[^/\s?#@:]*:[^/\s?#@]+@"), "a URL with user:password@"),
    (re.compile(r"-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----"), "a private key"),
    (re.compile(r"\b(?:gh[pousr]_[A-Za-z0-9]{20,}|github_pat_[A-Za-z0-9_]{20,})"), "a GitHub token"),
    (re.compile(r"\bglpat-[A-Za-z0-9_-]{20,}"), "a GitLab token"),
    (re.compile(r"\bxox[abposr]-[A-Za-z0-9-]{10,}"), "a Slack token"),
    (re.compile(r"\b(?:AKIA|ASIA)[0-9A-Z]{16}\b"), "an AWS access key"),
    (re.compile(r"\bsk-[A-Za-z0-9_-]{16,}"), "an API secret key (sk-...)"),
    (re.compile(r"\bAIza[0-9A-Za-z_-]{35}"), "a Google API key"),
    (re.compile(r"\beyJ[A-Za-z0-9_-]{5,}\.eyJ[A-Za-z0-9_-]{5,}\.[A-Za-z0-9_-]*"), "a JSON Web Token"),
    (re.compile(r"(?i)\bbearer\s+[A-Za-z0-9._~+/-]{16,}"), "a bearer token"),
)


def credential_in(value: str) -> str | None:
    """What kind of credential `value` plainly carries, or None."""
    for pattern, what in _CREDENTIAL_VALUES:
        if pattern.search(value):
            return what
    return None


def credentials_in(value: Any, loc: Loc = ()) -> list[tuple[Loc, str]]:
    """Secret-named keys and credential-looking strings anywhere in a config.json/env value."""
    found: list[tuple[Loc, str]] = []
    if isinstance(value, dict):
        for k, v in value.items():
            if is_secret_name(str(k)):
                found.append(((*loc, str(k)), "names a secret; credentials belong in secret config"))
            else:
                found += credentials_in(v, (*loc, str(k)))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            found += credentials_in(v, (*loc, i))
    elif isinstance(value, str) and (why := value_credentials(value)):
        found.append((loc, f"{why}; credentials belong in secret config"))
    return found


def value_credentials(value: str) -> str | None:
    """Why a plain config.json/env value is a credential (a URL carrying one, or what looks
    like a key or token), or None."""
    try:
        if "://" in value and (kind := url_credentials(value)):
            return f"is a URL carrying credentials ({kind})"
    except ValueError:
        pass
    if what := credential_in(value):
        return f"holds what looks like {what}"
    return None


def url_credentials(v: str) -> str | None:
    """Which credential URL `v` carries (userinfo, a secret query parameter, a token), or
    None. Raises ValueError when `v` cannot be split as a URL."""
    u = urllib.parse.urlsplit(v)
    if u.username is not None or u.password is not None:
        return "user:password@"
    for name, _ in urllib.parse.parse_qsl(u.query, keep_blank_values=True):
        if is_secret_name(name) or name.lower() in _SECRET_QUERY:
            return f"query parameter {name!r}"
    if what := credential_in(v):
        return f"what looks like {what}"
    return None


# --- Shared value types (pure validators; each error names what a valid value looks like) ---

_DNS_LABEL = re.compile(r"^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$")
# The registry reference grammar (distribution/reference): optional host[:port]/, a
# lowercase path, then :tag and/or @sha256:digest.
_PATH_COMPONENT = r"[a-z0-9]+(?:(?:[._]|__|-+)[a-z0-9]+)*"
_HOST = r"(?:[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?(?:\.[a-zA-Z0-9](?:[a-zA-Z0-9-]*[a-zA-Z0-9])?)*(?::[0-9]{1,5})?)"
_IMAGE_REF = re.compile(
    rf"^(?:{_HOST}/)?{_PATH_COMPONENT}(?:/{_PATH_COMPONENT})*"
    r"(?::[A-Za-z0-9_][A-Za-z0-9_.-]{0,127})?(?:@sha256:[a-f0-9]{64})?$"
)
_REGISTRY_HOST = re.compile(rf"^{_HOST}$")
_HOSTNAME = re.compile(
    r"^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$"
)


def dns_zone(v: str) -> str:
    labels = v.split(".")
    bad = [label for label in labels if not _DNS_LABEL.match(label)]
    if bad or len(v) > 253:
        raise ValueError(
            f"every DNS label must be 1-63 lowercase letters, digits or inner hyphens (bad label(s): {bad})"
        )
    return v


def image_reference(v: str) -> str:
    if not _IMAGE_REF.match(v):
        raise ValueError(f"{v!r} is not an image reference (registry/repository[:tag][@sha256:digest])")
    return v


def registry_host(v: str) -> str:
    if not _REGISTRY_HOST.match(v):
        raise ValueError(f"{v!r} must be a registry host[:port], not a URL")
    return v


def shows_credential(value: str) -> bool:
    """Whether repeating `value` (e.g. in an error message) would show a credential."""
    try:
        return url_credentials(value) is not None
    except ValueError:  # not even a URL
        return credential_in(value) is not None


def http_url(v: str) -> str:
    u = urllib.parse.urlsplit(v)
    if u.scheme not in ("http", "https") or not u.hostname or any(c.isspace() for c in v):
        raise ValueError("is not an http(s) URL with a host")
    no_url_credentials(v)
    return v


def no_url_credentials(v: str | None) -> str | None:
    if v is not None and (kind := url_credentials(v)):
        raise ValueError(f"must not carry credentials ({kind}); use the secret config keys")
    return v


def host_or_address(v: str) -> str:
    try:
        ipaddress.ip_address(v)
        return v
    except ValueError:
        pass
    if not _HOSTNAME.match(v):
        raise ValueError("must be a hostname or an IP address")
    return v


# Node labels name placement constraints (node.labels.<label>==...) and the labels day 0
# writes with `docker node update --label-add`: the Docker label-key syntax, lowercase.
LABEL_KEY = r"^[a-z0-9]([a-z0-9.-]{0,62}[a-z0-9])?$"
# The node label in which day 0 records which labels it manages (so it can remove stale ones).
MANAGED_LABELS = "agent-os.managed-labels"
# Label namespaces Docker reserves for itself.
DOCKER_LABEL_PREFIXES = ("com.docker.", "io.docker.", "org.dockerproject.")


def label_key_problem(v: str) -> str | None:
    if not re.fullmatch(LABEL_KEY, v):
        return f"label key {v!r} must match {LABEL_KEY}"
    if v == MANAGED_LABELS:
        return f"label {v!r} is reserved for day 0 bookkeeping"
    if v.startswith(DOCKER_LABEL_PREFIXES):
        return f"label {v!r} is in a namespace Docker reserves ({', '.join(DOCKER_LABEL_PREFIXES)})"
    return None


def node_label(v: str) -> str:
    if why := label_key_problem(v):
        raise ValueError(f"is not a node label name: {why}")
    return v


# Postgres: unquoted identifiers (the names reach SQL, scripts and connection strings).
_PG_IDENT = re.compile(r"^[a-z_][a-z0-9_]{0,62}$")
# SQL key words Postgres reserves (docs, appendix C): unusable unquoted as a name.
PG_RESERVED = frozenset(
    [
        "all",
        "analyse",
        "analyze",
        "and",
        "any",
        "array",
        "as",
        "asc",
        "asymmetric",
        "authorization",
        "binary",
        "both",
        "case",
        "cast",
        "check",
        "collate",
        "collation",
        "column",
        "concurrently",
        "constraint",
        "create",
        "cross",
        "current_catalog",
        "current_date",
        "current_role",
        "current_schema",
        "current_time",
        "current_timestamp",
        "current_user",
        "default",
        "deferrable",
        "desc",
        "distinct",
        "do",
        "else",
        "end",
        "except",
        "false",
        "fetch",
        "for",
        "foreign",
        "freeze",
        "from",
        "full",
        "grant",
        "group",
        "having",
        "ilike",
        "in",
        "initially",
        "inner",
        "intersect",
        "into",
        "is",
        "isnull",
        "join",
        "lateral",
        "leading",
        "left",
        "like",
        "limit",
        "localtime",
        "localtimestamp",
        "natural",
        "not",
        "notnull",
        "null",
        "offset",
        "on",
        "only",
        "or",
        "order",
        "outer",
        "overlaps",
        "placing",
        "primary",
        "references",
        "returning",
        "right",
        "select",
        "session_user",
        "similar",
        "some",
        "symmetric",
        "system_user",
        "table",
        "tablesample",
        "then",
        "to",
        "trailing",
        "true",
        "union",
        "unique",
        "user",
        "using",
        "variadic",
        "verbose",
        "when",
        "where",
        "window",
        "with",
    ]
)
# Role names Postgres itself refuses or owns.
PG_RESERVED_ROLES = frozenset({"public", "none"})


def pg_name(v: str) -> str:
    if not _PG_IDENT.match(v):
        raise ValueError(
            "must be a Postgres identifier: lowercase letters, digits and '_', not starting "
            "with a digit, at most 63 characters"
        )
    if v in PG_RESERVED:
        raise ValueError("is a reserved SQL key word")
    return v


def pg_role(v: str) -> str:
    pg_name(v)
    if v in PG_RESERVED_ROLES or v.startswith("pg_"):
        raise ValueError("is reserved by Postgres (public, none and pg_* are its own roles)")
    return v


def socket_path(v: str) -> str:
    """A host socket to bind-mount: absolute, normalised (no '.', '..' or '//'), a *.sock file."""
    if (
        not re.fullmatch(r"/[A-Za-z0-9._/-]+\.sock", v)
        or posixpath.normpath(v) != v
        or any(part in (".", "..") for part in v.split("/"))
    ):
        raise ValueError(
            "must be the absolute path of a socket file (/.../*.sock, no '..'), e.g. /var/run/docker.sock"
        )
    return v


DnsZone = Annotated[str, AfterValidator(dns_zone)]
ImageReference = Annotated[str, AfterValidator(image_reference)]
RegistryHost = Annotated[str, AfterValidator(registry_host)]
HttpUrl = Annotated[str, AfterValidator(http_url)]
NodeLabel = Annotated[str, AfterValidator(node_label)]
PgName = Annotated[str, AfterValidator(pg_name)]
PgRole = Annotated[str, AfterValidator(pg_role)]
SocketPath = Annotated[str, AfterValidator(socket_path)]
