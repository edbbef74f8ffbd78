"""Governed loading end to end: one transaction per file, events, modes, provenance, idempotency."""

from __future__ import annotations

import hashlib
import json

import pytest
from psycopg import sql

from datawarp.catalog import registry
from datawarp.core.errors import InputProblems
from tests.cli_helpers import run_cli
from tests.pipeline.helpers import (
    HEADER,
    events,
    provider_manifest,
    provider_rows,
    register,
    run,
    table_exists,
    table_rows,
    write_csv,
    write_manifest,
)  # fmt: skip


def test_first_load_creates_table_with_provenance_and_records_everything(
    conn, db_url, tmp_path, home
):
    register(conn, "ae_provider")
    data = write_csv(tmp_path / "ae-2025-09.csv", HEADER, provider_rows("2025-09"))
    manifest = write_manifest(
        tmp_path, [{"source_code": "ae_provider", "path": data.name}], period="2025-09"
    )

    report, _ = run(db_url, home, manifest)
    (outcome,) = report.outcomes
    assert outcome.status == "completed" and outcome.rows_loaded == 13
    assert report.exit_code == 0

    rows = table_rows(
        conn, "staging.tbl_ae_provider",
        "org_code, attendances, _period, _source_file, _sheet, _row_number, _is_total, _load_id",
    )  # fmt: skip
    assert rows[0] == ("R01", 100, "2025-09", str(data), "ae-2025-09", 2, False, outcome.load_id)
    assert rows[-1][:2] == ("-", sum(100 * i for i in range(1, 13)))
    assert rows[-1][6] is True  # the England row is kept and marked
    (event,) = events(conn, "ae_provider")
    assert event["load_status"] == "completed" and event["rows_loaded"] == 13
    assert event["columns_added"] == len(HEADER)
    assert event["file_sha256"] == hashlib.sha256(data.read_bytes()).hexdigest()
    assert event["file_bytes"] == data.stat().st_size
    assert (event["period"], event["period_kind"]) == ("2025-09", "month")
    metrics = conn.execute(
        "SELECT row_count, column_count, table_size_bytes > 0, load_duration_seconds >= 0"
        " FROM datawarp.tbl_source_metrics WHERE load_id = %s",
        (outcome.load_id,),
    ).fetchone()
    assert metrics == (13, len(HEADER), True, True)
    assert registry.get_source(conn, "ae_provider").status == "active"


def test_unregistered_source_is_refused_with_the_seed_message(conn, db_url, tmp_path, home):
    manifest = provider_manifest(tmp_path, "nobody")
    with pytest.raises(InputProblems) as excinfo:
        run(db_url, home, manifest)
    assert excinfo.value.problems == [
        "Source nobody not registered. Use --test flag for experiments."
    ]
    assert events(conn, "nobody") == []
    assert not table_exists(conn, "staging.tbl_nobody")

    result = run_cli("load-batch", str(manifest), database_url=db_url)
    assert result.exit_code == 2
    assert (
        result.stderr == "Error: Source nobody not registered. Use --test flag for experiments.\n"
    )


def test_test_mode_loads_unregistered_source_into_staging_test_only(conn, db_url, tmp_path, home):
    manifest = provider_manifest(tmp_path, "trial")
    report, _ = run(db_url, home, manifest, test=True)
    assert report.outcomes[0].status == "completed"
    assert len(table_rows(conn, "staging_test.tbl_trial")) == 13
    assert not table_exists(conn, "staging.tbl_trial")
    assert events(conn, "trial")[0]["target_schema"] == "staging_test"


def test_test_mode_never_touches_staging_of_a_registered_source(conn, db_url, tmp_path, home):
    register(conn, "ae_provider")
    manifest = provider_manifest(tmp_path, "ae_provider")
    run(db_url, home, manifest, test=True)
    assert not table_exists(conn, "staging.tbl_ae_provider")
    assert registry.get_source(conn, "ae_provider").status == "registered"


def _two_periods(tmp_path):
    first = write_csv(tmp_path / "sep.csv", HEADER, provider_rows("2025-09"))
    second = write_csv(tmp_path / "oct.csv", HEADER, provider_rows("2025-10", 5))
    return [
        {"path": first.name, "period": "2025-09"},
        {"path": second.name, "period": "2025-10"},
    ]


def test_replace_swaps_only_the_same_period(conn, db_url, tmp_path, home):
    register(conn, "ae_provider", load_mode="REPLACE")
    files = _two_periods(tmp_path)
    manifest = write_manifest(tmp_path, [{"source_code": "ae_provider", "files": files}])
    run(db_url, home, manifest)
    # September is republished with different figures
    write_csv(tmp_path / "sep.csv", HEADER, provider_rows("2025-09", scale=2))
    report, _ = run(db_url, home, manifest)
    assert [o.status for o in report.outcomes] == ["completed", "skipped"]
    counts = dict(
        conn.execute("SELECT _period, count(*) FROM staging.tbl_ae_provider GROUP BY 1").fetchall()
    )
    assert counts == {"2025-09": 13, "2025-10": 6}
    doubled = conn.execute(
        "SELECT attendances FROM staging.tbl_ae_provider WHERE org_code = 'R01'"
        " AND _period = '2025-09'"
    ).fetchall()
    assert doubled == [(200,)]


