"""The hardened profile as pure functions over (resource_type, props).

`props` are plain Python data in the provider's wire form (camelCase keys), as the policy
analyzer hands them over and as `tools.mockrun` captures them (after `unwrap`). A value
that is not known yet (preview: outputs of other resources) is one of the unknown
sentinels below; a check that needs such a value skips it instead of failing, because
its final value is checked again by `pulumi up` (which runs the pack with known values).

Stdlib only: the same module runs inside the Pulumi policy analyzer and in the tests.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

SERVICE = "docker:index/service:Service"
NETWORK = "docker:index/network:Network"
SERVICE_CONFIG = "docker:index/serviceConfig:ServiceConfig"
SECRET = "docker:index/secret:Secret"

# Labels the shared service model sets (components/swarm/service.py) and the fleet layer
# sets on connectors. Policies read them; they never guess from names.
LAYER_LABEL = "agent-os.layer"
KIND_LABEL = "agent-os.kind"
EDGE_LAYER = "edge"
CONNECTOR_KIND = "connector"
LATEST_ALLOWED_LABEL = "agent-os.image.latest-allowed"  # the stack's opt-in, set by the program

# Env names that carry credentials: the value must be a file path or a reference.
SECRET_ENV_SUFFIXES = ("_PASSWORD", "_SECRET", "_TOKEN", "_KEY")
SECRET_FILE_PREFIX = "/run/secrets/"
REFERENCE_SCHEMES = ("vault://", "env://", "secret://")

# Unknown-value sentinels of the Pulumi wire protocol (pulumi_policy.proxy and the SDK's
# rpc.UNKNOWN); preview hands these over for values computed by other resources.
UNKNOWNS = frozenset(
    {
        "04da6b54-80e4-46f7-96ec-b56ff0331ba9",  # string / generic
        "1c4a061d-8072-4f0a-a4cb-0ff528b18fe7",  # boolean
        "3eeb2bf0-c639-47a8-9e75-3b44932eb421",  # number
        "6a19a0b0-7e62-4c92-b797-7f8e31da9cc2",  # array
        "030794c1-ac77-496b-92df-f27374a8bd58",  # asset
        "e48ece36-62e2-4504-bad9-02848725956a",  # archive
        "dd056dcd-154b-4c76-9bd3-c8f88648b5ff",  # object
    }
)


def is_unknown(v: Any) -> bool:
    return isinstance(v, str) and v in UNKNOWNS


@dataclass(frozen=True)
class Context:
    """What the policies read from the stack config."""

    allow_latest_connectors: bool = False

    @staticmethod
    def from_stack_config(values: Mapping[str, Any]) -> Context:
        """From `{full_key: value}` stack config (`agent-os:images` as an object or JSON)."""
        images = values.get("agent-os:images") or {}
        if isinstance(images, str):
            import json

            images = json.loads(images)
        return Context(allow_latest_connectors=bool(images.get("allowLatestConnectors", False)))


Check = Callable[[Mapping[str, Any], Context], list[str]]


@dataclass(frozen=True)
class Policy:
    name: str
    description: str
    resource_types: frozenset[str]
    check: Check

    def validate(self, resource_type: str, props: Mapping[str, Any], ctx: Context) -> list[str]:
        if resource_type not in self.resource_types:
            return []
        return self.check(props, ctx)


def _get(obj: Any, *path: str) -> Any:
    """`obj[p0][p1]...`: None when a step is missing, the sentinel when a step is unknown."""
    cur = obj
    for key in path:
        if is_unknown(cur):
            return cur
        if not isinstance(cur, Mapping):
            return None
        cur = cur.get(key)
    return cur


def labels_of(props: Mapping[str, Any]) -> dict[str, str]:
    """Service labels: a list of {label, value} (provider form) or a plain map."""
    raw = props.get("labels")
    if isinstance(raw, Mapping):
        return {str(k): str(v) for k, v in raw.items()}
    out: dict[str, str] = {}
    if isinstance(raw, Sequence) and not isinstance(raw, str):
        for item in raw:
            if isinstance(item, Mapping) and isinstance(item.get("label"), str):
                out[item["label"]] = str(item.get("value"))
    return out


def _who(props: Mapping[str, Any]) -> str:
    name = props.get("name")
    return f"service {name!r}" if isinstance(name, str) and not is_unknown(name) else "service"


# --- Service policies ---------------------------------------------------------------


def check_healthcheck(props: Mapping[str, Any], ctx: Context) -> list[str]:
    tests = _get(props, "taskSpec", "containerSpec", "healthcheck", "tests")
    if is_unknown(tests):
        return []
    if not isinstance(tests, Sequence) or isinstance(tests, str) or not tests:
        return [f"{_who(props)} has no healthcheck (taskSpec.containerSpec.healthcheck.tests)"]
    if tests[0] not in ("CMD", "CMD-SHELL") or len(tests) < 2:
        return [f"{_who(props)} healthcheck {list(tests)!r} does not run a probe (needs CMD or CMD-SHELL)"]
    return []


def check_memory_limit(props: Mapping[str, Any], ctx: Context) -> list[str]:
    limit = _get(props, "taskSpec", "resources", "limits", "memoryBytes")
    if is_unknown(limit):
        return []
    if not isinstance(limit, int | float) or isinstance(limit, bool) or limit <= 0:
        return [f"{_who(props)} has no memory limit (taskSpec.resources.limits.memoryBytes)"]
    return []


def check_restart_rollback(props: Mapping[str, Any], ctx: Context) -> list[str]:
    out: list[str] = []
    cond = _get(props, "taskSpec", "restartPolicy", "condition")
    if not is_unknown(cond) and cond not in ("any", "on-failure"):
        out.append(f"{_who(props)} restart policy condition is {cond!r}, want 'any' or 'on-failure'")
    action = _get(props, "updateConfig", "failureAction")
    if not is_unknown(action) and action != "rollback":
        out.append(f"{_who(props)} updateConfig.failureAction is {action!r}, want 'rollback'")
    rollback = _get(props, "rollbackConfig")
    if not is_unknown(rollback) and not isinstance(rollback, Mapping):
        out.append(f"{_who(props)} has no rollbackConfig")
    return out


def check_ports_edge_only(props: Mapping[str, Any], ctx: Context) -> list[str]:
    ports = _get(props, "endpointSpec", "ports")
    if not ports or is_unknown(ports):
        return []
    layer = labels_of(props).get(LAYER_LABEL)
    if layer == EDGE_LAYER:
        return []
    published = [p.get("publishedPort") for p in ports if isinstance(p, Mapping)]
    return [
        f"{_who(props)} publishes ports {published} but is not an edge service "
        f"(label {LAYER_LABEL}={layer!r}); route it through Caddy instead"
    ]


def _secret_env_ok(value: Any) -> bool:
    if not isinstance(value, str):
        return False
    if value.startswith(SECRET_FILE_PREFIX) and len(value) > len(SECRET_FILE_PREFIX):
        return True
    return any(value.startswith(s) and len(value) > len(s) for s in REFERENCE_SCHEMES)


def check_no_secret_env(props: Mapping[str, Any], ctx: Context) -> list[str]:
    env = _get(props, "taskSpec", "containerSpec", "env")
    if not isinstance(env, Mapping):
        return []
    out: list[str] = []
    for name, value in sorted(env.items()):
        if not str(name).upper().endswith(SECRET_ENV_SUFFIXES) or is_unknown(value):
            continue
        if not _secret_env_ok(value):
            out.append(
                f"{_who(props)} env {name} carries a value; give a file path under "
                f"{SECRET_FILE_PREFIX} or a reference ({', '.join(REFERENCE_SCHEMES)})"
            )
    return out


_DIGEST = re.compile(r"@sha256:[0-9a-f]{64}$")


def image_tag(ref: str) -> str | None:
    """The tag of an image reference (None when it has none). A registry port is not a tag."""
    last = ref.rsplit("/", 1)[-1]
    name, sep, tag = last.partition(":")
    return tag if sep and name else None


def check_image_pinned(props: Mapping[str, Any], ctx: Context) -> list[str]:
    image = _get(props, "taskSpec", "containerSpec", "image")
    if is_unknown(image):
        return []
    if not isinstance(image, str) or not image:
        return [f"{_who(props)} has no image"]
    if _DIGEST.search(image):
        return []
    ref = image.split("@", 1)[0]
    tag = image_tag(ref)
    if tag and tag != "latest":
        return []
    labels = labels_of(props)
    is_connector = labels.get(KIND_LABEL) == CONNECTOR_KIND
    opted_in = ctx.allow_latest_connectors or labels.get(LATEST_ALLOWED_LABEL) == "true"
    if is_connector and opted_in:
        return []
    why = "has no tag (implicitly latest)" if not tag else "uses 'latest'"
    hint = " (connectors may only with agent-os:images.allowLatestConnectors: true)" if is_connector else ""
    return [f"{_who(props)} image {image!r} {why}; pin a tag or digest{hint}"]


# --- Networks, configs, secrets -------------------------------------------------------


def check_network_encrypted(props: Mapping[str, Any], ctx: Context) -> list[str]:
    name = props.get("name")
    who = f"network {name!r}" if isinstance(name, str) and not is_unknown(name) else "network"
    driver = props.get("driver")
    if is_unknown(driver):
        return []
    if driver != "overlay":
        return [f"{who} driver is {driver!r}; Swarm stacks use encrypted overlay networks"]
    options = props.get("options")
    if is_unknown(options):
        return []
    enc = options.get("encrypted") if isinstance(options, Mapping) else None
    if is_unknown(enc):
        return []
    # Docker enables IPsec when the option is present; "false" would read as a mistake.
    if enc is None or str(enc).lower() in ("false", "0", "no"):
        return [f"{who} is not encrypted (options.encrypted)"]
    return []


def check_content_named(props: Mapping[str, Any], ctx: Context) -> list[str]:
    name, data = props.get("name"), props.get("data")
    if name is None or data is None or is_unknown(name) or is_unknown(data):
        return []  # secret/unknown at preview: `pulumi up` checks the known values
    if not isinstance(name, str) or not isinstance(data, str):
        return [f"object {name!r}: name and data must be strings"]
    try:
        raw = base64.b64decode(data, validate=True)
    except (binascii.Error, ValueError):
        return [f"object {name!r}: data is not base64"]
    want = "-" + hashlib.sha256(raw).hexdigest()[:12]
    if not name.endswith(want):
        return [f"object {name!r} is not named by its content: want a name ending in {want!r}"]
    return []


_SVC = frozenset({SERVICE})

POLICIES: tuple[Policy, ...] = (
    Policy("service-healthcheck", "Every Swarm service has a healthcheck probe.", _SVC, check_healthcheck),
    Policy("service-memory-limit", "Every Swarm service has a memory limit.", _SVC, check_memory_limit),
    Policy(
        "service-restart-rollback",
        "Every Swarm service restarts on failure and rolls back a failed update.",
        _SVC,
        check_restart_rollback,
    ),
    Policy(
        "service-ports-edge-only",
        f"Only edge services (label {LAYER_LABEL}={EDGE_LAYER}) publish ports.",
        _SVC,
        check_ports_edge_only,
    ),
    Policy(
        "service-no-secret-env",
        "Env vars named *_PASSWORD/_SECRET/_TOKEN/_KEY carry a /run/secrets path or a reference.",
        _SVC,
        check_no_secret_env,
    ),
    Policy(
        "image-pinned",
        "Images are pinned by tag or digest; 'latest' only for connectors when the stack allows it.",
        _SVC,
        check_image_pinned,
    ),
    Policy(
        "network-encrypted-overlay",
        "Networks are encrypted overlays.",
        frozenset({NETWORK}),
        check_network_encrypted,
    ),
    Policy(
        "content-named-objects",
        "Swarm configs and secrets are named by a sha256 digest of their content.",
        frozenset({SERVICE_CONFIG, SECRET}),
        check_content_named,
    ),
)


def violations(resource_type: str, props: Mapping[str, Any], ctx: Context) -> list[tuple[str, str]]:
    """Every (policy name, message) the resource violates."""
    return [(p.name, msg) for p in POLICIES for msg in p.validate(resource_type, props, ctx)]
