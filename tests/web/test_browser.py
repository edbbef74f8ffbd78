"""The dashboard in a real browser: Debian's Chromium, driven by Playwright, against uvicorn
serving for real on a free loopback port. Every page loads without a console error (a blocked
external fetch or an inline script would be one, under the pages' Content-Security-Policy),
shows the catalog's figures, and draws its charts with a size."""

from __future__ import annotations

import os
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from datawarp.core.settings import Settings
from datawarp.web.app import create_app
from datawarp.web.server import bind, server
from tests.ops.test_report import catalog_loads, make_history

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox", "--headless", "--disable-gpu", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", "--no-first-run",
]  # fmt: skip
PAGES = [
    "/", "/dashboards/load", "/dashboards/freshness", "/dashboards/storage", "/dashboards/schema",
    "/dashboards/load/panels/by_source", "/sources", "/sources/ae", "/sources/rtt", "/alerts",
    "/scorecard",
]  # fmt: skip


@pytest.fixture(scope="module")
def chromium() -> Iterator[object]:
    """A headless Chromium; missing, the test skips with the reason, or fails under CI=true."""
    if not CHROMIUM.exists():
        message = f"Chromium not found at {CHROMIUM} (apt-get install chromium)"
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(message + "; required under CI=true")
        pytest.skip(message)
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield browser
        browser.close()


@pytest.fixture
def base_url(conn, db_url, tmp_path, home) -> Iterator[str]:
    """uvicorn serving the dashboard on a free 127.0.0.1 port, in a thread of this process."""
    make_history(conn, db_url, tmp_path, home)
    sock = bind("127.0.0.1", 0)
    running = server(create_app(db_url, Settings(database_url=db_url)))
    thread = threading.Thread(target=running.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not running.started and thread.is_alive() and time.monotonic() < deadline:
        time.sleep(0.05)
    assert running.started, "uvicorn did not start"
    yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    running.should_exit = True
    thread.join(timeout=20)
    sock.close()


def _open(browser, url: str, status: int = 200):
    """The page at ``url`` and every console error or failed request it caused."""
    page = browser.new_page()
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("pageerror", lambda e: problems.append(str(e)))
    page.on("requestfailed", lambda r: problems.append(f"request failed: {r.url}"))
    response = page.goto(url, wait_until="load")
    assert response is not None and response.status == status, url
    return page, problems


def test_every_page_renders_cleanly_with_its_charts(chromium, base_url):
    for path in PAGES:
        page, problems = _open(chromium, base_url + path)
        assert problems == [], (path, problems)
        assert page.locator("h1").inner_text().strip()
        charts = page.locator("svg.chart")
        for index in range(charts.count()):
            box = charts.nth(index).bounding_box()
            assert box and box["width"] > 0 and box["height"] > 0, (path, index)
        page.close()


def test_the_figures_shown_are_the_catalogs(chromium, base_url, conn):
    loads = catalog_loads(conn)
    page, _ = _open(chromium, base_url + "/")
    assert page.locator("#load-loads").inner_text() == str(loads.total())
    assert page.locator("#load-completed").inner_text() == str(loads["completed"])
    assert page.locator("#load-failed").inner_text() == str(loads["failed"] + loads["rolled_back"])
    page.close()

    page, _ = _open(chromium, base_url + "/dashboards/load")
    assert page.locator("svg.chart").count() == 2
    bars = page.locator("svg.chart").first.locator("rect title")
    shown = sorted(bars.nth(i).text_content().split(": ", 1)[1] for i in range(bars.count()))
    assert shown == sorted(f"{n} {s.replace('_', ' ')}" for s, n in loads.items())
    page.close()

    page, _ = _open(chromium, base_url + "/sources/ae")
    events = conn.execute(
        "SELECT count(*) FROM datawarp.tbl_load_events WHERE source_code = 'ae'"
    ).fetchone()[0]
    assert page.locator("#loads tbody tr").count() == events == 3
    assert "<script>" in page.locator("#source").inner_text()  # shown as text, never run
    page.close()

    page, _ = _open(chromium, base_url + "/alerts")
    assert page.locator("#open-alerts").inner_text() == "1"
    assert page.locator("#alerts tbody tr").count() == 1
    page.close()


def test_an_unknown_source_is_a_404_page_in_the_browser(chromium, base_url):
    page, _ = _open(chromium, base_url + "/sources/nope", status=404)
    assert page.locator("#problem").inner_text() == "Source 'nope' is not registered"
    page.close()
