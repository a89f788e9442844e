# pyright: strict
"""HRW routing: platform.md §9 vectors, naming rules, routing key, shard choice."""

from __future__ import annotations

import hashlib
import re
from typing import Self

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shards import routing
from shards.routing import (
    DEFAULT_GRAPH,
    Router,
    choose_shard,
    hrw_score,
    routing_key,
    tenant_graph_name,
)
from tests.shards.oracle import ref_choose, ref_graph_name

# The independent references live in tests/shards/oracle.py (one copy for every test).

# --- platform.md §9 vectors ---------------------------------------------------

LOCAL = ["tcp://localhost:9101", "tcp://localhost:9102", "tcp://localhost:9103"]

# (tenant, key, shard) from the "Repo-captured vectors" table, base __bus__.
SAMPLE_VECTORS = [
    ("acme", "tenant__acme____bus__", "tcp://localhost:9103"),
    ("globex", "tenant__globex____bus__", "tcp://localhost:9101"),
    ("initech", "tenant__initech____bus__", "tcp://localhost:9102"),
    (None, "__bus__", "tcp://localhost:9103"),
]


@pytest.mark.parametrize(("tenant", "key", "shard"), SAMPLE_VECTORS)
def test_sample_vectors(tenant: str | None, key: str, shard: str) -> None:
    assert tenant_graph_name(tenant, "__bus__") == key
    assert routing_key(None, tenant, default="__bus__") == key
    assert choose_shard(LOCAL, key) == shard
    assert Router(LOCAL).route(key) == shard
    # the independent reference agrees with the documented table too
    assert ref_choose(LOCAL, key) == shard


@pytest.mark.parametrize(
    ("tenant", "base", "expected"),
    [
        ("acme", "__commons__", "tenant__acme____commons__"),
        ("Acme Corp/EU", "kg", "tenant__acme_corp_eu__kg"),
        (None, "b", "b"),
        ("", "b", "b"),
        ("   ", "b", "b"),
        ("t1", "base", "tenant__t1__base"),
    ],
)
def test_naming_vectors(tenant: str | None, base: str, expected: str) -> None:
    assert tenant_graph_name(tenant, base) == expected


@pytest.mark.parametrize(
    ("tenant", "expected"),
    [
        ("___", "b"),  # slug trims to empty
        ("!!!", "b"),  # one run -> "_" -> trimmed -> empty
        ("  A!!B  ", "tenant__a_b__b"),  # a run of two becomes one "_"
        ("_a_", "tenant__a__b"),
        ("a__b", "tenant__a__b__b"),  # existing underscores are kept
        ("--X.y--", "tenant__--x.y--__b"),  # "-" and "." are allowed
        ("\u00dcn\u00efcode", "tenant__n_code__b"),  # non-ASCII is outside the class
        ("a\tb\nc", "tenant__a_b_c__b"),
    ],
)
def test_slug_rules(tenant: str, expected: str) -> None:
    assert tenant_graph_name(tenant, "b") == expected


@given(st.one_of(st.none(), st.text(max_size=40)), st.text(min_size=1, max_size=12))
def test_graph_name_matches_reference(tenant: str | None, base: str) -> None:
    assert tenant_graph_name(tenant, base) == ref_graph_name(tenant, base)


@given(st.text(max_size=40))
def test_slug_shape(tenant: str) -> None:
    name = tenant_graph_name(tenant, "B")
    if name == "B":
        return
    m = re.fullmatch(r"tenant__(.*)__B", name, flags=re.DOTALL)
    assert m is not None
    slug = m.group(1)
    assert re.fullmatch(r"[a-z0-9_.-]+", slug)
    assert not slug.startswith("_")
    assert not slug.endswith("_")


# --- routing key ---------------------------------------------------------------


def test_routing_key_rules() -> None:
    # 1. non-empty graph other than default: verbatim, tenant ignored
    assert routing_key("my-graph", "acme") == "my-graph"
    assert routing_key("my-graph", None) == "my-graph"
    # 2. graph missing or equal to the default, tenant present: tenant graph
    assert routing_key(None, "acme") == "tenant__acme____commons__"
    assert routing_key("", "acme") == "tenant__acme____commons__"
    assert routing_key("__commons__", "acme") == "tenant__acme____commons__"
    assert routing_key("__bus__", "acme", default="__bus__") == "tenant__acme____bus__"
    # 3. otherwise the name or the default
    assert routing_key(None, None) == "__commons__"
    assert routing_key("", "") == "__commons__"
    assert routing_key("__commons__", None) == "__commons__"
    assert routing_key(None, None, default="__bus__") == "__bus__"
    # whitespace-only tenant has an empty slug -> default
    assert routing_key(None, "   ") == "__commons__"