def test_append_adds_rows(conn, db_url, tmp_path, home):
    register(conn, "ae_provider", load_mode="APPEND")
    files = _two_periods(tmp_path)
    run(
        db_url, home, write_manifest(tmp_path, [{"source_code": "ae_provider", "files": files[:1]}])
    )
    report, _ = run(db_url, home, write_manifest(tmp_path, [{"source_code": "ae_provider",
                                                             "files": files}]))  # fmt: skip
    assert [o.status for o in report.outcomes] == ["skipped", "completed"]
    counts = dict(
        conn.execute("SELECT _period, count(*) FROM staging.tbl_ae_provider GROUP BY 1").fetchall()
    )
    assert counts == {"2025-09": 13, "2025-10": 6}


def test_same_file_same_period_is_skipped_unless_forced(conn, db_url, tmp_path, home):
    register(conn, "ae_provider", load_mode="REPLACE")
    manifest = provider_manifest(tmp_path, "ae_provider", period="2025-09")
    first, _ = run(db_url, home, manifest)
    again, _ = run(db_url, home, manifest)
    assert again.outcomes[0].status == "skipped"
    assert f"already loaded as load {first.outcomes[0].load_id}" in again.outcomes[0].warnings[0]
    assert len(events(conn, "ae_provider")) == 1
    forced, _ = run(db_url, home, manifest, force=True)
    assert forced.outcomes[0].status == "completed"
    assert len(table_rows(conn, "staging.tbl_ae_provider")) == 13  # REPLACE: not doubled


def test_archived_source_is_refused_and_deprecated_warns(conn, raw_conn, db_url, tmp_path, home):
    for code in ("old_one", "fading"):
        register(conn, code)
    for status in ("active", "deprecated", "archived"):
        registry.set_status(conn, "old_one", status, deprecation_reason="replaced")
    for status in ("active", "deprecated"):
        registry.set_status(conn, "fading", status, deprecation_reason="moving to v2")
    manifest = provider_manifest(tmp_path, "old_one")
    with pytest.raises(InputProblems, match="old_one is archived"):
        run(db_url, home, manifest)
    manifest = provider_manifest(tmp_path, "fading")
    report, _ = run(db_url, home, manifest)
    assert report.outcomes[0].status == "completed"
    assert report.warnings == ["Source fading is deprecated (moving to v2); loading it anyway"]


def test_all_preload_problems_are_reported_before_anything_loads(
    conn, db_url, tmp_path, home, httpserver
):
    register(conn, "good")
    register(conn, "gone")
    httpserver.expect_request("/missing.csv").respond_with_data("nope", status=404)
    good = write_csv(tmp_path / "good.csv", HEADER, provider_rows("2025-09"))
    sources = [
        {"source_code": "good", "path": good.name},
        {"source_code": "gone", "url": httpserver.url_for("/missing.csv")},
        {"source_code": "good", "path": "no-such-file.csv"},
        {"source_code": "stranger", "path": good.name},
    ]
    manifest = write_manifest(tmp_path, sources)
    with pytest.raises(InputProblems) as excinfo:
        run(db_url, home, manifest)
    problems = excinfo.value.problems
    assert len(problems) == 3
    assert problems[0].startswith("gone: ") and "404" in problems[0]
    assert problems[1].startswith("good: ") and "no-such-file.csv" in problems[1]
    assert problems[2] == "Source stranger not registered. Use --test flag for experiments."
    assert not table_exists(conn, "staging.tbl_good")
    assert events(conn, "good") == []


def test_load_from_a_local_http_server(conn, db_url, tmp_path, home, httpserver):
    register(conn, "ae_provider")
    data = write_csv(tmp_path / "a.csv", HEADER, provider_rows("2025-09"))
    httpserver.expect_request("/pub/Monthly-AE.csv", method="HEAD").respond_with_data(b"")
    # one GET only: the bytes fingerprinted for the event are the bytes extracted
    httpserver.expect_oneshot_request("/pub/Monthly-AE.csv", method="GET").respond_with_data(
        data.read_bytes(), content_type="text/csv"
    )
    url = httpserver.url_for("/pub/Monthly-AE.csv")
    manifest = write_manifest(
        tmp_path, [{"source_code": "ae_provider", "url": url}], period="2025-09"
    )
    report, _ = run(db_url, home, manifest)
    assert report.outcomes[0].status == "completed"
    (source_file,) = set(table_rows(conn, "staging.tbl_ae_provider", "_source_file", "1"))
    assert source_file == (url,)  # the URL, never a temporary path
    assert (
        events(conn, "ae_provider")[0]["file_sha256"]
        == hashlib.sha256(data.read_bytes()).hexdigest()
    )
    httpserver.check_assertions()


