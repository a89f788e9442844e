"""Journey (b): a person logs in with a browser.

Headless Chromium opens a web UI the stack routes through Caddy, is sent to Keycloak's login
page, signs in as the realm user the stack creates for people (`platformAdmin` output), and
comes back to the web UI's own origin with an authorization code.

The era's agent-webui (0.43.0) cannot run as a service (verify/images/MANIFEST.md), so the
program leaves the webui off and staging has neither a webui route nor an `agent-webui`
Keycloak client. The web UI here is Grafana (https://grafana.<zone>, Keycloak client
`grafana`, generic OAuth with PKCE): the closest browser login the stack really serves. Its
image is the test fake (verify/images/files/fakes/server.py) implementing Grafana's
generic_oauth flow; Caddy, Keycloak and the realm are the real ones.

TLS is verified by the browser itself: the stack's root CA (`caddy-root.pem`) is trusted in
an NSS database under a throwaway HOME (certutil, Debian package libnss3-tools), never
`ignore_https_errors`.

Keycloak 26's default user profile requires email, first and last name; the stack gives
its user all three (it once did not, and the first login stopped at "Update Account
Information", VERIFY_PROFILE): the journey fails if that form appears.

Marker `journeys`."""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.parse
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import Browser, Page, Request, sync_playwright
from playwright.sync_api import Error as PlaywrightError

from tests.stack import stackhelp

pytestmark = pytest.mark.journeys

CHROMIUM = Path("/usr/bin/chromium")
REALM = "agents"  # components/config/core.py KeycloakConfig.realm (staging keeps the default)
CLIENT = "grafana"  # the Keycloak client of Grafana's generic OAuth (components/core)
TIMEOUT_MS = 30_000
# Keycloak's required action for a user whose profile lacks what the realm's user profile
# requires (26.x default: email, first and last name).
PROFILE_FORM = "execution=VERIFY_PROFILE"
PROFILE_FIELDS = ("email", "firstName", "lastName")
# Chromium fails what is in flight when /etc/hosts changes (another test session entering or
# leaving its hosts block): such an attempt is started again in a fresh context.
ATTEMPTS = 3
INTERRUPTED = ("net::ERR_NETWORK_CHANGED", "Failed to fetch")


class NetworkChangedError(Exception):
    """The browser lost what was in flight to a network change on the machine."""


@dataclass(frozen=True)
class Site:
    zone: str
    grafana: str  # https://grafana.<zone>
    sso: str  # https://sso.<zone>
    username: str
    password: str

    @property
    def auth_url(self) -> str:
        return f"{self.sso}/realms/{REALM}/protocol/openid-connect/auth"

    @property
    def callback(self) -> str:
        return f"{self.grafana}/login/generic_oauth"


def stack_ca(dep: stackhelp.Deployment) -> Path:
    return dep.ws.project / ".agent-os" / stackhelp.STACK / "caddy-root.pem"


def trusting_home(home: Path, ca: Path) -> dict[str, str | float | bool]:
    """The environment of a browser whose only added trust anchor is the stack's root CA:
    Chromium on Linux reads the user's NSS database at $HOME/.pki/nssdb."""
    db = home / ".pki" / "nssdb"
    db.mkdir(parents=True)
    subprocess.run(["certutil", "-N", "-d", f"sql:{db}", "--empty-password"], check=True)
    subprocess.run(
        ["certutil", "-A", "-d", f"sql:{db}", "-n", "agent-os staging root", "-t", "C,,", "-i", str(ca)],
        check=True,
    )
    return {**os.environ, "HOME": str(home)}


@pytest.fixture(scope="module")
def site(staging: stackhelp.Deployment) -> Site:
    out: dict[str, Any] = staging.outputs()
    admin = out["platformAdmin"]
    assert isinstance(admin, dict) and set(admin) == {"username", "password"}, admin
    assert admin["username"] and admin["password"]
    urls = out["urls"]
    return Site(
        zone=out["zone"],
        grafana=urls["grafana"],
        sso=urls["sso"],
        username=admin["username"],
        password=admin["password"],
    )


@pytest.fixture(scope="module")
def browser(
    staging: stackhelp.Deployment, site: Site, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Browser]:
    if not CHROMIUM.exists():
        pytest.skip(f"no {CHROMIUM} (tools/ci-setup.sh installs Debian's chromium)")
    env = trusting_home(tmp_path_factory.mktemp("browser-home"), stack_ca(staging))
    # The stack's names -> the ingress inside the browser, as the fixture's /etc/hosts block
    # does for other clients: Chromium watches /etc/hosts and fails requests in flight
    # (ERR_NETWORK_CHANGED, ERR_NAME_NOT_RESOLVED) whenever another test session rewrites it.
    args = [f"--host-resolver-rules=MAP *.{site.zone} {stackhelp.INGRESS}"]
    args += ["--no-sandbox"] if os.geteuid() == 0 else []
    with sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=str(CHROMIUM), headless=True, env=env, args=args)
        try:
            yield b
        finally:
            b.close()


def go(page: Page, url: str) -> None:
    try:
        page.goto(url, timeout=TIMEOUT_MS)
    except PlaywrightError as e:
        if any(m in e.message for m in INTERRUPTED):
            raise NetworkChangedError(e.message) from e
        raise


