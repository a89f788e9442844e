"""docker: the five pulumi-docker 5.2.0 types the program uses, deployed on a real Docker Engine.

pulumi-docker bridges kreuzwerker/terraform-provider-docker; the semantics below follow it
(internal/provider/resource_docker_{secret,config,network,service,container}*.go):

* Secret, ServiceConfig, Network: no update function upstream, every argument is ForceNew,
  so any change replaces. The program names secrets and configs by a digest of their
  content (components/swarm/objects.py), so a new value is a new name and the default
  create-before-delete works: the service switches to the new object before the old one is
  deleted. Only when the name stays the same (a replacement the old object's name would
  block) do we ask for delete-before-replace.
* Service: updated in place (with the spec's version index, the whole spec sent), except
  for the upstream's ForceNew arguments: `name`, `auth`, and inside `taskSpec`
  `networksAdvanceds` (id/name/aliases/driverOpts; kreuzwerker issue #648),
  `containerSpec.hosts` and `containerSpec.sysctl`. Switching between replicated and
  global mode also replaces (Docker refuses that change on update; upstream would fail).
  `convergeConfig` waits as the upstream does: after a create until every replica runs,
  after an update until the update completes (rollback or pause is an error); a create that
  does not converge removes the service again. Delete removes the service and waits until
  its task containers are gone, so its networks, secrets and configs can be removed next.
* Container: `restart` and `memory` are updated in place (ContainerUpdate); every other
  argument the program uses is ForceNew upstream. Delete stops, force-removes and waits.

The Engine API bodies come from verify/providers/docker_api.py (one mapping for the program's
properties); a property it does not map is refused. Read (refresh) returns the stored
outputs when the object exists and matches what the stored inputs declare; a drifted
top-level property is dropped from the refreshed inputs and outputs (so refresh reports it
and the next `up` re-applies it); a missing object (or a stopped container) reads as gone.
Secret data is never logged or put in an error message.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import shlex
import shutil
import stat
import tempfile
import time
from collections.abc import Callable, Mapping
from typing import Any, ClassVar

import docker
from docker import errors as docker_errors

from verify.providers import docker_api
from verify.providers.base import UNKNOWN, Diff, Provider, ProviderError, Resource, changed_keys, is_unknown

DEFAULT_HOST = "unix:///var/run/docker.sock"
# Provider settings the program may pass; everything else in the schema is refused when set.
SUPPORTED_CONFIG = {"host", "sshOpts", "version", "disableDockerDaemonCheck"}
POLL_S = 2.0
NETWORK_REMOVE_TIMEOUT_S = 30.0  # upstream networkRemoveRefreshTimeout
CONVERGE_DEFAULT = {"timeout": "3m", "delay": "7s"}  # upstream converge_config defaults
UPDATE_DELAY_S = 7.0  # upstream waits 7 s before the first poll after an update


def _sorted_labels(items: Any) -> Any:
    if not isinstance(items, list):
        return items
    return sorted(items, key=lambda x: json.dumps(x, sort_keys=True))


def _set_of(items: Any) -> list[str]:
    """A TypeSet compared as the upstream does: order does not matter."""
    return sorted(json.dumps(x, sort_keys=True) for x in items or [])


def _b64(value: Any, what: str) -> bytes:
    try:
        return base64.b64decode(str(value), validate=True)
    except (binascii.Error, ValueError):
        raise ProviderError(f"{what}: data must be base64 encoded (value not shown)") from None


def _mapped(fn: Callable[[], Any]) -> Any:
    try:
        return fn()
    except docker_api.UnmappedError as e:
        raise ProviderError(f"docker: {e}") from None
    except ValueError as e:
        raise ProviderError(f"docker: {e}") from None


def _subset(expected: Any, live: Any) -> bool:
    """Whether the live Engine object holds everything the declared one does (the engine
    adds defaults; an empty declared container matches an absent one, and a declared zero
    matches an absent field: the Engine omits zero values, e.g. RollbackConfig.Delay 0)."""
    if live is None and not isinstance(expected, Mapping | list) and not expected:
        return True
    if isinstance(expected, Mapping):
        if not expected:
            return live in (None, {}) or isinstance(live, Mapping)
        if not isinstance(live, Mapping):
            return False
        return all(_subset(v, live.get(k)) for k, v in expected.items())
    if isinstance(expected, list):
        if not expected:
            return live in (None, [])
        if not isinstance(live, list) or len(live) != len(expected):
            return False
        return all(_subset(e, x) for e, x in zip(expected, live, strict=True))
    if isinstance(expected, bool) or isinstance(live, bool):
        return bool(expected) == bool(live)
    if isinstance(expected, int | float) and isinstance(live, int | float):
        return float(expected) == float(live)
    return expected == live


def _refreshed(
    state: dict[str, Any], inputs: dict[str, Any], drifted: list[str]
) -> tuple[dict[str, Any], dict[str, Any]]:
    return (
        {k: v for k, v in state.items() if k not in drifted},
        {k: v for k, v in inputs.items() if k not in drifted},
    )


def _same_name(old: Mapping[str, Any], new: Mapping[str, Any]) -> bool:
    """A replacement that keeps the name must delete first: Docker names are unique."""
    return "name" in new and new.get("name") == old.get("name") and new.get("name") != UNKNOWN


def _not_found(e: Exception) -> bool:
    return isinstance(e, docker_errors.NotFound)


# -- provider -------------------------------------------------------------------------------
class DockerProvider(Provider):
    package = "docker"

    def __init__(self, version: str) -> None:
        super().__init__(version)
        self._client: docker.APIClient | None = None
        self._host = DEFAULT_HOST

    def configure(self, config: dict[str, Any]) -> None:
        refused = sorted(
            k for k, v in config.items() if k not in SUPPORTED_CONFIG and v not in (None, "", [])
        )
        if refused:
            raise ProviderError(f"docker: provider setting(s) {', '.join(refused)} are not supported here")
        self.config = config
        self._host = str(config.get("host") or os.environ.get("DOCKER_HOST") or DEFAULT_HOST)
        opts = config.get("sshOpts") or []
        if isinstance(opts, str):
            opts = json.loads(opts) if opts.strip() else []
        if self._host.startswith("ssh://") and opts:
            _ssh_with_options([str(o) for o in opts])
        self._client = None

    def api(self) -> docker.APIClient:
        if self._client is None:
            self._client = docker.APIClient(
                base_url=self._host,
                version="auto",
                timeout=120,
                use_ssh_client=self._host.startswith("ssh://"),
            )
        return self._client

    def high_level(self) -> docker.DockerClient:
        """The SDK's high-level client (containers.create maps docker_api.container's kwargs)."""
        return docker.DockerClient(
            base_url=self._host, version="auto", timeout=120, use_ssh_client=self._host.startswith("ssh://")
        )


def _ssh_with_options(opts: list[str]) -> None:
    """docker-py runs `ssh` from PATH without extra options: put a wrapper first on this
    process's PATH that appends the provider's sshOpts (as the upstream appends them)."""
    real = shutil.which("ssh")
    if real is None:
        raise ProviderError("docker: host is ssh:// but no ssh client is installed")
    folder = tempfile.mkdtemp(prefix="docker-provider-ssh-")
    wrapper = os.path.join(folder, "ssh")
    with open(wrapper, "w") as f:
        f.write(f'#!/bin/sh\nexec {shlex.quote(real)} {" ".join(shlex.quote(o) for o in opts)} "$@"\n')
    os.chmod(wrapper, stat.S_IRWXU)
    os.environ["PATH"] = f"{folder}{os.pathsep}{os.environ.get('PATH', '')}"


class _DockerResource(Resource):
    provider: DockerProvider

    def __init__(self, provider: Provider) -> None:
        assert isinstance(provider, DockerProvider)
        super().__init__(provider)
        self.provider = provider

    def api(self) -> docker.APIClient:
        return self.provider.api()

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
        out = dict(news)
        if "labels" in out:
            out["labels"] = _sorted_labels(out["labels"])
        return out


# -- secrets and configs ---------------------------------------------------------------------
class _SwarmObject(_DockerResource):
    """Secret and ServiceConfig: created and removed, never updated (all ForceNew)."""

    replace_on: ClassVar[frozenset[str]] = frozenset({"*"})
    kind: ClassVar[str] = ""

    def diff(self, id_: str, old_inputs: dict[str, Any], state: dict[str, Any], news: dict[str, Any]) -> Diff:
        keys = changed_keys(old_inputs, news)
        return Diff(
            updates=keys, replaces=keys, delete_before_replace=bool(keys) and _same_name(old_inputs, news)
        )

    def body(self, inputs: dict[str, Any]) -> dict[str, Any]:
        raise NotImplementedError

    def outputs(self, inputs: dict[str, Any]) -> dict[str, Any]:
        return {"labels": [], **inputs}

    def create(self, inputs: dict[str, Any], preview: bool) -> tuple[str, dict[str, Any]]:
        if preview:
            if not is_unknown(inputs):
                self.body(inputs)
            return "", self.outputs(inputs)
        body = self.body(inputs)
        create = self.api().create_secret if self.kind == "secret" else self.api().create_config
        try:
            got = create(**body)
        except docker_errors.APIError as e:
            raise ProviderError(
                f"docker: creating {self.kind} {inputs.get('name')}: {e.explanation}"
            ) from None
        return str(got["ID"]), self.outputs(inputs)

    def update(
        self, id_: str, old_inputs: dict[str, Any], state: dict[str, Any], news: dict[str, Any], preview: bool
    ) -> dict[str, Any]:
        raise ProviderError(f"docker: a {self.kind} cannot be updated (every property replaces it)")

    def delete(self, id_: str, state: dict[str, Any]) -> None:
        remove = self.api().remove_secret if self.kind == "secret" else self.api().remove_config
        deadline = time.monotonic() + 30
        while True:
            try:
                remove(id_)
                return
            except docker_errors.APIError as e:
                if _not_found(e):
                    return
                if "in use" not in str(e.explanation) or time.monotonic() > deadline:
                    raise ProviderError(f"docker: removing {self.kind} {id_}: {e.explanation}") from None
            time.sleep(POLL_S)

    def read(
        self, id_: str, state: dict[str, Any], inputs: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]] | None:
        inspect = self.api().inspect_secret if self.kind == "secret" else self.api().inspect_config
        try:
            live = inspect(id_)
        except docker_errors.NotFound:
            return None
        spec = live.get("Spec", {})
        drifted = []
        if spec.get("Name") != state.get("name"):
            drifted.append("name")
        if (spec.get("Labels") or {}) != docker_api.labels(state.get("labels")):
            drifted.append("labels")
        if (
            self.kind == "config"
            and "data" in state
            and base64.b64decode(spec.get("Data") or "") != _b64(state["data"], "config")
        ):
            drifted.append("data")
        return _refreshed(state, inputs, drifted)


class Secret(_SwarmObject):
    type_token = "docker:index/secret:Secret"
    kind = "secret"

    def body(self, inputs: dict[str, Any]) -> dict[str, Any]:
        _b64(inputs.get("data", ""), f"secret {inputs.get('name')}")
        return _mapped(lambda: docker_api.secret(inputs))


class ServiceConfig(_SwarmObject):
    type_token = "docker:index/serviceConfig:ServiceConfig"
    kind = "config"

    def body(self, inputs: dict[str, Any]) -> dict[str, Any]:
        if ("data" in inputs) == ("dataRaw" in inputs):
            raise ProviderError(f"config {inputs.get('name')}: exactly one of data and dataRaw must be set")
        if "data" in inputs:
            _b64(inputs["data"], f"config {inputs.get('name')}")
        return _mapped(lambda: docker_api.config(inputs))


# -- networks ---------------------------------------------------------------------------------
class Network(_DockerResource):
    type_token = "docker:index/network:Network"
    replace_on: ClassVar[frozenset[str]] = frozenset({"*"})

    def diff(self, id_: str, old_inputs: dict[str, Any], state: dict[str, Any], news: dict[str, Any]) -> Diff:
        keys = changed_keys(old_inputs, news)
        return Diff(
            updates=keys, replaces=keys, delete_before_replace=bool(keys) and _same_name(old_inputs, news)
        )

    def create(self, inputs: dict[str, Any], preview: bool) -> tuple[str, dict[str, Any]]:
        if preview:
            if not is_unknown(inputs):
                _mapped(lambda: docker_api.network(inputs))
            return "", {"labels": [], **inputs}
        body = _mapped(lambda: docker_api.network(inputs))
        name = body.pop("name")
        try:
            got = self.api().create_network(name, check_duplicate=True, **body)
        except docker_errors.APIError as e:
            raise ProviderError(f"docker: creating network {name}: {e.explanation}") from None
        id_ = str(got["Id"])
        return id_, self._outputs(inputs, self.api().inspect_network(id_))

    def _outputs(self, inputs: dict[str, Any], live: dict[str, Any]) -> dict[str, Any]:
        ipam = live.get("IPAM") or {}
        configs = [
            {
                k: v
                for k, v in {
                    "subnet": c.get("Subnet"),
                    "gateway": c.get("Gateway"),
                    "ipRange": c.get("IPRange"),
                    "auxAddress": c.get("AuxiliaryAddresses"),
                }.items()
                if v
            }
            for c in ipam.get("Config") or []
        ]
        return {
            **inputs,
            "name": live["Name"],
            "driver": live.get("Driver", ""),
            "options": dict(live.get("Options") or {}),
            "internal": bool(live.get("Internal")),
            "attachable": bool(live.get("Attachable")),
            "ingress": bool(live.get("Ingress")),
            "ipv6": bool(live.get("EnableIPv6")),
            "ipamDriver": ipam.get("Driver") or "default",
            "ipamConfigs": configs,
            "labels": inputs.get("labels", []),
            "scope": live.get("Scope", ""),
        }

    def update(
        self, id_: str, old_inputs: dict[str, Any], state: dict[str, Any], news: dict[str, Any], preview: bool
    ) -> dict[str, Any]:
        raise ProviderError("docker: a network cannot be updated (every property replaces it)")

    def delete(self, id_: str, state: dict[str, Any]) -> None:
        deadline = time.monotonic() + NETWORK_REMOVE_TIMEOUT_S
        while True:
            try:
                self.api().remove_network(id_)
                return
            except docker_errors.APIError as e:
                if _not_found(e):
                    return
                if "active endpoints" not in str(e.explanation) or time.monotonic() > deadline:
                    raise ProviderError(f"docker: removing network {id_}: {e.explanation}") from None
            time.sleep(POLL_S)

    def read(
        self, id_: str, state: dict[str, Any], inputs: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]] | None:
        try:
            live = self.api().inspect_network(id_)
        except docker_errors.NotFound:
            return None
        declared = _mapped(lambda: docker_api.network(inputs))
        checks: dict[str, tuple[Any, Any]] = {
            "name": (declared.get("name"), live.get("Name")),
            "driver": (declared.get("driver"), live.get("Driver")),
            "attachable": (declared.get("attachable"), live.get("Attachable")),
            "internal": (declared.get("internal"), live.get("Internal")),
            "ingress": (declared.get("ingress"), live.get("Ingress")),
            "ipv6": (declared.get("enable_ipv6"), live.get("EnableIPv6")),
            "options": (declared.get("options"), live.get("Options")),
            "labels": (declared.get("labels"), live.get("Labels")),
            "ipamConfigs": (
                (declared.get("ipam") or {}).get("Config"),
                (live.get("IPAM") or {}).get("Config"),
            ),
        }
        drifted = [
            k
            for k, (want, got) in checks.items()
            if k in inputs and want is not None and not _subset(want, got)
        ]
        return _refreshed(state, inputs, drifted)


# -- services ---------------------------------------------------------------------------------
SPEC_KEYS = {
    "name": "Name",
    "labels": "Labels",
    "mode": "Mode",
    "task_template": "TaskTemplate",
    "endpoint_spec": "EndpointSpec",
    "update_config": "UpdateConfig",
    "rollback_config": "RollbackConfig",
}
INPUT_OF = {
    "Name": "name",
    "Labels": "labels",
    "Mode": "mode",
    "TaskTemplate": "taskSpec",
    "EndpointSpec": "endpointSpec",
    "UpdateConfig": "updateConfig",
    "RollbackConfig": "rollbackConfig",
}


def _service_kwargs(inputs: Mapping[str, Any]) -> dict[str, Any]:
    return _mapped(lambda: docker_api.service(inputs))


def _replaced_service_keys(old: Mapping[str, Any], new: Mapping[str, Any]) -> list[str]:
    """The upstream's ForceNew arguments of docker_service that changed."""
    out = [k for k in ("name", "auth") if old.get(k) != new.get(k)]
    ots, nts = old.get("taskSpec") or {}, new.get("taskSpec") or {}
    ocs, ncs = ots.get("containerSpec") or {}, nts.get("containerSpec") or {}
    if (
        _set_of(ots.get("networksAdvanceds")) != _set_of(nts.get("networksAdvanceds"))
        or _set_of(ocs.get("hosts")) != _set_of(ncs.get("hosts"))
        or ocs.get("sysctl") != ncs.get("sysctl")
    ):
        out.append("taskSpec")
    om, nm = old.get("mode") or {}, new.get("mode") or {}
    if bool(om.get("global")) != bool(nm.get("global")):
        out.append("mode")
    return out


