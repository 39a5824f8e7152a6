"""URL-valued keys are refused at load in the shape their consumer needs (issue #16 item 5)."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from originguard.config import load_config_text
from originguard.config.urls import parse_redis_url, parse_router_url
from originguard.errors import ConfigErrors

EDGE = "edges: [{name: e1, region: r, http: 127.0.0.1:0}]\n"
DISTRIBUTION = """
distribution:
  rtt_report_url: {url}
  origins: [{{id: app, address: "127.0.0.1:9000", protocol_policy: http-only}}]
  default_behavior: {{origin: app}}
"""


def errors_of(text: str) -> list[str]:
    with pytest.raises(ConfigErrors) as caught:
        load_config_text(text, "site.yaml", Path("."), load_secrets=False)
    return [str(e) for e in caught.value.errors]


def test_a_redis_address_without_a_scheme_is_refused_with_the_expected_shape() -> None:
    assert errors_of('cluster: {redis: "127.0.0.1:6379"}') == [
        "site.yaml: cluster.redis: '127.0.0.1:6379' is not a Redis URL; expected "
        "redis://[:PASSWORD@]HOST:PORT[/DB] (or rediss://... for TLS, unix:///PATH.sock)"
    ]


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("redis://127.0.0.1:99999", "the port must be a number in 1-65535"),
        ("redis://127.0.0.1:0", "port 0 cannot be connected to"),
        ("redis://:6379", "names no host"),
        ("redis://127.0.0.1:6379/cache", "the path is the database number"),
        ("http://127.0.0.1:6379", "is not a Redis URL"),
        ("unix://relative.sock", "needs an absolute socket path"),
        ("redis://127.0.0.1:6379/0?socket_timeout=soon", "Invalid value for 'socket_timeout'"),
        ("redis://127.0.0.1 :6379", "cannot contain spaces"),
    ],
)
def test_malformed_redis_urls_are_refused(url: str, problem: str) -> None:
    (message,) = errors_of(f'cluster: {{redis: "{url}"}}')
    assert message.startswith("site.yaml: cluster.redis: ") and problem in message


def test_a_password_in_a_refused_redis_url_is_not_printed() -> None:
    (message,) = errors_of('cluster: {redis: "redis://:hunter2hunter2@127.0.0.1:99999/0"}')
    assert "hunter2" not in message and "redis://***@127.0.0.1:99999/0" in message


@pytest.mark.parametrize(
    "url",
    ["redis://127.0.0.1:6379/0", "redis://localhost", "rediss://[::1]:6380/2", "unix:///run/redis.sock",
     "redis://:pw@cache.internal:6379/1?socket_timeout=2"],
)  # fmt: skip
def test_well_formed_redis_urls_load(url: str) -> None:
    loaded = load_config_text(f'cluster: {{redis: "{url}"}}', "site.yaml", Path("."), load_secrets=False)
    assert loaded.config.cluster is not None and loaded.config.cluster.redis == url


def test_an_rtt_report_url_without_a_scheme_is_refused_with_the_expected_shape() -> None:
    (message,) = errors_of(EDGE + DISTRIBUTION.format(url="127.0.0.1:5354/rtt"))
    assert message == (
        "site.yaml: distribution.rtt_report_url: '127.0.0.1:5354/rtt' is not an http:// URL; expected "
        "http://HOST:PORT[/PATH], the DNS router's admin address (e.g. http://127.0.0.1:5380/rtt)"
    )


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        ("https://127.0.0.1:5380/rtt", "is not an http:// URL"),
        ("http://127.0.0.1:70000/rtt", "the port must be a number in 1-65535"),
        ("http:///rtt", "names no host"),
        ("http://127.0.0.1:5380/rtt?x=1", "no query or fragment"),
    ],
)
def test_malformed_rtt_report_urls_are_refused(url: str, problem: str) -> None:
    (message,) = errors_of(EDGE + DISTRIBUTION.format(url=url))
    assert message.startswith("site.yaml: distribution.rtt_report_url: ") and problem in message


def test_request_paths_and_origin_ports_are_checked() -> None:
    problems = errors_of(
        EDGE
        + """
distribution:
  health_path: healthz
  origins: [{id: app, address: "127.0.0.1:0", http_port: 70000}]
  default_behavior: {origin: app}
gate:
  listeners: [{port: 127.0.0.1:0, protocol: http}]
  target_groups:
    app: {targets: ["127.0.0.1:0"], health_check: {path: healthz}}
"""
    )
    wanted = [
        ("distribution.health_path", "'healthz' is not a request path"),
        ("distribution.origins[0].http_port", "less than or equal to 65535"),
        ("gate.target_groups.app.health_check.path", "'healthz' is not a request path"),
    ]
    for path, problem in wanted:
        assert any(p.startswith(f"site.yaml: {path}: ") and problem in p for p in problems), (path, problems)


def test_a_shield_that_is_not_another_https_edge_is_refused_at_load() -> None:
    problems = errors_of("""
edges:
  - {name: e1, region: r, http: 127.0.0.1:0, shield: {edge: e2}}
  - {name: e2, region: r, http: 127.0.0.1:0}
""")
    assert problems == [
        "site.yaml: edges[0].shield.edge: 'e2' is not another edge with https: (edges with https: none)"
    ]


def test_soa_and_nameserver_names_are_checked() -> None:
    problems = errors_of(
        "dns: {listen: 127.0.0.1:0, zone: example.test., nameservers: ['a..b'], soa: {rname: 'x..y'}}"
    )
    assert any(p.startswith("site.yaml: dns.nameservers: 'a..b' is not a valid DNS name") for p in problems)
    assert any(p.startswith("site.yaml: dns.soa.rname: 'x..y' is not a valid DNS name") for p in problems)


URLISH = st.text(
    alphabet=st.sampled_from(list("redis:/@[]?=&.0123456789abchtpunx%")), max_size=40
) | st.builds(
    "{}://{}{}{}".format,
    st.sampled_from(["redis", "rediss", "unix", "http", "https", ""]),
    st.sampled_from(["127.0.0.1", "[::1]", "", "h", ":pw@h"]),
    st.sampled_from(["", ":0", ":6379", ":65536", ":x"]),
    st.sampled_from(["", "/", "/0", "/rtt", "/a/b", "?db=1", "?socket_timeout=x"]),
)


@given(URLISH)
def test_every_redis_url_the_model_accepts_builds_a_client(url: str) -> None:
    from originguard.cluster.link import RedisLink

    try:
        parse_redis_url(url)
    except ValueError:
        return
    RedisLink(url)  # redis-py parses the URL here; the component used to die on this line


@given(URLISH)
def test_every_router_url_the_model_accepts_builds_a_reporter(url: str) -> None:
    from originguard.latency.reporter import RttReporter

    try:
        parse_router_url(url)
    except ValueError:
        return
    RttReporter(url, "edge-1")
