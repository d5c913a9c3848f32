"""Dashboard page benchmark in a real browser (prints figures; not a test).

Serves the dashboard headless over a store, opens every page of its navigation in Debian's Chromium
(Playwright; harness in tests/browser.py) and prints per page:

- first render: a click on the page's sidebar link until the app is idle (script finished, elements drawn),
  in one session going from page to page as a person does, the first visit of that page since the server
  started (its queries not cached yet, unless an earlier page made the same ones);
- each change of `CHANGES` that the page offers, in that session: the widget change until the rerun is
  drawn, the first time (cold caches) and the median of the later times, each undone before the next;
- opened in a new tab: the page's URL in a new session, the whole front end loaded again (queries cached).

A minimal Streamlit page with one Plotly chart (and a radio that changes its data) is measured in the same
run as a baseline: what Streamlit, the websocket and Plotly cost before any of our work.

    .venv/bin/python scripts/bench_pages.py                  # a store of 200,000 sample dossiers (built once)
    .venv/bin/python scripts/bench_pages.py --rows 1000000
    .venv/bin/python scripts/bench_pages.py --db data/egov_kpi.duckdb

Without --db the store is built in bench-output/ (gitignored) with `python -m kpi sample --rows N` and
`python -m kpi ingest`, and reused by later runs with the same N and seed.

Server side (`--server`, also run first by default, in its own process): the Python time of every page's run
with Streamlit's AppTest (no browser, no websocket): first render with an empty data cache
(`st.cache_data.clear()` before; the process has opened the store and run one page before), a warm rerun in
the same session, and each change of `SERVER_CHANGES` from the page's starting state (the data cache then
holds the page's first render only). `--profile` adds, per page, every `ui.query` call of the first render
and of the changes with its seconds (EGOV_KPI_PROFILE=1), `--cprofile N` the N functions of most cumulative
time of the first render.

    .venv/bin/python scripts/bench_pages.py --db /tmp/store.duckdb --server --profile
    .venv/bin/python scripts/bench_pages.py --db /tmp/store.duckdb --browser   # the browser table only
"""

from __future__ import annotations

import argparse
import io
import json
import os
import pstats
import signal
import statistics
import subprocess
import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "tests"))

import browser  # noqa: E402  (tests/browser.py)

from kpi import db  # noqa: E402
from kpi.bench import dashboard_pages  # noqa: E402


@dataclass(frozen=True)
class Change:
    """A widget change to time on a page: `run(page)` makes it and returns the rerun's seconds (the
    harness's `rerun`, `choose_radio`, `choose_select` do), `undo(page)` puts the page back (not timed);
    `offered(page)` says whether the page has it."""

    name: str
    run: Callable[[object], float]
    undo: Callable[[object], object]
    offered: Callable[[object], bool] = lambda page: True


def _select_neighbour(page, label: str, key: str) -> float:
    """Open the selectbox `label` and move to the next ("ArrowDown") or previous ("ArrowUp") option with the
    keyboard, as a person does; waits for the rerun."""
    box = page.get_by_role("combobox", name=label, exact=True).first

    def choose() -> None:
        box.click()
        page.keyboard.press(key)
        page.keyboard.press("Enter")

    return browser.rerun(page, choose)


def _month_chosen(page) -> bool:
    return browser.has_widget(page, "Loại kỳ") and \
        page.get_by_role("combobox", name="Loại kỳ", exact=True).first.input_value() == "Tháng"


# The changes tried on every page, in the session that opened it: each one timed, then undone. Add a page's
# own filters here (a change the page does not offer is skipped and shown as "–"); PAGE_CHANGES adds changes
# for one page only, by its URL path ("" is the landing page).
CHANGES: list[Change] = [
    Change("period → previous month", lambda page: _select_neighbour(page, "Kỳ", "ArrowUp"),
           lambda page: _select_neighbour(page, "Kỳ", "ArrowDown"), _month_chosen),
    Change("period type → quarter", lambda page: browser.choose_select(page, "Loại kỳ", "Quý"),
           lambda page: browser.choose_select(page, "Loại kỳ", "Tháng"),
           lambda page: browser.has_widget(page, "Loại kỳ")),
    Change("commune → first", lambda page: _select_neighbour(page, "Xã/Phường", "ArrowDown"),
           lambda page: browser.choose_select(page, "Xã/Phường", "Tất cả"),
           lambda page: browser.has_widget(page, "Xã/Phường")),
    Change("language → English", lambda page: browser.choose_radio(page, "English", label="Language"),
           lambda page: browser.choose_radio(page, "Tiếng Việt", label="Language"),
           lambda page: browser.has_widget(page, "Language")),
]
PAGE_CHANGES: dict[str, list[Change]] = {}