def test_cli_load_batch_json_summary_and_exit_codes(conn, db_url, tmp_path):
    register(conn, "ae_provider")
    manifest = provider_manifest(tmp_path, "ae_provider", period="2025-09")
    result = run_cli("load-batch", str(manifest), "--json", database_url=db_url)
    assert result.exit_code == 0, result.stderr
    summary = json.loads(result.stdout)
    assert summary["outcomes"][0]["status"] == "completed"
    assert summary["outcomes"][0]["rows_loaded"] == 13
    plain = run_cli("load-batch", str(manifest), database_url=db_url)
    assert plain.exit_code == 0
    assert "SKIPPED" in plain.stdout and "1 skipped" in plain.stdout


def test_dry_run_writes_nothing(conn, db_url, tmp_path, home):
    register(conn, "ae_provider")
    manifest = provider_manifest(tmp_path, "ae_provider")
    report, _ = run(db_url, home, manifest, dry_run=True)
    assert report.outcomes[0].status == "planned" and report.outcomes[0].rows_loaded == 13
    assert events(conn, "ae_provider") == []
    assert not table_exists(conn, "staging.tbl_ae_provider")


def test_source_filter(conn, db_url, tmp_path, home):
    register(conn, "one")
    register(conn, "two")
    data = write_csv(tmp_path / "a.csv", HEADER, provider_rows("2025-09"))
    manifest = write_manifest(
        tmp_path,
        [{"source_code": "one", "path": data.name}, {"source_code": "two", "path": data.name}],
    )
    report, _ = run(db_url, home, manifest, only_source="two")
    assert [o.source_code for o in report.outcomes] == ["two"]
    with pytest.raises(InputProblems, match="--source three: not in the manifest"):
        run(db_url, home, manifest, only_source="three")


def test_column_descriptions_are_stored_and_commented(conn, db_url, tmp_path, home):
    register(conn, "ae_provider")
    data = write_csv(tmp_path / "a.csv", HEADER, provider_rows("2025-09"))
    source = {
        "source_code": "ae_provider",
        "path": data.name,
        "columns": {"org_code": {"description": "ODS code", "search_terms": ["trust"]}},
    }
    run(db_url, home, write_manifest(tmp_path, [source]))
    stored = conn.execute(
        "SELECT description, search_terms, original_header, data_type"
        " FROM datawarp.tbl_column_metadata WHERE column_name = 'org_code'"
    ).fetchone()
    assert stored == ("ODS code", ["trust"], "Org Code", "text")
    comment = conn.execute(
        "SELECT col_description('staging.tbl_ae_provider'::regclass, 2)"
    ).fetchone()[0]
    assert comment == "ODS code"


def _last_metric_rows(conn) -> int:
    return conn.execute(
        "SELECT row_count FROM datawarp.tbl_source_metrics ORDER BY metric_id DESC LIMIT 1"
    ).fetchone()[0]


@pytest.mark.parametrize("mode", ["REPLACE", "APPEND"])
def test_metrics_row_count_stays_exact_across_loads(conn, db_url, tmp_path, home, mode):
    register(conn, "ae", load_mode=mode)
    first = write_csv(tmp_path / "sep.csv", HEADER, provider_rows("2025-09"))
    second = write_csv(tmp_path / "oct.csv", HEADER, provider_rows("2025-10", 5))
    files = [{"path": first.name, "period": "2025-09"}, {"path": second.name, "period": "2025-10"}]
    manifest = write_manifest(tmp_path, [{"source_code": "ae", "files": files}])
    run(db_url, home, manifest)
    run(db_url, home, manifest, force=True)
    actual = conn.execute("SELECT count(*) FROM staging.tbl_ae").fetchone()[0]
    assert actual == 19  # a forced reload replaces, under APPEND too
    assert _last_metric_rows(conn) == actual


def test_new_table_gets_its_indexes(conn, db_url, tmp_path, home):
    register(conn, "ae")
    data = write_csv(tmp_path / "a.csv", HEADER, provider_rows("2025-09"))
    run(db_url, home, write_manifest(tmp_path, [{"source_code": "ae", "path": data.name}]))
    indexes = conn.execute(
        "SELECT indexdef FROM pg_indexes WHERE schemaname = 'staging' AND tablename = 'tbl_ae'"
        " ORDER BY indexname"
    ).fetchall()
    assert [i for (i,) in indexes] == [
        "CREATE INDEX tbl_ae_load_period_idx ON staging.tbl_ae USING brin (_load_id, _period)"
        " WITH (autosummarize='on')",
    ]
    # One index on both columns serves a condition on either alone (REPLACE, the gates).
    conn.execute("SET enable_seqscan = off")
    for column, value in (("_period", "2025-09"), ("_load_id", 1)):
        query = sql.SQL("EXPLAIN SELECT count(*) FROM staging.tbl_ae WHERE {} = %s")
        plan = conn.execute(query.format(sql.Identifier(column)), (value,))
        assert "Bitmap Index Scan on tbl_ae_load_period_idx" in str(plan.fetchall())
    conn.execute("RESET enable_seqscan")
