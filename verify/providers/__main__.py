"""`python -m verify.providers <package> <version> [engine-address]`: serve one provider.

The engine starts a plugin as `pulumi-resource-<package> <engine-address>`; the launcher
that tools/pulumi-toolchain.sh writes adds the package and its pinned version. A package
without a module here exits with an error the engine reports (no preview-only fallback)."""

from __future__ import annotations

import importlib
import sys

from verify.providers import base


def main(argv: list[str]) -> None:
    package, version = argv[1], argv[2]
    try:
        module = importlib.import_module(f"verify.providers.{package}")
    except ModuleNotFoundError as e:
        if e.name != f"verify.providers.{package}":
            raise
        sys.exit(
            f"pulumi-resource-{package}: no deploying provider for package {package!r} in verify/providers/"
        )
    provider: type[base.Provider] = module.PROVIDER
    base.serve(provider(version))


if __name__ == "__main__":
    main(sys.argv)
