"""The provider protocol, once, for the deploying providers of `verify/providers/`.

The upstream plugins (pulumi-resource-docker, -command, -random, -keycloak, -postgresql,
-vault) cannot be built here: our Go module proxy refuses their modules
(notes/2026-11-25-machine.md). These providers stand in for them: they speak the real
provider gRPC protocol to the real engine, check inputs against the package's *published*
schema (../shared/provider-schemas/<package>.json), and do the real work against the real
APIs (Docker Engine, the shell, Keycloak's admin REST API, Postgres, OpenBao). They cover
exactly the resource types and properties the program uses; anything else is refused
loudly, never pretended.

A package module defines `Resource` subclasses (one per type token) and a `Provider`
(package, version, resources, `configure`). Secrets: the providers do not accept secrets
(`acceptSecrets=False`), so the engine hands them plain values and marks an output secret
when the input of the same name was, plus the SDK's `additional_secret_outputs`.
"""

from __future__ import annotations

import json
import sys
import traceback
from collections.abc import Mapping
from concurrent import futures
from dataclasses import dataclass, field
from typing import Any, ClassVar

import grpc
from google.protobuf import empty_pb2, struct_pb2
from google.protobuf.json_format import MessageToDict
from pulumi.runtime.proto import plugin_pb2, provider_pb2, provider_pb2_grpc

from verify import schema

UNKNOWN = "04da6b54-80e4-46f7-96ec-b56ff0331ba9"  # the engine's unknown-value sentinel


class ProviderError(Exception):
    """A failure to report to the engine as the operation's error (no traceback)."""


def is_unknown(v: Any) -> bool:
    if v == UNKNOWN:
        return True
    if isinstance(v, Mapping):
        return any(is_unknown(x) for x in v.values())
    if isinstance(v, list):
        return any(is_unknown(x) for x in v)
    return False


SECRET_SIG = ("4dabf18193072939515e22adb298388d", "1b47061264138c4ac30d75fd1eb44270")


def plain(v: Any) -> Any:
    """The value with every secret wrapper removed (Configure carries them even though the
    providers accept no secrets; the engine re-marks outputs)."""
    if isinstance(v, dict):
        if v.get(SECRET_SIG[0]) == SECRET_SIG[1]:
            return plain(v.get("value"))
        return {k: plain(x) for k, x in v.items()}
    if isinstance(v, list):
        return [plain(x) for x in v]
    return v


def to_dict(s: struct_pb2.Struct) -> dict[str, Any]:
    return plain(MessageToDict(s, preserving_proto_field_name=True))


def to_struct(d: Mapping[str, Any]) -> struct_pb2.Struct:
    out = struct_pb2.Struct()
    out.update(dict(d))
    return out


def changed_keys(olds: Mapping[str, Any], news: Mapping[str, Any]) -> list[str]:
    return sorted(k for k in set(olds) | set(news) if olds.get(k) != news.get(k))


@dataclass
class Diff:
    updates: list[str] = field(default_factory=list[str])  # changed top-level inputs
    replaces: list[str] = field(default_factory=list[str])  # the subset that forces replacement
    delete_before_replace: bool = False


class Resource:
    """One resource type. Override what the type needs; the defaults are the common case:

    * `check`: the inputs as given (the schema check runs before it);
    * `diff`: top-level inputs compared with the previous inputs; a change to a key in
      `replace_on` (or any key when it holds "*") replaces, like the upstream's ForceNew;
    * `create` / `update` / `delete` / `read`: must be written per type.
    """

    type_token: ClassVar[str] = ""
    replace_on: ClassVar[frozenset[str]] = frozenset()
    delete_before_replace: ClassVar[bool] = False

    def __init__(self, provider: Provider) -> None:
        self.provider = provider

    def check(self, olds: dict[str, Any], news: dict[str, Any]) -> dict[str, Any]:
        return news

    def diff(self, id_: str, old_inputs: dict[str, Any], state: dict[str, Any], news: dict[str, Any]) -> Diff:
        keys = changed_keys(old_inputs, news)
        replaces = [k for k in keys if "*" in self.replace_on or k in self.replace_on]
        return Diff(updates=keys, replaces=replaces, delete_before_replace=self.delete_before_replace)

    def create(self, inputs: dict[str, Any], preview: bool) -> tuple[str, dict[str, Any]]:
        raise ProviderError(f"{self.type_token}: create is not supported")

    def update(
        self, id_: str, old_inputs: dict[str, Any], state: dict[str, Any], news: dict[str, Any], preview: bool
    ) -> dict[str, Any]:
        raise ProviderError(f"{self.type_token}: update is not supported")

    def delete(self, id_: str, state: dict[str, Any]) -> None:
        raise ProviderError(f"{self.type_token}: delete is not supported")

    def read(
        self, id_: str, state: dict[str, Any], inputs: dict[str, Any]
    ) -> tuple[dict[str, Any], dict[str, Any]] | None:
        """The live (outputs, inputs) of the object, or None when it no longer exists."""
        raise ProviderError(f"{self.type_token}: read is not supported")


