"""Dossier lists: the late and overdue dossiers behind the engine's counts, sorted and paginated."""

from __future__ import annotations

from datetime import date, timedelta

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from kpi_rows import insert, row, small_store

from kpi import periods
from kpi.dossier_lists import LIST_COLUMNS, LIST_KINDS, count_late_dossiers, late_dossiers
from kpi.engine import Scope, dossier_counts

MAY = periods.month(2024, 5)
KINDS = [k.id for k in LIST_KINDS]


def done(received: str, finished: str, due: str | None, **values: object) -> dict:
    return row(received, 9, finished=finished, due=due, **values)


def codes(frame: pd.DataFrame) -> list[str]:
    return frame["dossier_code"].tolist()


@pytest.fixture
def may() -> tuple[object, dict[str, dict]]:
    """A store with named dossiers around May 2024; returns (connection, dossier by name)."""
    named = {
        "late_5": done("2024-05-01", "2024-05-15 10:00", "2024-05-10 17:00", agency_name="Sở A"),
        "late_1": done("2024-05-02", "2024-05-11", "2024-05-10", agency_name="Sở B"),
        "late_1_later": done("2024-05-03", "2024-05-21", "2024-05-20", agency_name="Sở A"),
        "late_returned": row("2024-05-04", 10, returned="2024-05-12", due="2024-05-09", agency_name="Sở B"),
        "on_time": done("2024-05-02", "2024-05-10 18:00", "2024-05-10 08:00", agency_name="Sở A"),
        "late_in_april": done("2024-04-01", "2024-04-20", "2024-04-10", agency_name="Sở A"),
        "overdue_11": row("2024-05-10", 4, due="2024-05-20", agency_name="Sở A"),
        "overdue_ended_june": done("2024-05-12", "2024-06-03", "2024-05-28", agency_name="Sở B"),
        "due_on_last_day": row("2024-05-20", 4, due="2024-05-31 08:00", agency_name="Sở B"),
        "within": row("2024-05-20", 4, due="2024-06-10", agency_name="Sở A"),
    }
    return small_store(list(named.values())), {k: v["dossier_code"] for k, v in named.items()}


def test_resolved_late_list_columns_days_and_order(may) -> None:
    con, code = may
    got = late_dossiers(con, MAY)
    assert tuple(got.columns) == LIST_COLUMNS
    # ties on days_late are broken by received_at, then dossier_code
    assert codes(got) == [code["late_5"], code["late_returned"], code["late_1"], code["late_1_later"]]
    assert got["days_late"].tolist() == [5, 3, 1, 1]
    assert (got["kind"] == "resolved_late").all()
    returned = got.set_index("dossier_code").loc[code["late_returned"]]
    assert returned["finished_at"] == pd.Timestamp("2024-05-12") and returned["status"] == 10
    assert count_late_dossiers(con, MAY) == 4 == dossier_counts(con, MAY).iloc[0]["resolved_late"]


def test_overdue_in_progress_counts_days_to_the_period_end(may) -> None:
    con, code = may
    got = late_dossiers(con, MAY, kind="overdue_in_progress")
    assert codes(got) == [code["overdue_11"], code["overdue_ended_june"]]
    assert got["days_late"].tolist() == [11, 3]
    ended = got.set_index("dossier_code").loc[code["overdue_ended_june"]]
    assert ended["finished_at"] == pd.Timestamp("2024-06-03")  # in progress on 31 May, ended later
    counts = dossier_counts(con, MAY).iloc[0]
    assert count_late_dossiers(con, MAY, kind="overdue_in_progress") == 2 == counts["in_progress_overdue"]


def test_timestamp_rule_changes_membership_as_the_engine_does(may) -> None:
    con, code = may
    late = late_dossiers(con, MAY, on_time_by="timestamp").set_index("dossier_code")
    assert code["on_time"] in late.index and late.loc[code["on_time"], "days_late"] == 0
    overdue = late_dossiers(con, MAY, kind="overdue_in_progress", on_time_by="timestamp")
    assert code["due_on_last_day"] in codes(overdue)
    assert code["due_on_last_day"] not in codes(late_dossiers(con, MAY, kind="overdue_in_progress"))
    counts = dossier_counts(con, MAY, on_time_by="timestamp").iloc[0]
    assert len(late) == counts["resolved_late"] == 5
    assert len(overdue) == counts["in_progress_overdue"] == 3


def test_pagination_pages_join_to_the_whole_list(may) -> None:
    con, _ = may
    whole = late_dossiers(con, MAY, limit=100)
    pages = [late_dossiers(con, MAY, limit=3, offset=0), late_dossiers(con, MAY, limit=3, offset=3)]
    assert len(pages[0]) == 3 and len(pages[1]) == 1
    pd.testing.assert_frame_equal(pd.concat(pages, ignore_index=True), whole)
    past = late_dossiers(con, MAY, limit=3, offset=10)
    assert past.empty and tuple(past.columns) == LIST_COLUMNS
    assert late_dossiers(con, MAY, limit=0).empty


