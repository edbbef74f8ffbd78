"""`loads failed|retry`, `duplicates`, `storage growth`, `test-loads purge` as a user types them."""

from __future__ import annotations

import json

import pytest

from datawarp.catalog.connect import connect
from datawarp.catalog.loads import EventStart, LoadRecorder, finish_event
from tests.cli_helpers import run_cli
from tests.pipeline.helpers import (
    HEADER,
    provider_manifest,
    provider_rows,
    register,
    reissued_manifest,
    run,
    table_exists,
    table_rows,
    write_csv,
    write_manifest,
)  # fmt: skip

CATALOG_TABLES = ("tbl_load_events", "tbl_notifications", "tbl_ddl_events", "tbl_source_metrics",
                  "tbl_data_sources")  # fmt: skip


@pytest.fixture
def auto(db_url):
    with connect(db_url, autocommit=True) as connection:
        yield connection


def _entry(conn, load_id: int) -> tuple:
    return conn.execute(
        "SELECT load_status, period, period_kind, manifest_path, manifest_entry"
        " FROM datawarp.tbl_load_events WHERE load_id = %s", (load_id,),
    ).fetchone()  # fmt: skip


def _broken(conn, db_url, tmp_path, home, code="ae", *, test=False):
    if not test:
        register(conn, code)
    (tmp_path / "a.csv").write_bytes(b"")
    manifest = write_manifest(tmp_path, [{"source_code": code, "path": "a.csv"}], period="2025-09")
    report, _ = run(db_url, home, manifest, test=test)
    return manifest, report.outcomes[0].load_id


def _snapshot(conn) -> dict:
    counts = {t: conn.execute(f"SELECT count(*) FROM datawarp.{t}").fetchone()[0]  # noqa: S608
              for t in CATALOG_TABLES}  # fmt: skip
    counts["tables"] = conn.execute(
        "SELECT count(*) FROM pg_tables WHERE schemaname IN ('staging', 'staging_test')"
    ).fetchone()[0]
    return counts


def test_failed_loads_are_listed_with_error_reachability_and_manifest(auto, db_url, tmp_path, home):
    manifest, load_id = _broken(auto, db_url, tmp_path, home)
    result = run_cli("loads", "failed", "--json", database_url=db_url)
    assert result.exit_code == 0, result.stderr
    (found,) = json.loads(result.stdout)["failed_loads"]
    assert (found["load_id"], found["status"], found["reachable"]) == (load_id, "failed", True)
    assert "empty" in found["error"] and found["manifest_path"] == str(manifest)

    (tmp_path / "a.csv").unlink()
    text = run_cli("loads", "failed", "--source", "ae", database_url=db_url)
    assert text.exit_code == 0 and f"loads retry {load_id}" in text.stdout
    assert "✗" in text.stdout and "not found" in text.stdout


def test_a_retry_of_a_fixed_file_completes_with_the_same_entry_and_period(
    auto, db_url, tmp_path, home
):
    _, failed = _broken(auto, db_url, tmp_path, home)
    write_csv(tmp_path / "a.csv", HEADER, provider_rows("2025-09"))  # the publisher fixed it

    result = run_cli("loads", "retry", str(failed), database_url=db_url)

    assert result.exit_code == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == f"Retrying load {failed} of ae"
    assert lines[1].startswith("COMPLETED ae [2025-09]:") and lines[-1].endswith("13 rows loaded")
    retried = int(lines[1].split("(load ")[1].split(")")[0])
    before, after = _entry(auto, failed), _entry(auto, retried)
    assert after[0] == "completed" and after[1:] == before[1:]
    assert before[4]["files"][0]["period_kind"] == "month"
    assert len(table_rows(auto, "staging.tbl_ae")) == 13
    listed = run_cli("loads", "failed", database_url=db_url)
    assert f"loaded again as load {retried}" in listed.stdout


