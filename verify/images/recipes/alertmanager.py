"""Alertmanager 0.28.1 from Debian trixie's `prometheus-alertmanager` package, laid out as
the official image: /bin/alertmanager (a link to Debian's prometheus-alertmanager), /bin/amtool,
/etc/alertmanager/alertmanager.yml (Debian's default config), /alertmanager owned by nobody
(65534:65534, group writable), USER nobody, WORKDIR /alertmanager. `wget` is busybox-static's
applet, as busybox's wget in the official (busybox-based) image.
Stands in for docker.io/prom/alertmanager:v0.29.0 (the program's pin): one minor older.
"""

from __future__ import annotations

from pathlib import Path

from ..recipe import ImageConfig, Recipe

VERSION = "0.28.1"

RECIPE = Recipe(
    name="alertmanager",
    alias=f"agent-os-test/alertmanager:{VERSION}",
    source=Path(__file__),
    packages=(f"prometheus-alertmanager={VERSION}+*", "busybox-static"),
    after="""\
ln -s /bin/busybox /usr/local/bin/wget
ln -s prometheus-alertmanager /usr/bin/alertmanager
mkdir -p /etc/alertmanager /alertmanager
cp /etc/prometheus/alertmanager.yml /etc/alertmanager/alertmanager.yml
chown -R 65534:65534 /etc/alertmanager /alertmanager
chmod -R g+w /alertmanager
/bin/alertmanager --version
/bin/amtool --version
""",
    config=ImageConfig(
        entrypoint=("/bin/alertmanager",),
        cmd=("--config.file=/etc/alertmanager/alertmanager.yml", "--storage.path=/alertmanager"),
        user="nobody",
        workdir="/alertmanager",
        expose=("9093",),
        volumes=("/alertmanager",),
    ),
    report=("prometheus-alertmanager", "busybox-static"),
)