BASELINE_APP = """
import plotly.graph_objects as go
import streamlit as st

st.title("Baseline")
choice = st.sidebar.radio("Language", ["Tiếng Việt", "English"], horizontal=True)
shift = 0 if choice == "Tiếng Việt" else 1
months = [f"2025-{m:02d}-01" for m in range(1, 13)]
figure = go.Figure(go.Bar(x=months, y=[(m * 37 + shift * 11) % 50 + 10 for m in range(12)]))
st.plotly_chart(figure, width="stretch", key="chart")
"""
BASELINE_CHANGES = [Change("language → English", lambda page: browser.choose_radio(page, "English"),
                           lambda page: browser.choose_radio(page, "Tiếng Việt"))]


def build_store(rows: int, seed: int, folder: Path) -> Path:
    """A store of `rows` sample dossiers (`python -m kpi sample` then `python -m kpi ingest`), reused."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"pages_{rows}_{seed}.duckdb"
    if path.exists():
        print(f"store: {path} (reused)")
        return path
    export = folder / f"sample_{rows}_{seed}.csv.gz"
    started = time.perf_counter()
    python = [sys.executable, "-m", "kpi"]
    subprocess.run([*python, "sample", "--out", str(export), "--rows", str(rows), "--seed", str(seed)], cwd=ROOT,
                   check=True, stdout=subprocess.DEVNULL)
    partial = path.with_suffix(".partial.duckdb")
    partial.unlink(missing_ok=True)
    subprocess.run([*python, "ingest", str(export), "--db", str(partial)], cwd=ROOT, check=True,
                   stdout=subprocess.DEVNULL)
    partial.rename(path)
    export.unlink()
    print(f"store: {path} ({rows:,} dossiers, built in {time.perf_counter() - started:.0f} s)")
    return path


@dataclass
class Timing:
    """Wall seconds until drawn, and the CPU seconds the server and the browser (Chromium, Playwright's
    driver) used meanwhile: their shares of the work, which a busy machine inflates far less than the wall
    time."""

    wall: float
    server: float
    browser: float

    def __str__(self) -> str:
        return f"{self.wall:.2f} s ({self.server:.2f} / {self.browser:.2f})"


def timed(url: str, step: Callable[[], float]) -> Timing:
    server, chromium = browser.server_cpu_seconds(url), browser.browser_cpu_snapshot()
    wall = step()
    return Timing(wall, browser.server_cpu_seconds(url) - server,
                  browser.cpu_used(chromium, browser.browser_cpu_snapshot()))


def median(timings: list[Timing]) -> Timing:
    return Timing(*(statistics.median(getattr(t, name) for t in timings) for name in ("wall", "server", "browser")))


def measure_app(chromium, url: str, changes_for: Callable[[str], list[Change]], repeats: int) -> list[dict]:
    """Rows of figures, one per page of the app at `url` (the landing page when it has no navigation), as a
    person meets them: one session opens the app at its landing page (a new tab: the whole front end is
    loaded, Plotly's included, before the page is drawn) and goes from page to
    page by the sidebar links (each page's first render: its queries not cached yet unless an earlier page
    made them) and makes each change there, the first time with cold caches, then `repeats - 1` more
    times, each undone before the next; then every page is opened in a new tab `repeats` times (the app's
    whole front end loaded again, the queries cached)."""
    tab = browser.new_page(chromium)
    opened = timed(url, lambda: browser.open_page(tab, url))
    pages = browser.nav_links(tab) or [("", url)]
    here = browser.page_url(tab.url)
    rows = {}
    for label, page_url in [p for p in pages if p[1] != here] + [p for p in pages if p[1] == here]:
        path = page_url.removeprefix(url.rstrip("/")).strip("/")
        row = rows[page_url] = {"page": label or "(landing page)", "path": path, "changes": {}}
        try:
            if page_url == here:  # the page the app opened on: timed then, back to it now
                row["first"], row["first_note"] = opened, "the app opened on it in a new tab"
                if len(pages) > 1:
                    browser.click_nav(tab, page_url)
            else:
                row["first"] = timed(url, lambda: browser.click_nav(tab, page_url))  # noqa: B023
            for change in changes_for(path):
                if change.offered(tab):
                    row["changes"][change.name] = _change(tab, url, change, max(repeats, 2))
            browser.assert_no_exception(tab)
        except Exception as exc:  # noqa: BLE001 - a benchmark reports and goes on
            row["error"] = str(exc).splitlines()[0][:100]
    tab.context.close()
    for _label, page_url in pages:
        tab = browser.new_page(chromium)
        try:
            rows[page_url]["new_tab"] = median([timed(url, lambda: browser.open_page(tab, page_url))  # noqa: B023
                                                for _ in range(repeats)])
        finally:
            tab.context.close()
    return [rows[page_url] for _label, page_url in pages]


def _change(tab, url: str, change: Change, times: int) -> tuple[Timing, Timing] | str:
    """(first time, median of the later times) of a change, each undone before the next."""
    try:
        timings = []
        for _ in range(times):
            timings.append(timed(url, lambda: change.run(tab)))
            change.undo(tab)
        return timings[0], median(timings[1:])
    except Exception as exc:  # noqa: BLE001
        return f"failed: {str(exc).splitlines()[0][:60]}"


def print_table(rows: list[dict], change_names: list[str]) -> None:
    def cell(value: object) -> str:
        if value is None:
            return "–"
        if isinstance(value, tuple):
            return f"{value[0]} · {value[1].wall:.2f} s"
        return str(value)

    header = ["page", "first render", *change_names, "opened in a new tab"]
    if any("error" in r for r in rows):
        header.append("error")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for r in rows:
        first = cell(r.get("first")) + (f" ({r['first_note']})" if r.get("first_note") else "")
        line = [r["page"], first, *[cell(r["changes"].get(name)) for name in change_names], cell(r.get("new_tab"))]
        if "error" in r:
            line.append(r["error"])
        print("| " + " | ".join(line + [""] * (len(header) - len(line))) + " |")


def _first_visit(chromium, url: str) -> float:
    started = time.perf_counter()
    browser.be_first_visitor(chromium, url)
    return time.perf_counter() - started


# --- server side: every page with Streamlit's AppTest --------------------------------------------------


def _previous_month(at) -> bool:
    """Set the period widgets to the month before the chosen one (a month period only)."""
    if at.selectbox(key="filter-kind").value != "month":
        return False
    year, number = at.selectbox(key="filter-year"), at.selectbox(key="filter-number")
    if number.value > 1:
        number.set_value(number.value - 1)
    else:
        year.set_value(year.value - 1)
        number.set_value(12)
    return True


def _has_key(at, key: str) -> bool:
    try:
        at.selectbox(key=key)
    except KeyError:
        return False
    return True


def _quarter(at) -> bool:
    if not _has_key(at, "filter-kind"):
        return False
    at.selectbox(key="filter-kind").set_value("quarter")
    return True


def _first_commune(at) -> bool:
    """Choose the first commune of the locality filter (a filter below the period)."""
    if not _has_key(at, "filter-commune"):
        return False
    box = at.selectbox(key="filter-commune")
    if len(box.options) < 2:
        return False
    box.select_index(1)
    return True


# (name, change): the change sets widgets on a page that was run and returns whether the page offers it.
SERVER_CHANGES: list[tuple[str, Callable[[object], bool]]] = [
    ("period → previous month", lambda at: _has_key(at, "filter-kind") and _previous_month(at)),
    ("period type → quarter", _quarter),
    ("commune → first", _first_commune),
]


PROFILED_PAGE = """
import runpy

profiler = cProfile.Profile()
profiler.enable()
try:
    runpy.run_path({page!r}, run_name="__main__")
finally:
    profiler.disable()
    profiler.dump_stats({out!r})
"""


def _run(at) -> tuple[float, float]:
    """Run the page: wall seconds, and the CPU seconds of this process meanwhile (every thread: the script's,
    DuckDB's workers), which a busy machine inflates far less than the wall time."""
    started, cpu = time.perf_counter(), time.process_time()
    at.run()
    seconds = time.perf_counter() - started, time.process_time() - cpu
    if at.exception:
        raise RuntimeError(f"the page raised: {at.exception[0].value}"[:200])
    return seconds


def _queries(since: int, slowest: int = 12) -> list[str]:
    from kpi import ui

    records = [r for r in ui.PROFILE_LOG[since:] if r["computed"]]
    records.sort(key=lambda r: -r["seconds"])
    lines = [f"    {r['seconds']:6.3f} s  {r['function']}{_short(r['args'])} {_short(r['kwargs'])}"
             for r in records[:slowest]]
    cached = len(ui.PROFILE_LOG) - since - len(records)
    total = sum(r["seconds"] for r in ui.PROFILE_LOG[since:])
    lines.append(f"    ({len(records)} computed, {cached} cached; {total:.3f} s in ui.query)")
    return lines


def _short(value: object) -> str:
    text = repr(value)
    return text if len(text) <= 140 else text[:137] + "..."


def logged_in(at: object) -> object:
    """An AppTest of a page logged in as an administrator by single sign-on (tests/apptest.py: the account is
    made in the app database beside EGOV_KPI_DB's store when missing), as the page tests run."""
    from apptest import SSO_SECRETS, account

    at.secrets["auth"] = dict(SSO_SECRETS)
    at.user = {"is_logged_in": True, "email": account()}
    return at


def measure_server(store: Path, repeats: int, profile: bool, cprofile: int) -> None:
    """Print the server-side table: every page run with AppTest over `store`."""
    os.environ[db.DB_ENV] = str(store.resolve())
    if profile:
        os.environ["EGOV_KPI_PROFILE"] = "1"
    import logging

    import streamlit as st
    from streamlit.testing.v1 import AppTest

    # widget labels read outside a script run (format_func) warn "missing ScriptRunContext": not our concern here
    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").setLevel(logging.ERROR)

    from kpi import ui

    def new_app(page: str, profile_to: Path | None = None) -> object:
        script = ROOT / page
        if profile_to is not None:  # the script runs in AppTest's own thread: profile it there
            script = profile_to.with_suffix(".py")
            script.write_text(PROFILED_PAGE.format(page=str(ROOT / page), out=str(profile_to)), encoding="utf-8")
        at = AppTest.from_file(str(script), default_timeout=300)
        at.query_params["lang"] = "vi"
        return logged_in(at)

    pages = dashboard_pages()
    started = time.perf_counter()
    _run(new_app(pages[0][0]))  # the process's first run: imports, opening the store
    print(f"server side (AppTest): first run in the process (imports, opening the store, "
          f"{pages[0][1]}): {time.perf_counter() - started:.2f} s")
    names = [name for name, _ in SERVER_CHANGES]
    rows, notes = [], []
    for page, title, _url in pages:
        figures: dict[str, list[tuple[float, float]]] = {"first": [], "warm": [], **{n: [] for n in names}}
        offered = set()
        try:
            for repeat in range(repeats):
                st.cache_data.clear()
                profiled = cprofile and repeat == 0
                stats = Path(tempfile.mkdtemp(prefix="bench-pages-")) / "page.prof" if profiled else None
                at = new_app(page, stats)
                mark = len(ui.PROFILE_LOG)
                figures["first"].append(_run(at))
                if profiled:
                    out = io.StringIO()
                    pstats.Stats(str(stats), stream=out).sort_stats("cumulative").print_stats(cprofile)
                    notes.append(f"{title}: cProfile of the first render\n{out.getvalue()}")
                    at = new_app(page)
                    _run(at)  # the same session state as the other pages' warm reruns
                if profile and repeat == 0:
                    notes.append(f"{title}: first render\n" + "\n".join(_queries(mark)))
                figures["warm"].append(_run(at))
                for name, change in SERVER_CHANGES:
                    at = new_app(page)
                    _run(at)  # the page's starting state (its queries are cached)
                    if not change(at):
                        continue
                    offered.add(name)
                    mark = len(ui.PROFILE_LOG)
                    figures[name].append(_run(at))
                    if profile and repeat == 0:
                        notes.append(f"{title}: {name}\n" + "\n".join(_queries(mark)))
            rows.append((title, figures, offered, None))
        except Exception as exc:  # noqa: BLE001 - a benchmark reports and goes on
            rows.append((title, figures, offered, str(exc).splitlines()[0][:120]))
    print(f"load average {' '.join(f'{x:.1f}' for x in os.getloadavg())} after the run")
    print()
    header = ["page", "first render", "warm rerun", *names]
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for title, figures, offered, error in rows:
        def cell(values: list[tuple[float, float]]) -> str:
            if not values:
                return "–"
            wall, cpu = (statistics.median(v[i] for v in values) for i in (0, 1))
            spread = f", {min(v[0] for v in values):.2f}–{max(v[0] for v in values):.2f}" if len(values) > 1 else ""
            return f"{wall:.2f} s ({cpu:.2f}{spread})"

        line = [title, cell(figures["first"]), cell(figures["warm"]),
                *[cell(figures[n]) if n in offered else "–" for n in names]]
        print("| " + " | ".join(line) + " |" + (f" error: {error}" if error else ""))
    print(f"\nwall seconds of AppTest's run (Python, no browser; in brackets the process's CPU seconds and, over "
          f"several repeats, the wall min–max); median of {repeats}: first render after st.cache_data.clear(); warm "
          "rerun in the same session; each change from the page's starting state (its first render's queries "
          "cached).")
    for note in notes:
        print()
        print(note)


def measure_queries(store: Path, page: str, params: dict[str, str]) -> dict[str, float]:
    """The seconds of every data call (EGOV_KPI_PROFILE) of `page`'s first render with the URL parameters
    `params`, in this new process (cold: nothing cached, the store not open yet), then again after the query
    caches were cleared (warm: DuckDB's and the OS's caches hold what the first render read). For `python -m
    kpi bench`, which runs one process per page and period."""
    os.environ[db.DB_ENV] = str(store.resolve())
    os.environ["EGOV_KPI_PROFILE"] = "1"
    import logging

    from streamlit.testing.v1 import AppTest

    logging.getLogger("streamlit.runtime.scriptrunner_utils.script_run_context").setLevel(logging.ERROR)
    from kpi import ui

    figures = {}
    for name in ("cold", "warm"):
        ui.clear_cache()
        at = logged_in(AppTest.from_file(str(ROOT / page), default_timeout=900))
        at.query_params.update({"lang": "vi", **params})
        mark = len(ui.PROFILE_LOG)
        at.run()
        if at.exception:
            raise RuntimeError(f"the page raised: {at.exception[0].value}"[:200])
        figures[name] = sum(r["seconds"] for r in ui.PROFILE_LOG[mark:])
        figures["calls"] = len(ui.PROFILE_LOG) - mark
    return figures


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="an existing store (default: build one of --rows dossiers)")
    parser.add_argument("--rows", type=int, default=200_000, help="dossiers of the built store (default 200000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--sessions", type=int, default=5, help="browser: sessions open at once for the memory figure")
    parser.add_argument("--repeats", type=int, default=3, help="warm renders and changes per page (median)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench-output", help="where the built store is kept")
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--server", action="store_true", help="the server-side table only (AppTest, no browser)")
    mode.add_argument("--browser", action="store_true", help="the browser table only")
    parser.add_argument("--profile", action="store_true", help="server side: every ui.query call per page")
    parser.add_argument("--cprofile", type=int, default=0, metavar="N",
                        help="server side: the N functions of most cumulative time of each first render")
    mode.add_argument("--queries", metavar="PAGE", help="print one JSON line: the cold and warm seconds of the "
                      "queries of PAGE (a file of pages/) with the URL parameters --param (for python -m kpi bench)")
    parser.add_argument("--param", action="append", default=[], metavar="KEY=VALUE", help="URL parameter (--queries)")
    args = parser.parse_args()
    if args.queries:
        print(json.dumps(measure_queries(args.db, args.queries, dict(p.split("=", 1) for p in args.param))))
        return 0
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwind: stop the servers and the browser
    reason = None if args.server else browser.chromium_missing_reason()
    if reason:
        print(reason, file=sys.stderr)
        return 2
    store = args.db or build_store(args.rows, args.seed, args.out)
    con = db.connect(store, read_only=True)
    dossiers = db.dossier_count(con)
    con.close()
    print(f"{dossiers:,} dossiers in {store}; {os.cpu_count()} cores; load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
    if args.server:
        measure_server(store, args.repeats, args.profile, args.cprofile)
        return 0
    if not args.browser:  # both: the server side first, in its own process (one writer per store file)
        command = [sys.executable, __file__, "--server", "--db", str(store), "--repeats", str(args.repeats)]
        command += ["--profile"] if args.profile else []
        command += ["--cprofile", str(args.cprofile)] if args.cprofile else []
        subprocess.run(command, check=True)
        print()
    change_names = list(dict.fromkeys([c.name for c in CHANGES] +
                                      [c.name for extra in PAGE_CHANGES.values() for c in extra]))
    with tempfile.TemporaryDirectory() as folder, browser.chromium() as chromium:
        baseline = Path(folder) / "baseline.py"
        baseline.write_text(textwrap.dedent(BASELINE_APP), encoding="utf-8")
        with browser.streamlit_server(baseline, cwd=Path(folder)) as url:
            browser.be_first_visitor(chromium, url)  # the same footing as the dashboard below
            rows = measure_app(chromium, url, lambda path: BASELINE_CHANGES, args.repeats)
        rows[0]["page"] = "baseline: one Plotly chart"
        started = time.perf_counter()
        browser.add_account(store.resolve())  # the administrator open_page logs in as
        with browser.streamlit_server(ROOT / "dashboard.py", {db.DB_ENV: str(store.resolve())}) as url:
            print(f"dashboard server healthy in {time.perf_counter() - started:.1f} s")
            # The first visitor pays for the imports and opening the store: timed apart. It opens the Methodology
            # page (the lightest), so that the landing page and the others start with cold query caches below.
            last = next(url_path for file, _en, url_path in dashboard_pages() if file.endswith("phuong_phap.py"))
            first = timed(url, lambda: _first_visit(chromium, url + last))
            print(f"first visitor (a new tab at /{last}) after the server start: {first}")
            rows += measure_app(chromium, url, lambda path: CHANGES + PAGE_CHANGES.get(path, []), args.repeats)
            sessions = sessions_memory(chromium, url, args.sessions)
    print()
    print_table(rows, change_names)
    print(f"\nserver resident memory (VmRSS, the dashboard's process): {sessions}")
    print(f"\nseconds until drawn (CPU seconds meanwhile: server / browser). first render: the page reached by its"
          f" sidebar link in one session, the first time since the server started (its queries not cached yet"
          f" unless an earlier page made them). changes: in that session, the first time (cold caches) · the "
          f"median of {max(args.repeats, 2) - 1} later times, each undone before the next. opened in a new tab:"
          f" the app's whole front end loaded again, queries cached, median of {args.repeats}.")
    return 0


def _rss_mb(pid: int) -> float:
    """Resident memory of a process (Linux /proc, VmRSS) in MB."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def sessions_memory(chromium: object, url: str, count: int) -> str:
    """The server's resident memory after the page runs above, then with `count` sessions open at once, each
    logged in on a different page (landing page, Localities, Departments, Monthly review, Meeting report)."""
    pid = browser.SERVER_PIDS[url]
    before = _rss_mb(pid)
    wanted = ["", "dia-ban", "so-nganh", "danh-gia-thang", "bao-cao-hop"]
    tabs = []
    try:
        for i in range(count):
            tab = browser.new_page(chromium)
            tabs.append(tab)
            browser.open_page(tab, url + wanted[i % len(wanted)])
        after = _rss_mb(pid)
    finally:
        for tab in tabs:
            tab.context.close()
    return f"{before:,.0f} MB after the page runs above; {after:,.0f} MB with {count} sessions open (target ≤ 2 GB)"


if __name__ == "__main__":
    sys.exit(main())
