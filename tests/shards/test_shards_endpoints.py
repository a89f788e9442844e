# pyright: strict
"""Endpoint lists, metrics ports and shard mode (platform.md §2: 910N / 911N)."""

from __future__ import annotations

import pytest

from shards.endpoints import endpoints, metrics_port, shard_mode


def test_three_shards_default_layout() -> None:
    assert endpoints(3) == [
        "tcp://kg-shard-1:9101",
        "tcp://kg-shard-2:9102",
        "tcp://kg-shard-3:9103",
    ]


def test_one_shard() -> None:
    assert endpoints(1) == ["tcp://kg-shard-1:9101"]


@pytest.mark.parametrize("count", [1, 2, 7, 64])
def test_count_and_ports(count: int) -> None:
    eps = endpoints(count, base_port=20000)
    assert len(eps) == count
    assert len(set(eps)) == count
    for n, e in enumerate(eps, start=1):
        assert e == f"tcp://kg-shard-{n}:{20000 + n - 1}"


def test_custom_base_port_and_host_template() -> None:
    assert endpoints(2, base_port=9201, host_template="engine-shard-{n}") == [
        "tcp://engine-shard-1:9201",
        "tcp://engine-shard-2:9202",
    ]
    assert endpoints(2, host_template="localhost") == [
        "tcp://localhost:9101",
        "tcp://localhost:9102",
    ]


@pytest.mark.parametrize("count", [0, -1, 65, 1000])
def test_count_out_of_range(count: int) -> None:
    with pytest.raises(ValueError, match=r"between 1 and 64"):
        endpoints(count)


@pytest.mark.parametrize("bad", [True, 2.0, "3"])
def test_count_must_be_int(bad: object) -> None:
    with pytest.raises(TypeError):
        endpoints(bad)  # pyright: ignore[reportArgumentType]


def test_port_range_upper_bound() -> None:
    assert endpoints(1, base_port=65535) == ["tcp://kg-shard-1:65535"]
    assert endpoints(2, base_port=65534)[-1] == "tcp://kg-shard-2:65535"
    with pytest.raises(ValueError, match="65535"):
        endpoints(2, base_port=65535)
    with pytest.raises(ValueError, match="65535"):
        endpoints(64, base_port=65500)


@pytest.mark.parametrize("port", [0, -5])
def test_port_range_lower_bound(port: int) -> None:
    with pytest.raises(ValueError):
        endpoints(1, base_port=port)


@pytest.mark.parametrize("template", ["kg-{x}", "kg-{0}", "", "kg-{n"])
def test_bad_host_template(template: str) -> None:
    with pytest.raises(ValueError):
        endpoints(2, host_template=template)


@pytest.mark.parametrize(("n", "port"), [(1, 9111), (2, 9112), (3, 9113), (9, 9119)])
def test_metrics_port_default(n: int, port: int) -> None:
    assert metrics_port(n) == port


def test_metrics_port_custom_base() -> None:
    assert metrics_port(1, metrics_base_port=9300) == 9300
    assert metrics_port(4, metrics_base_port=9300) == 9303


@pytest.mark.parametrize("n", [0, -1, 65])
def test_metrics_port_bad_shard_number(n: int) -> None:
    with pytest.raises(ValueError):
        metrics_port(n)


def test_metrics_port_overflow() -> None:
    with pytest.raises(ValueError, match="65535"):
        metrics_port(2, metrics_base_port=65535)


def test_shard_mode() -> None:
    assert shard_mode(1) == "single"
    for count in range(2, 65):
        assert shard_mode(count) == "sharded"
    for bad in (0, 65, -3):
        with pytest.raises(ValueError):
            shard_mode(bad)
