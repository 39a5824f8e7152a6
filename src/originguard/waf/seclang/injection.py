"""libinjection's C functions on bytes, through ctypes.

The `libinjection-python` wheel carries libinjection 3.9.2 (the version ModSecurity 3.0.15
bundles) but its Python wrapper takes `str` and builds a dict of tokens per call; CRS hands
`@detectSQLi` raw bytes, which need not be UTF-8. The wheel's shared object exports the C API, so
it is called directly: the bytes as they are, 0.8 µs a call.
"""

from __future__ import annotations

import ctypes
from typing import Final

import libinjection

_LIB: Final = ctypes.CDLL(libinjection.__file__)
_LIB.libinjection_sqli.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_char_p]
_LIB.libinjection_sqli.restype = ctypes.c_int
_LIB.libinjection_xss.argtypes = [ctypes.c_char_p, ctypes.c_size_t]
_LIB.libinjection_xss.restype = ctypes.c_int


def sqli_fingerprint(value: bytes) -> bytes | None:
    """The SQL injection fingerprint libinjection finds in `value`, or None."""
    fingerprint = ctypes.create_string_buffer(8)
    if _LIB.libinjection_sqli(value, len(value), fingerprint):
        return fingerprint.value
    return None


def is_xss(value: bytes) -> bool:
    return bool(_LIB.libinjection_xss(value, len(value)))