def test_scope_and_where_restrict_like_the_engine(may) -> None:
    con, code = may
    scope = Scope(agencies={"Sở B"})
    got = late_dossiers(con, MAY, scope=scope)
    assert codes(got) == [code["late_returned"], code["late_1"]]
    assert count_late_dossiers(con, MAY, scope=scope) == dossier_counts(con, MAY, scope=scope).iloc[0]["resolved_late"]
    assert late_dossiers(con, MAY, scope=Scope()).empty
    where = {"agency": "Sở A"}
    got = late_dossiers(con, MAY, kind="overdue_in_progress", where=where)
    assert codes(got) == [code["overdue_11"]]
    assert count_late_dossiers(con, MAY, kind="overdue_in_progress", where=where) == 1


def test_waiting_for_supplement_after_two_requests_is_overdue_with_zero_days_until_due() -> None:
    not_due = row("2024-05-20", 5, due="2024-06-10", supplement_count=2)
    no_due = row("2024-05-21", 5, supplement_count=3)
    past_due = row("2024-05-02", 5, due="2024-05-29", supplement_count=2)
    one_request = row("2024-05-20", 5, due="2024-06-10", supplement_count=1)
    con = small_store([not_due, no_due, past_due, one_request])
    got = late_dossiers(con, MAY, kind="overdue_in_progress")
    assert codes(got) == [past_due["dossier_code"], not_due["dossier_code"], no_due["dossier_code"]]
    assert got["days_late"].tolist() == [2, 0, 0]
    assert dossier_counts(con, MAY).iloc[0]["in_progress_overdue"] == 3


def test_procedure_name_is_shown_and_no_other_text_columns() -> None:
    late = done("2024-05-01", "2024-05-12", "2024-05-10", sector="Xây dựng", commune="Phường Láng")
    con = small_store([late])
    con.execute("UPDATE dossiers SET procedure_name = 'Cấp giấy phép xây dựng'")
    got = late_dossiers(con, MAY).iloc[0]
    assert (got["procedure_name"], got["sector"], got["commune"]) == ("Cấp giấy phép xây dựng", "Xây dựng",
                                                                      "Phường Láng")
    assert got["received_at"] == pd.Timestamp("2024-05-01") and got["due_at"] == pd.Timestamp("2024-05-10")


def test_district_filter_across_the_reform_and_bad_arguments_are_refused() -> None:
    con = small_store()
    with pytest.raises(ValueError, match="district"):
        late_dossiers(con, periods.year(2025), where={"district": "Quận Ba Đình"})
    assert late_dossiers(con, periods.half_year(2025, 1), where={"district": "Quận Ba Đình"}).empty
    with pytest.raises(ValueError, match="unknown dossier list"):
        late_dossiers(con, MAY, kind="late")
    with pytest.raises(ValueError, match="limit"):
        late_dossiers(con, MAY, limit=-1)
    with pytest.raises(ValueError, match="offset"):
        late_dossiers(con, MAY, offset=1.5)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="on_time_by"):
        count_late_dossiers(con, MAY, on_time_by="hour")


# --- property: the lists are the engine's counts ----------------------------------------------------

_DAY0 = date(2024, 4, 20)  # random dossiers fall around the May period


def _day(offset: int, hour: int) -> str:
    return (_DAY0 + timedelta(days=offset)).isoformat() + f" {hour:02d}:00"


@st.composite
def dossiers(draw: st.DrawFn) -> dict:
    received = draw(st.integers(0, 50))
    end = st.one_of(st.none(), st.integers(0, 25).map(lambda d: _day(received + d, 15)))
    return row(
        _day(received, 9), draw(st.integers(1, 10)),
        due=draw(st.one_of(st.none(), st.integers(-2, 15).map(lambda d: _day(received + d, 8)))),
        finished=draw(end), returned=draw(end),
        agency_name=draw(st.sampled_from(["Sở A", "Sở B", None])),
        commune=draw(st.sampled_from(["Phường Láng", "Xã Sóc Sơn", None])),
        supplement_count=draw(st.one_of(st.none(), st.integers(0, 3))),
    )


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    st.lists(dossiers(), max_size=12),
    st.sampled_from(["day", "timestamp"]),
    st.sampled_from([None, {"commune": "Phường Láng"}, {"agency": [None, "Sở B"]}]),
    st.sampled_from([None, Scope(agencies={"Sở A"}), Scope(communes={"Xã Sóc Sơn"})]),
)
def test_lists_hold_exactly_the_engine_counts(scratch, rows, on_time_by, where, scope) -> None:
    scratch.execute("DELETE FROM dossiers")
    insert(scratch, rows)
    options = {"where": where, "scope": scope, "on_time_by": on_time_by}
    counts = dossier_counts(scratch, MAY, **options).iloc[0]
    for kind in LIST_KINDS:
        whole = late_dossiers(scratch, MAY, kind=kind.id, limit=100, **options)
        assert len(whole) == count_late_dossiers(scratch, MAY, kind=kind.id, **options) == counts[kind.count]
        assert whole["dossier_code"].is_unique
        assert (whole["days_late"] >= 0).all()
        if kind.id == "resolved_late" and on_time_by == "day":
            assert (whole["days_late"] >= 1).all()
        keys = list(zip(-whole["days_late"], whole["received_at"], whole["dossier_code"], strict=True))
        assert keys == sorted(keys)
        pages = [late_dossiers(scratch, MAY, kind=kind.id, limit=2, offset=o, **options) for o in (0, 2, 4, 6)]
        assert codes(pd.concat(pages)) == codes(whole)[:8]
