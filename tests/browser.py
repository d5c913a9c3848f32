"""Real-browser test harness: a Streamlit server in a subprocess, Debian's Chromium driven by Playwright.

Used by `tests/test_browser.py` and `scripts/bench_pages.py`. A test module gets the fixtures with

    pytest_plugins = ["browser"]

and then asks for `dashboard_url` (the dashboard over a small fixture store, one server per module),
`dashboard_pages` (label and URL of every page its sidebar lists), `browser` (one Chromium per module) or
`page` (a fresh tab per test, 1400×900, Vietnamese locale).

Helpers, all on a Playwright `Page` made by `new_page` (the `page` fixture is one):

- `open_page(page, url)`: navigate, wait until the app's run has finished and is drawn; returns the seconds.
- `rerun(page, action)`: do something that makes the app rerun (a click, a key) and wait the same way.
- `assert_no_exception(page)`: no `st.exception` box, no "Traceback" text.
- `screenshot(page, name)`: PNG of the whole page under `test-output/screenshots/` (gitignored).
- `nav_links(page)`: the pages the sidebar navigation lists (none when the app has a single page).
- `click_nav(page, url)`: switch page through the sidebar link, in the same session.
- `title(page)`: the page's h1.
- `choose_radio(page, option, label)`, `choose_select(page, label, option)`: change a widget, wait for the
  rerun, check the new value stuck. `has_widget(page, label)`.
- `click_plotly_bar(page, chart_index, bar_label)`: click one bar of a Plotly chart drawn with
  `st.plotly_chart(..., on_select="rerun")` and wait for the rerun that carries the selection.
- `plotly_bars(page, chart_index)`: (category, label text) of every bar a Plotly chart draws.
- `query_params(page)`: the parameters of the address the browser shows now (`location.href`).
- `open_tab(page, label)`: show a tab of `st.tabs` (no rerun: tabs switch in the browser).
- `grid_rows(page)`: the rows a visible `st.dataframe` has drawn, as {header: cell text}.

Outside pytest (scripts/bench_pages.py): `streamlit_server(script, env)`, `chromium()`, `new_page(browser)`,
`build_fixture_db(path)`, `be_first_visitor(browser, url)`, `server_cpu_seconds(url)`,
`browser_cpu_snapshot()`, `cpu_used(before, after)`.

How "finished and drawn" is detected: every page made by `new_page` listens to the app's websocket and counts
the `script_finished` messages the server sends (decoded with Streamlit's own protobuf classes), so a rerun is
waited for by its count, never by sleeping, and a fast rerun is not missed (the DOM attribute
`data-test-script-state` of `[data-testid="stApp"]` can go running -> notRunning within one React commit
and never show "running"). Then the DOM: `stApp` with `data-test-connection-state="CONNECTED"` and
`data-test-script-state="notRunning"`, no element still marked `data-stale="true"`, no visible loading
skeleton (`stSkeleton`: element code that a new browser context loads lazily), every visible Plotly chart
with its SVG, two animation frames. Then QUIET_MS without another run (a page may rerun itself).

Chromium is Debian's `/usr/bin/chromium` (installed by `scripts/test`): Playwright cannot download its own here.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import re
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
import weakref
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from urllib.parse import parse_qsl, urlencode, urljoin, urlsplit

import pytest

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--headless", "--disable-gpu", "--no-first-run", "--disable-background-networking",
                 "--disable-component-update", "--disable-sync", "--disable-quic"]
SCREENSHOTS = ROOT / "test-output" / "screenshots"
# Small enough to build in a few seconds, large enough for every page to have data: the first quarter, the
# quarter of the 1 July 2025 reform (districts before, new communes after) and the last quarter of the sample.
FIXTURE_SAMPLES = ("ho_so_2024_q1.csv.gz", "ho_so_2025_q3.csv.gz", "ho_so_2026_q4.csv.gz")
VIEWPORT = {"width": 1400, "height": 900}
QUIET_MS = 150  # a run is the last one when no other follows within this time
TIMEOUT_MS = 120_000  # generous: a first run computes KPIs on a cold cache, on a busy 2-core machine

# Drawn: no element of the previous run left, no loading placeholder (lazy-loaded element code shows a
# skeleton until it arrives), every visible Plotly chart has its SVG; then two animation frames, so it is painted.
_DRAWN = """() => !document.querySelector('[data-stale="true"]')
  && ![...document.querySelectorAll('[data-testid="stSkeleton"], [data-testid="stSkeletonElement"]')]
       .some(e => e.offsetParent !== null)
  && [...document.querySelectorAll('.stPlotlyChart')]
       .every(c => c.offsetParent === null || c.querySelector('.js-plotly-plot .main-svg'))
  && new Promise(resolve => requestAnimationFrame(() => requestAnimationFrame(() => resolve(true))))"""
_IDLE = '[data-testid="stApp"][data-test-connection-state="CONNECTED"][data-test-script-state="notRunning"]'


# ---------------------------------------------------------------------------------------------- server


def free_port() -> int:
    """A TCP port nobody listens on right now (the OS picks it)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def streamlit_server(script: str | Path, env: Mapping[str, str] | None = None, *, cwd: Path = ROOT,
                     timeout: float = 60.0) -> Iterator[str]:
    """Run `streamlit run script` headless on a free port and yield its base URL (`http://localhost:PORT/`).

    `env` adds to the environment (e.g. `EGOV_KPI_DB`). Waits for `/_stcore/health`; when the server does
    not come up, fails with its output. Stops it at the end: terminate, then kill after 10 s."""
    port = free_port()
    command = [sys.executable, "-m", "streamlit", "run", str(script), "--server.headless", "true",
               "--server.port", str(port), "--server.address", "127.0.0.1", "--browser.gatherUsageStats", "false",
               "--server.fileWatcherType", "none", "--server.runOnSave", "false"]
    with tempfile.TemporaryFile("w+", encoding="utf-8", errors="replace") as log:
        process = subprocess.Popen(command, cwd=cwd, env={**os.environ, **(env or {})}, stdout=log,
                                   stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, preexec_fn=_die_with_parent)
        url = f"http://localhost:{port}/"
        try:
            _wait_healthy(process, f"{url}_stcore/health", timeout, log)
            SERVER_PIDS[url] = process.pid
            yield url
        finally:
            SERVER_PIDS.pop(url, None)
            process.terminate()
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(10)


