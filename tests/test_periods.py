"""Reporting periods: constructors, comparison periods and report labels."""

from __future__ import annotations

from datetime import date

import pytest

from kpi import periods
from kpi.periods import Period

D = date


@pytest.mark.parametrize(("period", "start", "end"), [
    (periods.month(2024, 2), D(2024, 2, 1), D(2024, 2, 29)),
    (periods.month(2023, 12), D(2023, 12, 1), D(2023, 12, 31)),
    (periods.quarter(2023, 2), D(2023, 4, 1), D(2023, 6, 30)),
    (periods.half_year(2023, 1), D(2023, 1, 1), D(2023, 6, 30)),
    (periods.half_year(2023, 2), D(2023, 7, 1), D(2023, 12, 31)),
    (periods.nine_months(2023), D(2023, 1, 1), D(2023, 9, 30)),
    (periods.year(2023), D(2023, 1, 1), D(2023, 12, 31)),
    (periods.year_to_date(D(2023, 5, 16)), D(2023, 1, 1), D(2023, 5, 16)),
    (periods.custom(D(2022, 12, 15), D(2023, 9, 15)), D(2022, 12, 15), D(2023, 9, 15)),
])
def test_constructors(period: Period, start: date, end: date) -> None:
    assert (period.start, period.end) == (start, end)


@pytest.mark.parametrize(("period", "previous"), [
    (periods.month(2024, 3), periods.month(2024, 2)),
    (periods.month(2024, 1), periods.month(2023, 12)),
    (periods.quarter(2024, 1), periods.quarter(2023, 4)),
    (periods.half_year(2024, 1), periods.half_year(2023, 2)),
    (periods.year(2024), periods.year(2023)),
    (periods.nine_months(2024), Period(D(2023, 4, 1), D(2023, 12, 31))),  # nine whole months before
    (periods.custom(D(2024, 5, 10), D(2024, 5, 19)), Period(D(2024, 4, 30), D(2024, 5, 9))),  # 10 days
    (periods.year_to_date(D(2024, 3, 1)), Period(D(2023, 11, 1), D(2023, 12, 31))),  # 61 days
])
def test_previous_period(period: Period, previous: Period) -> None:
    assert period.previous() == previous
    assert period.previous().days == period.days or period.whole_months() is not None


@pytest.mark.parametrize(("period", "earlier"), [
    (periods.month(2024, 2), periods.month(2023, 2)),  # 29 Feb end becomes 28 Feb
    (periods.month(2023, 2), periods.month(2022, 2)),
    (periods.quarter(2024, 3), periods.quarter(2023, 3)),
    (periods.custom(D(2024, 2, 29), D(2024, 3, 10)), Period(D(2023, 2, 28), D(2023, 3, 10))),
    (periods.year_to_date(D(2024, 5, 16)), Period(D(2023, 1, 1), D(2023, 5, 16))),
])
def test_year_earlier(period: Period, earlier: Period) -> None:
    assert period.year_earlier() == earlier


@pytest.mark.parametrize(("period", "vi", "en"), [
    (periods.month(2023, 5), "Tháng 05/2023", "May 2023"),
    (periods.quarter(2023, 2), "Quý II/2023", "Q2 2023"),
    (periods.quarter(2023, 4), "Quý IV/2023", "Q4 2023"),
    (periods.half_year(2023, 1), "6 tháng đầu năm 2023", "First half of 2023"),
    (periods.half_year(2023, 2), "6 tháng cuối năm 2023", "Second half of 2023"),
    (periods.nine_months(2023), "9 tháng 2023", "First nine months of 2023"),
    (periods.year(2023), "Năm 2023", "Year 2023"),
    (periods.custom(D(2023, 5, 1), D(2023, 6, 20)), "Từ 01/05/2023 đến 20/06/2023", "01/05/2023 – 20/06/2023"),
    (periods.year_to_date(D(2023, 12, 31)), "Năm 2023", "Year 2023"),
])
def test_labels(period: Period, vi: str, en: str) -> None:
    assert period.label() == vi
    assert period.label("en") == en


def test_months_are_clipped_to_the_period() -> None:
    months = periods.custom(D(2024, 1, 20), D(2024, 3, 5)).months()
    assert months == [Period(D(2024, 1, 20), D(2024, 1, 31)), periods.month(2024, 2),
                      Period(D(2024, 3, 1), D(2024, 3, 5))]
    assert [m.label() for m in periods.quarter(2024, 2).months()] == ["Tháng 04/2024", "Tháng 05/2024",
                                                                       "Tháng 06/2024"]


def test_bad_periods_are_refused() -> None:
    with pytest.raises(ValueError):
        periods.custom(D(2024, 2, 1), D(2024, 1, 31))
    with pytest.raises(ValueError):
        periods.quarter(2024, 5)
    with pytest.raises(ValueError):
        periods.half_year(2024, 3)


def test_days_and_membership() -> None:
    may = periods.month(2024, 5)
    assert may.days == 31
    assert D(2024, 5, 1) in may and D(2024, 5, 31) in may
    assert D(2024, 4, 30) not in may and D(2024, 6, 1) not in may