def test_a_retry_that_fails_again_exits_1_as_load_batch_does(auto, db_url, tmp_path, home):
    _, failed = _broken(auto, db_url, tmp_path, home)
    result = run_cli("loads", "retry", str(failed), "--json", database_url=db_url)
    assert result.exit_code == 1
    (outcome,) = json.loads(result.stdout)["outcomes"]
    assert outcome["status"] == "failed" and outcome["load_id"] != failed


def test_a_test_load_is_retried_only_as_a_test_load(auto, db_url, tmp_path, home):
    _, failed = _broken(auto, db_url, tmp_path, home, code="trial", test=True)
    refused = run_cli("loads", "retry", str(failed), database_url=db_url)
    assert refused.exit_code == 2
    assert (
        refused.stderr
        == f"Error: Load {failed} was a test load into staging_test; retry it with --test\n"
    )
    write_csv(tmp_path / "a.csv", HEADER, provider_rows("2025-09"))
    result = run_cli("loads", "retry", str(failed), "--test", database_url=db_url)
    assert result.exit_code == 0, result.stderr
    assert "staging_test.tbl_trial" in result.stdout and not table_exists(auto, "staging.tbl_trial")


def _older_load_without_entry(conn) -> int:
    """An event as DataWarp wrote them before it kept manifest entries."""
    recorder = LoadRecorder(conn)
    load_id = recorder.start(EventStart("ae", "staging", "tbl_ae", "/data/old.csv", "2025-08",
                                        "month", None, "APPEND"))  # fmt: skip
    finish_event(conn, load_id, "failed", error_message="old.csv is empty")
    recorder.release("ae")
    return load_id


def test_retry_refusals_are_one_line_each_and_write_nothing(auto, db_url, tmp_path, home):
    _, failed = _broken(auto, db_url, tmp_path, home)
    old = _older_load_without_entry(auto)
    write_csv(tmp_path / "a.csv", HEADER, provider_rows("2025-09"))
    completed = run(db_url, home, tmp_path / "manifest.yaml")[0].outcomes[0].load_id
    before = _snapshot(auto)
    cases = {
        str(completed): f"Load {completed} completed; only failed or rolled-back loads",
        "99999": "Load 99999 not found",
        str(old): f"Load {old} has no recorded manifest entry",
        str(failed): f"as load {completed}, which completed; nothing to retry",
    }
    for load_id, message in cases.items():
        result = run_cli("loads", "retry", load_id, database_url=db_url)
        assert result.exit_code == 2, result.stdout
        assert result.stderr.count("\n") == 1 and message in result.stderr
    assert _snapshot(auto) == before


def test_duplicates_from_the_command_line(auto, db_url, tmp_path, home):
    register(auto, "ae")
    run(db_url, home, reissued_manifest(tmp_path, "ae"))

    shown = run_cli("duplicates", "ae", database_url=db_url)
    assert shown.exit_code == 0, shown.stderr
    said = " ".join(shown.stdout.split())  # the terminal may wrap long lines
    assert "13 distinct rows appear in more than one load (13 later copies)" in said
    assert "load 2 [2025-09]: 13 later copies" in said and "e.g. 2 copies: load 1" in said
    assert "--load-mode REPLACE" in said and "--fix --yes would delete 13 rows" in said
    refused = run_cli("duplicates", "ae", "--fix", database_url=db_url)
    assert refused.exit_code == 2 and refused.stderr.count("\n") == 1
    planned = json.loads(run_cli("duplicates", "ae", "--fix", "--dry-run", "--json",
                                 database_url=db_url).stdout)  # fmt: skip
    assert planned["removable_rows"] == 13 and planned["removed"] is None and planned["dry_run"]
    assert len(table_rows(auto, "staging.tbl_ae")) == 26

    fixed = run_cli("duplicates", "ae", "--fix", "--yes", "--json", database_url=db_url)
    assert fixed.exit_code == 0, fixed.stderr
    assert json.loads(fixed.stdout)["removed_rows"] == 13
    assert len(table_rows(auto, "staging.tbl_ae")) == 13


