"""node-exporter 1.9.0 from Debian trixie's `prometheus-node-exporter` package, laid out as
the official image: /bin/node_exporter, USER nobody, ENTRYPOINT /bin/node_exporter. Debian
turns the systemd collector on by default (upstream: off), so /bin/node_exporter is a
wrapper (files/node-exporter.sh) that runs Debian's binary, linked as node_exporter, with
`--no-collector.systemd` before the given args: upstream's default collectors. `wget` is
busybox-static's applet, as busybox's wget in the official (busybox-based) image.
Stands in for docker.io/prom/node-exporter:v1.10.2 (the program's pin): one minor older.
"""

from __future__ import annotations

from pathlib import Path

from ..recipe import HERE, CopyFile, ImageConfig, Recipe

VERSION = "1.9.0"

RECIPE = Recipe(
    name="node-exporter",
    alias=f"agent-os-test/node-exporter:{VERSION}",
    source=Path(__file__),
    packages=(f"prometheus-node-exporter={VERSION}-*", "busybox-static"),
    files=(CopyFile(HERE / "files/node-exporter.sh", "/usr/bin/node_exporter", 0o755),),
    after="""\
ln -s /bin/busybox /usr/local/bin/wget
mkdir -p /usr/libexec/node_exporter
ln -s /usr/bin/prometheus-node-exporter /usr/libexec/node_exporter/node_exporter
/bin/node_exporter --version
""",
    config=ImageConfig(
        entrypoint=("/bin/node_exporter",),
        user="nobody",
        expose=("9100",),
    ),
    report=("prometheus-node-exporter", "busybox-static"),
)
