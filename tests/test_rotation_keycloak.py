"""Keycloak admin password rotation against the real Keycloak (the image built here from
Maven Central's keycloak-quarkus-dist 26.4.7, verify/images/recipes/keycloak.py).

KC_BOOTSTRAP_ADMIN_PASSWORD creates the admin only on the first start against an empty
database, so after a rotation the restarted Keycloak keeps the old password and the
keycloak provider's login (admin-cli, password grant, with the new one) is refused: the
issue, shown first. Then the program's own `keycloak-admin-password` step, run as
pulumi-command runs it (tests/test_rotation.py's CommandSim: the previous stdout handed
to the update), brings Keycloak to the new password through the admin API.

The database is start-dev's H2 on a volume kept across the two containers (the program
runs `start` against Postgres; the bootstrap rule and the admin API are the same)."""

from __future__ import annotations

import json
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from typing import Any

import docker
import pytest
from docker.models.containers import Container

from tests.conftest import evaluate
from tests.test_rotation import NEW, OLD, OTHER, CommandSim, assert_no_secret, passed, step_env
from verify.engine import EngineUnavailableError, start_engine
from verify.images import build, check
from verify.images.recipes import RECIPES

pytestmark = pytest.mark.images

STEP = "keycloak-admin-password"


@pytest.fixture(scope="module")
def client() -> Iterator[tuple[docker.DockerClient, str]]:
    try:
        engine = start_engine()
    except EngineUnavailableError as e:
        pytest.skip(str(e))
    lock = build.acquire_lock()
    c = docker.from_env(timeout=300)
    try:
        image = build.ensure(c, RECIPES["keycloak"], build.rootfs.uv_version()).alias
    finally:
        lock.close()
    yield c, image
    c.close()
    engine.close()


class Keycloak:
    """Keycloak containers that share one data volume (a restart with a new bootstrap env)."""

    def __init__(self, client: docker.DockerClient, image: str, user: str) -> None:
        self.client, self.image, self.user = client, image, user
        self.volume = client.volumes.create()
        self.container: Container | None = None
        self.url = ""

    def start(self, bootstrap_password: str) -> None:
        self.stop()
        c = self.client.containers.run(
            self.image,
            ["start-dev"],
            detach=True,
            environment={
                "KC_BOOTSTRAP_ADMIN_USERNAME": self.user,
                "KC_BOOTSTRAP_ADMIN_PASSWORD": bootstrap_password,
                "KC_HEALTH_ENABLED": "true",
            },
            volumes={self.volume.name: {"bind": "/opt/keycloak/data", "mode": "rw"}},
        )
        self.container = c
        check.wait_until(c, ["bash", "-c", check.KC_READY], 300, "keycloak /health/ready")
        c.reload()
        self.url = f"http://{c.attrs['NetworkSettings']['IPAddress']}:8080"

    def stop(self) -> None:
        if self.container is not None:
            self.container.remove(force=True)
            self.container = None

    def close(self) -> None:
        self.stop()
        self.volume.remove(force=True)

    def login(self, password: str) -> str | None:
        """What the keycloak provider does first: a password grant for admin-cli in master."""
        form = {
            "grant_type": "password",
            "client_id": "admin-cli",
            "username": self.user,
            "password": password,
        }
        try:
            reply = _http(
                f"{self.url}/realms/master/protocol/openid-connect/token", urllib.parse.urlencode(form)
            )
        except urllib.error.HTTPError as e:
            assert e.code == 401, e.read()
            return None
        return str(reply["access_token"])

    def set_by_hand(self, token: str, password: str) -> None:
        """An operator changing the admin's password in the admin console."""
        q = urllib.parse.urlencode({"username": self.user, "exact": "true"})
        [user] = _http(f"{self.url}/admin/realms/master/users?{q}", token=token)
        body = json.dumps({"type": "password", "value": password, "temporary": False})
        _http(f"{self.url}/admin/realms/master/users/{user['id']}/reset-password", body, token, "PUT")


def _http(url: str, body: str | None = None, token: str = "", method: str | None = None) -> Any:
    req = urllib.request.Request(url, data=body.encode() if body is not None else None, method=method)
    if body is not None:
        ctype = "application/json" if body.startswith("{") else "application/x-www-form-urlencoded"
        req.add_header("Content-Type", ctype)
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(req, timeout=30) as r:
        raw = r.read()
    return json.loads(raw) if raw else None


@pytest.fixture(scope="module")
def keycloak(client: tuple[docker.DockerClient, str]) -> Iterator[Keycloak]:
    user = step_env(evaluate("staging"), STEP)["KC_ADMIN_USER"]
    kc = Keycloak(client[0], client[1], user)
    try:
        yield kc
    finally:
        kc.close()


def _env(kc: Keycloak, password: str) -> dict[str, str]:
    return step_env(
        evaluate("staging"),
        STEP,
        KC_ADMIN_URL=kc.url,
        KC_ADMIN_CONNECT="",
        KC_ADMIN_INSECURE="0",
        KC_ADMIN_CA_FILE="",
        KC_ADMIN_PASSWORD=password,
    )


def test_a_rotated_keycloak_admin_password_reaches_the_real_keycloak(keycloak: Keycloak) -> None:
    sim = CommandSim.of(evaluate("staging"), STEP)
    keycloak.start(OLD)
    first = passed(sim.up(_env(keycloak, OLD)))
    assert "unchanged" in first.stderr

    # Rotation: the secret changes, Swarm restarts Keycloak with the new bootstrap password,
    # which Keycloak ignores (its master realm has an admin): the provider's login is refused.
    keycloak.start(NEW)
    assert keycloak.login(NEW) is None and keycloak.login(OLD) is not None

    second = passed(sim.up(_env(keycloak, NEW)))
    assert "changed from the previous password" in second.stderr
    assert_no_secret(second, OLD, NEW)
    assert keycloak.login(NEW) is not None and keycloak.login(OLD) is None
    assert json.loads(sim.stdout) == {"admin_password": NEW}

    # Idempotent: no input change, no run; a re-run (another CA file) changes nothing.
    assert sim.up(_env(keycloak, NEW)) is None
    again = sim.up(_env(keycloak, NEW) | {"KC_ADMIN_CA_FILE": "/dev/null"})
    assert again is not None and again.returncode == 0 and "unchanged" in again.stderr

    # Neither password works (changed by hand): a clear error, nothing logged, state kept.
    token = keycloak.login(NEW)
    assert token is not None
    keycloak.set_by_hand(token, OTHER)
    failed = sim.up(_env(keycloak, "the-next-admin-pw-04"))
    assert failed is not None and failed.returncode == 1 and failed.stdout == ""
    assert "refused both the configured admin password" in failed.stderr
    assert "keycloakAdminPassword" in failed.stderr
    assert_no_secret(failed, OLD, NEW, OTHER, "the-next-admin-pw-04")
    assert json.loads(sim.stdout) == {"admin_password": NEW}
