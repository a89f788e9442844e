# pyright: strict
"""HRW (rendezvous) routing of knowledge graphs to engine shards.

Pure-Python re-implementation of the HRW-era router described in
``platform.md`` section 9 (``agent_utilities/knowledge_graph/core/shard_topology.py``
delegating to ``epistemic_graph/pool.py`` ``ShardRouter``):

* :func:`tenant_graph_name` derives the per-tenant graph name;
* :func:`routing_key` picks the key that is hashed (with the engine client's default
  affinity groups: the ingest lanes route with ``__commons__``);
* :func:`choose_shard` / :class:`Router` pick the endpoint with the highest
  ``MD5(endpoint + "-" + key)`` read as an unsigned 128-bit big-endian integer.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Iterable, Sequence
from typing import Final, Protocol, Self

__all__ = [
    "AFFINITY_ANCHOR",
    "DEFAULT_GRAPH",
    "Router",
    "anchor_for",
    "choose_shard",
    "hrw_score",
    "routing_key",
    "tenant_graph_name",
]

#: ``KG_DEFAULT_GRAPH`` default at HEAD (docs say ``__bus__``; see platform.md §15).
DEFAULT_GRAPH: Final = "__commons__"

# The engine client's default affinity groups (epistemic_graph/pool.py, AffinityRegistry):
# `__ingest__` and every `__ingest_<lane>` graph route by the key `__commons__` (literally,
# whatever the base graph), so a union read over the lanes and commons stays on one shard.
# The app's GRAPH_AFFINITY_GROUPS can extend the map; the program sets none.
AFFINITY_ANCHOR: Final = "__commons__"
_AFFINITY_EXACT: Final = frozenset({"__ingest__"})
_AFFINITY_PREFIX: Final = "__ingest_"

# Each run of characters outside [A-Za-z0-9_.-] collapses to a single "_".
_SLUG_INVALID_RUN: Final = re.compile(r"[^A-Za-z0-9_.-]+")


class _HashState(Protocol):
    """The subset of a ``hashlib`` hash object the router uses."""

    def copy(self) -> Self: ...

    def update(self, data: bytes, /) -> None: ...

    def digest(self) -> bytes: ...


def tenant_graph_name(tenant: str | None, base: str) -> str:
    """Return the graph name for ``tenant`` on top of ``base``.

    1. Empty or ``None`` tenant -> ``base``.
    2. slug = tenant stripped, each run of chars outside ``[A-Za-z0-9_.-]``
       replaced by one ``_``, ``_`` trimmed from both ends, lowercased.
    3. Empty slug -> ``base``; otherwise ``tenant__<slug>__<base>``.
    """
    if not tenant:
        return base
    slug = _SLUG_INVALID_RUN.sub("_", tenant.strip()).strip("_").lower()
    if not slug:
        return base
    return f"tenant__{slug}__{base}"


def anchor_for(graph: str) -> str:
    """The key HRW hashes for an explicit graph: its affinity anchor, else itself."""
    if graph in _AFFINITY_EXACT or graph.startswith(_AFFINITY_PREFIX):
        return AFFINITY_ANCHOR
    return graph


def routing_key(
    graph: str | None,
    tenant: str | None,
    default: str = DEFAULT_GRAPH,
) -> str:
    """Return the key that HRW hashes for a request.

    1. A non-empty ``graph`` other than ``default``: its affinity anchor (the ingest lanes:
       ``__commons__``), else the name verbatim.
    2. Otherwise, if there is a (non-empty) tenant, use
       ``tenant_graph_name(tenant, default)``.
    3. Otherwise use ``graph`` if given, else ``default``.
    """
    if graph and graph != default:
        return anchor_for(graph)
    if tenant:
        return tenant_graph_name(tenant, default)
    return graph or default


def hrw_score(endpoint: str, key: str) -> int:
    """Reference HRW score: MD5 of UTF-8 ``endpoint + "-" + key`` as a big-endian uint128."""
    return int.from_bytes(hashlib.md5((endpoint + "-" + key).encode("utf-8")).digest(), "big")


class Router:
    """Precomputed HRW router over a fixed endpoint list.

    Empty endpoint strings are dropped; the rest are kept verbatim (scheme
    included, no whitespace trimming) because the exact bytes are hashed.

    Speed: for each endpoint the MD5 state after absorbing the prefix
    ``endpoint + "-"`` is computed once; a lookup copies that state, feeds the
    key bytes and takes the digest.  Digests are compared as ``bytes``: an MD5
    digest is always exactly 16 bytes, and for equal-length byte strings
    lexicographic order is identical to the order of the unsigned big-endian
    integers they encode, so ``d1 > d2`` iff
    ``int.from_bytes(d1, "big") > int.from_bytes(d2, "big")``.
    """

    __slots__ = ("_endpoints", "_prefixes", "_single", "_states")

    def __init__(self, endpoints: Iterable[str]) -> None:
        kept = tuple(e for e in endpoints if e)
        if not kept:
            raise ValueError("no shard endpoints: the endpoint list is empty")
        self._endpoints: tuple[str, ...] = kept
        self._prefixes: tuple[bytes, ...] = tuple((e + "-").encode("utf-8") for e in kept)
        self._states: tuple[tuple[str, _HashState], ...] = tuple(
            (e, hashlib.md5(p)) for e, p in zip(kept, self._prefixes, strict=True)
        )
        self._single: str | None = kept[0] if len(kept) == 1 else None

    @property
    def endpoints(self) -> tuple[str, ...]:
        """The non-empty endpoints, in the given order."""
        return self._endpoints

    @property
    def prefixes(self) -> tuple[bytes, ...]:
        """UTF-8 ``endpoint + "-"`` prefix per endpoint (same order as :attr:`endpoints`)."""
        return self._prefixes

    def route(self, key: str) -> str:
        """Return the endpoint with the highest HRW score for ``key``.

        Comparison is strict, so on a tie the earlier endpoint wins.
        """
        single = self._single
        if single is not None:
            return single
        key_bytes = key.encode("utf-8")
        best = ""
        best_digest = b""  # any 16-byte digest compares greater than b""
        for endpoint, state in self._states:
            h = state.copy()
            h.update(key_bytes)
            digest = h.digest()
            if digest > best_digest:
                best_digest = digest
                best = endpoint
        return best

    def __len__(self) -> int:
        return len(self._endpoints)

    def __repr__(self) -> str:
        return f"Router({list(self._endpoints)!r})"


def choose_shard(endpoints: Sequence[str], key: str) -> str:
    """Return ``argmax_e MD5_128(e + "-" + key)`` over the non-empty ``endpoints``.

    Raises :class:`ValueError` when no non-empty endpoint is left; a single
    endpoint is returned as is.  For many lookups over the same list build a
    :class:`Router` once instead.
    """
    return Router(endpoints).route(key)