def _die_with_parent() -> None:
    """In the server's process before it starts: end it when the process that started it dies (Linux), so
    that a killed test run or benchmark leaves no server behind."""
    with contextlib.suppress(OSError, AttributeError):
        ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG


SERVER_PIDS: dict[str, int] = {}  # base URL -> process id of the running servers


def server_cpu_seconds(url: str) -> float:
    """CPU time (user + system, all threads) the server at `url` has used so far (Linux /proc)."""
    return _cpu_seconds(SERVER_PIDS[url])


def browser_cpu_snapshot() -> dict[int, float]:
    """CPU seconds used so far by each of this process's descendants other than the Streamlit servers:
    Playwright's driver and Chromium's processes (Linux /proc). Compare two with `cpu_used`."""
    parents = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            with contextlib.suppress(OSError):
                parents[int(entry.name)] = int(_stat_fields(int(entry.name))[1])
    servers = set(SERVER_PIDS.values())
    used, frontier = {}, [os.getpid()]
    while frontier:
        parent = frontier.pop()
        for pid, ppid in parents.items():
            if ppid == parent and pid not in servers:
                frontier.append(pid)
                with contextlib.suppress(OSError):
                    used[pid] = _cpu_seconds(pid)
    return used


def cpu_used(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds used between two snapshots by the processes alive at the second (a process that ended in
    between, such as a closed tab's renderer, takes its last share with it)."""
    return sum(max(seconds - before.get(pid, 0.0), 0.0) for pid, seconds in after.items())


def _stat_fields(pid: int) -> list[str]:
    """/proc/PID/stat from the state field on (the command name may hold spaces)."""
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def _cpu_seconds(pid: int) -> float:
    fields = _stat_fields(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _wait_healthy(process: subprocess.Popen, url: str, timeout: float, log) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            break
        try:
            with urllib.request.urlopen(url, timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            pass
        time.sleep(0.2)
    log.flush()
    log.seek(0)
    state = f"exited with {process.returncode}" if process.poll() is not None else f"not healthy after {timeout:.0f} s"
    raise RuntimeError(f"streamlit {state} ({url}); its output:\n{log.read()[-8000:]}")


def build_fixture_db(path: Path, samples: Sequence[str] = FIXTURE_SAMPLES) -> Path:
    """A store at `path` filled with a few of the bundled sample files (a few seconds)."""
    from kpi import db
    from kpi.importer import ingest_files

    con = db.connect(path)
    try:
        outcomes = ingest_files(con, [db.SAMPLE_DIR / name for name in samples])
    finally:
        con.close()
    refused = [o for o in outcomes if o.result is None]
    assert not refused, f"fixture samples refused: {refused}"
    return path


# --------------------------------------------------------------------------------------------- browser


def chromium_missing_reason() -> str | None:
    """Why the browser tests cannot run here, or None."""
    if not CHROMIUM.exists():
        return f"{CHROMIUM} is missing (scripts/test installs Debian's chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "playwright is not installed (requirements-dev.txt)"
    return None


@contextlib.contextmanager
def chromium() -> Iterator[object]:
    """A headless Chromium (Debian's binary) under Playwright's sync API; yields the `Browser`."""
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS, headless=True)
        try:
            yield browser
        finally:
            browser.close()


# The dashboard's built-in login (kpi.accounts): the account the browser tests log in as, made beside the store
# before the server starts (`add_account`).
ADMIN_EMAIL, ADMIN_PASSWORD = "quantri@egov-kpi.test", "mat-khau-thu-nghiem-1"
_LOGINS: dict[object, tuple[str, str] | None] = {}  # tab -> (e-mail, password) open_page logs in with


def add_account(store: Path, email: str = ADMIN_EMAIL, password: str = ADMIN_PASSWORD, role: str = "admin",
                units: Sequence[str] = ()) -> None:
    """An account with a password in the app database beside `store` (kpi.appdb), unless it exists."""
    from kpi import accounts, appdb

    path = appdb.app_db_path(store)
    if accounts.get_user(path, email) is None:
        accounts.add_user(path, email, role, units, password, created_by="tests")


def new_page(browser, *, locale: str = "vi-VN", login: tuple[str, str] | None = (ADMIN_EMAIL, ADMIN_PASSWORD)):
    """A tab in a fresh context (no shared cookies or storage), with the run counter installed. `login`: the
    e-mail and password `open_page` gives the dashboard's login form whenever it shows (None: leave it)."""
    context = browser.new_context(viewport=VIEWPORT, locale=locale, timezone_id="Asia/Ho_Chi_Minh")
    context.set_default_timeout(TIMEOUT_MS)
    page = context.new_page()
    runs = _RunCounter()
    _RUNS[page] = runs
    _LOGINS[page] = login
    page.on("websocket", runs.watch)
    return page


_LOGIN_FORM = '[data-testid="stForm"]:has(input[type="password"])'


def log_in(page, email: str, password: str, timeout: float = TIMEOUT_MS) -> float:
    """Fill the dashboard's login form (e-mail, password) and submit; waits for the page behind it."""
    form = page.locator(_LOGIN_FORM).first
    form.locator('input[type="text"]').first.fill(email)
    form.locator('input[type="password"]').first.fill(password)
    return rerun(page, lambda: form.locator('[data-testid="stBaseButton-primaryFormSubmit"], button').last.click(),
                 timeout)


class _RunCounter:
    """Counts the script runs a page's app finished, from the `script_finished` messages on the websocket of
    the page's current document (a message still arriving on the previous document's socket is ignored)."""

    def __init__(self) -> None:
        self.finished = 0
        self.last_status: int | None = None
        self.current = None

    def watch(self, websocket) -> None:
        if websocket.url.endswith("/_stcore/stream"):
            self.current = websocket
            websocket.on("framereceived", lambda payload: self._frame(websocket, payload))

    def _frame(self, websocket, payload: bytes | str) -> None:
        if websocket is not self.current or isinstance(payload, str):
            return
        from streamlit.proto.ForwardMsg_pb2 import ForwardMsg

        message = ForwardMsg.FromString(payload)
        if message.WhichOneof("type") == "script_finished":
            self.last_status = message.script_finished
            if message.script_finished != ForwardMsg.FINISHED_EARLY_FOR_RERUN:
                self.finished += 1


_RUNS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def runs_finished(page) -> int:
    """How many script runs the app in `page` has finished so far (pages made by `new_page` only)."""
    return _RUNS[page].finished


# ------------------------------------------------------------------------------------------- helpers


def _wait_runs(page, more_than: int, deadline: float) -> None:
    runs = _RUNS[page]
    while runs.finished <= more_than:
        if time.monotonic() > deadline:
            raise TimeoutError(f"the app at {page.url} did not finish a run in time")
        page.wait_for_timeout(20)  # lets Playwright deliver the websocket events


def _wait_done(page, before: int, timeout: float) -> float:
    """Wait until the app finished a run after `before` runs and drew it (DOM idle, then `_DRAWN`); then,
    when another run follows within QUIET_MS (a page may rerun itself, e.g. after writing its filters to the
    URL), for that one too. Returns the perf_counter time it was drawn."""
    deadline = time.monotonic() + timeout / 1000
    while True:
        _wait_runs(page, before, deadline)
        before = runs_finished(page)
        remaining = max((deadline - time.monotonic()) * 1000, 1)
        wait_idle(page, remaining)
        page.wait_for_function(_DRAWN, timeout=remaining)
        drawn = time.perf_counter()
        page.wait_for_timeout(QUIET_MS)
        if runs_finished(page) == before:
            return drawn


def wait_idle(page, timeout: float = TIMEOUT_MS) -> None:
    """Wait until the app is connected and its script is not running (DOM state only)."""
    page.wait_for_selector(_IDLE, state="attached", timeout=timeout)


def open_page(page, url: str, timeout: float = TIMEOUT_MS) -> float:
    """Navigate to `url` and wait until the app's first run has finished and is drawn; returns the seconds
    from the navigation to the drawing (the quiet wait after it not counted)."""
    before = runs_finished(page)
    _RUNS[page].current = None  # until the new document opens its socket
    started = time.perf_counter()
    page.goto(url, wait_until="domcontentloaded", timeout=timeout)
    drawn = _wait_done(page, before, timeout)
    login = _LOGINS.get(page)
    if login and page.locator(_LOGIN_FORM).count():  # a new session of the dashboard: its login first
        log_in(page, *login, timeout=timeout)
        drawn = time.perf_counter()
    return drawn - started


def rerun(page, action: Callable[[], object], timeout: float = TIMEOUT_MS) -> float:
    """Do `action` (which must make the app rerun: a widget change, a chart selection) and wait for that run
    to finish and be drawn; returns the seconds from the action to the drawing."""
    before = runs_finished(page)
    started = time.perf_counter()
    action()
    return _wait_done(page, before, timeout) - started


def assert_no_exception(page) -> None:
    """No `st.exception` / uncaught-error box and no traceback text on the page."""
    boxes = page.locator('[data-testid="stException"]')
    assert boxes.count() == 0, f"exception on {page.url}:\n{boxes.first.inner_text()}"
    text = page.locator('[data-testid="stApp"]').inner_text()
    for marker in ("Traceback (most recent call last)", "StreamlitAPIException", "Error running app"):
        assert marker not in text, f"{marker!r} on {page.url}:\n{text[:4000]}"


def screenshot(page, name: str) -> Path:
    """A PNG `test-output/screenshots/<name>.png` of the whole page (folder created when missing).

    Streamlit scrolls its main area inside a fixed-height frame, so Playwright's `full_page` alone shows
    one screen: the viewport is stretched to the content's height (at most 12,000 px) for the shot."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    path = SCREENSHOTS / (re.sub(r"[^\w.-]+", "_", name).strip("_") + ".png")
    viewport = page.viewport_size
    height = page.evaluate("""() => Math.max(document.documentElement.scrollHeight,
        ...['stMain', 'stSidebarContent', 'stAppViewContainer'].map(id => {
          const el = document.querySelector(`[data-testid="${id}"]`); return el ? el.scrollHeight : 0; }))""")
    tall = min(max(height, viewport["height"]), 12_000)
    try:
        if tall > viewport["height"]:
            page.set_viewport_size({"width": viewport["width"], "height": tall})
            page.wait_for_timeout(300)  # Plotly and the data grids redraw for the new size
        page.screenshot(path=str(path), full_page=True)
    finally:
        if tall > viewport["height"]:
            page.set_viewport_size(viewport)
    return path


def nav_links(page) -> list[tuple[str, str]]:
    """(label, absolute URL without query) of every page the sidebar navigation lists, in order (a
    collapsed "View N more" list is expanded first). Streamlit hides the navigation of a single-page app:
    then this is empty."""
    _expand_nav(page)
    return [(_link_label(label), page_url(urljoin(page.url, href or ""))) for label, href in page.evaluate(
        """() => [...document.querySelectorAll('[data-testid="stSidebarNav"] a')].map(a => {
          const copy = a.cloneNode(true);
          copy.querySelectorAll('[data-testid="stIconMaterial"], [data-testid="stIconEmoji"]').forEach(i => i.remove());
          return [copy.innerText, a.getAttribute('href')]; })""")]


def click_nav(page, url: str, timeout: float = TIMEOUT_MS) -> float:
    """Go to the page at `url` (as `nav_links` gives it) by clicking its sidebar link, as a person does: the
    session, and with it the language and the filters, carries over. Returns the seconds (0 when the page
    is already the current one)."""
    _expand_nav(page)
    links = page.locator('[data-testid="stSidebarNav"] a')
    here = page.evaluate("location.href")
    targets = [page_url(urljoin(here, href or "")) for href in
               links.evaluate_all("links => links.map(a => a.getAttribute('href'))")]
    assert page_url(url) in targets, f"no sidebar link to {url} on {here}: {targets}"
    if page_url(here) == page_url(url):
        return 0.0
    return rerun(page, links.nth(targets.index(page_url(url))).click, timeout)


def _expand_nav(page) -> None:
    more = page.locator('[data-testid="stSidebarNavViewButton"]')
    if more.count() and "more" in more.inner_text():
        more.click()


def _link_label(text: str) -> str:
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    return lines[-1] if lines else ""


def page_url(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}{parts.path}"


def with_query(url: str, **params: str) -> str:
    """`url` with its query replaced by `params`."""
    query = urlencode(params)
    return page_url(url) + (f"?{query}" if query else "")


def title(page, timeout: float = 5_000) -> str:
    """The page's title (the first h1 of the main area), "" when it shows none (the page is drawn already:
    the wait only covers a late paint)."""
    heading = page.locator('[data-testid="stMain"] h1').first
    try:
        heading.wait_for(state="visible", timeout=timeout)
    except Exception:  # noqa: BLE001 - playwright's TimeoutError: no title
        return ""
    return heading.inner_text().strip()


def choose_radio(page, option: str, label: str | None = None, timeout: float = TIMEOUT_MS) -> float:
    """Pick `option` (its shown text) of a radio: the one whose label contains `label`, else the first radio
    offering `option`. Waits for the rerun, checks that the option is selected afterwards (the app may
    have put the old value back) and returns the rerun's seconds."""
    radios = page.locator('[data-testid="stRadio"]')
    if label is not None:
        radios = radios.filter(has_text=label)
    choice = radios.locator('[data-testid="stRadioOption"]').filter(has_text=option).first
    seconds = rerun(page, choice.click, timeout)
    selected = radios.locator('[data-testid="stRadioOption"][data-selected="true"]').first.inner_text().strip()
    assert selected == option, f"radio option {option!r} clicked, but {selected!r} is selected after the rerun"
    return seconds


def choose_select(page, label: str, option: str, timeout: float = TIMEOUT_MS) -> float:
    """Pick `option` (its shown text) in the selectbox labelled `label`, wait for the rerun, check that it
    is chosen afterwards and return the rerun's seconds."""
    box = page.get_by_role("combobox", name=label, exact=True).first
    box.click()
    seconds = rerun(page, page.get_by_role("option", name=option, exact=True).first.click, timeout)
    chosen = page.get_by_role("combobox", name=label, exact=True).first.input_value()
    assert chosen == option, f"{option!r} chosen in {label!r}, but it shows {chosen!r} after the rerun"
    return seconds


def has_widget(page, label: str) -> bool:
    """Whether the page shows a widget (selectbox, radio, ...) labelled `label`."""
    return page.locator('[data-testid="stWidgetLabel"]').filter(has_text=label).count() > 0


def click_plotly_bar(page, chart_index: int, bar_label: str, *, trace: int | str | None = None,
                     timeout: float = TIMEOUT_MS) -> float:
    """Click the bar `bar_label` of the `chart_index`-th Plotly chart of the page (0-based, in page order)
    and wait for the rerun it triggers; returns that rerun's seconds.

    For a chart drawn with `st.plotly_chart(figure, on_select="rerun", key=...)`: Streamlit turns the click
    into a selection (`event.selection.points`, also in `st.session_state[key]`) and reruns the script.

    `bar_label` is the bar's category as in the figure data: its x value (its y value for a horizontal bar,
    `orientation="h"`), compared as text; a date axis holds what Streamlit sent, e.g. "2024-01-01" or
    "2024-01-01T00:00:00" (a prefix match is accepted for dates). `trace`, an index or a trace name, picks
    one trace of a stacked or grouped chart; default: the first trace with that label.
    The bar's SVG path (`.js-plotly-plot g.trace.bars g.point path`) is found through the data Plotly binds
    to it (`__data__`), then clicked at its centre with the real mouse: Plotly's drag layer above the bars
    decides what was clicked from the position, as it does for a person. The click waits until Plotly shows
    that bar as hovered (`gd._hoverdata`), so it never lands while the chart is still being redrawn."""
    chart = page.locator(".stPlotlyChart .js-plotly-plot").nth(chart_index)
    chart.wait_for(state="visible", timeout=timeout)
    chart.scroll_into_view_if_needed()
    target = chart.evaluate(
        """(gd, [label, wanted]) => {
          for (const group of gd.querySelectorAll('g.trace.bars')) {
            const cd = group.__data__;
            const trace = cd && cd[0] && cd[0].trace;
            if (!trace) continue;
            if (wanted !== null && wanted !== trace.name && wanted !== trace.index) continue;
            const categories = trace.orientation === 'h' ? trace.y : trace.x;
            for (const point of group.querySelectorAll('g.point')) {
              const value = String(categories[point.__data__.i]);
              const isDate = /^\\d{4}-\\d{2}-\\d{2}/.test(label);
              if (value === label || (isDate && value.startsWith(label))) {
                // the bar, not the chart, to the middle of the window: the top of a chart taller than the
                // window would otherwise stay under the app's fixed header, which takes the mouse
                point.querySelector('path').scrollIntoView({block: 'center', inline: 'center'});
                const r = point.querySelector('path').getBoundingClientRect();
                if (r.width > 0 && r.height > 0)
                  return {x: r.x + r.width / 2, y: r.y + r.height / 2, curve: trace.index, point: point.__data__.i};
              }
            }
          }
          return null;
        }""", [str(bar_label), trace])
    assert target is not None, f"no bar {bar_label!r} (trace {trace!r}) in Plotly chart #{chart_index} of {page.url}"
    corner = chart.bounding_box()
    hovered = """([gd, curve, point]) => (gd._hoverdata || []).some(
        d => d.curveNumber === curve && d.pointNumber === point)"""

    def click() -> None:
        # Plotly takes a press within `doubleClickDelay` (Streamlit sets 500 ms) of the chart's previous one
        # for a double click, which clears the selection: a second bar clicked soon after a first must wait
        page.wait_for_function(
            "gd => Date.now() - (gd._mouseDownTime || 0) > (gd._context.doubleClickDelay || 300) + 50",
            arg=chart.element_handle(), timeout=5_000)
        for attempt in range(5):
            page.mouse.move(corner["x"] + 1, corner["y"] + 1)  # away first: a move to the same spot is no move
            page.mouse.move(target["x"], target["y"] + attempt, steps=2)
            with contextlib.suppress(Exception):
                page.wait_for_function(hovered, arg=[chart.element_handle(), target["curve"], target["point"]],
                                       timeout=2_000)
                break
        else:
            raise AssertionError(f"Plotly chart #{chart_index} never showed bar {bar_label!r} as hovered")
        page.mouse.click(target["x"], target["y"] + attempt)

    return rerun(page, click, timeout)


def plotly_bars(page, chart_index: int, *, trace: int = 0) -> list[tuple[str, str]]:
    """(category, label text) of every bar the `chart_index`-th Plotly chart of the page (0-based, in page
    order) draws in its trace `trace`, top to bottom for horizontal bars (left to right otherwise). The
    category is the bar's x value (its y value for `orientation="h"`) as text; the label is the text Plotly
    wrote on or beside the bar (the figure's `text`), "" when it wrote none. Read from the drawn SVG (the
    `g.point` elements and the data Plotly binds to them), so a bar the figure holds but Plotly did not
    draw is not listed."""
    chart = page.locator(".stPlotlyChart .js-plotly-plot").nth(chart_index)
    chart.wait_for(state="visible")
    return [tuple(bar) for bar in chart.evaluate(
        """(gd, wanted) => {
          for (const group of gd.querySelectorAll('g.trace.bars')) {
            const cd = group.__data__;
            const trace = cd && cd[0] && cd[0].trace;
            if (!trace || trace.index !== wanted) continue;
            const horizontal = trace.orientation === 'h';
            const categories = horizontal ? trace.y : trace.x;
            return [...group.querySelectorAll('g.point')]
              .map(point => {
                const r = point.querySelector('path').getBoundingClientRect();
                const label = point.querySelector('text.bartext');
                return [horizontal ? r.y : r.x, String(categories[point.__data__.i]),
                        label ? label.textContent : ''];
              })
              .sort((a, b) => a[0] - b[0]).map(([, category, text]) => [category, text]);
          }
          return [];
        }""", trace)]


def query_params(page) -> dict[str, str]:
    """The query parameters of the address the app shows now, decoded (the last value of a repeated key).
    Read from `location.href`: Streamlit rewrites the address with `history` calls, which `page.url` may
    not have caught up with."""
    return dict(parse_qsl(urlsplit(page.evaluate("location.href")).query, keep_blank_values=True))


def open_tab(page, label: str, nth: int = 0, timeout: float = 10_000) -> None:
    """Show the `nth` tab labelled `label` (exactly, in page order) of the page's `st.tabs`, and wait until
    it is selected and its panel visible. Tabs switch in the browser: no rerun."""
    tab = page.get_by_role("tab", name=label, exact=True).nth(nth)
    tab.click(timeout=timeout)
    page.wait_for_function("tab => tab.getAttribute('aria-selected') === 'true'", arg=tab.element_handle(),
                           timeout=timeout)
    panel = tab.get_attribute("aria-controls")
    if panel:
        page.locator(f"[id='{panel}']").wait_for(state="visible", timeout=timeout)


def grid_rows(page, nth: int = 0, timeout: float = 10_000) -> list[dict[str, str]]:
    """The rows the `nth` visible `st.dataframe` of the page (0-based) has drawn, each as {column header:
    cell text}, in order. The grid paints a canvas and keeps an accessible table of the same cells beside
    it; like the canvas, that table only holds the rows in view (about a dozen at the default height), so
    this is a sample of the frame's first rows, not the frame. Waits until the grid has drawn a row."""
    grid = page.locator('[data-testid="stDataFrame"]:visible').nth(nth)
    grid.wait_for(state="visible", timeout=timeout)
    page.wait_for_function("grid => grid.querySelector('table[role=grid] tbody tr td')",
                           arg=grid.element_handle(), timeout=timeout)
    return grid.evaluate("""grid => {
      const table = grid.querySelector('table[role=grid]');
      const headers = [...table.querySelectorAll('thead th')].map(th => th.textContent.trim());
      return [...table.querySelectorAll('tbody tr')].map(tr => Object.fromEntries(
        [...tr.querySelectorAll('td')].map((td, i) => [headers[i] ?? String(i), td.textContent.trim()])));
    }""")


# -------------------------------------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def browser():
    """One headless Chromium per test module; skipped when Chromium or Playwright is missing, except in CI
    (CI=true), where a missing browser is a failed install and fails."""
    reason = chromium_missing_reason()
    if reason:
        if os.environ.get("CI"):
            pytest.fail(reason)
        pytest.skip(reason)
    with chromium() as instance:
        yield instance


@pytest.fixture
def page(browser):
    """A fresh tab (its own context) per test."""
    tab = new_page(browser)
    yield tab
    tab.context.close()


@pytest.fixture(scope="module")
def fixture_db(sample_db: Path) -> Path:
    """A small store of three bundled sample files, one copy per module (conftest's `sample_db`)."""
    return sample_db


@pytest.fixture(scope="module")
def dashboard_url(browser, fixture_db: Path) -> Iterator[str]:
    """The dashboard (`streamlit run dashboard.py`) served over `fixture_db`; its base URL."""
    from kpi import db

    add_account(fixture_db)  # the administrator open_page logs in as (the dashboard asks every new session)
    with streamlit_server(ROOT / "dashboard.py", {db.DB_ENV: str(fixture_db)}) as url:
        be_first_visitor(browser, url)
        yield url


@pytest.fixture(scope="module")
def dashboard_pages(browser, dashboard_url: str) -> list[tuple[str, str]]:
    """(Vietnamese label, URL) of every page of the dashboard's navigation, read from its sidebar once per
    module; the landing page alone when the app has a single page (Streamlit then hides the navigation)."""
    tab = new_page(browser)
    try:
        open_page(tab, with_query(dashboard_url, lang="vi"))
        return nav_links(tab) or [("", dashboard_url)]
    finally:
        tab.context.close()


def be_first_visitor(browser, url: str) -> None:
    """Open the app once and leave. Streamlit 1.67 with `st.navigation`: in the first session after the server
    starts, widgets drawn before `navigation.run()` (the language radio) get their id from the entry script
    in the first run and from the page in the next, so that session's first widget change can be dropped.
    Tests and benchmarks take the place of every later visitor."""
    tab = new_page(browser, login=None)  # leaves at the login: that first session is not to be used
    try:
        open_page(tab, url)
    finally:
        tab.context.close()
