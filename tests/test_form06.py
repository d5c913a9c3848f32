"""Biểu số 06/VPCP/KSTT: the columns add up, equal the engine's counts, and the workbook has the form's
headings and merged header cells."""

from __future__ import annotations

from pathlib import Path

from kpi_rows import row, small_store
from openpyxl import load_workbook

from kpi.engine import dossier_counts
from kpi.form06 import NUMBERS, form06_rows, write_form06
from kpi.periods import month

MAY = month(2024, 5)


def dossiers() -> list[dict[str, object]]:
    land = {"sector": "Đất đai", "agency_name": "Sở Nông nghiệp và Môi trường", "agency_level": "province"}
    civil = {"sector": "Hộ tịch", "agency_name": "UBND xã Cần Kiệm", "agency_level": "commune"}
    return [
        # received in May: online early, direct on the due date, postal late
        row("2024-05-02", 10, channel="online", due="2024-05-10", finished="2024-05-08", **land),
        row("2024-05-03", 10, channel="direct", due="2024-05-10", finished="2024-05-10 16:00", **land),
        row("2024-05-06", 9, channel="postal", due="2024-05-10", finished="2024-05-13", **land),
        # carried over from April: in progress and overdue at the end of May
        row("2024-04-20", 4, due="2024-05-20", **land),
        # received in May, in progress within deadline; and one withdrawn (received, never resolved)
        row("2024-05-30", 4, channel="online", due="2024-06-05", **civil),
        row("2024-05-15", 7, channel="direct", finished="2024-05-16", **civil),
        # outside the period: resolved in April, received in June
        row("2024-04-01", 10, due="2024-04-10", finished="2024-04-05", **civil),
        row("2024-06-01", 4, **civil),
    ]


def test_rows_by_level_and_sector_add_up_and_match_the_engine() -> None:
    con = small_store(dossiers())
    rows = form06_rows(con, MAY)
    assert rows[["level", "group"]].values.tolist() == [["province", "Đất đai"], ["commune", "Hộ tịch"]]
    land = rows.iloc[0][NUMBERS].tolist()
    # received total, online, direct/postal, carried over | resolved, early, on due date, late | in progress,
    # within, overdue
    assert land == [4, 1, 2, 1, 3, 1, 1, 1, 1, 0, 1]
    civil = rows.iloc[1][NUMBERS].tolist()
    assert civil == [2, 1, 1, 0, 0, 0, 0, 0, 1, 1, 0]
    for record in rows.to_dict("records"):
        assert record["received_total"] == (record["received_online"] + record["received_direct_or_postal"]
                                             + record["carried_over"])
        assert record["resolved"] == record["resolved_early"] + record["resolved_on_due_date"] + record["resolved_late"]
        assert record["in_progress"] == record["in_progress_within_deadline"] + record["in_progress_overdue"]
    counts = dossier_counts(con, MAY)
    assert int(counts.at[0, "received"]) == int((rows["received_online"] + rows["received_direct_or_postal"]).sum())
    assert int(counts.at[0, "resolved_late"]) == int(rows["resolved_late"].sum())


def test_workbook_has_the_form_headings_and_the_numbers(tmp_path: Path) -> None:
    con = small_store(dossiers())
    path = tmp_path / "bieu06.xlsx"
    write_form06(con, MAY, path, reporting_unit="UBND Thành phố Hà Nội", scope_label="Thành phố Hà Nội")
    sheet = load_workbook(path).active
    merged = {str(r) for r in sheet.merged_cells.ranges}
    assert {"A7:A9", "B7:B9", "C7:F7", "G7:M7", "C8:C9", "D8:F8", "G8:J8", "K8:M8"} <= merged
    assert sheet["A1"].value == "Biểu số 06/VPCP/KSTT"
    assert sheet["C7"].value == "Số hồ sơ nhận giải quyết"
    assert sheet["F9"].value == "Số kỳ trước chuyển qua"
    assert [sheet.cell(10, c).value for c in range(1, 14)] == [f"({i})" for i in range(1, 14)]
    assert sheet["A11"].value == "I" and sheet["B11"].value == "Sở, ban, ngành"
    assert sheet["B12"].value == "Đất đai"
    assert [sheet.cell(12, c).value for c in range(3, 14)] == [4, 1, 2, 1, 3, 1, 1, 1, 1, 0, 1]
    total = [sheet.cell(sheet.max_row, c).value for c in range(2, 14)]
    assert total == ["Tổng cộng", 6, 2, 3, 1, 3, 1, 1, 1, 2, 1, 1]
    assert "Tháng 05/2024" in sheet["A3"].value and "01/05/2024" in sheet["A3"].value