def test_storage_growth_from_the_command_line(auto, db_url, tmp_path, home):
    register(auto, "ae")
    run(db_url, home, provider_manifest(tmp_path / "a", "ae", period="2025-08"))
    auto.execute("UPDATE datawarp.tbl_source_metrics SET measured_at = now() - interval '8 days'")
    run(db_url, home, provider_manifest(tmp_path / "b", "ae", period="2025-09"))

    result = run_cli("storage", "growth", "--json", database_url=db_url)
    assert result.exit_code == 0, result.stderr
    (grown,) = json.loads(result.stdout)["growing"]
    assert (grown["source_code"], grown["weekly_growth_percent"]) == ("ae", 100.0)
    assert grown["holds_data_past_retention"] is False
    text = run_cli("storage", "growth", database_url=db_url)
    assert "1 source(s) growing more than 20% a week" in text.stdout and "+100%" in text.stdout


def test_test_loads_purge_from_the_command_line(auto, db_url, tmp_path, home):
    register(auto, "live")
    run(db_url, home, provider_manifest(tmp_path / "live", "live"))
    run(db_url, home, provider_manifest(tmp_path / "old", "old_try"), test=True)
    run(db_url, home, provider_manifest(tmp_path / "new", "new_try"), test=True)
    for schema, table in (("staging", "tbl_live"), ("staging_test", "tbl_old_try")):
        auto.execute(
            "UPDATE datawarp.tbl_ddl_events SET occurred_at = occurred_at"
            " - interval '3 weeks' WHERE object_identity = %s",
            (f"{schema}.{table}",),
        )
        auto.execute(f"UPDATE {schema}.{table} SET _loaded_at = _loaded_at - interval '3 weeks'")  # noqa: S608

    dry = run_cli("test-loads", "purge", "--older-than", "2w", "--dry-run", database_url=db_url)
    assert dry.exit_code == 0 and "kept (dry run) staging_test.tbl_old_try" in dry.stdout
    assert table_exists(auto, "staging_test.tbl_old_try")
    result = run_cli("test-loads", "purge", "--older-than", "2w", "--json", database_url=db_url)
    assert result.exit_code == 0, result.stderr
    purged = json.loads(result.stdout)
    assert [t["table"] for t in purged["tables"]] == ["staging_test.tbl_old_try"]
    assert purged["bytes_freed"] > 0
    assert not table_exists(auto, "staging_test.tbl_old_try")
    assert table_exists(auto, "staging_test.tbl_new_try") and table_exists(auto, "staging.tbl_live")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (
            ("loads", "failed", "--source", "nope"),
            "Source 'nope' is not registered and has no loads",
        ),
        (("loads", "failed", "--days", "0"), "Invalid --days 0"),
        (("duplicates", "nope"), "Source 'nope' is not registered"),
        (("duplicates", "nope", "--fix", "--yes"), "Source 'nope' is not registered"),
        (("storage", "growth", "--days", "-3"), "Invalid --days -3"),
        (("test-loads", "purge", "--older-than", "7x"), "Invalid age '7x'"),
        (("test-loads", "purge", "--older-than", "0d"), "Invalid age '0d'"),
        (("loads", "retry", "424242"), "Load 424242 not found"),
    ],
)
def test_bad_input_gives_one_line_and_writes_nothing(auto, db_url, args, message):
    run_cli("db", "upgrade", database_url=db_url)  # a writing command's make-ready step, done
    before = _snapshot(auto)
    result = run_cli(*args, database_url=db_url)
    assert result.exit_code == 2, result.stdout
    assert result.stderr.startswith("Error: ") and message in result.stderr
    assert result.stderr.count("\n") == 1
    assert _snapshot(auto) == before


@pytest.mark.parametrize(
    "args", [("loads", "failed"), ("loads", "retry"), ("duplicates",), ("storage", "growth"),
             ("test-loads", "purge")],
)  # fmt: skip
def test_every_command_has_an_example(args):
    result = run_cli(*args, "--help")
    assert result.exit_code == 0 and "Example: datawarp" in result.stdout
