"""Listener rule matching without sockets: the cloud balancer's semantics, case by case."""

from __future__ import annotations

import fnmatch
import re
from dataclasses import dataclass, field
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from originguard.config import load_config_text
from originguard.gate.rules import CompiledListener, compile_listener, match
from originguard.proxy.patterns import compile_wildcard
from originguard.secrets import parse_secret_text

SECRET = "k3v9q2m7x4c8b1z6l0h5d2f9g7j3p8t1w4r6y0u2"
PREVIOUS = "p8t1w4r6y0u2k3v9q2m7x4c8b1z6l0h5d2f9g7j3"


@dataclass
class FakeRequest:
    method: bytes = b"GET"
    path: bytes = b"/"
    query: bytes = b""
    host: bytes = b"www.example.com"
    client_ip: str = "127.0.0.1"
    headers: list[tuple[bytes, bytes]] = field(default_factory=list)

    def header_values(self, lower_name: bytes) -> list[bytes]:
        return [v for n, v in self.headers if n.lower() == lower_name]


def listener(rules_yaml: str, secret_text: str = SECRET) -> CompiledListener:
    text = f"""
secrets: {{origin-verify: {{env: UNUSED}}}}
gate:
  listeners:
    - port: 127.0.0.1:0
      protocol: http
      rules:
{rules_yaml}
"""
    loaded = load_config_text(text, "t.yaml", Path("."), load_secrets=False)
    assert loaded.config.gate is not None
    secrets = {"origin-verify": parse_secret_text("origin-verify", secret_text, "test")}
    return compile_listener(loaded.config.gate.listeners[0], secrets)


SECRET_RULE = """
        - priority: 5
          conditions: [{http_header: {name: X-Origin-Verify, values: [{secret: origin-verify}]}}]
          actions: [{fixed_response: {status: 200, body: ok}}]
"""


def test_secret_header_match_is_exact_and_case_insensitive_by_name() -> None:
    compiled = listener(SECRET_RULE)
    assert match(compiled, FakeRequest(headers=[(b"x-origin-VERIFY", SECRET.encode())])).rule == "priority 5"
    assert (
        match(compiled, FakeRequest(headers=[(b"X-Origin-Verify", SECRET.upper().encode())])).rule
        == "default"
    )
    assert (
        match(compiled, FakeRequest(headers=[(b"X-Origin-Verify", SECRET.encode() + b" ")])).rule == "default"
    )
    assert (
        match(compiled, FakeRequest(headers=[(b"X-Origin-Verify", SECRET[:-1].encode())])).rule == "default"
    )
    assert match(compiled, FakeRequest()).rule == "default"


def test_secret_never_matches_as_a_wildcard() -> None:
    compiled = listener(SECRET_RULE, secret_text="abc*")
    assert match(compiled, FakeRequest(headers=[(b"X-Origin-Verify", b"abcdef")])).rule == "default"
    assert match(compiled, FakeRequest(headers=[(b"X-Origin-Verify", b"abc*")])).rule == "priority 5"


def test_every_accepted_rotation_value_is_admitted() -> None:
    compiled = listener(SECRET_RULE, secret_text=f"{SECRET}\n{PREVIOUS}\n")
    for value in (SECRET, PREVIOUS):
        assert (
            match(compiled, FakeRequest(headers=[(b"X-Origin-Verify", value.encode())])).kind
            == "fixed_response"
        )


def test_duplicate_secret_header_lines_do_not_match() -> None:
    compiled = listener(SECRET_RULE)
    both = [(b"X-Origin-Verify", SECRET.encode()), (b"X-Origin-Verify", SECRET.encode())]
    assert match(compiled, FakeRequest(headers=both)).rule == "default"


