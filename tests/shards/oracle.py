"""The one independent routing reference the shard tests compare against, written from
platform.md §9 (not from shards/routing.py): rendezvous hashing over MD5 and the tenant
graph name, read character by character."""

from __future__ import annotations

import hashlib
from collections.abc import Sequence

_ALLOWED = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_.-")
COMMONS = "__commons__"


def ref_graph_name(tenant: str | None, base: str = COMMONS) -> str:
    """Char-by-char reading of platform.md §9 "Graph name" (no regex)."""
    if tenant is None or tenant == "":
        return base
    out: list[str] = []
    in_run = False
    for ch in tenant.strip():
        if ch in _ALLOWED:
            out.append(ch)
            in_run = False
        elif not in_run:
            out.append("_")
            in_run = True
    slug = "".join(out)
    while slug.startswith("_"):
        slug = slug[1:]
    while slug.endswith("_"):
        slug = slug[:-1]
    slug = slug.lower()
    return base if slug == "" else "tenant__" + slug + "__" + base


def ref_choose(endpoints: Sequence[str], key: str) -> str:
    """argmax of the 128-bit big-endian MD5 integer, strict '>' (earlier wins ties)."""
    kept = [e for e in endpoints if e != ""]
    if not kept:
        raise ValueError("empty")
    best = kept[0]
    best_score = -1
    for e in kept:
        score = int.from_bytes(hashlib.md5((e + "-" + key).encode("utf-8")).digest(), "big")
        if score > best_score:
            best, best_score = e, score
    return best