class Service(_DockerResource):
    type_token = "docker:index/service:Service"

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
        out = super().check(olds, news)
        cs = (out.get("taskSpec") or {}).get("containerSpec")
        if isinstance(cs, dict) and "labels" in cs:
            out["taskSpec"] = {
                **out["taskSpec"],
                "containerSpec": {**cs, "labels": _sorted_labels(cs["labels"])},
            }
        return out

    def diff(self, id_: str, old_inputs: dict[str, Any], state: dict[str, Any], news: dict[str, Any]) -> Diff:
        keys = changed_keys(old_inputs, news)
        replaces = _replaced_service_keys(old_inputs, news) if keys else []
        return Diff(
            updates=keys,
            replaces=replaces,
            delete_before_replace=bool(replaces) and _same_name(old_inputs, news),
        )

    @staticmethod
    def _outputs(inputs: dict[str, Any]) -> dict[str, Any]:
        return {
            "labels": [],
            "mode": {"replicated": {"replicas": 1}},
            "endpointSpec": {"mode": "vip"},
            **inputs,
        }

    def create(self, inputs: dict[str, Any], preview: bool) -> tuple[str, dict[str, Any]]:
        if preview:
            if not is_unknown(inputs):
                _service_kwargs(inputs)
            return "", self._outputs(inputs)
        kwargs = _service_kwargs(inputs)
        api = self.api()
        try:
            got = api.create_service(**kwargs)
        except docker_errors.APIError as e:
            raise ProviderError(f"docker: creating service {inputs.get('name')}: {e.explanation}") from None
        id_ = str(got["ID"])
        if "convergeConfig" in inputs:
            conv = {**CONVERGE_DEFAULT, **inputs["convergeConfig"]}
            try:
                self._converge(id_, conv, update=False)
            except ProviderError as e:
                self._remove(id_, inputs)  # as the upstream: a service that does not converge is removed
                raise ProviderError(f"{e} (the service was removed again)") from None
        return id_, self._outputs(inputs)

    def update(
        self, id_: str, old_inputs: dict[str, Any], state: dict[str, Any], news: dict[str, Any], preview: bool
    ) -> dict[str, Any]:
        if preview:
            if not is_unknown(news):
                _service_kwargs(news)
            return self._outputs(news)
        kwargs = _service_kwargs(news)
        api = self.api()
        try:
            version = api.inspect_service(id_)["Version"]["Index"]
            api.update_service(
                id_,
                version,
                task_template=kwargs.get("task_template"),
                name=kwargs.get("name"),
                labels=kwargs.get("labels"),
                mode=kwargs.get("mode"),
                update_config=kwargs.get("update_config"),
                rollback_config=kwargs.get("rollback_config"),
                endpoint_spec=kwargs.get("endpoint_spec"),
            )
        except docker_errors.APIError as e:
            raise ProviderError(f"docker: updating service {news.get('name')}: {e.explanation}") from None
        if "convergeConfig" in news:
            self._converge(id_, {**CONVERGE_DEFAULT, **news["convergeConfig"]}, update=True)
        return self._outputs(news)

    # -- convergence (upstream resourceDockerService{Create,Update}RefreshFunc) ----------------
    def _running(self, id_: str, svc: dict[str, Any]) -> tuple[int, int]:
        api = self.api()
        mode = svc["Spec"].get("Mode") or {}
        active = {n["ID"] for n in api.nodes() if (n.get("Status") or {}).get("State") != "down"}
        want = int(mode["Replicated"].get("Replicas", 1)) if "Replicated" in mode else len(active)
        by_slot: dict[Any, dict[str, Any]] = {}
        for t in api.tasks(filters={"service": id_, "desired-state": "running"}):
            if t.get("NodeID") and t["NodeID"] not in active:
                continue
            by_slot.setdefault(t.get("Slot") or t.get("NodeID"), t)
            if (t.get("Status") or {}).get("State") == "running":
                by_slot[t.get("Slot") or t.get("NodeID")] = t
        running = sum(
            1
            for t in by_slot.values()
            if t.get("DesiredState") == "running" and (t.get("Status") or {}).get("State") == "running"
        )
        return running, want

    def _converge(self, id_: str, conv: Mapping[str, Any], update: bool) -> None:
        """Create: until every replica runs. Update: until Swarm reports the rolling update
        completed (or, when the change started no rolling update, every replica runs)."""
        timeout = docker_api.duration_ns(str(conv["timeout"])) / 1e9
        delay = UPDATE_DELAY_S if update else docker_api.duration_ns(str(conv["delay"])) / 1e9
        started = time.monotonic()
        time.sleep(delay)
        api = self.api()
        while True:
            svc = api.inspect_service(id_)
            status = svc.get("UpdateStatus") or {}
            state = status.get("State") if update else None
            if state == "completed":
                return
            if state in ("rollback_completed", "paused", "rollback_paused"):
                raise ProviderError(
                    f"docker: service {svc['Spec']['Name']}: update {str(state).replace('_', ' ')}: "
                    f"{status.get('Message', '')}"
                )
            running, want = self._running(id_, svc)
            if state is None and running == want:
                return
            if time.monotonic() - started > timeout:
                raise ProviderError(
                    f"docker: service {svc['Spec']['Name']} did not converge after {conv['timeout']} "
                    f"({running}/{want} tasks running, update state {state or '-'})"
                )
            time.sleep(5.0)  # upstream MinTimeout

    # -- delete ------------------------------------------------------------------------------
    def _remove(self, id_: str, inputs: Mapping[str, Any]) -> None:
        api = self.api()
        grace_s = 10.0
        cs = (inputs.get("taskSpec") or {}).get("containerSpec") or {}
        if cs.get("stopGracePeriod"):
            grace_s = docker_api.duration_ns(str(cs["stopGracePeriod"])) / 1e9
        try:
            api.remove_service(id_)
        except docker_errors.NotFound:
            pass
        except docker_errors.APIError as e:
            raise ProviderError(f"docker: removing service {id_}: {e.explanation}") from None
        # Wait until its task containers are gone (their network endpoints and secret mounts
        # with them); past the grace period, remove what is left as the upstream does.
        label = f"com.docker.swarm.service.id={id_}"
        started = time.monotonic()
        while True:
            left = api.containers(all=True, filters={"label": label})
            if not left:
                return
            waited = time.monotonic() - started
            if waited > grace_s + 5:
                for c in left:
                    try:
                        api.remove_container(c["Id"], force=True, v=True)
                    except docker_errors.APIError as e:
                        if not _not_found(e) and "already in progress" not in str(e.explanation):
                            raise ProviderError(
                                f"docker: removing task container {c['Id'][:12]}: {e}"
                            ) from None
            if waited > grace_s + 60:
                raise ProviderError(f"docker: service {id_}: task containers still present after removal")
            time.sleep(1.0)

    def delete(self, id_: str, state: dict[str, Any]) -> None:
        self._remove(id_, state)

    def read(
        self, id_: str, state: dict[str, Any], inputs: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]] | None:
        try:
            live = self.api().inspect_service(id_)
        except docker_errors.NotFound:
            return None
        declared = _service_kwargs(inputs)
        spec = live.get("Spec") or {}
        drifted = [
            INPUT_OF[SPEC_KEYS[k]]
            for k, v in declared.items()
            if k in SPEC_KEYS and INPUT_OF[SPEC_KEYS[k]] in inputs and not _subset(v, spec.get(SPEC_KEYS[k]))
        ]
        return _refreshed(state, inputs, drifted)


