"""Fakes for the seven staging images no build is obtainable for here: Technitium DNS,
Grafana, Loki, Tempo, Portainer (server and agent) and cAdvisor.

Each image is Debian trixie's python3 (+ PyYAML) with one server, files/fakes/server.py,
linked in at the paths of the binaries the program runs (it dispatches on its own name):
the upstream image's entrypoint and cmd, user, workdir, volumes and exposed ports, and
what the program's healthchecks need in it (bash for the TCP probes, busybox's wget and nc
where the upstream image has busybox). Tagged agent-os-test/<key>-fake:<upstream version>;
the staging stack takes them through images.overrides (OVERRIDES below).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from ..recipe import HERE, CopyFile, ImageConfig, Recipe

SERVER = HERE / "files/fakes/server.py"
LIB = "/usr/local/lib/agent-os-fake/server.py"
PACKAGES = ("python3", "python3-yaml", "busybox-static", "ca-certificates")
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"


@dataclass(frozen=True)
class Fake:
    key: str  # the program's image key (components/config/images.py)
    version: str  # the upstream version it stands for
    links: tuple[str, ...]  # binaries (symlinks to the server, which dispatches on the name)
    config: ImageConfig
    busybox: tuple[str, ...] = ()  # applets linked into /usr/local/bin (the upstream's busybox)
    packages: tuple[str, ...] = ()
    after: str = ""
    smoke: str = ""  # run at the end of the build: the binary answers

    @property
    def name(self) -> str:
        return f"{self.key}-fake"

    @property
    def alias(self) -> str:
        return f"agent-os-test/{self.name}:{self.version}"


GRAFANA_ENV = {
    "PATH": f"/usr/share/grafana/bin:{PATH}",
    "GF_PATHS_CONFIG": "/etc/grafana/grafana.ini",
    "GF_PATHS_DATA": "/var/lib/grafana",
    "GF_PATHS_HOME": "/usr/share/grafana",
    "GF_PATHS_LOGS": "/var/log/grafana",
    "GF_PATHS_PLUGINS": "/var/lib/grafana/plugins",
    "GF_PATHS_PROVISIONING": "/etc/grafana/provisioning",
}

FAKES: tuple[Fake, ...] = (
    Fake(
        # technitium/dns-server (Debian-based .NET image): root, config in /etc/dns.
        key="technitium",
        version="13.6.0",
        links=("/opt/technitium/dns/technitium",),
        config=ImageConfig(
            entrypoint=("/opt/technitium/dns/technitium",),
            cmd=("/etc/dns",),
            workdir="/opt/technitium/dns",
            expose=("5380/tcp", "53/udp", "53/tcp"),
            volumes=("/etc/dns",),
        ),
        after="mkdir -p /etc/dns",
    ),
    Fake(
        # grafana/grafana (Alpine): user grafana 472, group root; /run.sh execs the server.
        key="grafana",
        version="12.2.1",
        links=("/run.sh", "/usr/share/grafana/bin/grafana", "/usr/share/grafana/bin/grafana-server"),
        busybox=("wget",),
        config=ImageConfig(
            entrypoint=("/run.sh",),
            env=GRAFANA_ENV,
            user="472",
            workdir="/usr/share/grafana",
            expose=("3000",),
        ),
        after="""\
useradd --uid 472 --gid 0 --home-dir /usr/share/grafana --no-create-home grafana
mkdir -p /etc/grafana/provisioning/datasources /etc/grafana/provisioning/dashboards \
  /etc/grafana/provisioning/plugins /etc/grafana/provisioning/alerting \
  /var/lib/grafana/plugins /var/log/grafana /usr/share/grafana/conf
printf '; agent-os Grafana fake: settings come from GF_* variables\\n' > /etc/grafana/grafana.ini
cp /etc/grafana/grafana.ini /usr/share/grafana/conf/defaults.ini
chown -R 472:0 /var/lib/grafana /var/log/grafana /etc/grafana/provisioning
chmod -R 777 /var/lib/grafana /var/log/grafana
""",
        smoke="/usr/share/grafana/bin/grafana --version",
    ),
    Fake(
        # grafana/loki: user 10001, /loki owned by it.
        key="loki",
        version="3.5.7",
        links=("/usr/bin/loki",),
        busybox=("wget",),
        config=ImageConfig(
            entrypoint=("/usr/bin/loki",),
            cmd=("-config.file=/etc/loki/local-config.yaml",),
            user="10001",
            expose=("3100",),
        ),
        after="""\
useradd --uid 10001 --user-group --no-create-home --home-dir /loki loki
mkdir -p /loki /etc/loki
printf 'auth_enabled: false\\nserver:\\n  http_listen_port: 3100\\ncommon:\\n  path_prefix: /loki\\n' \
  > /etc/loki/local-config.yaml
chown -R 10001:10001 /loki
""",
        smoke="/usr/bin/loki -version",
    ),
    Fake(
        # grafana/tempo (distroless): user 10001, /var/tempo owned by it.
        key="tempo",
        version="2.9.0",
        links=("/tempo",),
        config=ImageConfig(entrypoint=("/tempo",), user="10001:10001", expose=("3200", "4317", "4318")),
        after="""\
useradd --uid 10001 --user-group --no-create-home --home-dir /var/tempo tempo
mkdir -p /var/tempo
chown -R 10001:10001 /var/tempo
""",
        smoke="/tempo -version",
    ),
    Fake(
        # portainer/portainer-ce:<v>-alpine: root, /portainer, data in /data.
        key="portainer",
        version="2.33.2",
        links=("/portainer",),
        busybox=("wget", "nc"),
        config=ImageConfig(
            entrypoint=("/portainer",), workdir="/", expose=("9000", "9443", "8000"), volumes=("/data",)
        ),
        after="mkdir -p /data",
        smoke="/portainer --version",
    ),
    Fake(
        # portainer/agent:<v>-alpine: root, WORKDIR /app, ENTRYPOINT ./agent; HTTPS on 9001.
        key="portainer-agent",
        version="2.33.2",
        links=("/app/agent",),
        busybox=("wget", "nc"),
        packages=("openssl",),
        config=ImageConfig(entrypoint=("./agent",), workdir="/app", expose=("9001",)),
    ),
    Fake(
        # gcr.io/cadvisor/cadvisor (Alpine): root, /usr/bin/cadvisor -logtostderr.
        key="cadvisor",
        version="0.53.0",
        links=("/usr/bin/cadvisor",),
        busybox=("wget",),
        config=ImageConfig(entrypoint=("/usr/bin/cadvisor", "-logtostderr"), expose=("8080",)),
        smoke="/usr/bin/cadvisor --version",
    ),
)


def recipe(f: Fake) -> Recipe:
    links = "\n".join(f"mkdir -p {Path(p).parent}\nln -s {LIB} {p}" for p in f.links)
    applets = "\n".join(f"ln -s /bin/busybox /usr/local/bin/{a}" for a in f.busybox)
    return Recipe(
        name=f.name,
        alias=f.alias,
        source=Path(__file__),
        packages=PACKAGES + f.packages,
        files=(CopyFile(SERVER, LIB, 0o755),),
        after="\n".join(s for s in (links, applets, f.after, f.smoke) if s) + "\n",
        config=f.config,
        report=("python3", "python3-yaml", *f.packages),
    )


RECIPES: tuple[Recipe, ...] = tuple(recipe(f) for f in FAKES)
# The staging stack's images.overrides for the fakes: program image key -> test image.
OVERRIDES: dict[str, str] = {f.key: f.alias for f in FAKES}
