"""The Decision 766/QĐ-TTg index estimated from dossier data (DOMAIN.md §7): hand-made dossiers and the
expected points of every computable part, group and unit totals, no value for no data, and the label."""

from __future__ import annotations

from dataclasses import dataclass, field

import pytest
from kpi_rows import row, small_store

from kpi import periods
from kpi.engine import Scope
from kpi.index766 import (
    COLUMNS,
    ESTIMATE_LABEL,
    GROUPS,
    SHARE_BY_ID,
    TOTAL_ID,
    estimate_766,
    estimate_766_parts,
)
from kpi.metrics import METRIC_BY_ID

MAY = periods.month(2024, 5)


def done(finished: str = "2024-05-08", due: str = "2024-05-10", **values: object) -> dict:
    return row("2024-05-02", 9, finished=finished, due=due, **values)


def online(procedure: str, level: str = "full_online", **values: object) -> dict:
    return row("2024-05-02", 4, channel="online", procedure_code=procedure, service_level=level, **values)


def desk(procedure: str, level: str = "offline", **values: object) -> dict:
    return row("2024-05-02", 4, procedure_code=procedure, service_level=level, **values)


def fee(paid_online: bool) -> dict:
    return row("2024-05-02", 4, fee_vnd=50_000, paid_online=paid_online)


@dataclass(frozen=True)
class Case:
    part: str
    name: str
    rows: list[dict] = field(default_factory=list)
    expected: tuple[int, int, float | None] = (0, 0, None)  # numerator, denominator, points


CASES = [
    Case("progress", "progress_766 0.95 -> 19 of 20",
         [done() for _ in range(18)] + [done(finished="2024-05-12"), row("2024-05-20", 4, due="2024-06-10")],
         (19, 20, 19.0)),
    Case("online_procedures", "2 of 4 procedures online -> 2 x 0.5 / 0.8",
         [online("1.000001"), desk("1.000002", "partial_online"), desk("1.000003"), desk("1.000004")],
         (2, 4, 1.25)),
    Case("online_procedures", "80% online earns the full 2 points",
         [online(f"1.00000{i}") for i in range(4)] + [desk("1.000009")], (4, 5, 2.0)),
    Case("online_services_used", "one of two online services had an online dossier -> 4 x 0.5",
         [online("1.000001"), online("1.000001"), desk("1.000002", "partial_online"), online("1.000003", "offline")],
         (1, 2, 2.0)),
    Case("online_services_used", "no online service: no value, not 0", [desk("1.000001")], (0, 0, None)),
    Case("online_dossiers", "online_dossier_rate 0.25 -> 3 of 6",
         [online("1.000001"), desk("1.000001"), desk("1.000001"), desk("1.000001")], (1, 4, 3.0)),
    Case("online_dossiers", "online_dossier_rate 0.7 is capped at 6",
         [online("1.000001") for _ in range(7)] + [desk("1.000001") for _ in range(3)], (7, 10, 6.0)),
    Case("online_dossiers", "nothing received: no value", [], (0, 0, None)),
    Case("online_payments", "3 of 4 fee-bearing dossiers paid online -> 6 x 0.75; free dossiers ignored",
         [fee(True), fee(True), fee(True), fee(False), row("2024-05-02", 4, paid_online=True)], (3, 4, 4.5)),
    Case("online_payments", "no fee-bearing dossier: no value, not 0", [row("2024-05-02", 4)], (0, 0, None)),
    Case("satisfied_dossiers", "satisfaction_rate 0.9 -> the full 6",
         [done() for _ in range(9)] + [done(rating="dissatisfied")], (9, 10, 6.0)),
    Case("satisfied_dossiers", "0.6 -> 6 x 0.6 / 0.9; late counts against, unrated counts for",
         [done(), done(), done(rating="satisfied"), done(finished="2024-05-12"), done(rating="dissatisfied")],
         (3, 5, 4.0)),
]


@pytest.mark.parametrize("case", CASES, ids=lambda c: f"{c.part}: {c.name}")
def test_part_points(case: Case) -> None:
    parts = estimate_766_parts(small_store(case.rows), MAY)
    got = parts[parts["part"] == case.part].iloc[0]
    num, den, points = case.expected
    assert (got["numerator"], got["denominator"]) == (num, den)
    if points is None:
        assert got["points"] is None and got["rate"] is None
    else:
        assert got["points"] == pytest.approx(points)


def test_every_part_has_a_case() -> None:
    assert {p.id for g in GROUPS for p in g.parts} == {c.part for c in CASES}


def rows_of(frame, group: object = None) -> dict[str, dict]:
    part = frame[frame["group"].isna()] if group is None else frame[frame["group"] == group]
    return {r["index_group"]: r for r in part.to_dict("records")}


