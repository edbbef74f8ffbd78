"""`datawarp report` on real loads: its figures are the catalog's, its page fetches nothing."""

from __future__ import annotations

import json
import re
from collections import Counter
from datetime import UTC, datetime

from datawarp.catalog.alerts import raise_alert
from datawarp.core.settings import Settings
from datawarp.ops.report import build_report
from tests.cli_helpers import run_cli
from tests.pipeline.helpers import HEADER, provider_rows, register, run, write_csv, write_manifest

HOSTILE = "<script>alert('x')</script> & \"quoted\""


def make_history(conn, db_url, tmp_path, home) -> None:
    """Loads of every outcome and an open alert, the way DataWarp itself records them.

    ae: two completed monthly loads and a web page saved as a workbook (failed); rtt: a load whose
    duplicate keys fail a required gate (rolled back); an open critical alert whose message
    holds markup, as a message quoting a file's contents could.
    """
    register(conn, "ae", purpose=f"Track A&E {HOSTILE}")
    register(conn, "rtt", validation_required=True, publication="Referral to Treatment")
    conn.commit()
    for period in ("2025-08", "2025-09"):
        path = write_csv(tmp_path / f"{period}.csv", HEADER, provider_rows(period))
        entry = {"source_code": "ae", "path": path.name}
        run(db_url, home, write_manifest(tmp_path, [entry], period=period))
    (tmp_path / "moved.xlsx").write_text("<!DOCTYPE html><html><body>Page moved</body></html>")
    run(db_url, home, write_manifest(tmp_path, [{"source_code": "ae", "path": "moved.xlsx"}],
                                     period="2025-10"))  # fmt: skip
    rows = provider_rows("2025-09")
    path = write_csv(tmp_path / "rtt.csv", HEADER, [*rows, rows[0]])
    entry = {"source_code": "rtt", "path": path.name, "primary_key": ["org_code"]}
    run(db_url, home, write_manifest(tmp_path, [entry], period="2025-09"))
    raise_alert(conn, rule="load_failed", source_code="ae", severity="critical",
                message=f"Load failed: {HOSTILE}", details={}, occurrences=1,
                seen_at=datetime.now(UTC))  # fmt: skip
    conn.commit()


def catalog_loads(conn) -> Counter:
    return Counter(dict(conn.execute(
        "SELECT load_status, count(*) FROM datawarp.tbl_load_events"
        " WHERE target_schema = 'staging' GROUP BY 1"
    ).fetchall()))  # fmt: skip


def catalog_checks(conn) -> dict[str, Counter]:
    """Per check, the statuses of each load's latest gate run, counted here in Python."""
    rows = conn.execute(
        "SELECT v.load_id, v.run_id, v.check_name, v.status FROM datawarp.tbl_validation_results v"
        " JOIN datawarp.tbl_load_events e ON e.load_id = v.load_id"
        " WHERE e.target_schema = 'staging'"
    ).fetchall()
    latest = {}
    for load_id, run_id, _, _ in rows:
        latest[load_id] = max(latest.get(load_id, run_id), run_id)
    checks: dict[str, Counter] = {}
    for load_id, run_id, check, status in rows:
        if run_id == latest[load_id]:
            checks.setdefault(check, Counter())[status] += 1
    return checks


def test_the_report_shows_the_catalogs_figures(conn, db_url, tmp_path, home):
    make_history(conn, db_url, tmp_path, home)
    loads = catalog_loads(conn)
    assert loads == {"completed": 2, "failed": 1, "rolled_back": 1}

    report = build_report(conn, Settings(database_url=db_url), days=7)

    load = report.data.dashboard("load").summary
    assert (load["loads"], load["completed"]) == (loads.total(), loads["completed"])
    assert load["failed"] == loads["failed"] + loads["rolled_back"]
    summary = {r["check_name"]: Counter(pass_=r["pass"], warn=r["warn"], fail=r["fail"])
               for r in report.data.validation}  # fmt: skip
    expected = catalog_checks(conn)
    assert summary.keys() == expected.keys()
    for check, counts in expected.items():
        got = summary[check]
        assert (got["pass_"], got["warn"], got["fail"]) == (
            counts["pass"], counts["warn"], counts["fail"]
        ), check  # fmt: skip
    (failure,) = [f for f in report.data.validation_failures if f["check_name"] == "duplicate_keys"]
    assert failure["source_code"] == "rtt" and failure["load_status"] == "rolled_back"
    assert [a.rule for a in report.data.alerts] == ["load_failed"]
    assert report.subject.startswith("DataWarp report ")
    assert (
        f"{loads.total()} loads, 2 failed" in report.subject and "1 open alerts" in report.subject
    )
    assert f'id="load-loads">{loads.total()}<' in report.html
    assert f'id="load-completed">{loads["completed"]}<' in report.html