def test_default_graph_constant() -> None:
    assert DEFAULT_GRAPH == "__commons__"


# --- shard choice -----------------------------------------------------------------


@pytest.mark.parametrize("empty", [[], [""], ["", ""]])
def test_empty_endpoint_list_raises(empty: list[str]) -> None:
    with pytest.raises(ValueError, match="empty"):
        choose_shard(empty, "k")
    with pytest.raises(ValueError, match="empty"):
        Router(empty)


@given(st.text(min_size=1), st.text())
def test_single_endpoint_identity(endpoint: str, key: str) -> None:
    assert choose_shard([endpoint], key) == endpoint
    assert choose_shard(["", endpoint, ""], key) == endpoint
    assert Router([endpoint]).route(key) == endpoint


def test_empty_endpoints_dropped_and_others_verbatim() -> None:
    eps = ["", " tcp://a:1", "tcp://a:1", "TCP://A:1"]
    router = Router(eps)
    assert router.endpoints == (" tcp://a:1", "tcp://a:1", "TCP://A:1")
    assert router.prefixes == tuple((e + "-").encode() for e in router.endpoints)
    assert len(router) == 3
    for i in range(300):
        key = f"k{i}"
        assert router.route(key) == ref_choose(eps, key)


_DIGEST = st.binary(min_size=16, max_size=16)


@given(_DIGEST, _DIGEST)
def test_bytes_order_equals_int_order(a: bytes, b: bytes) -> None:
    ia, ib = int.from_bytes(a, "big"), int.from_bytes(b, "big")
    assert (a > b) == (ia > ib)
    assert (a == b) == (ia == ib)


@given(st.text(), st.text(), st.text())
def test_md5_digest_order_equals_score_order(e1: str, e2: str, key: str) -> None:
    d1 = hashlib.md5((e1 + "-" + key).encode("utf-8")).digest()
    d2 = hashlib.md5((e2 + "-" + key).encode("utf-8")).digest()
    assert (d1 > d2) == (hrw_score(e1, key) > hrw_score(e2, key))
    assert hrw_score(e1, key) == int.from_bytes(d1, "big")


_ENDPOINT = st.text(min_size=1, max_size=30)


@given(st.lists(_ENDPOINT, min_size=1, max_size=10), st.lists(st.text(), max_size=20))
def test_router_matches_int_formula(endpoints: list[str], keys: list[str]) -> None:
    router = Router(endpoints)
    for key in keys:
        expected = ref_choose(endpoints, key)
        assert router.route(key) == expected
        assert choose_shard(endpoints, key) == expected


class _ConstantHash:
    """Fake MD5 whose digest never depends on the input: every score ties."""

    def copy(self) -> Self:
        return self

    def update(self, data: bytes, /) -> None:
        del data

    def digest(self) -> bytes:
        return b"\x7f" * 16


def test_ties_go_to_the_earlier_endpoint(monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_md5(data: bytes = b"", /) -> _ConstantHash:
        del data
        return _ConstantHash()

    monkeypatch.setattr(routing.hashlib, "md5", fake_md5)
    assert Router(["b", "a", "c"]).route("k") == "b"
    assert Router(["c", "b", "a"]).route("k") == "c"
    assert choose_shard(["", "z", "a"], "k") == "z"


def test_router_is_deterministic_across_instances() -> None:
    keys = [f"tenant__t{i}__base" for i in range(500)]
    first = [Router(LOCAL).route(k) for k in keys]
    second = [Router(list(LOCAL)).route(k) for k in keys]
    assert first == second


def test_ingest_lanes_route_with_the_commons_graph() -> None:
    """The engine client's affinity groups (epistemic_graph/pool.py `AffinityRegistry`,
    default map): `__ingest__` and every `__ingest_<lane>` graph route by the key
    `__commons__`, so a union read over the lanes and commons stays on one shard."""
    assert routing_key("__ingest__", None) == "__commons__"
    assert routing_key("__ingest_news__", None) == "__commons__"
    assert routing_key("__ingest_news__", "acme") == "__commons__"
    # The anchor is the literal `__commons__`, whatever the deployment's base graph.
    assert routing_key("__ingest_x__", None, default="__bus__") == "__commons__"
    # Only the prefix `__ingest_` anchors; other names route by themselves.
    assert routing_key("__ingestion__", None) == "__ingestion__"
    assert routing_key("my__ingest_graph", None) == "my__ingest_graph"