# -- containers ---------------------------------------------------------------------------------
CONTAINER_UPDATABLE = frozenset(
    {"restart", "memory", "maxRetryCount", "cpuShares", "memoryReservation", "cpuSet", "memorySwap"}
)


class Container(_DockerResource):
    type_token = "docker:index/container:Container"

    def diff(self, id_: str, old_inputs: dict[str, Any], state: dict[str, Any], news: dict[str, Any]) -> Diff:
        keys = changed_keys(old_inputs, news)
        replaces = [k for k in keys if k not in CONTAINER_UPDATABLE]
        return Diff(
            updates=keys,
            replaces=replaces,
            delete_before_replace=bool(replaces) and _same_name(old_inputs, news),
        )

    def _outputs(self, inputs: dict[str, Any], live: dict[str, Any] | None) -> dict[str, Any]:
        cfg = (live or {}).get("Config") or {}
        host = (live or {}).get("HostConfig") or {}
        nets = ((live or {}).get("NetworkSettings") or {}).get("Networks") or {}
        return {
            "command": list(cfg.get("Cmd") or []),
            "entrypoints": list(cfg.get("Entrypoint") or []),
            "envs": list(cfg.get("Env") or []),
            "hostname": cfg.get("Hostname", ""),
            "init": bool(host.get("Init")),
            "ipcMode": host.get("IpcMode", ""),
            "logDriver": (host.get("LogConfig") or {}).get("Type", ""),
            "runtime": host.get("Runtime", ""),
            "securityOpts": list(host.get("SecurityOpt") or []),
            "shmSize": int((host.get("ShmSize") or 0) // (1024 * 1024)),
            "stopSignal": cfg.get("StopSignal") or "",
            "stopTimeout": int(cfg.get("StopTimeout") or 0),
            "platform": "",
            "bridge": "",
            "exitCode": int(((live or {}).get("State") or {}).get("ExitCode") or 0),
            "networkDatas": [
                {
                    "networkName": name,
                    "ipAddress": n.get("IPAddress", ""),
                    "gateway": n.get("Gateway", ""),
                    "macAddress": n.get("MacAddress", ""),
                }
                for name, n in sorted(nets.items())
            ],
            "labels": [],
            **inputs,
        }

    def create(self, inputs: dict[str, Any], preview: bool) -> tuple[str, dict[str, Any]]:
        if preview:
            if not is_unknown(inputs):
                _mapped(lambda: docker_api.container(inputs))
            return "", self._outputs(inputs, None)
        kwargs = _mapped(lambda: docker_api.container(inputs))
        client = self.provider.high_level()
        try:
            made = client.containers.create(**kwargs)
            made.start()
        except docker_errors.ImageNotFound:
            raise ProviderError(
                f"docker: container {inputs.get('name')}: image {inputs['image']} is not present"
            ) from None
        except docker_errors.APIError as e:
            raise ProviderError(f"docker: creating container {inputs.get('name')}: {e.explanation}") from None
        finally:
            client.close()
        id_ = str(made.id)
        return id_, self._outputs(inputs, self.api().inspect_container(id_))

    def update(
        self, id_: str, old_inputs: dict[str, Any], state: dict[str, Any], news: dict[str, Any], preview: bool
    ) -> dict[str, Any]:
        unsupported = [k for k in changed_keys(old_inputs, news) if k not in {"restart", "memory"}]
        if unsupported:
            raise ProviderError(f"docker: container update of {', '.join(unsupported)} is not supported")
        if not preview:
            mem = int(news["memory"]) * 1024 * 1024 if news.get("memory") else 0
            try:
                self.api().update_container(
                    id_, restart_policy={"Name": news.get("restart", "no")}, mem_limit=mem or None
                )
            except docker_errors.APIError as e:
                raise ProviderError(
                    f"docker: updating container {news.get('name')}: {e.explanation}"
                ) from None
        return {**state, **news}

    def delete(self, id_: str, state: dict[str, Any]) -> None:
        api = self.api()
        try:
            api.stop(id_, timeout=int(state.get("destroyGraceSeconds") or 0))
            api.remove_container(id_, force=True, v=bool(state.get("removeVolumes", True)))
        except docker_errors.NotFound:
            return
        except docker_errors.APIError as e:
            if "already in progress" not in str(e.explanation):
                raise ProviderError(f"docker: removing container {id_}: {e.explanation}") from None
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                api.inspect_container(id_)
            except docker_errors.NotFound:
                return
            time.sleep(0.5)

    def read(
        self, id_: str, state: dict[str, Any], inputs: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]] | None:
        try:
            live = self.api().inspect_container(id_)
        except docker_errors.NotFound:
            return None
        if not (live.get("State") or {}).get("Running"):
            return None  # must_run (default true): a stopped container is recreated
        drifted = []
        if live.get("Name", "").lstrip("/") != inputs.get("name", live.get("Name", "").lstrip("/")):
            drifted.append("name")
        if (live.get("Config") or {}).get("Image") != inputs.get("image"):
            drifted.append("image")
        return _refreshed(state, inputs, drifted)


PROVIDER = DockerProvider
DockerProvider.resource_types = (Secret, ServiceConfig, Network, Service, Container)
