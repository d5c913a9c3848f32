"""The KPI engine around the metrics: comparisons, targets and colours, groups, months, scope, locality
eras, rankings, Biểu 06 counts, and refusal of identifiers from outside the registries."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
from kpi_rows import row, small_store

from kpi import periods
from kpi.engine import (
    AFTER_REFORM,
    BEFORE_REFORM,
    MIXED,
    Scope,
    Targets,
    dossier_counts,
    hierarchy_for,
    kpi_table,
    kpi_value,
    rank_groups,
    status_for,
)
from kpi.metrics import METRIC_BY_ID

MAY = periods.month(2024, 5)


def done(received: str, finished: str, due: str, **values: object) -> dict:
    return row(received, 9, finished=finished, due=due, **values)


def one(frame, metric_id: str, group: object = None) -> dict:
    part = frame[(frame["metric"] == metric_id)]
    part = part[part["group"].isna()] if group is None else part[part["group"] == group]
    assert len(part) == 1
    return part.iloc[0].to_dict()


# --- comparisons ----------------------------------------------------------------------------------------


def test_previous_period_and_year_earlier_with_change_in_points() -> None:
    con = small_store([
        done("2024-05-02", "2024-05-05", "2024-05-10"),  # May 2024: 1 of 2 on time
        done("2024-05-02", "2024-05-15", "2024-05-10"),
        done("2024-04-02", "2024-04-05", "2024-04-10"),  # April 2024: 1 of 1
        done("2023-05-02", "2023-05-15", "2023-05-10"),  # May 2023: 0 of 1
    ])
    got = kpi_value(con, MAY, "on_time_rate")
    assert (got["numerator"], got["denominator"], got["value"]) == (1, 2, 0.5)
    assert (got["previous_numerator"], got["previous_denominator"], got["previous_value"]) == (1, 1, 1.0)
    assert got["previous_change_pp"] == pytest.approx(-50.0)
    assert (got["year_earlier_numerator"], got["year_earlier_denominator"]) == (0, 1)
    assert got["year_earlier_change_pp"] == pytest.approx(50.0)
    empty = kpi_value(con, periods.month(2024, 7), "on_time_rate")
    assert empty["value"] is None and empty["previous_value"] is None and empty["previous_change_pp"] is None


def test_days_metric_changes_in_days_and_is_better_lower() -> None:
    con = small_store([done("2024-05-01", "2024-05-05", "2024-05-10"), done("2024-04-01", "2024-04-03", "2024-04-10")])
    got = kpi_value(con, MAY, "avg_days_to_resolve", targets=Targets({"avg_days_to_resolve": 3.5}))
    assert (got["value"], got["previous_value"], got["previous_change_pp"]) == (4.0, 2.0, 2.0)
    assert got["status"] == "amber"  # 0.5 day above a lower-is-better target


# --- targets and colours ----------------------------------------------------------------------------------


@pytest.mark.parametrize(("metric_id", "value", "target", "expected"), [
    ("on_time_rate", 0.98, 0.98, "green"),
    ("on_time_rate", 0.99, 0.98, "green"),
    ("on_time_rate", 0.93, 0.98, "amber"),  # exactly 5 points below
    ("on_time_rate", 0.9299, 0.98, "red"),
    ("on_time_rate", None, 0.98, None),
    ("on_time_rate", 0.5, None, None),
    ("avg_days_to_resolve", 5.0, 5.0, "green"),
    ("avg_days_to_resolve", 6.0, 5.0, "amber"),
    ("avg_days_to_resolve", 6.5, 5.0, "red"),
])
def test_status_colours(metric_id, value, target, expected) -> None:
    assert status_for(METRIC_BY_ID[metric_id], value, target) == expected


def test_targets_from_toml_override_defaults_and_units(tmp_path: Path) -> None:
    path = tmp_path / "targets.toml"
    path.write_text(
        '[default]\non_time_rate = "95%"\nprogress_766 = 0.9\nonline_dossier_rate = "none"\n\n'
        '[unit."Sở A"]\non_time_rate = 0.99\n', encoding="utf-8")
    targets = Targets.from_file(path)
    assert targets.target_for("on_time_rate") == 0.95
    assert targets.target_for("on_time_rate", "Sở A") == 0.99
    assert targets.target_for("on_time_rate", "Sở B") == 0.95
    assert targets.target_for("progress_766") == 0.9
    assert targets.target_for("online_dossier_rate") is None
    assert targets.target_for("digitization_rate") == 0.80  # registry default kept
    con = small_store([done("2024-05-02", "2024-05-05", "2024-05-10", agency_name=a) for a in ("Sở A", "Sở B")])
    frame = kpi_table(con, MAY, by="agency", targets=targets, metrics=["on_time_rate"])
    assert one(frame, "on_time_rate", "Sở A")["target"] == 0.99
    assert one(frame, "on_time_rate", "Sở B")["target"] == 0.95


def test_targets_from_csv(tmp_path: Path) -> None:
    path = tmp_path / "targets.csv"
    path.write_text("metric;unit;target\non_time_rate;;97%\non_time_rate;Sở A;0,99\navg_days_to_resolve;;4\n",
                    encoding="utf-8")
    targets = Targets.from_file(path)
    assert targets.target_for("on_time_rate") == 0.97
    assert targets.target_for("on_time_rate", "Sở A") == 0.99
    assert targets.target_for("avg_days_to_resolve") == 4.0


@pytest.mark.parametrize("text", ["[default]\non_time_rate = 98\n", "[default]\nno_such_kpi = 0.5\n",
                                  '[default]\navg_days_to_resolve = "5%"\n', "[other]\nx = 1\n"])
def test_bad_targets_are_refused(tmp_path: Path, text: str) -> None:
    path = tmp_path / "targets.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValueError):
        Targets.from_file(path)


# --- groups, filters, scope -------------------------------------------------------------------------------


def test_empty_group_values_form_the_none_group() -> None:
    con = small_store([row(agency_name="Sở A"), row(agency_name=None), row(agency_name="  "), row(agency_name=None)])
    frame = kpi_table(con, MAY, by="agency", metrics=["online_dossier_rate"])
    assert list(frame["group"]) == ["Sở A", None]
    assert one(frame, "online_dossier_rate")["denominator"] == 3


def test_where_accepts_lists_and_none_and_binds_values() -> None:
    con = small_store([row(sector="Đất đai"), row(sector="Tư pháp"), row(sector=None), row(sector="x' OR 1=1 --")])
    count = lambda **w: kpi_value(con, MAY, "online_dossier_rate", where=w)["denominator"]  # noqa: E731
    assert count(sector="Đất đai") == 1
    assert count(sector=["Đất đai", "Tư pháp"]) == 2
    assert count(sector=None) == 1
    assert count(sector="nothing' OR '1'='1") == 0
    assert count(sector="x' OR 1=1 --") == 1


@pytest.mark.parametrize("bad", ["agency_name", "agency; DROP TABLE dossiers", "1=1"])
def test_dimensions_come_only_from_the_registry(bad: str) -> None:
    con = small_store([row()])
    with pytest.raises(ValueError, match="unknown dimension"):
        kpi_table(con, MAY, by=bad)
    with pytest.raises(ValueError, match="unknown dimension"):
        kpi_table(con, MAY, where={bad: "x"})
    with pytest.raises(ValueError, match="on_time_by"):
        kpi_table(con, MAY, on_time_by="1=1")
    assert con.execute("SELECT count(*) FROM dossiers").fetchone()[0] == 1


def test_scope_limits_every_figure() -> None:
    con = small_store([
        row(agency_name="Sở A", channel="online"), row(agency_name="Sở B"),
        row(agency_name="UBND xã C", commune="Xã C"), row(agency_name="Khác", commune="Xã C"),
    ])
    denominator = lambda scope: kpi_value(con, MAY, "online_dossier_rate", scope=scope)["denominator"]  # noqa: E731
    assert denominator(None) == 4
    assert denominator(Scope()) == 0
    assert denominator(Scope(agencies=frozenset({"Sở A"}))) == 1
    assert denominator(Scope(agencies={"Sở A"}, communes=["Xã C"])) == 3
    with pytest.raises(TypeError):
        Scope(agencies="Sở A")
    frame = kpi_table(con, MAY, by="agency", scope=Scope(communes=frozenset({"Xã C"})))
    assert set(frame["group"]) == {"UBND xã C", "Khác"}


# --- the month dimension ----------------------------------------------------------------------------------


def test_month_rows_attribute_received_by_receipt_and_resolved_by_end() -> None:
    con = small_store([
        done("2024-05-20", "2024-06-03", "2024-06-10", channel="online"),  # received May, resolved June
        row("2024-06-05", channel="direct"),
        done("2023-06-01", "2023-06-02", "2023-06-01"),  # June a year earlier: late
    ])
    frame = kpi_table(con, periods.quarter(2024, 2), by="month", metrics=["online_dossier_rate", "on_time_rate",
                                                                          "progress_766"])
    assert list(dict.fromkeys(frame["group"])) == ["2024-04", "2024-05", "2024-06"]
    assert one(frame, "online_dossier_rate", "2024-05")["numerator"] == 1
    assert one(frame, "online_dossier_rate", "2024-06")["denominator"] == 1
    assert one(frame, "on_time_rate", "2024-05")["denominator"] == 0
    june = one(frame, "on_time_rate", "2024-06")
    assert (june["numerator"], june["denominator"], june["year_earlier_value"]) == (1, 1, 0.0)
    assert one(frame, "progress_766", "2024-05")["denominator"] == 1  # in progress at the end of May
    assert one(frame, "online_dossier_rate", "2024-06")["previous_value"] == 1.0  # May
    assert one(frame, "online_dossier_rate", "2024-04")["value"] is None


# --- locality eras ----------------------------------------------------------------------------------------


def test_hierarchy_of_periods() -> None:
    before, after, mixed = periods.quarter(2025, 2), periods.quarter(2025, 3), periods.year(2025)
    assert hierarchy_for(before).era == BEFORE_REFORM and "district" in hierarchy_for(before).dimensions
    assert hierarchy_for(after).era == AFTER_REFORM and "district" not in hierarchy_for(after).dimensions
    assert hierarchy_for(mixed).era == MIXED and "district" not in hierarchy_for(mixed).dimensions
    assert "commune" in hierarchy_for(after).dimensions


def test_district_after_the_reform_is_refused_not_a_none_group() -> None:
    con = small_store([row("2025-08-05", commune="Phường Láng"), row("2025-03-05", district="Quận Đống Đa")])
    for period in (periods.quarter(2025, 3), periods.year(2025)):
        with pytest.raises(ValueError, match="1 July 2025"):
            kpi_table(con, period, by="district")
        with pytest.raises(ValueError, match="1 July 2025"):
            kpi_table(con, period, where={"district": "Quận Đống Đa"})
    frame = kpi_table(con, periods.quarter(2025, 1), by="district", metrics=["online_dossier_rate"])
    assert list(frame["group"]) == ["Quận Đống Đa"]
    assert frame.attrs["hierarchy"] == BEFORE_REFORM and set(frame["hierarchy"]) == {BEFORE_REFORM}


def test_locality_groups_are_not_compared_across_the_reform() -> None:
    con = small_store([row("2025-08-05", commune="Phường Láng", channel="online"),
                       row("2024-08-05", commune="Phường Láng"),
                       row("2024-08-05", agency_name="Sở A"), row("2025-08-05", agency_name="Sở A")])
    q3 = periods.quarter(2025, 3)
    by_commune = kpi_table(con, q3, by="commune", metrics=["online_dossier_rate"])
    assert one(by_commune, "online_dossier_rate", "Phường Láng")["year_earlier_value"] is None
    assert by_commune.attrs["hierarchy"] == AFTER_REFORM
    by_agency = kpi_table(con, q3, by="agency", metrics=["online_dossier_rate"])
    assert one(by_agency, "online_dossier_rate", "Sở A")["year_earlier_value"] == 0.0


# --- rankings ---------------------------------------------------------------------------------------------


def test_rank_groups_honours_direction_ties_and_unranked() -> None:
    rows = []
    for agency, on_time, late, days in (("A", 2, 0, 1), ("B", 1, 1, 5), ("C", 1, 0, 1), ("D", 0, 1, 9)):
        finished = f"2024-05-{1 + days:02d}"
        rows += [done("2024-05-01", finished, "2024-05-31", agency_name=agency) for _ in range(on_time)]
        rows += [done("2024-05-01", finished, "2024-05-01", agency_name=agency) for _ in range(late)]
    rows += [row("2024-05-02", agency_name="E"), done("2024-05-01", "2024-05-02", "2024-05-01")]  # E: no value
    rows += [done("2024-04-01", "2024-04-02", "2024-04-30", agency_name="D"),  # April: D best, A worst
             done("2024-04-01", "2024-04-02", "2024-04-01", agency_name="A")]
    frame = kpi_table(small_store(rows), MAY, by="agency")
    ranks = rank_groups(frame, "on_time_rate").set_index("group")
    assert None not in ranks.index  # the empty group is not a unit
    assert [ranks.loc[g, "rank"] for g in "ACBD"] == [1, 1, 3, 4]
    assert pd.isna(ranks.loc["E", "rank"])
    assert (ranks.loc["D", "previous_rank"], ranks.loc["D", "rank_change"]) == (1, -3)
    assert (ranks.loc["A", "previous_rank"], ranks.loc["A", "rank_change"]) == (2, 1)
    assert pd.isna(ranks.loc["B", "previous_rank"]) and pd.isna(ranks.loc["B", "rank_change"])
    days = rank_groups(frame, "avg_days_to_resolve").set_index("group")["rank"]
    assert [days[g] for g in "ACBD"] == [1, 1, 3, 4]  # fewer days is better


# --- Biểu 06 counts and data quality ------------------------------------------------------------------------


def test_dossier_counts_for_the_report_form() -> None:
    con = small_store([
        row("2024-04-20", 4, due="2024-05-05"),  # carried over, in progress overdue
        row("2024-04-20", 9, finished="2024-04-25", due="2024-05-05"),  # ended before: not carried over
        done("2024-04-25", "2024-05-03", "2024-05-10"),  # carried over, resolved early
        done("2024-05-02", "2024-05-10", "2024-05-10", channel="online"),  # on the due date
        done("2024-05-02", "2024-05-12", "2024-05-10", channel="postal"),  # late
        row("2024-05-03", 10, returned="2024-05-06"),  # no due date: on time, flagged
        row("2024-05-04", 7, finished="2024-05-05"),  # withdrawn
        row("2024-05-04", 9, due="2024-06-30"),  # resolved status without end date: flagged, in progress
        row("2024-05-20", 9, finished="2024-06-03", due="2024-06-30"),  # resolved after May: in progress, not flagged
    ])
    c = dossier_counts(con, MAY).iloc[0].to_dict()
    assert c == {
        "group": None, "received": 6, "received_online": 1, "received_direct_or_postal": 5, "carried_over": 2,
        "resolved": 4, "resolved_early": 1, "resolved_on_due_date": 2, "resolved_late": 1, "in_progress": 3,
        "in_progress_within_deadline": 2, "in_progress_overdue": 1, "not_accepted": 0, "withdrawn": 1,
        "stopped": 0, "resolved_without_due_date": 1, "in_progress_without_due_date": 0,
        "terminal_without_end_date": 1,
    }
    quality = kpi_table(con, MAY).attrs["data_quality"]
    assert quality == {"resolved_without_due_date": 1, "in_progress_without_due_date": 0,
                       "terminal_without_end_date": 1}
    by_month = kpi_table(con, periods.quarter(2024, 2), by="month").attrs["data_quality"]
    assert by_month == quality  # snapshots taken at the period end, not summed over month ends
