"""Base class for every stack-config model: camelCase keys, unknown keys rejected."""

from __future__ import annotations

import re
import urllib.parse
from typing import Annotated

from pydantic import AfterValidator, BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class ConfigModel(BaseModel):
    """Stack config is written in camelCase (Pulumi convention) and read in snake_case."""

    model_config = ConfigDict(
        alias_generator=to_camel,
        populate_by_name=True,
        extra="forbid",
        frozen=True,
        validate_default=True,
    )


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


def http_url(v: str) -> str:
    u = urllib.parse.urlsplit(v)
    if u.scheme not in ("http", "https") or not u.hostname or any(c.isspace() for c in v):
        raise ValueError(f"{v!r} is not an http(s) URL with a host")
    if u.username is not None or u.password is not None:
        raise ValueError("must not carry credentials (user:password@); use the secret config keys")
    return v


DnsZone = Annotated[str, AfterValidator(dns_zone)]
ImageReference = Annotated[str, AfterValidator(image_reference)]
RegistryHost = Annotated[str, AfterValidator(registry_host)]
HttpUrl = Annotated[str, AfterValidator(http_url)]
