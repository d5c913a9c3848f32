"""The audit log and the app database it lives in: records, filters, restarts, two writers at once, the lock."""

from __future__ import annotations

import datetime as dt
import fcntl
import json
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import PROJECT_ROOT

from kpi import appdb, audit

T0 = dt.datetime(2025, 6, 2, 8, 0)
ADMIN = "admin@phutho.gov.vn"
HEAD = "truongphong@yenlap.phutho.gov.vn"

# One import, a unit head's downloads and report, a refused request, another day's pack.
EVENTS = [
    dict(actor=ADMIN, role="admin", action="import", target="motcua_thang05.xlsx",
         detail={"inserted": 1200, "updated": 35, "rejected": 2}, at=T0),
    dict(actor=HEAD, role="unit", action="download", target="late.csv", scope="Huyện Yên Lập",
         at=T0 + dt.timedelta(hours=1)),
    dict(actor=HEAD, role="unit", action="report", target="form06 2025-05", scope="Huyện Yên Lập",
         at=T0 + dt.timedelta(hours=2)),
    dict(actor=HEAD, role="unit", action="refused", target="late.csv", scope="Huyện Yên Lập", outcome="refused",
         detail={"asked": "Huyện Thanh Sơn"}, at=T0 + dt.timedelta(hours=3)),
    dict(actor=ADMIN, role="admin", action="pack", target="2025-05", at=T0 + dt.timedelta(days=1)),
]


@pytest.fixture(scope="module")
def prepared(tmp_path_factory) -> Path:
    """EVENTS recorded once (every access opens DuckDB, a tenth of a second); each test gets a copy."""
    target = tmp_path_factory.mktemp("prepared") / "egov_kpi.access.duckdb"
    for event in EVENTS:
        audit.record(target, **event)
    return target


@pytest.fixture
def path(prepared, tmp_path) -> Path:
    return Path(shutil.copy(prepared, appdb.app_db_path(tmp_path / "egov_kpi.duckdb")))


def test_app_db_sits_beside_the_store():
    assert appdb.app_db_path(Path("data/egov_kpi.duckdb")) == Path("data/egov_kpi.access.duckdb")
    assert appdb.app_db_path("/srv/cchc/phutho.duckdb") == Path("/srv/cchc/phutho.access.duckdb")
    assert appdb.lock_path("/srv/cchc/phutho.access.duckdb") == Path("/srv/cchc/phutho.access.duckdb.lock")


def test_events_come_back_newest_first_with_every_field(path):
    frame = audit.events(path)
    assert tuple(frame.columns) == audit.COLUMNS
    assert list(frame["action"]) == ["pack", "refused", "report", "download", "import"]
    first = frame.iloc[-1]
    assert (first["actor"], first["role"], first["target"], first["scope"], first["outcome"]) == (
        ADMIN, "admin", "motcua_thang05.xlsx", "", "ok")
    assert first["at"] == T0
    assert json.loads(first["detail"]) == {"inserted": 1200, "updated": 35, "rejected": 2}
    assert frame["id"].is_unique


@pytest.mark.parametrize(("filters", "actions"), [
    ({"since": T0 + dt.timedelta(hours=1)}, ["pack", "refused", "report", "download"]),
    ({"until": T0 + dt.timedelta(hours=1)}, ["download", "import"]),
    ({"since": T0.date(), "until": T0.date()}, ["refused", "report", "download", "import"]),
    ({"since": dt.date(2025, 6, 3)}, ["pack"]),
    ({"actor": "YENLAP"}, ["refused", "report", "download"]),
    ({"actor": ADMIN, "action": "pack"}, ["pack"]),
    ({"action": ["download", "report"]}, ["report", "download"]),
    ({"outcome": "refused"}, ["refused"]),
    ({"actor": HEAD, "outcome": ["ok"], "until": T0 + dt.timedelta(hours=1, minutes=30)}, ["download"]),
    ({"limit": 2}, ["pack", "refused"]),
    ({"actor": "ai đó' OR 1=1 --"}, []),
    ({"action": []}, []),
])
def test_events_filters(path, filters, actions):
    assert list(audit.events(path, **filters)["action"]) == actions


