"""Prometheus 2.53.3 from Debian trixie's `prometheus` and `promtool` packages, laid out as
the official image: /bin/prometheus and /bin/promtool (trixie's /bin is /usr/bin), the
package's /etc/prometheus/prometheus.yml, /prometheus owned by nobody (65534:65534, group
writable), USER nobody, WORKDIR /prometheus, ENTRYPOINT /bin/prometheus. `wget` is
busybox-static's applet, as busybox's wget in the official (busybox-based) image.
Stands in for docker.io/prom/prometheus:v3.7.3 (the program's pin): a major version older.
"""

from __future__ import annotations

from pathlib import Path

from ..recipe import ImageConfig, Recipe

VERSION = "2.53.3"

RECIPE = Recipe(
    name="prometheus",
    alias=f"agent-os-test/prometheus:{VERSION}",
    source=Path(__file__),
    packages=(f"prometheus={VERSION}+*", "busybox-static"),
    after="""\
ln -s /bin/busybox /usr/local/bin/wget
mkdir -p /prometheus
chown -R 65534:65534 /etc/prometheus /prometheus
chmod g+w /prometheus
/bin/prometheus --version
/bin/promtool --version
""",
    config=ImageConfig(
        entrypoint=("/bin/prometheus",),
        cmd=("--config.file=/etc/prometheus/prometheus.yml", "--storage.tsdb.path=/prometheus"),
        user="nobody",
        workdir="/prometheus",
        expose=("9090",),
        volumes=("/prometheus",),
    ),
    report=("prometheus", "promtool", "busybox-static"),
)