def test_priority_order_wins_not_file_order_and_default_runs_last() -> None:
    compiled = listener("""
        - priority: 20
          conditions: [{path_pattern: {values: ["/api/*"]}}]
          actions: [{fixed_response: {status: 200, body: twenty}}]
        - priority: 10
          conditions: [{path_pattern: {values: ["/api/v1/*"]}}]
          actions: [{fixed_response: {status: 200, body: ten}}]
""")
    assert match(compiled, FakeRequest(path=b"/api/v1/x")).rule == "priority 10"
    assert match(compiled, FakeRequest(path=b"/api/v2/x")).rule == "priority 20"
    default = match(compiled, FakeRequest(path=b"/other"))
    assert default.rule == "default" and default.action.fixed_response is not None
    assert default.action.fixed_response.status == 403


def test_conditions_are_anded_and_values_ored() -> None:
    compiled = listener("""
        - priority: 1
          conditions:
            - {host_header: {values: ["*.example.com", "example.org"]}}
            - {http_request_method: {values: [GET, HEAD]}}
            - {source_ip: {values: ["10.0.0.0/8", "2001:db8::/32"]}}
          actions: [{fixed_response: {status: 200}}]
""")
    ok = FakeRequest(host=b"WWW.Example.COM:443", client_ip="10.1.2.3")
    assert match(compiled, ok).rule == "priority 1"
    assert match(compiled, FakeRequest(host=b"example.org", client_ip="2001:db8::1")).rule == "priority 1"
    assert match(compiled, FakeRequest(host=b"example.net", client_ip="10.1.2.3")).rule == "default"
    assert match(compiled, FakeRequest(method=b"POST", client_ip="10.1.2.3")).rule == "default"
    assert match(compiled, FakeRequest(client_ip="11.0.0.1")).rule == "default"
    assert match(compiled, FakeRequest(client_ip="::ffff:10.0.0.1")).rule == "priority 1"


def test_path_pattern_is_case_sensitive_and_ignores_the_query() -> None:
    compiled = listener("""
        - priority: 1
          conditions: [{path_pattern: {values: ["/img/*.png"]}}]
          actions: [{fixed_response: {status: 200}}]
""")
    assert match(compiled, FakeRequest(path=b"/img/a/b.png", query=b"x=.png")).rule == "priority 1"
    assert match(compiled, FakeRequest(path=b"/IMG/a.png")).rule == "default"
    assert match(compiled, FakeRequest(path=b"/img/a.png.txt")).rule == "default"


def test_query_string_pairs_with_wildcards_and_escapes() -> None:
    compiled = listener(r"""
        - priority: 1
          conditions: [{query_string: {values: [{key: version, value: "v?"}, {value: "lit\\*"}]}}]
          actions: [{fixed_response: {status: 200}}]
""")
    assert match(compiled, FakeRequest(query=b"version=V2")).rule == "priority 1"
    assert match(compiled, FakeRequest(query=b"version=v10")).rule == "default"
    assert match(compiled, FakeRequest(query=b"any=lit*")).rule == "priority 1"
    assert match(compiled, FakeRequest(query=b"any=litx")).rule == "default"


def test_header_condition_with_plain_values_uses_case_insensitive_wildcards() -> None:
    compiled = listener("""
        - priority: 1
          conditions: [{http_header: {name: User-Agent, values: ["*Mobile*"]}}]
          actions: [{fixed_response: {status: 200}}]
""")
    assert match(compiled, FakeRequest(headers=[(b"user-agent", b"x MOBILE y")])).rule == "priority 1"
    assert match(compiled, FakeRequest(headers=[(b"user-agent", b"desktop")])).rule == "default"


@given(st.text(alphabet="ab*?.", max_size=8), st.text(alphabet="ab.", max_size=10))
def test_wildcards_agree_with_fnmatch_semantics(pattern: str, value: str) -> None:
    expected = re.fullmatch(fnmatch.translate(pattern).replace("(?s:", "(?:"), value, re.DOTALL) is not None
    # fnmatch also knows [seq]; our alphabet has no brackets, so the semantics are the same.
    assert compile_wildcard(pattern, case_sensitive=True)(value) == expected


@pytest.mark.parametrize("value", ["", "a", "ab", "abc"])
def test_literal_patterns_compare_without_regex(value: str) -> None:
    assert compile_wildcard("ab", case_sensitive=True)(value) == (value == "ab")
    assert compile_wildcard("AB", case_sensitive=False)(value) == (value == "ab")