def test_the_html_page_is_self_contained_and_escapes_what_users_wrote(conn, db_url, tmp_path, home):
    make_history(conn, db_url, tmp_path, home)

    html = build_report(conn, Settings(database_url=db_url)).html

    assert "<script" not in html.lower()
    assert "http://" not in html and "https://" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; &#34;quoted&#34;" in html
    charts = re.findall(r"<svg.*?</svg>", html, re.DOTALL)
    assert len(charts) >= 6
    drawn = [c for c in charts if "<rect" in c or "<polyline" in c]
    assert len(drawn) >= 5  # daily loads, durations, freshness, table sizes, rows, changes
    assert all("<title>" in c for c in charts)
    for section in ("Load health", "Data freshness", "Storage and growth", "Schema evolution",
                    "Open alerts (1)", "Validation", "Scorecard"):  # fmt: skip
        assert section in html


def test_the_text_part_reads_the_same_figures(conn, db_url, tmp_path, home):
    make_history(conn, db_url, tmp_path, home)

    report = build_report(conn, Settings(database_url=db_url), days=30)

    text = report.text
    assert text.startswith("DataWarp report at ")
    assert "LOAD HEALTH (last 30 days)" in text
    assert "Loads: 4 · Completed: 2 · Failed: 2 · Success rate: 50%" in text
    assert "[critical] load_failed ae: Load failed: <script>" in text  # plain text: no escaping
    assert "duplicate_keys" in text and "SCORECARD (" in text
    assert "<svg" not in text


def test_report_command_prints_text_writes_html_and_json(conn, db_url, tmp_path, home):
    make_history(conn, db_url, tmp_path, home)

    text = run_cli("report", database_url=db_url)
    assert text.exit_code == 0, text.stderr
    assert "LOAD HEALTH (last 7 days)" in text.stdout and "OPEN ALERTS (1)" in text.stdout

    page = tmp_path / "report.html"
    written = run_cli("report", "--days", "30", "--html", str(page), database_url=db_url)
    assert written.exit_code == 0, written.stderr
    assert f"Report written to {page}" in " ".join(written.stdout.split())
    assert page.read_text(encoding="utf-8").startswith("<!DOCTYPE html>")

    data = json.loads(run_cli("report", "--json", database_url=db_url).stdout)
    assert data["days"] == 7 and data["subject"].startswith("DataWarp report")
    (load,) = [d for d in data["dashboards"] if d["name"] == "load"]
    assert load["summary"]["loads"] == 4
    assert [a["rule"] for a in data["alerts"]] == ["load_failed"]


def test_report_refuses_a_window_out_of_range(db_url):
    result = run_cli("report", "--days", "0", database_url=db_url)
    assert result.exit_code == 2 and "--days" in result.stderr


def test_a_report_of_an_empty_catalog_says_so(db_url, conn):
    report = build_report(conn, Settings(database_url=db_url))
    assert "No loads in this window" in report.html
    assert "OPEN ALERTS (0)\n  (none)" in report.text


def test_the_report_carries_the_audit_anchor(conn, db_url, tmp_path, home):
    from datawarp.catalog import audit, registry
    from datawarp.core.settings import Settings
    from datawarp.ops.report import build_report

    registry.register_source(conn, source_code="anchored", publication="P", domain="D",
                             owner="o@nhs.net", purpose="anchor")  # fmt: skip
    conn.commit()
    report = build_report(conn, Settings(database_url=db_url, home=home))
    head = audit.anchor(conn)
    assert f'"row_hash": "{head["row_hash"]}"' in report.text
    assert head["row_hash"] in report.html and 'id="audit-anchor"' in report.html
