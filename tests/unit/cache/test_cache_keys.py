"""Cache keys under a behaviour's key policy, and RFC 9111 §4.4 invalidation targets."""

from __future__ import annotations

import pytest

from originguard.cache import InvalidationPath, KeyPolicy, cache_key, invalidation_keys, invalidations_for
from originguard.cache.key import split_key
from originguard.config.edge import CacheKeyPolicy

ALL = KeyPolicy()
NONE = KeyPolicy(query="none")
WHITELIST = KeyPolicy(query=frozenset({b"a", b"b"}))


@pytest.mark.parametrize(
    ("host", "path", "query", "headers", "policy", "key", "why"),
    [
        (
            b"WWW.Example.test:8443",
            b"/p",
            None,
            [],
            ALL,
            b"www.example.test/p",
            "scheme/port independent host",
        ),
        (b"[::1]:8443", b"/p", None, [], ALL, b"[::1]/p", "IPv6 literal keeps brackets"),
        (b"h", b"/p", b"b=2&a=1", [], ALL, b"h/p?b=2&a=1", "all: query kept as sent"),
        (b"h", b"/p", b"b=2&a=1", [], NONE, b"h/p", "none: query dropped"),
        (b"h", b"/p", b"z=9&b=2&a=1", [], WHITELIST, b"h/p?a=1&b=2", "whitelist: filtered and sorted"),
        (b"h", b"/p", b"z=9", [], WHITELIST, b"h/p", "whitelist with nothing left"),
        (
            b"h",
            b"/p",
            None,
            [(b"X-Dev", b"m")],
            KeyPolicy(headers=(b"x-dev",)),
            b"h/p\x00h:x-dev=m",
            "header",
        ),
        (b"h", b"/p", None, [], KeyPolicy(headers=(b"x-dev",)), b"h/p\x00h:x-dev=\x01", "absent header"),
        (
            b"h",
            b"/p",
            None,
            [(b"Cookie", b"z=1; sid=2; lang=en")],
            KeyPolicy(cookies=frozenset({b"lang"})),
            b"h/p\x00c:lang=en",
            "cookie whitelist",
        ),
        (
            b"h",
            b"/p",
            None,
            [(b"Cookie", b"z=1; lang=en")],
            KeyPolicy(cookies="all"),
            b"h/p\x00c:lang=en;z=1",
            "all cookies, sorted",
        ),
    ],
)
def test_cache_key_policy(
    host: bytes,
    path: bytes,
    query: bytes | None,
    headers: list[tuple[bytes, bytes]],
    policy: KeyPolicy,
    key: bytes,
    why: str,
) -> None:
    assert cache_key(host, path, query, headers, policy) == key
    assert split_key(key)[1].partition(b"?")[0] == path


def test_key_policy_from_config() -> None:
    policy = KeyPolicy.from_config(CacheKeyPolicy(query_strings=["a"], headers=["X-Dev"], cookies="none"))
    assert policy == KeyPolicy(query=frozenset({b"a"}), headers=(b"x-dev",), cookies="none")


@pytest.mark.parametrize(
    ("method", "status", "headers", "expected", "why"),
    [
        (b"GET", 200, [], [], "9111 §4.4 safe method"),
        (b"POST", 500, [], [], "9111 §4.4 error status"),
        (b"POST", 201, [], [(b"h", b"/a/b?x=1")], "9111 §4.4 target URI"),
        (b"PURGE", 200, [], [(b"h", b"/a/b?x=1")], "9111 §4.4 unknown methods count as unsafe"),
        (b"POST", 303, [(b"Location", b"/c")], [(b"h", b"/a/b?x=1"), (b"h", b"/c")], "Location path"),
        (b"POST", 200, [(b"Content-Location", b"d")], [(b"h", b"/a/b?x=1"), (b"h", b"/a/d")], "relative"),
        (
            b"PUT",
            200,
            [(b"Location", b"https://H:443/e")],
            [(b"h", b"/a/b?x=1"), (b"h", b"/e")],
            "same origin",
        ),
        (
            b"PUT",
            200,
            [(b"Location", b"https://evil.test/e")],
            [(b"h", b"/a/b?x=1")],
            "9111 §4.4 other origin",
        ),
        (b"PUT", 200, [(b"Location", b"//evil.test/e")], [(b"h", b"/a/b?x=1")], "scheme-relative other host"),
    ],
)
def test_rfc9111_4_4_invalidations_for(
    method: bytes,
    status: int,
    headers: list[tuple[bytes, bytes]],
    expected: list[tuple[bytes, bytes]],
    why: str,
) -> None:
    assert invalidations_for(method, status, b"h:8443", b"/a/b?x=1", headers) == expected


def test_admin_invalidation_paths() -> None:
    assert InvalidationPath.parse("/img/*") == InvalidationPath(b"/img/", True)
    assert InvalidationPath.parse("index.html") == InvalidationPath(b"/index.html", False)


def test_rfc9111_4_4_invalidation_keys_are_the_exact_cache_keys() -> None:
    policy = KeyPolicy(query=frozenset({b"x"}))
    keys = invalidation_keys(b"POST", 200, b"H", b"/a?y=1&x=1", [], [(b"Location", b"/b")], policy)
    assert keys == [b"h/a?x=1", b"h/b"]