def settle(page: Page, until: Callable[[str], bool], what: str) -> None:
    """Wait for the page to reach a URL `until` accepts (or Chromium's own error page)."""
    page.wait_for_url(lambda url: until(url) or url.startswith("chrome-error://"), timeout=TIMEOUT_MS)
    if page.url.startswith("chrome-error://"):
        text = page.inner_text("body")
        if "ERR_NETWORK_CHANGED" in text:
            raise NetworkChangedError(text)
        raise AssertionError(f"the browser failed on the way to {what}:\n{text}")


def fetch(page: Page, url: str) -> tuple[int, str]:
    """GET `url` from the page itself (the browser's cookies and TLS trust)."""
    try:
        got = page.evaluate(
            "async (url) => { const r = await fetch(url, {credentials: 'same-origin'});"
            " return [r.status, await r.text()]; }",
            url,
        )
    except PlaywrightError as e:
        if any(m in e.message for m in INTERRUPTED):
            raise NetworkChangedError(e.message) from e
        raise
    return int(got[0]), str(got[1])


def attempts(browser: Browser, flow: Callable[[Page], None]) -> None:
    """Run `flow` in a fresh browser context; again (at most ATTEMPTS) when interrupted."""
    for n in range(1, ATTEMPTS + 1):
        context = browser.new_context()
        try:
            flow(context.new_page())
            return
        except NetworkChangedError as e:
            print(f"[note] journey b: attempt {n} interrupted by a network change: {str(e)[:200]}")
            if n == ATTEMPTS:
                raise AssertionError(f"every attempt interrupted by a network change: {e}") from e
        finally:
            context.close()


def to_keycloak(page: Page, site: Site) -> dict[str, str]:
    """Open Grafana's login, follow its SSO link to Keycloak's login form; the query of the
    authorization request Grafana made."""
    go(page, f"{site.grafana}/login")
    # What Grafana's login page renders its "Sign in with Keycloak" button from.
    status, text = fetch(page, f"{site.grafana}/api/frontend/settings")
    assert status == 200, text
    assert json.loads(text)["oauth"].get("generic_oauth", {}).get("name") == "Keycloak", text
    go(page, f"{site.grafana}/login/generic_oauth")  # the button's link
    settle(page, lambda url: url.startswith(f"{site.auth_url}?"), "Keycloak's login page")
    query = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(page.url).query))
    page.wait_for_selector("form#kc-form-login", timeout=TIMEOUT_MS)
    return query


def sign_in(page: Page, site: Site) -> None:
    seen: list[str] = []

    def on_request(req: Request) -> None:
        if req.is_navigation_request():
            seen.append(req.url)

    page.on("request", on_request)
    query = to_keycloak(page, site)
    assert query.get("client_id") == CLIENT, query
    assert query.get("redirect_uri") == site.callback, query
    assert query.get("response_type") == "code", query
    assert query.get("code_challenge_method") == "S256" and query.get("code_challenge"), query
    state = query.get("state")
    assert state, query

    page.fill("#username", site.username)
    page.fill("#password", site.password)
    page.click("#kc-login")
    home = f"{site.grafana}/"
    settle(page, lambda url: url == home or PROFILE_FORM in url, f"{home} (after signing in)")
    assert PROFILE_FORM not in page.url, f"Keycloak asked {site.username} to complete {PROFILE_FIELDS}"

    back = [u for u in seen if u.startswith(f"{site.callback}?")]
    assert back, f"the browser never came back to {site.callback}: {seen}"
    params = dict(urllib.parse.parse_qsl(urllib.parse.urlsplit(back[-1]).query))
    assert params.get("code"), back[-1]
    assert params.get("state") == state, (params, state)
    assert "error" not in params, params

    status, text = fetch(page, f"{site.grafana}/api/user")
    assert status == 200, text
    body = json.loads(text)
    assert body["login"] == site.username, body
    assert body["role"] == "Admin", body  # the platform admin holds webui:admin
    assert body["authLabels"] == ["Generic OAuth"], body


def wrong_password(page: Page, site: Site) -> None:
    to_keycloak(page, site)
    page.fill("#username", site.username)
    page.fill("#password", site.password + "-wrong")
    page.click("#kc-login")
    settle(
        page,
        lambda url: url.startswith(f"{site.sso}/realms/{REALM}/login-actions/authenticate?"),
        "Keycloak's answer to the wrong password",
    )
    error = page.locator("#input-error-username")
    error.wait_for(timeout=TIMEOUT_MS)
    assert error.inner_text().strip() == "Invalid username or password.", error.inner_text()
    assert page.locator("form#kc-form-login").is_visible()
    go(page, f"{site.grafana}/login")
    status, text = fetch(page, f"{site.grafana}/api/user")
    assert status == 401, text


def test_a_person_signs_in_to_grafana_through_keycloak(browser: Browser, site: Site) -> None:
    t0 = time.monotonic()
    attempts(browser, lambda page: sign_in(page, site))
    stackhelp.report(f"[time] journey b: {time.monotonic() - t0:.1f} s")


def test_a_wrong_password_stays_on_keycloak(browser: Browser, site: Site) -> None:
    attempts(browser, lambda page: wrong_password(page, site))
