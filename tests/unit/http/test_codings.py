"""Accept-Encoding: q-values, wildcards, identity refusals and our order of preference (RFC 9110 §12.5.3)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from originguard.http.codings import accepted_codings, choose_coding

OURS = (b"br", b"zstd", b"gzip")


def test_a_browser_list_without_weights_gets_our_preference_not_its_order() -> None:
    assert choose_coding(b"gzip, deflate, br, zstd", OURS) == b"br"
    assert choose_coding(b"gzip, deflate", OURS) == b"gzip"
    assert choose_coding(b"deflate", OURS) == b""


def test_q_values_rank_codings_and_zero_refuses() -> None:
    assert choose_coding(b"br;q=0.5, gzip;q=0.9", OURS) == b"gzip"
    assert choose_coding(b"br;q=0, gzip", OURS) == b"gzip"
    assert choose_coding(b"br;q=0, gzip;q=0", OURS) == b""
    assert choose_coding(b"gzip; Q=0.001", OURS) == b"gzip"


def test_names_are_case_insensitive_and_x_gzip_is_gzip() -> None:
    assert choose_coding(b"GZIP", OURS) == b"gzip"
    assert choose_coding(b"x-gzip", OURS) == b"gzip"


def test_wildcard_covers_what_is_not_named() -> None:
    assert choose_coding(b"*", OURS) == b"br"
    assert choose_coding(b"br;q=0, *;q=0.5", OURS) == b"zstd"


def test_identity_refused_with_nothing_else_acceptable_is_none() -> None:
    assert choose_coding(b"identity;q=0", (b"gzip",)) is None
    assert choose_coding(b"*;q=0", OURS) is None
    assert choose_coding(b"*;q=0, identity", OURS) == b""
    assert choose_coding(b"identity", OURS) == b""


def test_no_field_or_an_empty_one_means_identity() -> None:
    assert choose_coding(None, OURS) == b""
    assert choose_coding(b"", OURS) == b""


def test_malformed_weights_count_as_refusals_not_guesses() -> None:
    for bad in (b"gzip;q=2", b"gzip;q=1.5", b"gzip;q=0.1234", b"gzip;q=abc", b"gzip;q=", b"gzip;q=-1"):
        assert accepted_codings(bad)[b"gzip"] == 0.0, bad
        assert choose_coding(bad, OURS) == b"", bad


@given(st.binary(max_size=60))
def test_any_bytes_choose_one_of_ours_identity_or_none(header: bytes) -> None:
    assert choose_coding(header, OURS) in (*OURS, b"", None)
