"""socat from Debian trixie's `socat` package, laid out as docker.io/alpine/socat: the
binary at /usr/bin/socat as the ENTRYPOINT, so the declared args are socat's own. Stands in
for docker.io/alpine/socat:1.8.0.3 (the program's pin) with the same socat release on Debian
glibc instead of Alpine musl.
"""

from __future__ import annotations

from pathlib import Path

from ..recipe import ImageConfig, Recipe

VERSION = "1.8.0.3"

RECIPE = Recipe(
    name="socat",
    alias=f"agent-os-test/socat:{VERSION}",
    source=Path(__file__),
    packages=(f"socat={VERSION}-*",),
    after="socat -V | head -n 2\n",
    config=ImageConfig(entrypoint=("/usr/bin/socat",)),
    report=("socat",),
)
