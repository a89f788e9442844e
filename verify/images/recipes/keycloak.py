"""Keycloak 26.4.7 (newest 26.4.x on Maven Central: org.keycloak:keycloak-quarkus-dist) on
Debian trixie's OpenJDK 21, laid out as the official image: /opt/keycloak, user 1000:0,
ENTRYPOINT kc.sh. Stands in for quay.io/keycloak/keycloak:26.4.2 (the program's pin)."""

from __future__ import annotations

from pathlib import Path

from ..recipe import Archive, ImageConfig, Recipe

VERSION = "26.4.7"
DIST = f"https://repo.maven.apache.org/maven2/org/keycloak/keycloak-quarkus-dist/{VERSION}"

RECIPE = Recipe(
    name="keycloak",
    alias=f"agent-os-test/keycloak:{VERSION}",
    source=Path(__file__),
    before="useradd --uid 1000 --gid 0 --home-dir /opt/keycloak --no-create-home --shell /usr/sbin/nologin keycloak",
    packages=("openjdk-21-jre-headless", "ca-certificates"),
    archives=(
        Archive(
            url=f"{DIST}/keycloak-quarkus-dist-{VERSION}.tar.gz",
            # Maven Central's .sha1 for it: 29ec58859b8d0873e8978ae3eca02dc19e5b48de
            sha256="aca60ab72ae4d67adc6b8fe7fca5e08d16a6bb5e4a4f2ebb54050e3f5503fd2b",
            dest="/opt/keycloak",
        ),
    ),
    after="""\
mkdir -p /opt/keycloak/data
chown -R 1000:0 /opt/keycloak
chmod -R g+rwX /opt/keycloak
""",
    config=ImageConfig(
        entrypoint=("/opt/keycloak/bin/kc.sh",),
        env={"LANG": "C.UTF-8"},
        user="1000",
        expose=("8080", "8443", "9000"),
    ),
    report=("openjdk-21-jre-headless",),
)
