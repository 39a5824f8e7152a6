"""Which request fields a listener drops for a `_` in their name (http/field_names.py)."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from originguard.http.field_names import UnderscorePolicy, kept_fields

SECRET = frozenset({b"x-origin-verify"})
FIELDS = [
    (b"Host", b"a"),
    (b"X_Origin_Verify", b"forged"),
    (b"Cookie", b"_ga=1"),
    (b"x_origin-VERIFY", b"forged"),
    (b"X_Custom", b"a"),
]


def test_by_default_every_underscore_name_goes_and_each_is_counted() -> None:
    counted: list[int] = []
    kept = kept_fields(FIELDS, UnderscorePolicy(False, SECRET, counted.append))
    assert kept == [(b"Host", b"a"), (b"Cookie", b"_ga=1")]
    assert counted == [3]


def test_allowed_underscore_names_stay_except_copies_of_a_secret_name() -> None:
    kept = kept_fields(FIELDS, UnderscorePolicy(True, SECRET))
    assert kept == [(b"Host", b"a"), (b"Cookie", b"_ga=1"), (b"X_Custom", b"a")]


def test_a_head_without_underscore_names_is_kept_as_it_is_with_no_copy_and_no_count() -> None:
    counted: list[int] = []
    fields = [(b"Host", b"a"), (b"Referer", b"/a_b?c_d=1")]
    assert kept_fields(fields, UnderscorePolicy(False, SECRET, counted.append)) is None
    assert counted == []


names = st.binary(min_size=1, max_size=12).map(lambda b: bytes(97 + c % 26 if c % 3 else 95 for c in b))


@given(st.lists(st.tuples(names, st.binary(max_size=4)), max_size=8), st.booleans())
def test_kept_fields_are_the_fields_in_order_whose_names_pass(
    fields: list[tuple[bytes, bytes]], allowed: bool
) -> None:
    policy = UnderscorePolicy(allowed, frozenset({b"a-b"}))
    kept = kept_fields(fields, policy)
    expected = [f for f in fields if not policy.drops(f[0])]
    assert (fields if kept is None else kept) == expected
    assert all(
        b"_" not in name or (allowed and name.replace(b"_", b"-").lower() != b"a-b") for name, _ in expected
    )
