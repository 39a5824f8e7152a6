"""The entropy rule of the reference: ≥128 bits after case-folding, no words, repeats or wildcards."""

from __future__ import annotations

import pytest

from originguard.audit.headers import regex_literal
from originguard.audit.secret_strength import assess_secret
from originguard.secrets import generate_secret_value


def test_generated_value_passes_with_about_206_bits() -> None:
    verdict = assess_secret(generate_secret_value(), "X-Origin-Verify")
    assert verdict.severity == "pass"
    assert 200 < verdict.bits < 210


def test_uuid_warns_at_122_bits() -> None:
    verdict = assess_secret("0b1c2d3e-4f50-4172-8394-a5b6c7d8e9f0")
    assert (verdict.severity, verdict.bits) == ("warn", 122.0)


def test_case_folding_means_mixed_case_is_no_stronger() -> None:
    lower = assess_secret("k3v9q2m7x4c8b1z6l0h5d2f9")
    mixed = assess_secret("K3v9Q2m7X4c8B1z6L0h5D2f9")
    assert lower.bits == mixed.bits
    assert lower.severity == "fail"  # 24 chars of [a-z0-9] ≈ 124 bits


def test_32_hex_digits_is_exactly_enough() -> None:
    assert assess_secret("9f86d081884c7d659a2feaa0c55ad015").severity == "pass"


@pytest.mark.parametrize(
    ("value", "reason"),
    [
        ("cloudfront", "dictionary"),
        ("cloudfront-secret-origin-verify-2024!!", "dictionary"),
        ("x-origin-verify", "header name"),
        ("aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", "repetition"),
        ("ab12ab12ab12ab12ab12ab12ab12ab12ab12ab12", "repetition"),
        ("k3v9q2m7x4c8b1z6l0h5d2f9g7j3p8t1w4r6y0u*", "wildcard"),
        ("k3v9q2m7x4c8b1z6 l0h5d2f9g7j3p8t1w4r6y0u2", "spaces"),
        ("k3v9q2m7x4c8b1z6l0h5d2f9g7j3p8t1w4r6y0ü2", "non-ASCII"),
        ("", "empty"),
    ],
)
def test_weak_values_fail_with_a_reason(value: str, reason: str) -> None:
    verdict = assess_secret(value, "X-Origin-Verify")
    assert verdict.severity == "fail"
    assert reason in verdict.reason


def test_reasons_never_contain_the_value() -> None:
    for value in ["cloudfront", "k3v9q2m7x4c8b1z6l0h5d2f9g7j3p8t1w4r6y0u2", "hunter2hunter2"]:
        assert value not in assess_secret(value).reason


@pytest.mark.parametrize(
    ("pattern", "literal"),
    [
        ("^abc123$", "abc123"),
        (r"^abc\.123$", "abc.123"),
        ("abc123", None),
        ("^abc.*$", None),
        (r"^abc\d$", None),
        ("^(a|b)$", None),
    ],
)
def test_regex_is_accepted_only_when_it_is_an_anchored_literal(pattern: str, literal: str | None) -> None:
    assert regex_literal(pattern) == literal
