"""The scale benchmark, `python -m kpi bench --dossiers N` (prints figures; not a test).

One run, one table, each figure against its target at 10,000,000 dossiers (issue 6):

1. a city export of N dossiers over three years from the sample generator (`kpi sample`: a Hanoi-like city,
   30 districts and 526 communes before the July 2025 reform, 126 communes after; chunked beyond a million
   rows), kept in `--dir` and reused by later runs with the same N and seed;
2. its import into an empty store by `python -m kpi ingest` in a child process: rows per second and the
   child's peak resident memory;
3. the store's file size per dossier;
4. for every page of the dashboard, for a month (the newest) and for a year (the last whole one): the time
   of its queries (every data call of the page's first render, EGOV_KPI_PROFILE), cold in a new process and
   warm (the same page again after the query caches were cleared: DuckDB's and the OS's caches warm), run
   by `scripts/bench_pages.py --queries` with Streamlit's AppTest, one process per page and period;
5. every KPI for the month and the year by agency and by commune, with the engine (warm) and in
   plain pandas (`scripts/pandas_kpis.py`, written from DOMAIN.md with no code of the engine's, the data
   already in memory), the ratio, and whether both give the same numerators and denominators.

The import and the pages run in child processes, so each is measured on its own (memory included).
"""

from __future__ import annotations

import ast
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from kpi import db, periods, views
from kpi.engine import kpi_table

ROOT = Path(__file__).resolve().parent.parent
# engine `by` → dossier column; not district: the benchmark's periods reach past the July 2025 reform
GROUPINGS = {"agency": "agency_name", "commune": "commune"}


@dataclass(frozen=True)
class Target:
    """A figure's target at 10 M dossiers: `ok(value)` says whether it is met."""

    text: str
    ok: Callable[[float], bool]


IMPORT_RATE = Target("≥ 200,000 rows/s", lambda v: v >= 200_000)
IMPORT_MEMORY = Target("≤ 3 GB", lambda v: v <= 3 * 1024**3)
SIZE = Target("≤ 60 B/dossier", lambda v: v <= 60)
MONTH_WARM, MONTH_COLD = Target("≤ 0.3 s", lambda v: v <= 0.3), Target("≤ 1.5 s", lambda v: v <= 1.5)
YEAR_WARM = Target("≤ 1 s", lambda v: v <= 1.0)
PANDAS_RATIO = Target("≥ 10×", lambda v: v >= 10)


@dataclass
class Row:
    """One line of the table: what, the figure as text, its target, and whether it is met (None: no target)."""

    what: str
    figure: str
    target: str = ""
    met: bool | None = None


@dataclass
class Report:
    dossiers: int
    rows: list[Row] = field(default_factory=list)

    def add(self, what: str, figure: str, target: str = "", met: bool | None = None) -> None:
        self.rows.append(Row(what, figure, target, met))
        print(f"  {what}: {figure}", flush=True)

    def table(self) -> str:
        lines = ["| measure | figure | target at 10 M | met |", "|---|---|---|---|"]
        for r in self.rows:
            mark = "" if r.met is None else ("yes" if r.met else "**no**")
            lines.append(f"| {r.what} | {r.figure} | {r.target} | {mark} |")
        return "\n".join(lines)


def dashboard_pages() -> list[tuple[str, str, str]]:
    """(file, English title, URL path) of every page of dashboard.py's PAGES, read from its source (importing
    it would start Streamlit)."""
    tree = ast.parse((ROOT / "dashboard.py").read_text(encoding="utf-8"))
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(getattr(t, "id", None) == "PAGES" for t in node.targets):
            return [(path, en, url) for path, _vi, en, _icon, url in ast.literal_eval(node.value)]
    raise RuntimeError("no PAGES in dashboard.py")


def bench_periods(last_day: date) -> dict[str, tuple[views.Period, dict[str, str]]]:
    """The month a page opens on (the newest data's) and the last whole year, each with its URL parameters."""
    kind, year, number = views.default_period_choice(last_day)
    whole_year = last_day.year if (last_day.month, last_day.day) == (12, 31) else last_day.year - 1
    return {
        "month": (periods.month(year, number), {"ky": kind, "nam": str(year), "so": str(number)}),
        "year": (periods.year(whole_year), {"ky": "year", "nam": str(whole_year)}),
    }


