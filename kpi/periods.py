"""Reporting periods: whole days [start, end], their comparison periods and their report labels.

Units report monthly, quarterly, 6-monthly, 9-monthly and yearly (Circular 01/2020/TT-VPCP), so a period
made of whole calendar months compares with the same number of whole months before it (the previous
month, quarter, half, year); any other span compares with the span of equal length just before it.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from datetime import date, timedelta

ROMAN = ("I", "II", "III", "IV")
_MONTHS_EN = tuple(calendar.month_name)


def _month_end(y: int, m: int) -> date:
    return date(y, m, calendar.monthrange(y, m)[1])


def _add_months(y: int, m: int, months: int) -> tuple[int, int]:
    index = y * 12 + (m - 1) + months
    return index // 12, index % 12 + 1


@dataclass(frozen=True, order=True)
class Period:
    """Inclusive whole days from `start` to `end`."""

    start: date
    end: date

    def __post_init__(self) -> None:
        if self.start > self.end:
            raise ValueError(f"period starts after it ends: {self.start} > {self.end}")

    @property
    def days(self) -> int:
        return (self.end - self.start).days + 1

    def __contains__(self, day: object) -> bool:
        return isinstance(day, date) and self.start <= day <= self.end

    def whole_months(self) -> int | None:
        """How many calendar months the period covers exactly, or None when it does not start on the 1st
        of a month and end on a month's last day."""
        if self.start.day != 1 or self.end != _month_end(self.end.year, self.end.month):
            return None
        return (self.end.year - self.start.year) * 12 + self.end.month - self.start.month + 1

    def shift_months(self, months: int) -> Period:
        """A whole-month period moved by `months` (negative: back), keeping its length in months."""
        count = self.whole_months()
        if count is None:
            raise ValueError("only a period of whole months can be shifted by months")
        y, m = _add_months(self.start.year, self.start.month, months)
        ey, em = _add_months(y, m, count - 1)
        return Period(date(y, m, 1), _month_end(ey, em))

    def previous(self) -> Period:
        """The period just before: the previous month/quarter/half/year for whole calendar months,
        otherwise the span of equal length ending the day before `start`."""
        count = self.whole_months()
        if count is not None:
            return self.shift_months(-count)
        end = self.start - timedelta(days=1)
        return Period(end - timedelta(days=self.days - 1), end)

    def year_earlier(self) -> Period:
        """The same period one year earlier (29 February becomes 28 February; a month-end stays one)."""
        if self.whole_months() is not None:
            return self.shift_months(-12)
        return Period(_minus_year(self.start), _minus_year(self.end))

    def months(self) -> list[Period]:
        """The calendar months the period touches, each clipped to the period."""
        out = []
        y, m = self.start.year, self.start.month
        while date(y, m, 1) <= self.end:
            out.append(Period(max(self.start, date(y, m, 1)), min(self.end, _month_end(y, m))))
            y, m = _add_months(y, m, 1)
        return out

    def kind(self) -> str:
        """month, quarter, half_year, nine_months, year, or custom: what the dates amount to."""
        count = self.whole_months()
        if count is None:
            return "custom"
        start = self.start
        if count == 1:
            return "month"
        if count == 3 and start.month in (1, 4, 7, 10):
            return "quarter"
        if count == 6 and start.month in (1, 7):
            return "half_year"
        if count == 9 and start.month == 1:
            return "nine_months"
        if count == 12 and start.month == 1:
            return "year"
        return "custom"

    def label(self, lang: str = "vi") -> str:
        """The period as reports name it: "Tháng 05/2023", "Quý II/2023", "6 tháng đầu năm 2023",
        "9 tháng 2023", "Năm 2023", else "Từ 01/05/2023 đến 20/06/2023" (English when lang="en")."""
        kind, start, vi = self.kind(), self.start, lang != "en"
        y = start.year
        if kind == "month":
            return f"Tháng {start.month:02d}/{y}" if vi else f"{_MONTHS_EN[start.month]} {y}"
        if kind == "quarter":
            q = (start.month - 1) // 3 + 1
            return f"Quý {ROMAN[q - 1]}/{y}" if vi else f"Q{q} {y}"
        if kind == "half_year":
            first = start.month == 1
            if vi:
                return f"6 tháng {'đầu' if first else 'cuối'} năm {y}"
            return f"{'First' if first else 'Second'} half of {y}"
        if kind == "nine_months":
            return f"9 tháng {y}" if vi else f"First nine months of {y}"
        if kind == "year":
            return f"Năm {y}" if vi else f"Year {y}"
        a, b = self.start.strftime("%d/%m/%Y"), self.end.strftime("%d/%m/%Y")
        return f"Từ {a} đến {b}" if vi else f"{a} – {b}"


def _minus_year(day: date) -> date:
    if day.month == 2 and day.day == 29:
        return date(day.year - 1, 2, 28)
    return day.replace(year=day.year - 1)


def month(y: int, m: int) -> Period:
    """Calendar month m of year y."""
    return Period(date(y, m, 1), _month_end(y, m))


def quarter(y: int, q: int) -> Period:
    """Quarter q (1-4) of year y."""
    if q not in (1, 2, 3, 4):
        raise ValueError(f"quarter must be 1-4, not {q}")
    return Period(date(y, 3 * q - 2, 1), _month_end(y, 3 * q))


def half_year(y: int, h: int = 1) -> Period:
    """"6 tháng": January-June (h=1) or July-December (h=2) of year y."""
    if h not in (1, 2):
        raise ValueError(f"half must be 1 or 2, not {h}")
    return Period(date(y, 6 * h - 5, 1), _month_end(y, 6 * h))


def nine_months(y: int) -> Period:
    """"9 tháng": January-September of year y."""
    return Period(date(y, 1, 1), date(y, 9, 30))


def year(y: int) -> Period:
    """The calendar year y."""
    return Period(date(y, 1, 1), date(y, 12, 31))


def year_to_date(today: date) -> Period:
    """1 January of today's year to today, inclusive."""
    return Period(date(today.year, 1, 1), today)


def custom(start: date, end: date) -> Period:
    """Any span of whole days."""
    return Period(start, end)
