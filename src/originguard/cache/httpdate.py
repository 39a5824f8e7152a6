"""HTTP-date parsing and formatting (RFC 9110 §5.6.7) without the clock or locale."""

from __future__ import annotations

import re
from typing import Final

_MONTHS: Final = {
    m: i + 1
    for i, m in enumerate(
        (b"jan", b"feb", b"mar", b"apr", b"may", b"jun", b"jul", b"aug", b"sep", b"oct", b"nov", b"dec")
    )
}
_MONTH_NAMES: Final = (
    b"Jan",
    b"Feb",
    b"Mar",
    b"Apr",
    b"May",
    b"Jun",
    b"Jul",
    b"Aug",
    b"Sep",
    b"Oct",
    b"Nov",
    b"Dec",
)
_DAY_NAMES: Final = (b"Mon", b"Tue", b"Wed", b"Thu", b"Fri", b"Sat", b"Sun")
_LONG_DAY_NAMES: Final = (b"Monday", b"Tuesday", b"Wednesday", b"Thursday", b"Friday", b"Saturday", b"Sunday")

_DAY: Final = b"(?:" + b"|".join(_DAY_NAMES) + b")"
_MONTH: Final = b"(" + b"|".join(_MONTH_NAMES) + b")"
_TIME: Final = rb"(\d{2}):(\d{2}):(\d{2})"
_IMF_FIXDATE: Final = re.compile(_DAY + rb", (\d{2}) " + _MONTH + rb" (\d{4}) " + _TIME + b" GMT", re.I)
"""RFC 9110 §5.6.7 IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT"."""
_RFC850: Final = re.compile(
    b"(?:" + b"|".join(_LONG_DAY_NAMES) + rb"), (\d{2})-" + _MONTH + rb"-(\d{2}) " + _TIME + b" GMT", re.I
)
"""RFC 9110 §5.6.7 obsolete rfc850-date: "Sunday, 06-Nov-94 08:49:37 GMT"."""
_ASCTIME: Final = re.compile(_DAY + b" " + _MONTH + rb" ( \d|\d{2}) " + _TIME + rb" (\d{4})", re.I)
"""RFC 9110 §5.6.7 obsolete asctime-date: "Sun Nov  6 08:49:37 1994"."""


def parse_http_date(value: bytes) -> float | None:
    """Seconds since the epoch for an IMF-fixdate, rfc850 or asctime date; None if invalid."""
    # RFC 9110 §5.6.7 grammar, exactly: RFC 9111 §5.3 makes any other form "already expired", so a
    # lenient parser would turn "Thu 18 Aug 2050" (no comma) into 24 years of freshness.
    # Names match case-insensitively, as RFC 9111 §4.2 asks of cache recipients.
    value = value.strip(b" \t")
    match = _IMF_FIXDATE.fullmatch(value) or _RFC850.fullmatch(value)
    if match is not None:
        day, month, year, hh, mm, ss = match.groups()
    else:
        match = _ASCTIME.fullmatch(value)
        if match is None:
            return None
        month, day, hh, mm, ss, year = match.groups()
    y, d = int(year), int(day)
    if len(year) == 2:
        # RFC 9110 §5.6.7 wants "50 years in the future means the past"; a fixed pivot needs no clock.
        y += 2000 if y < 70 else 1900
    h, mi, s = int(hh), int(mm), int(ss)
    if not (1 <= d <= 31 and h <= 23 and mi <= 59 and s <= 60):
        return None
    return float(_days_from_civil(y, _MONTHS[month.lower()], d) * 86400 + h * 3600 + mi * 60 + s)


def format_http_date(when: float) -> bytes:
    """The IMF-fixdate for `when` (seconds since the epoch, UTC)."""
    seconds = int(when)
    days, rest = divmod(seconds, 86400)
    y, m, d = _civil_from_days(days)
    hh, rest = divmod(rest, 3600)
    mm, ss = divmod(rest, 60)
    weekday = _DAY_NAMES[(days + 3) % 7]  # 1970-01-01 was a Thursday
    return b"%s, %02d %s %04d %02d:%02d:%02d GMT" % (weekday, d, _MONTH_NAMES[m - 1], y, hh, mm, ss)


def _days_from_civil(y: int, m: int, d: int) -> int:
    """Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm)."""
    y -= m <= 2
    era = y // 400
    yoe = y - era * 400
    doy = (153 * (m + (-3 if m > 2 else 9)) + 2) // 5 + d - 1
    doe = yoe * 365 + yoe // 4 - yoe // 100 + doy
    return era * 146097 + doe - 719468


def _civil_from_days(z: int) -> tuple[int, int, int]:
    """The (year, month, day) of a day count since 1970-01-01."""
    z += 719468
    era = z // 146097
    doe = z - era * 146097
    yoe = (doe - doe // 1460 + doe // 36524 - doe // 146096) // 365
    doy = doe - (365 * yoe + yoe // 4 - yoe // 100)
    mp = (5 * doy + 2) // 153
    d = doy - (153 * mp + 2) // 5 + 1
    m = mp + 3 if mp < 10 else mp - 9
    return yoe + era * 400 + (m <= 2), m, d