def _seconds(value: float) -> str:
    return f"{value:.3f} s" if value < 10 else f"{value:.1f} s"


def _gb(value: float) -> str:
    return f"{value / 1024**3:.2f} GB"


def make_export(rows: int, seed: int, folder: Path) -> Path:
    """The city export of `rows` dossiers (`python -m kpi sample`), written once per rows and seed."""
    path = folder / f"city_{rows}_{seed}.csv"
    if path.exists():
        print(f"export: {path} (reused)", flush=True)
        return path
    partial = path.with_suffix(".partial.csv")
    started = time.perf_counter()
    subprocess.run([sys.executable, "-m", "kpi", "sample", "--out", str(partial), "--rows", str(rows),
                    "--seed", str(seed)], cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
    partial.rename(path)
    print(f"export: {path} ({path.stat().st_size / 1e6:,.0f} MB, written in {time.perf_counter() - started:.0f} s)",
          flush=True)
    return path


def run_import(export: Path, store: Path) -> tuple[float, int, dict]:
    """`python -m kpi ingest export --db store --json` in a child process into a new store: (wall seconds, the
    child's peak resident bytes, its JSON summary of the file)."""
    for stale in (store, store.with_name(store.name + ".wal")):
        stale.unlink(missing_ok=True)
    started = time.perf_counter()
    child = subprocess.Popen([sys.executable, "-m", "kpi", "ingest", str(export), "--db", str(store), "--json"],
                             cwd=ROOT, stdout=subprocess.PIPE, text=True)
    out = child.stdout.read()
    _pid, status, usage = os.wait4(child.pid, 0)
    seconds = time.perf_counter() - started
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode != 0:
        raise RuntimeError(f"the import failed (exit {child.returncode})")
    return seconds, usage.ru_maxrss * 1024, json.loads(out)["files"][0]


def page_queries(store: Path, page: str, params: dict[str, str]) -> dict:
    """The cold and warm seconds of `page`'s queries for the period `params`, in a new process."""
    command = [sys.executable, str(ROOT / "scripts" / "bench_pages.py"), "--db", str(store), "--queries", page,
               *[f"--param={k}={v}" for k, v in params.items()]]
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True, check=False)
    if done.returncode != 0:
        return {"error": (done.stderr.strip().splitlines() or ["failed"])[-1][:120]}
    return json.loads(done.stdout.strip().splitlines()[-1])


def engine_against_pandas(store: Path, chosen: dict[str, views.Period], report: Report) -> None:
    """Every KPI by district, agency and commune for each period: the engine (warm: best of the runs after the
    first) against plain pandas over the dossiers loaded in memory (load not counted), and whether they agree."""
    sys.path.insert(0, str(ROOT / "scripts"))
    import pandas_kpis  # scripts/pandas_kpis.py: written from DOMAIN.md, shares no code with the engine

    con = db.connect(store, read_only=True)
    try:
        started = time.perf_counter()
        frame = con.execute(f"SELECT {', '.join(pandas_kpis.COLUMNS)}, {', '.join(GROUPINGS.values())} "
                            "FROM dossiers").df()
        prepared = pandas_kpis.prepare(frame)
        del frame
        print(f"  (pandas: {len(prepared):,} dossiers loaded and prepared in {time.perf_counter() - started:.1f} s, "
              "not counted)", flush=True)
        for name, period in chosen.items():
            windows = [(p.start, p.end) for p in (period.previous(), period.year_earlier())]
            for by, column in GROUPINGS.items():
                timings = []
                for _ in range(3):
                    started = time.perf_counter()
                    engine = kpi_table(con, period, by=by)
                    timings.append(time.perf_counter() - started)
                warm = min(timings[1:])
                started = time.perf_counter()
                pandas = pandas_kpis.kpi_frame(prepared, period.start, period.end, column, windows)
                pandas_s = time.perf_counter() - started
                current = pandas[pandas["role"] == "current"].set_index(["group", "metric"])
                mine = engine.set_index(["group", "metric"])[["numerator", "denominator"]]
                both = mine.merge(current[["numerator", "denominator"]], left_index=True, right_index=True,
                                  how="outer", suffixes=("", "_pandas")).fillna(0)
                same = bool((both["numerator"] == both["numerator_pandas"]).all()
                            and (both["denominator"] == both["denominator_pandas"]).all())
                ratio = pandas_s / warm
                report.add(f"every KPI by {by}, {name}: engine vs pandas",
                           f"{_seconds(warm)} vs {_seconds(pandas_s)}: {ratio:,.0f}× "
                           f"({'same figures' if same else 'FIGURES DIFFER'}; engine cold {_seconds(timings[0])})",
                           PANDAS_RATIO.text, same and PANDAS_RATIO.ok(ratio))
    finally:
        con.close()


