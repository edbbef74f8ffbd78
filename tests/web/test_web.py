"""The dashboard server through Starlette's TestClient: every page and API route on real loads,
its figures against the catalog's, /metrics as Prometheus reads it, and every way it fails."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from collections.abc import Iterator

import httpx
import psycopg
import pytest
from prometheus_client.parser import text_string_to_metric_families
from starlette.testclient import TestClient

from datawarp.catalog.pool import PoolLimits, open_pool
from datawarp.core.settings import Settings
from datawarp.web.app import create_app
from datawarp.web.server import bind
from tests.cli_helpers import run_cli
from tests.ops.test_report import catalog_loads, make_history

PAGES = [
    "/", "/dashboards/load", "/dashboards/freshness", "/dashboards/storage", "/dashboards/schema",
    "/dashboards/load/panels/daily", "/dashboards/storage/panels/row_growth", "/sources",
    "/sources/ae", "/sources/rtt", "/alerts", "/alerts?all=true", "/scorecard",
]  # fmt: skip
API = [
    "/api/dashboards", "/api/dashboards/load", "/api/dashboards/freshness?days=10",
    "/api/dashboards/schema/panels/sources", "/api/sources", "/api/sources/ae", "/api/alerts",
    "/api/scorecard",
]  # fmt: skip


def client_for(url: str, **limits) -> TestClient:
    app = create_app(url, Settings(database_url=url), limits=PoolLimits(**limits))
    return TestClient(app, raise_server_exceptions=False)


@pytest.fixture
def client(conn, db_url, tmp_path, home) -> Iterator[TestClient]:
    make_history(conn, db_url, tmp_path, home)
    with client_for(db_url) as test_client:
        yield test_client


def _shown(html: str, element_id: str) -> str:
    match = re.search(rf'id="{element_id}">([^<]*)<', html)
    assert match, element_id
    return match.group(1).replace(",", "")


def test_every_page_answers_with_the_catalogs_figures(client, conn):
    loads = catalog_loads(conn)
    for path in PAGES:
        response = client.get(path)
        assert response.status_code == 200, (path, response.text[-300:])
        assert response.headers["content-type"].startswith("text/html")
        assert "default-src 'none'" in response.headers["content-security-policy"]
        assert "<script" not in response.text.lower()
        assert "http://" not in response.text and "https://" not in response.text
    index = client.get("/").text
    assert _shown(index, "load-loads") == str(loads.total())
    assert _shown(index, "load-completed") == str(loads["completed"])
    board = client.get("/dashboards/load").text
    assert _shown(board, "load-failed") == str(loads["failed"] + loads["rolled_back"])
    assert len(re.findall(r"<svg class=\"chart\"", board)) == 2
    assert "<rect" in board  # the daily chart has bars to draw
    open_alerts = conn.execute(
        "SELECT count(*) FROM datawarp.tbl_alerts WHERE status <> 'resolved'"
    ).fetchone()[0]
    assert _shown(client.get("/alerts").text, "open-alerts") == str(open_alerts) == "1"


def test_a_source_page_shows_what_the_catalog_holds_and_escapes_it(client, conn):
    page = client.get("/sources/ae").text
    events = conn.execute(
        "SELECT load_id FROM datawarp.tbl_load_events WHERE source_code = 'ae'"
    ).fetchall()
    table = page.split('id="loads"', 1)[1].split("</table>", 1)[0]
    assert table.count("<tr>") - 1 == len(events) == 3  # minus the heading row
    assert "Track A&amp;E &lt;script&gt;" in page and "owner@nhs.net" in page
    for column in ("org_code", "attendances", "over_4_hours"):
        assert f"<td>{column}</td>" in page
    assert "duplicate_keys" in client.get("/sources/rtt").text


def test_the_api_returns_the_same_numbers(client, conn):
    loads = catalog_loads(conn)
    for path in API:
        response = client.get(path)
        assert response.status_code == 200, (path, response.text)
        assert response.headers["content-type"] == "application/json"
    assert client.get("/api/dashboards").json() == {
        "dashboards": ["load", "freshness", "storage", "schema"]
    }
    load = client.get("/api/dashboards/load").json()
    assert load["summary"]["loads"] == loads.total()
    assert load["summary"]["completed"] == loads["completed"]
    assert {r["load_id"] for r in load["panels"]["failed_loads"]} == {
        row[0] for row in conn.execute("SELECT load_id FROM datawarp.tbl_load_events"
                                       " WHERE load_status <> 'completed'")
    }  # fmt: skip
    assert client.get("/api/dashboards/freshness?days=10").json()["days"] == 10
    source = client.get("/api/sources/ae").json()
    assert source["source"]["status"] == "active" and len(source["loads"]) == 3
    assert source["freshness"]["last_period"] == "2025-09"
    assert [a["rule"] for a in client.get("/api/alerts").json()["alerts"]] == ["load_failed"]
    codes = [s["source_code"] for s in client.get("/api/sources").json()["sources"]]
    assert codes == ["ae", "rtt"]
    assert len(client.get("/api/scorecard").json()["criteria"]) >= 5


def _samples(text: str) -> dict[tuple[str, tuple], float]:
    return {
        (s.name, tuple(sorted(s.labels.items()))): s.value
        for family in text_string_to_metric_families(text)
        for s in family.samples
    }


def test_metrics_are_the_catalogs_figures_in_prometheus_form(client, conn):
    response = client.get("/metrics")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    samples = _samples(response.text)
    for status, count in catalog_loads(conn).items():
        assert samples[("datawarp_loads_total", (("status", status),))] == count
    durations = [float(d) for (d,) in conn.execute(
        "SELECT duration_seconds FROM datawarp.tbl_load_events WHERE load_status = 'completed'"
    )]  # fmt: skip
    assert samples[("datawarp_load_duration_seconds_count", ())] == len(durations) == 2
    assert samples[("datawarp_load_duration_seconds_sum", ())] == pytest.approx(sum(durations))
    for (name, labels), value in samples.items():
        if name == "datawarp_load_duration_seconds_bucket":
            le = dict(labels)["le"]
            bound = float("inf") if le == "+Inf" else float(le)
            assert value == sum(d <= bound for d in durations), le
    finished = conn.execute("SELECT max(completed_at) FROM datawarp.tbl_load_events"
                            " WHERE load_status = 'completed'").fetchone()[0]  # fmt: skip
    key = ("datawarp_last_successful_load_timestamp_seconds", (("source", "ae"),))
    assert samples[key] == pytest.approx(finished.timestamp())
    rows = conn.execute("SELECT count(*) FROM staging.tbl_ae").fetchone()[0]
    assert samples[("datawarp_source_rows", (("source", "ae"),))] == rows
    assert samples[("datawarp_open_alerts", (("severity", "critical"),))] == 1
    assert samples[("datawarp_open_alerts", (("severity", "warning"),))] == 0
    size = conn.execute("SELECT pg_total_relation_size('staging.tbl_ae')").fetchone()[0]
    assert samples[("datawarp_table_bytes", (("schema", "staging"), ("table", "tbl_ae")))] == size


@pytest.mark.parametrize(
    ("path", "status", "words"),
    [
        ("/nowhere", 404, "No such page"),
        ("/dashboards/nope", 404, "No dashboard &#39;nope&#39;"),
        ("/dashboards/load/panels/nope", 404, "No panel &#39;nope&#39; on the Load health"),
        ("/sources/nope", 404, "Source &#39;nope&#39; is not registered"),
        ("/dashboards/load?days=0", 400, "Invalid days &#39;0&#39;"),
        ("/api/sources/nope", 404, "Source 'nope' is not registered"),
        ("/api/dashboards/load/panels/nope", 404, "No panel 'nope'"),
    ],
)
def test_what_does_not_exist_is_a_one_line_error_page(client, path, status, words):
    response = client.get(path)
    assert response.status_code == status
    assert words in response.text and "Traceback" not in response.text


def test_the_dashboard_only_reads(client, db_url):
    assert client.post("/").status_code == 405
    assert client.delete("/api/alerts").status_code == 405
    pool = open_pool(db_url)
    try:
        with pool.connection() as conn, pytest.raises(psycopg.errors.ReadOnlySqlTransaction):
            conn.execute("CREATE TABLE datawarp.written_by_the_web (x int)")
    finally:
        pool.close()


def test_a_database_that_is_down_is_a_503_page_within_seconds():
    with client_for("postgresql://nobody@127.0.0.1:1/nowhere", timeout=1.0) as down:
        for path, kind in (("/", "text/html"), ("/api/alerts", "application/json"),
                           ("/metrics", "text/plain")):  # fmt: skip
            started = time.monotonic()
            response = down.get(path)
            assert time.monotonic() - started < 5
            assert response.status_code == 503 and response.headers["content-type"].startswith(kind)
            assert "Cannot connect to postgresql://nobody@127.0.0.1:1/nowhere" in response.text
        (problem,) = re.findall(r'<p class="problem" id="problem">(.*?)</p>', down.get("/").text,
                                re.DOTALL)  # fmt: skip
    assert (
        problem == "Cannot connect to postgresql://nobody@127.0.0.1:1/nowhere: Connection refused"
    )


def test_a_slow_query_is_cancelled_and_reported(client, db_url):
    with psycopg.connect(db_url) as locker, client_for(db_url, statement_timeout=0.5) as slow:
        locker.execute("LOCK TABLE datawarp.tbl_load_events IN ACCESS EXCLUSIVE MODE")
        started = time.monotonic()
        response = slow.get("/dashboards/load")
        assert time.monotonic() - started < 5
    assert response.status_code == 503
    assert "took longer than 0.5 s to answer and the query was cancelled" in response.text


def test_an_outdated_catalog_is_refused_as_the_cli_refuses_it(empty_db_url):
    cli = run_cli("sources", "list", database_url=empty_db_url)
    message = cli.stderr.strip().removeprefix("Error: ")
    with client_for(empty_db_url) as outdated:
        response = outdated.get("/api/dashboards/load")
    assert response.status_code == 503 and response.json()["error"] == message


def test_serve_refuses_a_port_in_use_on_one_line():
    taken = bind("127.0.0.1", 0)
    try:
        port = taken.getsockname()[1]
        result = run_cli("serve", "--port", str(port))
    finally:
        taken.close()
    assert result.exit_code == 2
    assert (
        result.stderr == f"Error: Cannot listen on 127.0.0.1:{port}: the port is already in use\n"
    )


def test_serve_runs_the_dashboard_until_interrupted(db_url):
    env = {**os.environ, "COLUMNS": "200", "PYTHONUNBUFFERED": "1", "DATAWARP_DATABASE_URL": db_url}
    server = subprocess.Popen([sys.executable, "-m", "datawarp", "serve", "--port", "0"], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)  # fmt: skip
    try:
        first = server.stdout.readline()
        address = re.search(r"on (http://127\.0\.0\.1:\d+/)", first)
        assert address, first + server.stderr.read()
        for attempt in range(50):
            try:
                response = httpx.get(address.group(1) + "api/dashboards/load", timeout=5)
                break
            except httpx.ConnectError:
                time.sleep(0.1 * attempt)
        assert response.status_code == 200 and response.json()["summary"]["loads"] == 0
    finally:
        server.send_signal(signal.SIGINT)  # Ctrl+C
        assert server.wait(timeout=20) == 0
