"""The transformations' shortcuts give what the full computation gives.

The engine returns a value without running a chain when the value holds none of the bytes its
steps act on (`IDENTITY_UNSAFE`), so a wrong entry would change what rules see. Each entry is
checked on values drawn from the bytes it calls safe, weighted toward the bytes the decoders
branch on; the chain table with the shortcut against each step run in turn; and normalizePath's
quick test against the ported C loop. (The results themselves are checked against
libmodsecurity in test_transforms_differential.py.)
"""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from originguard.waf.seclang.chains import TransformTable
from originguard.waf.seclang.decode import normalize_path, normalize_path_loop
from originguard.waf.seclang.transforms import IDENTITY_UNSAFE, TRANSFORMS, identity_safe_bytes

_INTERESTING = (
    b"%uUfF+&#;xX\\/.0123456789aAbBcCdDeEfF ;'\"^,()\t\n\r\x0b\x0c\x00"
    b"\xa0\xc2\xc3\xa9\xe2\x80\xf0\x9f\xbf*-<>!ltgampquotnbsp?=:~_zZ"
)
_SAFE_NAMES = sorted(name for name, unsafe in IDENTITY_UNSAFE.items() if unsafe is not None)


def test_every_transformation_is_classified() -> None:
    assert set(IDENTITY_UNSAFE) == set(TRANSFORMS)


@pytest.mark.parametrize("name", _SAFE_NAMES)
def test_values_of_safe_bytes_pass_unchanged(name: str) -> None:
    unsafe = IDENTITY_UNSAFE[name]
    assert unsafe is not None
    safe = [c for c in range(256) if c not in unsafe]
    weighted = [c for c in _INTERESTING if c not in unsafe] + safe

    @settings(max_examples=300, deadline=None, derandomize=True, database=None)
    @given(st.lists(st.sampled_from(weighted), max_size=24).map(bytes))
    def check(value: bytes) -> None:
        assert TRANSFORMS[name](value) == value

    check()
    for c in safe:  # every single byte and every pair with itself, exhaustively
        assert TRANSFORMS[name](bytes([c])) == bytes([c])
        assert TRANSFORMS[name](bytes([c, c])) == bytes([c, c])


def test_a_chain_is_safe_only_where_each_step_is() -> None:
    assert identity_safe_bytes(("lowercase", "sha1")) is None
    safe = identity_safe_bytes(("lowercase", "urldecodeuni"))
    assert safe is not None and b"A" not in safe and b"%" not in safe and b"a" in safe


@settings(max_examples=400, deadline=None, derandomize=True, database=None)
@given(
    st.lists(st.sampled_from(sorted(TRANSFORMS)), min_size=1, max_size=4).map(tuple),
    st.lists(st.sampled_from(list(_INTERESTING) + list(b"abcxyz019 ")), max_size=20).map(bytes),
)
def test_chain_table_matches_running_each_step(chain: tuple[str, ...], value: bytes) -> None:
    table = TransformTable([(), chain])
    expected = value
    for name in chain:
        expected = TRANSFORMS[name](expected)
    assert table.apply(1, value, {}) == expected


@pytest.mark.parametrize("windows", [False, True])
def test_normalize_path_shortcut_agrees_with_the_loop(windows: bool) -> None:
    @settings(max_examples=1500, deadline=None, derandomize=True, database=None)
    @given(st.lists(st.sampled_from(list(b"./\\a.b/")), max_size=12).map(bytes))
    def check(value: bytes) -> None:
        assert normalize_path(value, windows=windows) == normalize_path_loop(value, windows=windows)

    check()