def run(dossiers: int, seed: int, folder: Path, *, pages: Sequence[str] | None = None, keep: bool = False) -> Report:
    """The whole benchmark for `dossiers` dossiers (see the module docstring); prints as it goes and returns the
    table's rows. `pages` limits the page part to those files (None: every page)."""
    folder.mkdir(parents=True, exist_ok=True)
    print(f"egov-kpi scale benchmark: {dossiers:,} dossiers, seed {seed}; {platform.machine()}, "
          f"{os.cpu_count()} cores, {os.sysconf('SC_PAGE_SIZE') * os.sysconf('SC_PHYS_PAGES') / 1024**3:.0f} GB, "
          f"Python {platform.python_version()}", flush=True)
    report = Report(dossiers)
    export = make_export(dossiers, seed, folder)
    store = folder / f"city_{dossiers}_{seed}.duckdb"
    seconds, peak, summary = run_import(export, store)
    rate = summary["rows_read"] / seconds
    report.add("import of the CSV export (new store)",
               f"{rate:,.0f} rows/s ({summary['rows_read']:,} rows in {seconds:.1f} s; "
               f"{summary['rejected']:,} rejected)", IMPORT_RATE.text, IMPORT_RATE.ok(rate))
    report.add("import peak memory (child process)", _gb(peak), IMPORT_MEMORY.text, IMPORT_MEMORY.ok(peak))
    con = db.connect(store, read_only=True)
    stored, last_day = db.dossier_count(con), views.data_span(con)["last_day"]
    con.close()
    size = store.stat().st_size
    report.add("database size", f"{size / stored:.0f} B/dossier ({size / 1e6:,.0f} MB, "
               f"{stored:,} dossiers)", SIZE.text, SIZE.ok(size / stored))
    chosen = bench_periods(last_day)
    for page, title, _url in dashboard_pages():
        if pages and page not in pages and Path(page).stem not in pages:
            continue
        for name, (period, params) in chosen.items():
            got = page_queries(store, page, params)
            label = f"page {title}, {name} ({period.label('en')})"
            if "error" in got:
                report.add(label, f"failed: {got['error']}")
                continue
            cold, warm = got["cold"], got["warm"]
            figure = f"cold {_seconds(cold)} · warm {_seconds(warm)} ({got['calls']} data calls)"
            if name == "month":
                report.add(label, figure, f"cold {MONTH_COLD.text} · warm {MONTH_WARM.text}",
                           MONTH_COLD.ok(cold) and MONTH_WARM.ok(warm))
            else:
                report.add(label, figure, f"warm {YEAR_WARM.text}", YEAR_WARM.ok(warm))
    engine_against_pandas(store, {name: period for name, (period, _params) in chosen.items()}, report)
    if not keep:  # the store, its lock file and the readers' links (which would keep its space in use)
        store.unlink(missing_ok=True)
        db.lock_path(store).unlink(missing_ok=True)
        shutil.rmtree(store.with_name(f".{store.name}.readers"), ignore_errors=True)
    print()
    print(report.table())
    met = [r.met for r in report.rows if r.met is not None]
    print(f"\n{sum(met)} of {len(met)} targets met. Page queries: seconds of every data call of the page's first "
          "render (EGOV_KPI_PROFILE), cold in a new process, warm after the query caches were cleared.")
    return report


__all__ = ["GROUPINGS", "Report", "Row", "bench_periods", "dashboard_pages", "engine_against_pandas",
           "make_export", "page_queries", "run", "run_import"]
