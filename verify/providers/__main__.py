"""`python -m verify.providers <package> <version> [engine-address]`: serve one provider.

The engine starts a plugin as `pulumi-resource-<package> <engine-address>`; the launcher
that tools/pulumi-toolchain.sh writes adds the package and its pinned version."""

from __future__ import annotations

import importlib
import sys

from verify import provider as schema_provider
from verify.providers import base


def main(argv: list[str]) -> None:
    package, version = argv[1], argv[2]
    try:
        module = importlib.import_module(f"verify.providers.{package}")
    except ModuleNotFoundError:
        # Not written yet: the preview-only schema provider answers for the package.
        schema_provider.serve(package, version)
        return
    provider: type[base.Provider] = module.PROVIDER
    base.serve(provider(version))


if __name__ == "__main__":
    main(sys.argv)
