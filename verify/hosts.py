"""Name resolution for the stack under test: its host names -> the ingress address, as a
marked block in /etc/hosts, removed afterwards.

The providers (Keycloak at https://sso.<zone>, OpenBao at https://openbao.<zone>) resolve
the stack's names like any client on the operator machine; on a single-node staging the
operator points them at the node (the program's own scripts pin them with `curl --resolve`).
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterable, Iterator
from pathlib import Path

HOSTS = Path("/etc/hosts")


def _strip(text: str, marker: str) -> str:
    begin, end = f"# begin {marker}", f"# end {marker}"
    out: list[str] = []
    skipping = False
    for line in text.splitlines():
        if line.strip() == begin:
            skipping = True
        elif line.strip() == end:
            skipping = False
        elif not skipping:
            out.append(line)
    return "\n".join(out) + "\n"


@contextlib.contextmanager
def resolving(names: Iterable[str], address: str, marker: str, hosts: Path = HOSTS) -> Iterator[None]:
    """Resolve `names` to `address` while the block is in place (idempotent; a stale block
    of the same marker, left by a killed run, is replaced)."""
    body = "\n".join(f"{address} {n}" for n in sorted(set(names)))
    base = _strip(hosts.read_text(), marker)
    hosts.write_text(f"{base}# begin {marker}\n{body}\n# end {marker}\n")
    try:
        yield
    finally:
        hosts.write_text(_strip(hosts.read_text(), marker))
