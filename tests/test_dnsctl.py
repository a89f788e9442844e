"""The Technitium sync client against a fake API that, like the real one, answers HTTP 200
on errors and reports failure only in the JSON `status`. The fake (the one the test images
run: verify/images/files/fakes/server.py) also keeps the admin password as Technitium
does: taken from the password file only on the first start (no config yet), later changed
only through /api/user/changePassword, whose parameters changed in v14 (DnsServer
APIDOCS.md at v13.6.0 and v14.0.0)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import threading
import urllib.parse
from collections.abc import Iterator, Mapping
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from components.edge import dnsctl
from verify.images.files.fakes.server import Technitium

ROOT = Path(__file__).resolve().parents[1]


class FakeTechnitium(Technitium):
    """The Technitium fake of the test images (verify/images/files/fakes/server.py), with
    injected failures and a record of every request's query string."""

    def __init__(self, password: str = "pw", version: str = "13.6") -> None:
        super().__init__(password=password, version=version, domain="dns.agents.arpa")
        self.fail_on: str | None = None
        self.queries: list[str] = []  # every request's query string (what access logs keep)
        self.malformed_on: str | None = None

    def handle(self, path: str, q: Mapping[str, str]) -> dict[str, Any]:
        if path == self.fail_on:
            self.calls.append(path)
            return {"status": "error", "errorMessage": "injected failure"}
        if path == self.malformed_on:
            self.calls.append(path)
            return {"status": "ok"}  # no response body where one is expected
        return super().handle(path, q)

    def restart(self, password_file: str) -> None:
        """A new task with a new password file: Technitium has its config already, so the
        file (DNS_SERVER_ADMIN_PASSWORD_FILE) is ignored."""
        del password_file


@pytest.fixture
def fake() -> Iterator[tuple[FakeTechnitium, str]]:
    state = FakeTechnitium()

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            self._answer("")

        def do_POST(self) -> None:
            # Technitium takes every API call as GET or as a POST form.
            n = int(self.headers.get("Content-Length") or 0)
            self._answer(self.rfile.read(n).decode())

        def _answer(self, form: str) -> None:
            u = urllib.parse.urlsplit(self.path)
            state.queries.append(u.query)
            q = dict(urllib.parse.parse_qsl(u.query)) | dict(urllib.parse.parse_qsl(form))
            body = json.dumps(state.handle(u.path, q)).encode()
            self.send_response(200)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    srv = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield state, f"http://127.0.0.1:{srv.server_address[1]}"
    srv.shutdown()


def _run(
    url: str, records: list[dict[str, str]], password: str = "pw", mode: str = "sync"
) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "DNS_API_URL": url,
        "DNS_API_PASSWORD": password,
        "DNS_ZONE": "agents.arpa",
        "DNS_RECORDS": json.dumps(records),
    }
    return subprocess.run(
        [sys.executable, "components/edge/dnsctl.py", mode],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=30,
    )


def test_sync_creates_zone_and_records_then_changes_nothing(fake: tuple[FakeTechnitium, str]) -> None:
    state, url = fake
    recs = [{"name": "sso.agents.arpa", "ip": "10.0.0.1"}, {"name": "sso.agents.arpa", "ip": "10.0.0.2"}]
    first = _run(url, recs)
    assert first.returncode == 0, first.stderr
    assert json.loads(first.stdout) == {"zone": "agents.arpa", "added": 2, "removed": 0, "kept": 0}
    assert state.zones == {"agents.arpa"}
    assert set(state.records) == {("sso.agents.arpa", "10.0.0.1"), ("sso.agents.arpa", "10.0.0.2")}
    again = _run(url, recs)
    assert again.returncode == 0, again.stderr
    assert json.loads(again.stdout) == {"zone": "agents.arpa", "added": 0, "removed": 0, "kept": 2}
    assert state.calls.count("/api/zones/create") == 1


def test_sync_removes_only_records_it_manages(fake: tuple[FakeTechnitium, str]) -> None:
    state, url = fake
    state.zones.add("agents.arpa")
    state.records[("manual.agents.arpa", "10.9.9.9")] = "hand-made"
    state.records[("old.agents.arpa", "10.0.0.1")] = dnsctl.MARKER
    out = _run(url, [{"name": "new.agents.arpa", "ip": "10.0.0.1"}])
    assert out.returncode == 0, out.stderr
    assert set(state.records) == {("manual.agents.arpa", "10.9.9.9"), ("new.agents.arpa", "10.0.0.1")}
    pruned = _run(url, [], mode="prune")
    assert pruned.returncode == 0
    assert set(state.records) == {("manual.agents.arpa", "10.9.9.9")}


@pytest.mark.parametrize("failing", ["/api/zones/list", "/api/zones/records/add", "/api/zones/create"])
def test_http_200_with_error_status_fails_the_command(fake: tuple[FakeTechnitium, str], failing: str) -> None:
    state, url = fake
    state.fail_on = failing
    out = _run(url, [{"name": "a.agents.arpa", "ip": "10.0.0.1"}])
    assert out.returncode == 1
    assert "injected failure" in out.stderr and failing in out.stderr


def test_wrong_password_is_a_clear_error(fake: tuple[FakeTechnitium, str]) -> None:
    _, url = fake
    out = _run(url, [], password="nope")
    assert out.returncode == 1
    assert "Invalid username or password" in out.stderr
    assert out.stdout == ""


def test_credentials_never_travel_in_a_query_string(fake: tuple[FakeTechnitium, str]) -> None:
    state, url = fake
    out = _run(url, [{"name": "a.agents.arpa", "ip": "10.0.0.1"}])
    assert out.returncode == 0, out.stderr
    assert state.queries and all("pw" not in q and "tok" not in q for q in state.queries), state.queries


def test_a_malformed_reply_is_reported_as_such(fake: tuple[FakeTechnitium, str]) -> None:
    state, url = fake
    state.zones.add("agents.arpa")
    state.malformed_on = "/api/zones/records/get"
    out = _run(url, [{"name": "a.agents.arpa", "ip": "10.0.0.1"}])
    assert out.returncode == 1
    assert "environment variable" not in out.stderr and "/api/zones/records/get" in out.stderr


def test_prune_never_creates_the_zone(fake: tuple[FakeTechnitium, str]) -> None:
    state, url = fake
    out = _run(url, [], mode="prune")
    assert out.returncode == 0, out.stderr
    assert state.zones == set() and "/api/zones/create" not in state.calls
