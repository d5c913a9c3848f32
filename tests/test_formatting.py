"""Vietnamese display formats."""

import datetime as dt

import pandas as pd

from kpi.formatting import display_frame, format_date, format_decimal, format_int, format_percent


def test_vietnamese_numbers() -> None:
    assert format_percent(0.9823) == "98,23%"
    assert format_percent(1.0) == "100,00%"
    assert format_percent(0.43089, 1) == "43,1%"
    assert format_int(694611) == "694.611"
    assert format_int(1234567.4) == "1.234.567"
    assert format_decimal(12345.678, 1) == "12.345,7"


def test_no_value_is_never_zero() -> None:
    assert format_percent(None) == "không có dữ liệu"
    assert format_percent(None, lang="en") == "no data"
    assert format_percent(float("nan")) == "không có dữ liệu"
    assert format_int(None) == "–"


def test_dates_are_day_first() -> None:
    assert format_date(dt.date(2023, 5, 16)) == "16/05/2023"
    assert format_date(dt.datetime(2023, 5, 6, 8, 30)) == "06/05/2023"
    assert format_date(None) == "–"


def test_display_frame_formats_for_the_eye() -> None:
    frame = pd.DataFrame({
        "unit": ["Sở Tư pháp", None], "agency_level": ["province", None], "dossiers": [13861, 7],
        "days": [4.25, None], "day": pd.to_datetime(["2024-01-02", None]),
        "at": pd.to_datetime(["2024-01-02 08:30", "2024-01-03 00:00"]), "paid": [True, False],
    })
    shown = display_frame(frame, {"agency_level": "agency_level"})
    assert shown.to_dict("list") == {
        "unit": ["Sở Tư pháp", ""], "agency_level": ["Cấp tỉnh", ""], "dossiers": ["13.861", "7"],
        "days": ["4,2", ""], "day": ["02/01/2024", ""], "at": ["02/01/2024 08:30", "03/01/2024 00:00"],
        "paid": ["Có", "Không"],
    }
    assert display_frame(frame, {"agency_level": "agency_level"}, "en")["agency_level"][0] == "Province"
