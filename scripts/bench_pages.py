"""Dashboard page benchmark in a real browser (prints figures; not a test).

Serves the dashboard headless over a store, opens every page of its navigation in Debian's Chromium
(Playwright; harness in tests/browser.py) and prints per page:

- first render: navigation until the app is idle (script finished, elements drawn), the first visit of that
  page since the server started (cold query caches);
- warm render: the same page again in a new session;
- each change of `CHANGES` that the page offers: the widget change until the rerun is drawn.

A minimal Streamlit page with one Plotly chart (and a radio that changes its data) is measured in the same
run as a baseline: what Streamlit, the websocket and Plotly cost before any of our work.

    .venv/bin/python scripts/bench_pages.py                  # a store of 200,000 sample dossiers (built once)
    .venv/bin/python scripts/bench_pages.py --rows 1000000
    .venv/bin/python scripts/bench_pages.py --db data/egov_kpi.duckdb

Without --db the store is built in bench-output/ (gitignored) with `python -m kpi sample --rows N` and
`python -m kpi ingest`, and reused by later runs with the same N and seed.
"""

from __future__ import annotations

import argparse
import os
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


@dataclass(frozen=True)
class Change:
    """A widget change to time on a page: `run(page)` makes it and returns the rerun's seconds (the
    harness's `rerun`, `choose_radio`, `choose_select` do); `offered(page)` says whether the page has it."""

    name: str
    run: Callable[[object], float]
    offered: Callable[[object], bool] = lambda page: True


# The changes tried on every page, in order, each in the same session after the first render. Add a page's
# own filters here (a change the page does not offer is skipped and shown as "–"); PAGE_CHANGES adds changes
# for one page only, by its URL path ("" is the landing page).
CHANGES: list[Change] = [
    Change("language → English", lambda page: browser.choose_radio(page, "English", label="Language"),
           lambda page: browser.has_widget(page, "Language")),
    Change("period type → quarter", lambda page: browser.choose_select(page, "Loại kỳ", "Quý"),
           lambda page: browser.has_widget(page, "Loại kỳ")),
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
BASELINE_CHANGES = [Change("language → English", lambda page: browser.choose_radio(page, "English"))]


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
    """Rows of figures, one per page of the app at `url` (the landing page when it has no navigation)."""
    tab = browser.new_page(chromium)
    first = {"": timed(url, lambda: browser.open_page(tab, url))}
    pages = browser.nav_links(tab) or [("", url)]
    tab.context.close()
    rows = []
    for label, page_url in pages:
        path = page_url.removeprefix(url.rstrip("/")).strip("/")
        row = {"page": label or "(landing page)", "path": path, "changes": {}}
        tab = browser.new_page(chromium)
        try:
            row["first"] = first.get(path) or timed(url, lambda: browser.open_page(tab, page_url))  # noqa: B023
            row["warm"] = median([timed(url, lambda: browser.open_page(tab, page_url)) for _ in range(repeats)])  # noqa: B023
            for change in changes_for(path):
                browser.open_page(tab, page_url)  # each change from the page's starting state
                if not change.offered(tab):
                    continue
                try:
                    row["changes"][change.name] = median(
                        [_change_once(tab, url, page_url, change, i) for i in range(repeats)])
                except Exception as exc:  # noqa: BLE001 - a benchmark reports and goes on
                    row["changes"][change.name] = f"failed: {str(exc).splitlines()[0][:60]}"
            browser.assert_no_exception(tab)
        except Exception as exc:  # noqa: BLE001
            row["error"] = str(exc).splitlines()[0][:100]
        finally:
            tab.context.close()
        rows.append(row)
    return rows


def _change_once(tab, url: str, page_url: str, change: Change, i: int) -> Timing:
    if i:
        browser.open_page(tab, page_url)
    return timed(url, lambda: change.run(tab))


def print_table(rows: list[dict], change_names: list[str]) -> None:
    def cell(value: object) -> str:
        return "–" if value is None else str(value)

    header = ["page", "first render", "warm render", *change_names]
    if any("error" in r for r in rows):
        header.append("error")
    print("| " + " | ".join(header) + " |")
    print("|" + "|".join("---" for _ in header) + "|")
    for r in rows:
        line = [r["page"], cell(r.get("first")), cell(r.get("warm")),
                *[cell(r["changes"].get(name)) for name in change_names]]
        if "error" in r:
            line.append(r["error"])
        print("| " + " | ".join(line + [""] * (len(header) - len(line))) + " |")


def _first_visit(chromium, url: str) -> float:
    started = time.perf_counter()
    browser.be_first_visitor(chromium, url)
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="an existing store (default: build one of --rows dossiers)")
    parser.add_argument("--rows", type=int, default=200_000, help="dossiers of the built store (default 200000)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3, help="warm renders and changes per page (median)")
    parser.add_argument("--out", type=Path, default=ROOT / "bench-output", help="where the built store is kept")
    args = parser.parse_args()
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))  # unwind: stop the servers and the browser
    reason = browser.chromium_missing_reason()
    if reason:
        print(reason, file=sys.stderr)
        return 2
    store = args.db or build_store(args.rows, args.seed, args.out)
    con = db.connect(store, read_only=True)
    dossiers = db.dossier_count(con)
    con.close()
    print(f"{dossiers:,} dossiers in {store}; {os.cpu_count()} cores; load average "
          f"{' '.join(f'{x:.1f}' for x in os.getloadavg())}")
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
        with browser.streamlit_server(ROOT / "dashboard.py", {db.DB_ENV: str(store.resolve())}) as url:
            print(f"dashboard server healthy in {time.perf_counter() - started:.1f} s")
            # The first visitor pays for opening the store and the landing page's queries: timed apart.
            first = timed(url, lambda: _first_visit(chromium, url))
            print(f"first visit of the landing page after the server start: {first}")
            rows += measure_app(chromium, url, lambda path: CHANGES + PAGE_CHANGES.get(path, []), args.repeats)
    print()
    print_table(rows, change_names)
    print(f"\nseconds until drawn (CPU seconds meanwhile: server / browser). first render: first visit of the page"
          f" since the server started (cold caches; the landing page was visited once before); warm render and"
          f" changes: median of {args.repeats}, each change from the page's starting state, in a new session.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