class Provider:
    package: ClassVar[str] = ""
    resource_types: ClassVar[tuple[type[Resource], ...]] = ()

    def __init__(self, version: str) -> None:
        self.version = version
        self.config: dict[str, Any] = {}
        self.resources = {t.type_token: t(self) for t in self.resource_types}

    def configure(self, config: dict[str, Any]) -> None:
        """Take the provider's configuration (the program's provider inputs, plain)."""
        self.config = config


def type_of(urn: str) -> str:
    return urn.split("::")[-2].split("$")[-1]


class _Servicer(provider_pb2_grpc.ResourceProviderServicer):
    def __init__(self, provider: Provider) -> None:
        self.p = provider
        path = schema.schema_dir() / f"{provider.package}.json"
        self.schema_text = path.read_text() if path.exists() else ""
        self.schema = (
            schema.Schema(provider.package, json.loads(self.schema_text))
            if self.schema_text.strip()
            else None
        )

    # -- plugin --------------------------------------------------------------------------
    def GetPluginInfo(self, request: Any, context: Any) -> plugin_pb2.PluginInfo:  # noqa: N802
        return plugin_pb2.PluginInfo(version=self.p.version)

    def GetSchema(self, request: Any, context: Any) -> provider_pb2.GetSchemaResponse:  # noqa: N802
        return provider_pb2.GetSchemaResponse(schema=self.schema_text)

    def Attach(self, request: Any, context: Any) -> empty_pb2.Empty:  # noqa: N802
        return empty_pb2.Empty()

    def Cancel(self, request: Any, context: Any) -> empty_pb2.Empty:  # noqa: N802
        return empty_pb2.Empty()

    # -- configuration -------------------------------------------------------------------
    def CheckConfig(self, request: Any, context: Any) -> provider_pb2.CheckResponse:  # noqa: N802
        return self._failures(f"pulumi:providers:{self.p.package}", request.news, to_dict(request.news))

    def DiffConfig(self, request: Any, context: Any) -> provider_pb2.DiffResponse:  # noqa: N802
        keys = changed_keys(to_dict(request.olds), to_dict(request.news))
        return provider_pb2.DiffResponse(
            changes=provider_pb2.DiffResponse.DIFF_SOME if keys else provider_pb2.DiffResponse.DIFF_NONE,
            diffs=keys,
        )

    def Configure(self, request: Any, context: Any) -> provider_pb2.ConfigureResponse:  # noqa: N802
        args = to_dict(request.args)
        if not args:  # older engines send only the flattened variables
            prefix = f"{self.p.package}:config:"
            args = plain({k.removeprefix(prefix): _maybe_json(v) for k, v in request.variables.items()})
        self._guard(context, lambda: self.p.configure(args))
        return provider_pb2.ConfigureResponse(
            acceptSecrets=False, supportsPreview=True, acceptResources=False, acceptOutputs=False
        )

    # -- resources -----------------------------------------------------------------------
    def _res(self, urn: str, context: Any) -> Resource:
        t = type_of(urn)
        r = self.p.resources.get(t)
        if r is None:
            context.abort(
                grpc.StatusCode.UNIMPLEMENTED, f"{self.p.package}: resource type {t} is not supported"
            )
        assert r is not None
        return r

    def Check(self, request: Any, context: Any) -> provider_pb2.CheckResponse:  # noqa: N802
        r = self._res(request.urn, context)
        news = to_dict(request.news)
        resp = self._failures(type_of(request.urn), request.news, news)
        if resp.failures:
            return resp
        inputs = self._guard(context, lambda: r.check(to_dict(request.olds), news))
        return provider_pb2.CheckResponse(inputs=to_struct(inputs))

    def Diff(self, request: Any, context: Any) -> provider_pb2.DiffResponse:  # noqa: N802
        r = self._res(request.urn, context)
        d = self._guard(
            context,
            lambda: r.diff(
                request.id, to_dict(request.old_inputs), to_dict(request.olds), to_dict(request.news)
            ),
        )
        return provider_pb2.DiffResponse(
            changes=provider_pb2.DiffResponse.DIFF_SOME if d.updates else provider_pb2.DiffResponse.DIFF_NONE,
            diffs=d.updates,
            replaces=d.replaces,
            deleteBeforeReplace=d.delete_before_replace,
        )

    def Create(self, request: Any, context: Any) -> provider_pb2.CreateResponse:  # noqa: N802
        r = self._res(request.urn, context)
        inputs = to_dict(request.properties)
        id_, outs = self._guard(context, lambda: r.create(inputs, request.preview))
        return provider_pb2.CreateResponse(id=id_, properties=to_struct(outs))

    def Update(self, request: Any, context: Any) -> provider_pb2.UpdateResponse:  # noqa: N802
        r = self._res(request.urn, context)
        outs = self._guard(
            context,
            lambda: r.update(
                request.id,
                to_dict(request.old_inputs),
                to_dict(request.olds),
                to_dict(request.news),
                request.preview,
            ),
        )
        return provider_pb2.UpdateResponse(properties=to_struct(outs))

    def Delete(self, request: Any, context: Any) -> empty_pb2.Empty:  # noqa: N802
        r = self._res(request.urn, context)
        self._guard(context, lambda: r.delete(request.id, to_dict(request.properties)))
        return empty_pb2.Empty()

    def Read(self, request: Any, context: Any) -> provider_pb2.ReadResponse:  # noqa: N802
        r = self._res(request.urn, context)
        got = self._guard(
            context, lambda: r.read(request.id, to_dict(request.properties), to_dict(request.inputs))
        )
        if got is None:
            return provider_pb2.ReadResponse(id="")
        outs, ins = got
        return provider_pb2.ReadResponse(id=request.id, properties=to_struct(outs), inputs=to_struct(ins))

    def Invoke(self, request: Any, context: Any) -> Any:  # noqa: N802
        context.abort(
            grpc.StatusCode.UNIMPLEMENTED, f"{self.p.package}: function {request.tok} is not supported"
        )

    # -- helpers -------------------------------------------------------------------------
    def _failures(
        self, type_: str, raw: struct_pb2.Struct, news: dict[str, Any]
    ) -> provider_pb2.CheckResponse:
        failures = []
        if self.schema is not None:
            failures = [
                provider_pb2.CheckFailure(property=path, reason=reason)
                for path, reason in self.schema.check_resource(type_, news)
            ]
        return provider_pb2.CheckResponse(inputs=raw, failures=failures)

    def _guard(self, context: Any, fn: Any) -> Any:
        try:
            return fn()
        except ProviderError as e:
            context.abort(grpc.StatusCode.UNKNOWN, str(e))
        except Exception as e:  # an unexpected failure: the engine shows the traceback
            context.abort(grpc.StatusCode.UNKNOWN, f"{type(e).__name__}: {e}\n{traceback.format_exc()}")


def _maybe_json(v: str) -> Any:
    try:
        return json.loads(v)
    except ValueError:
        return v


def serve(provider: Provider) -> None:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=8))
    provider_pb2_grpc.add_ResourceProviderServicer_to_server(_Servicer(provider), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    sys.stdout.write(f"{port}\n")
    sys.stdout.flush()
    server.wait_for_termination()