def test_unknown_actions_and_outcomes_are_refused(path):
    with pytest.raises(ValueError, match="unknown audit action 'delete'"):
        audit.record(path, actor=ADMIN, role="admin", action="delete")
    with pytest.raises(ValueError, match="unknown audit outcome 'maybe'"):
        audit.record(path, actor=ADMIN, role="admin", action="login", outcome="maybe")
    assert len(audit.events(path)) == len(EVENTS)


def test_text_is_stored_as_given_and_cut_when_too_long(path):
    audit.record(path, actor="o'neil@phutho.gov.vn", role="province", action="download",
                 target="Bảng \"xếp hạng\"; DROP TABLE audit_log; --" + "x" * 2000)
    row = audit.events(path, action="download", actor="o'neil").iloc[0]
    assert row["target"].startswith('Bảng "xếp hạng"; DROP TABLE audit_log; --')
    assert len(row["target"]) == audit.MAX_TEXT_CHARS
    assert len(audit.events(path, limit=None)) == len(EVENTS) + 1


def test_a_change_and_its_event_commit_together_or_not_at_all(path):
    with pytest.raises(RuntimeError), appdb.opened(path) as con:
        audit.record_in(con, actor=ADMIN, role="admin", action="target_change", target="on_time_rate")
        raise RuntimeError("the change failed after its event was written")
    assert "target_change" not in set(audit.events(path)["action"])


RECORD_AND_READ = """
import sys
from kpi import audit
path = sys.argv[1]
audit.record(path, actor=sys.argv[2], role="admin", action="logout")
print(len(audit.events(path, limit=None)))
"""


@pytest.mark.slow
def test_the_log_survives_restarts(path):
    """Another process (a restarted dashboard) sees what this one wrote, and this one what it wrote."""
    done = subprocess.run([sys.executable, "-c", RECORD_AND_READ, str(path), ADMIN], cwd=PROJECT_ROOT,
                          capture_output=True, text=True, timeout=60)
    assert (done.returncode, done.stdout) == (0, f"{len(EVENTS) + 1}\n"), done.stderr
    latest = audit.events(path, limit=1).iloc[0]
    assert (latest["actor"], latest["action"]) == (ADMIN, "logout")


WRITER = """
import sys
from kpi import audit
path, actor = sys.argv[1], sys.argv[2]
for n in range(50):
    audit.record(path, actor=actor, role="unit", action="download", target=f"late-{n}.csv", scope="Xã Tân Lập")
"""


@pytest.mark.slow
def test_two_processes_writing_at_once_lose_nothing(tmp_path):
    path = tmp_path / "egov_kpi.access.duckdb"
    writers = [subprocess.Popen([sys.executable, "-c", WRITER, str(path), actor], cwd=PROJECT_ROOT,
                                stderr=subprocess.PIPE, text=True) for actor in ("a@phutho.gov.vn", "b@phutho.gov.vn")]
    for writer in writers:
        assert writer.wait(timeout=120) == 0, writer.stderr.read()
    frame = audit.events(path, limit=None)
    assert len(frame) == 100 and frame["id"].is_unique
    for actor in ("a@phutho.gov.vn", "b@phutho.gov.vn"):
        mine = frame[frame["actor"] == actor]
        assert sorted(mine["target"]) == sorted(f"late-{n}.csv" for n in range(50))


def test_a_held_lock_makes_the_caller_wait_then_refuses_clearly(tmp_path):
    path = tmp_path / "egov_kpi.access.duckdb"
    with appdb.lock_path(path).open("a+") as holder:
        fcntl.flock(holder, fcntl.LOCK_EX)
        with pytest.raises(appdb.AppDbBusy, match=r"đang bận quá 0 giây \(the accounts and audit database has been "
                                                  r"busy for over 0 s\)"), appdb.opened(path, timeout=0.1):
            pass
    with appdb.opened(path, timeout=0.1) as con:  # released
        assert con.execute("SELECT count(*) FROM audit_log").fetchone()[0] == 0
