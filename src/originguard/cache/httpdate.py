"""HTTP-date parsing and formatting (RFC 9110 §5.6.7) without the clock or locale."""

from __future__ import annotations

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


def parse_http_date(value: bytes) -> float | None:
    """Seconds since the epoch for an IMF-fixdate, rfc850 or asctime date; None if invalid."""
    # rfc850 writes "06-Nov-94": turning '-' into spaces gives the IMF-fixdate field order.
    parts = value.replace(b"-", b" ").split()
    if len(parts) == 6 and parts[5] == b"GMT":  # IMF-fixdate or rfc850
        day, month, year, clock = parts[1], parts[2], parts[3], parts[4]
    elif len(parts) == 5:  # asctime: "Sun Nov  6 08:49:37 1994"
        month, day, clock, year = parts[1], parts[2], parts[3], parts[4]
    else:
        return None
    month_number = _MONTHS.get(month.lower())
    hms = clock.split(b":")
    if month_number is None or len(hms) != 3 or not all(p.isdigit() for p in (day, year, *hms)):
        return None
    y, d = int(year), int(day)
    if len(year) == 2:
        # RFC 9110 §5.6.7 wants "50 years in the future means the past"; a fixed pivot needs no clock.
        y += 2000 if y < 70 else 1900
    h, mi, s = (int(p) for p in hms)
    if not (1 <= d <= 31 and h <= 23 and mi <= 59 and s <= 60):
        return None
    return float(_days_from_civil(y, month_number, d) * 86400 + h * 3600 + mi * 60 + s)


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
