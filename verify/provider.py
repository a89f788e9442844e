"""A schema provider: stands in for a provider plugin that cannot be built here.

The upstream plugins (pulumi-resource-docker, -command, -random, -keycloak, -postgresql,
-vault) are Go modules our module proxy refuses (notes/2026-11-25-machine.md), so the real
engine would stop at the first provider. This plugin speaks the real provider gRPC
protocol to the real engine and answers for one package from that package's *published*
schema (../shared/provider-schemas/<package>.json, never copied into the repo):

  * CheckConfig / Check: every input checked against the schema (names, types, enums,
    required) with verify/schema.py, failures returned as the engine's CheckFailures;
  * Diff / DiffConfig: the changed top-level properties (replacement is not modelled);
  * Create during preview: the inputs as the new state;
  * every operation that would change something real (Create outside preview, Update,
    Delete, Read, Invoke) fails loudly: this plugin previews, it never pretends to deploy.

Started by the engine as `pulumi-resource-<package> <engine-address>` (tools/pulumi-toolchain.sh
writes that launcher); prints its port on stdout like every plugin.
"""

from __future__ import annotations

import json
import sys
from concurrent import futures
from typing import Any

import grpc
from google.protobuf import empty_pb2, struct_pb2
from google.protobuf.json_format import MessageToDict
from pulumi.runtime.proto import plugin_pb2, provider_pb2, provider_pb2_grpc

from verify import schema

# Schema package versions the program pins (requirements.txt); the engine asks for these.
NOT_DEPLOYING = "the agent-os schema provider only previews (the real plugin is not obtainable here)"


def _dict(s: struct_pb2.Struct) -> dict[str, Any]:
    return MessageToDict(s, preserving_proto_field_name=True)


def _struct(d: dict[str, Any]) -> struct_pb2.Struct:
    out = struct_pb2.Struct()
    out.update(d)
    return out


def changed_keys(olds: dict[str, Any], news: dict[str, Any]) -> list[str]:
    return sorted(k for k in set(olds) | set(news) if olds.get(k) != news.get(k))


class SchemaProvider(provider_pb2_grpc.ResourceProviderServicer):
    def __init__(self, package: str, version: str) -> None:
        self.package = package
        self.version = version
        path = schema.schema_dir() / f"{package}.json"
        text = path.read_text()
        self.schema_text = text
        self.schema = schema.Schema(package, json.loads(text)) if text.strip() else None

    # -- plugin --------------------------------------------------------------------------
    def GetPluginInfo(self, request: Any, context: Any) -> plugin_pb2.PluginInfo:  # noqa: N802
        return plugin_pb2.PluginInfo(version=self.version)

    def GetSchema(self, request: Any, context: Any) -> provider_pb2.GetSchemaResponse:  # noqa: N802
        return provider_pb2.GetSchemaResponse(schema=self.schema_text)

    def Attach(self, request: Any, context: Any) -> empty_pb2.Empty:  # noqa: N802
        return empty_pb2.Empty()

    def Cancel(self, request: Any, context: Any) -> empty_pb2.Empty:  # noqa: N802
        return empty_pb2.Empty()

    # -- configuration -------------------------------------------------------------------
    def CheckConfig(self, request: Any, context: Any) -> provider_pb2.CheckResponse:  # noqa: N802
        return self._check(f"pulumi:providers:{self.package}", request)

    def DiffConfig(self, request: Any, context: Any) -> provider_pb2.DiffResponse:  # noqa: N802
        return self._diff(request)

    def Configure(self, request: Any, context: Any) -> provider_pb2.ConfigureResponse:  # noqa: N802
        return provider_pb2.ConfigureResponse(
            acceptSecrets=True, supportsPreview=True, acceptResources=True, acceptOutputs=False
        )

    # -- resources -----------------------------------------------------------------------
    def Check(self, request: Any, context: Any) -> provider_pb2.CheckResponse:  # noqa: N802
        return self._check(request.urn.split("::")[-2].split("$")[-1], request)

    def Diff(self, request: Any, context: Any) -> provider_pb2.DiffResponse:  # noqa: N802
        return self._diff(request)

    def Create(self, request: Any, context: Any) -> provider_pb2.CreateResponse:  # noqa: N802
        if not request.preview:
            context.abort(grpc.StatusCode.UNIMPLEMENTED, NOT_DEPLOYING)
        return provider_pb2.CreateResponse(id="", properties=request.properties)

    def Update(self, request: Any, context: Any) -> provider_pb2.UpdateResponse:  # noqa: N802
        if not request.preview:
            context.abort(grpc.StatusCode.UNIMPLEMENTED, NOT_DEPLOYING)
        return provider_pb2.UpdateResponse(properties=request.news)

    def Read(self, request: Any, context: Any) -> Any:  # noqa: N802
        context.abort(grpc.StatusCode.UNIMPLEMENTED, NOT_DEPLOYING)

    def Delete(self, request: Any, context: Any) -> Any:  # noqa: N802
        context.abort(grpc.StatusCode.UNIMPLEMENTED, NOT_DEPLOYING)

    def Invoke(self, request: Any, context: Any) -> Any:  # noqa: N802
        context.abort(grpc.StatusCode.UNIMPLEMENTED, NOT_DEPLOYING)

    # -- helpers -------------------------------------------------------------------------
    def _check(self, type_: str, request: Any) -> provider_pb2.CheckResponse:
        news = _dict(request.news)
        failures = []
        if self.schema is not None:
            failures = [
                provider_pb2.CheckFailure(property=path, reason=reason)
                for path, reason in self.schema.check_resource(type_, news)
            ]
        return provider_pb2.CheckResponse(inputs=request.news, failures=failures)

    def _diff(self, request: Any) -> provider_pb2.DiffResponse:
        keys = changed_keys(_dict(request.olds), _dict(request.news))
        return provider_pb2.DiffResponse(
            changes=provider_pb2.DiffResponse.DIFF_SOME if keys else provider_pb2.DiffResponse.DIFF_NONE,
            diffs=keys,
            hasDetailedDiff=False,
        )


def serve(package: str, version: str) -> None:
    server = grpc.server(futures.ThreadPoolExecutor(max_workers=4))
    provider_pb2_grpc.add_ResourceProviderServicer_to_server(SchemaProvider(package, version), server)
    port = server.add_insecure_port("127.0.0.1:0")
    server.start()
    sys.stdout.write(f"{port}\n")
    sys.stdout.flush()
    server.wait_for_termination()


if __name__ == "__main__":
    # argv: <package> <version> [<engine-address> ...] (the engine appends its address)
    serve(sys.argv[1], sys.argv[2])