def test_groups_and_total_for_one_unit() -> None:
    con = small_store([
        online("1.000001", fee_vnd=10_000, paid_online=True),
        desk("1.000002", "partial_online", fee_vnd=10_000),
        desk("1.000003"),
        desk("1.000004"),
    ])
    got = rows_of(estimate_766(con, MAY))
    assert list(got) == [g.id for g in GROUPS] + [TOTAL_ID]
    # 4 in progress within deadline (no due date); 2 of 4 procedures online; 1 of 2 online services used;
    # 1 of 4 online; 1 of 2 fees paid online; nothing resolved, so no satisfaction value
    assert (got["progress"]["points"], got["progress"]["computable_max"]) == (20.0, 20.0)
    assert got["online_services"]["points"] == pytest.approx(1.25 + 2.0 + 3.0)
    assert got["online_services"]["computable_max"] == 12.0
    assert (got["online_payment"]["points"], got["online_payment"]["computable_max"]) == (3.0, 6.0)
    assert got["online_payment"]["max_points"] == 10.0 and "4 points" in got["online_payment"]["note"]
    for not_computable in ("transparency", "digitisation"):
        assert got[not_computable]["points"] is None and got[not_computable]["computable_max"] == 0.0
        assert "Not computable from dossier data" in got[not_computable]["note"]
        assert "Không tính được từ dữ liệu hồ sơ" in got[not_computable]["note_vi"]
    satisfaction = got["satisfaction"]
    assert satisfaction["points"] is None and satisfaction["computable_max"] == 0.0
    assert "satisfied_dossiers" in satisfaction["note"]
    total = got[TOTAL_ID]
    assert total["points"] == pytest.approx(20 + 6.25 + 3.0)
    assert (total["computable_max"], total["max_points"]) == (38.0, 100.0)


def test_per_unit_grouping_matches_filter_and_scope() -> None:
    con = small_store(
        [online("1.000001", agency_name="A"), desk("1.000009", agency_name="A")]
        + [online("1.000002", agency_name="B") for _ in range(3)]
        + [done(agency_name="B", finished="2024-05-12", procedure_code="1.000002")]
    )
    frame = estimate_766(con, MAY, by="agency")
    assert set(frame["group"]) == {"A", "B"}
    assert len(frame) == 2 * (len(GROUPS) + 1)
    a, b = rows_of(frame, "A"), rows_of(frame, "B")
    # A: 1 of 2 procedures online, its online service used, 1 of 2 dossiers online (the 50% cap)
    assert a["online_services"]["points"] == pytest.approx(1.25 + 4.0 + 6.0)
    # B: its one procedure is online (a dossier's own level does not matter), 3 of 4 online, capped
    assert b["online_services"]["points"] == pytest.approx(2.0 + 4.0 + 6.0)
    assert b["progress"]["points"] == pytest.approx(15.0)  # 3 within deadline, 1 late
    assert b["satisfaction"]["points"] == 0.0  # a value of 0, not no value
    only_a = rows_of(estimate_766(con, MAY, where={"agency": "A"}))
    assert only_a["online_services"]["points"] == a["online_services"]["points"]
    scoped = estimate_766(con, MAY, by="agency", scope=Scope(agencies={"B"}))
    assert set(scoped["group"]) == {"B"}


def test_by_month_scores_each_month() -> None:
    con = small_store([
        row("2024-04-05", 4, channel="online", service_level="full_online"),
        row("2024-05-05", 4),
    ])
    frame = estimate_766_parts(con, periods.Period(periods.month(2024, 4).start, MAY.end), by="month")
    online_parts = frame[frame["part"].isin(["online_dossiers", "online_procedures"])]
    got = {(r["group"], r["part"]): r["points"] for r in online_parts.to_dict("records")}
    assert got == {("2024-04", "online_dossiers"): 6.0, ("2024-04", "online_procedures"): 2.0,
                   ("2024-05", "online_dossiers"): 0.0, ("2024-05", "online_procedures"): 0.0}


def test_empty_period_has_no_points_anywhere() -> None:
    frame = estimate_766(small_store(), MAY)
    assert list(frame.columns) == list(COLUMNS)
    assert frame["points"].tolist() == [None] * (len(GROUPS) + 1)
    assert (frame["computable_max"] == 0).all()


def test_estimate_label_is_carried() -> None:
    assert ESTIMATE_LABEL == {"vi": "ước tính từ dữ liệu hồ sơ", "en": "estimated from dossier data"}
    frame = estimate_766(small_store([row()]), MAY)
    assert frame.attrs["label"] == ESTIMATE_LABEL
    total = rows_of(frame)[TOTAL_ID]
    assert ESTIMATE_LABEL["vi"] in total["label_vi"] and ESTIMATE_LABEL["en"] in total["label_en"]
    assert estimate_766_parts(small_store([row()]), MAY).attrs["label"] == ESTIMATE_LABEL


def test_registry_matches_decision_766_and_every_group_is_reported() -> None:
    assert {g.id: g.max_points for g in GROUPS} == {
        "transparency": 18, "progress": 20, "online_services": 12, "online_payment": 10,
        "digitisation": 22, "satisfaction": 18,
    }
    for g in GROUPS:
        assert sum(p.max_points for p in g.parts) <= g.max_points
        assert g.label_vi and g.label_en and g.note_vi and g.note_en
        for p in g.parts:
            assert p.source in METRIC_BY_ID or p.source in SHARE_BY_ID
    frame = estimate_766(small_store([row(agency_name="A"), row(agency_name="B")]), MAY, by="agency")
    for unit in ("A", "B"):
        assert list(rows_of(frame, unit)) == [g.id for g in GROUPS] + [TOTAL_ID]


def test_district_across_the_reform_is_refused() -> None:
    across = periods.Period(periods.month(2025, 6).start, periods.month(2025, 7).end)
    with pytest.raises(ValueError, match="district"):
        estimate_766(small_store(), across, by="district")
