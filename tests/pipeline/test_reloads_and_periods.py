"""Loading the same data twice, and a file's period: forced reloads replace their earlier copy,
duplicate rows are counted with or without a primary key, a missing period is found in the
file or refused where it would replace a whole table, and weeks stay weeks.

Genuine NHS files (KH03 beds, the weekly A&E sitrep, the monthly A&E provider CSV) show the
rules on real layouts; generated CSVs show the rest."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest

from datawarp.pipeline import steps
from tests.cli_helpers import run_cli
from tests.pipeline.helpers import (
    HEADER,
    provider_rows,
    register,
    run,
    table_exists,
    table_rows,
    write_csv,
    write_manifest,
)  # fmt: skip

KH03 = "beds_kh03_overnight/Beds-Open-Overnight-Web_File-Final-DE5WC.xlsx"
KH03_SHEET = "NHS Trust by Sector"
SITREP = "ae_weekly_sitrep/Weekly-AE-Sitrep-Provider-we-07-Nov-2010.xls"
AE_MONTHLY = "ae_monthly_provider/Monthly-AE-September-2023.csv"


def _event(conn, load_id: int) -> dict:
    cur = conn.execute(
        "SELECT load_status, period, period_kind, period_source, rows_loaded, rows_replaced,"
        " repeat_of FROM datawarp.tbl_load_events WHERE load_id = %s",
        (load_id,),
    )
    return dict(zip([d.name for d in cur.description], cur.fetchone(), strict=True))


def _rows_by_load(conn, table: str) -> dict[int, int]:
    query = f"SELECT _load_id, count(*) FROM {table} GROUP BY 1"  # noqa: S608 - fixed names
    return dict(conn.execute(query).fetchall())


def _check(outcome, name: str):
    return next(r for r in outcome.validation if r.check_name == name)


def _resaved(original: Path, copy: Path) -> Path:
    """The same workbook with other bytes (re-compressed): identical data, another SHA-256."""
    with zipfile.ZipFile(original) as source, zipfile.ZipFile(copy, "w") as target:
        for item in source.infolist():
            target.writestr(item.filename, source.read(item), zipfile.ZIP_DEFLATED, 1)
    assert copy.read_bytes() != original.read_bytes()
    return copy


# --- --force under APPEND -----------------------------------------------------------------


def test_forced_append_reload_of_kh03_replaces_its_earlier_copy(
    conn, db_url, tmp_path, home, nhs_samples
):
    register(conn, "beds_kh03", load_mode="APPEND", validation_required=True)
    source = {"source_code": "beds_kh03", "path": str(nhs_samples / KH03), "sheet": KH03_SHEET}
    manifest = write_manifest(tmp_path, [source])
    (first,) = run(db_url, home, manifest)[0].outcomes
    # no period in the manifest: the title block says "Period: July to September 2020"
    assert (first.status, first.rows_loaded, first.period, first.period_source) == (
        "completed", 196, "2020-21-Q2", "title",
    )  # fmt: skip

    (again,) = run(db_url, home, manifest, force=True)[0].outcomes
    assert (again.status, again.rows_loaded, again.rows_replaced) == ("completed", 196, 196)
    assert f"replaced 196 rows of load {first.load_id} (this file, period 2020-21-Q2)" in (
        again.notes
    )
    assert _rows_by_load(conn, "staging.tbl_beds_kh03") == {again.load_id: 196}
    rows = _check(again, "duplicate_rows")
    assert (rows.status, rows.message) == ("pass", "0 duplicate rows")
    assert _event(conn, again.load_id) == {
        "load_status": "completed", "period": "2020-21-Q2", "period_kind": "fiscal_quarter",
        "period_source": "title", "rows_loaded": 196, "rows_replaced": 196,
        "repeat_of": first.load_id,
    }  # fmt: skip
    latest = conn.execute(
        "SELECT row_count FROM datawarp.tbl_source_metrics ORDER BY metric_id DESC LIMIT 1"
    ).fetchone()[0]
    assert latest == 196


def test_the_same_kh03_data_from_another_file_is_caught_as_duplicate_rows(
    conn, db_url, tmp_path, home, nhs_samples
):
    """No primary key is set: the duplicate-row gate still sees the second copy."""
    register(conn, "beds_kh03", load_mode="APPEND", validation_required=True)
    copy = _resaved(nhs_samples / KH03, tmp_path / "Beds-Open-Overnight-revised.xlsx")
    files = [{"path": str(nhs_samples / KH03)}, {"path": str(copy)}]
    source = {"source_code": "beds_kh03", "sheet": KH03_SHEET, "files": files}
    first, second = run(db_url, home, write_manifest(tmp_path, [source]))[0].outcomes
    assert [first.status, second.status] == ["completed", "completed"]  # warn by default
    assert [o.period for o in (first, second)] == ["2020-21-Q2", "2020-21-Q2"]
    rows = _check(second, "duplicate_rows")
    assert rows.status == "warn"
    assert rows.message == (
        f"196 duplicate row(s): 196 are already in the table for 2020-21-Q2 (load {first.load_id})"
    )
    assert rows.details["of_other_loads"] == 196 and rows.details["within_file"] == 0
    assert _check(first, "duplicate_rows").status == "pass"


def test_a_duplicate_rows_severity_of_fail_rolls_the_copy_back(conn, db_url, tmp_path, home):
    register(conn, "ae", load_mode="APPEND", validation_required=True)
    rows = provider_rows("2025-09")
    first = write_csv(tmp_path / "ae-sep.csv", HEADER, rows)
    second = write_csv(tmp_path / "ae-sep-reissued.csv", HEADER, rows[:6])
    source = {"source_code": "ae", "validation": {"severity": {"duplicate_rows": "fail"}},
              "files": [{"path": first.name, "period": "2025-09"},
                        {"path": second.name, "period": "2025-09"}]}  # fmt: skip
    done, copy = run(db_url, home, write_manifest(tmp_path, [source]))[0].outcomes
    assert (done.status, copy.status) == ("completed", "rolled_back")
    assert "duplicate_rows: 6 duplicate row(s): 6 are already in the table" in copy.error
    assert _rows_by_load(conn, "staging.tbl_ae") == {done.load_id: 13}


def test_rows_repeated_inside_one_file_are_named_by_their_row_numbers(conn, db_url, tmp_path, home):
    register(conn, "ae")
    rows = provider_rows("2025-09")
    rows.insert(3, rows[2])  # the third trust twice: file rows 4 and 5
    data = write_csv(tmp_path / "ae.csv", HEADER, rows)
    entry = {"source_code": "ae", "path": data.name, "period": "2025-09"}
    (outcome,) = run(db_url, home, write_manifest(tmp_path, [entry]), validate=True)[0].outcomes
    check = _check(outcome, "duplicate_rows")
    assert (check.status, check.message) == (
        "warn", "1 duplicate row(s): 1 repeat a row of the file (rows 4 and 5)",
    )  # fmt: skip
    assert not any(r.check_name == "duplicate_keys" for r in outcome.validation)  # no key set


def test_a_corrected_file_in_the_same_place_replaces_only_with_force(conn, db_url, tmp_path, home):
    register(conn, "ae", load_mode="APPEND")
    data = write_csv(tmp_path / "ae.csv", HEADER, provider_rows("2025-09"))
    manifest = write_manifest(tmp_path, [{"source_code": "ae", "path": data.name}],
                              period="2025-09")  # fmt: skip
    (first,) = run(db_url, home, manifest)[0].outcomes
    write_csv(data, HEADER, provider_rows("2025-09", scale=2))  # corrected in place
    (kept,) = run(db_url, home, manifest)[0].outcomes
    assert kept.status == "completed" and kept.rows_replaced == 0
    assert kept.warnings == [
        f"load {first.load_id} of this file for period 2025-09 is still in the table: APPEND"
        " keeps its rows beside these; use --force to replace them"
    ]
    write_csv(data, HEADER, provider_rows("2025-09", scale=3))
    (forced,) = run(db_url, home, manifest, force=True)[0].outcomes
    assert forced.rows_replaced == 26  # both earlier copies of the file went
    assert _rows_by_load(conn, "staging.tbl_ae") == {forced.load_id: 13}


def test_a_forced_reload_names_only_the_loads_whose_rows_it_replaced(conn, db_url, tmp_path, home):
    register(conn, "ae", load_mode="APPEND")
    data = write_csv(tmp_path / "ae.csv", HEADER, provider_rows("2025-09"))
    manifest = write_manifest(tmp_path, [{"source_code": "ae", "path": data.name}],
                              period="2025-09")  # fmt: skip
    run(db_url, home, manifest)
    (second,) = run(db_url, home, manifest, force=True)[0].outcomes
    (third,) = run(db_url, home, manifest, force=True)[0].outcomes
    assert third.notes == [f"replaced 13 rows of load {second.load_id} (this file, period 2025-09)"]
    conn.execute("DELETE FROM staging.tbl_ae")  # e.g. retention took them
    conn.commit()
    (fourth,) = run(db_url, home, manifest, force=True)[0].outcomes
    assert (fourth.rows_replaced, fourth.notes) == (0, [])
    write_csv(data, HEADER, provider_rows("2025-09", scale=2))
    (beside,) = run(db_url, home, manifest)[0].outcomes
    assert beside.warnings == [
        f"load {fourth.load_id} of this file for period 2025-09 is still in the table: APPEND"
        " keeps its rows beside these; use --force to replace them"
    ]


def test_a_dry_run_says_what_a_forced_reload_would_replace(conn, db_url, tmp_path, home):
    register(conn, "ae", load_mode="APPEND")
    data = write_csv(tmp_path / "ae.csv", HEADER, provider_rows("2025-09"))
    manifest = write_manifest(tmp_path, [{"source_code": "ae", "path": data.name}],
                              period="2025-09")  # fmt: skip
    (first,) = run(db_url, home, manifest)[0].outcomes
    (planned,) = run(db_url, home, manifest, force=True, dry_run=True)[0].outcomes
    assert planned.status == "planned"
    assert planned.notes == [f"would replace 13 rows of load {first.load_id} (period 2025-09)"]
    assert _rows_by_load(conn, "staging.tbl_ae") == {first.load_id: 13}


# --- finding the period -------------------------------------------------------------------


def test_a_period_in_the_file_name_is_used_and_shown_by_dry_run(conn, db_url, tmp_path):
    register(conn, "ae", load_mode="REPLACE")
    data = write_csv(tmp_path / "Monthly-AE-October-2023.csv", HEADER, provider_rows("2025-09"))
    manifest = write_manifest(tmp_path, [{"source_code": "ae", "path": data.name}])
    planned = run_cli("load-batch", str(manifest), "--dry-run", database_url=db_url)
    assert planned.exit_code == 0, planned.stderr
    lines = planned.stdout.splitlines()
    assert lines[0].startswith("PLANNED   ae [2023-10 from the file name]: ")
    assert "  note: period 2023-10 (month) read from the file name (Monthly-AE-October-2023)" in (
        lines
    )
    assert not table_exists(conn, "staging.tbl_ae")
    assert conn.execute("SELECT count(*) FROM datawarp.tbl_load_events").fetchone()[0] == 0

    loaded = run_cli("load-batch", str(manifest), database_url=db_url)
    assert loaded.exit_code == 0 and "COMPLETED ae [2023-10 from the file name]" in loaded.stdout
    assert table_rows(conn, "staging.tbl_ae", "DISTINCT _period", "_period") == [("2023-10",)]
    source = conn.execute("SELECT period_source FROM datawarp.tbl_load_events").fetchone()[0]
    assert source == "file_name"


def test_a_rerun_skips_a_file_whose_period_it_read_without_opening_it_again(
    conn, db_url, tmp_path, home, monkeypatch
):
    register(conn, "ae", load_mode="REPLACE")
    data = write_csv(tmp_path / "Monthly-AE-October-2023.csv", HEADER, provider_rows("2025-09"))
    manifest = write_manifest(tmp_path, [{"source_code": "ae", "path": data.name}])
    (first,) = run(db_url, home, manifest)[0].outcomes

    def not_opened(*_args, **_kwargs):
        raise AssertionError("the file was opened again")

    monkeypatch.setattr(steps, "extract_file", not_opened)
    (again,) = run(db_url, home, manifest)[0].outcomes
    assert (again.status, again.period, again.period_source) == ("skipped", "2023-10", "file_name")
    assert again.warnings[0].startswith(f"already loaded as load {first.load_id}")


def test_replace_refuses_a_file_without_a_period(conn, db_url, tmp_path, home):
    register(conn, "ae", load_mode="REPLACE")
    data = write_csv(tmp_path / "provider-data.csv", HEADER, provider_rows("2025-09"))
    manifest = write_manifest(tmp_path, [{"source_code": "ae", "path": data.name}])
    (planned,) = run(db_url, home, manifest, dry_run=True)[0].outcomes
    (refused,) = run(db_url, home, manifest)[0].outcomes
    for outcome in (planned, refused):
        assert outcome.status == "failed"
        assert outcome.error == (
            "provider-data.csv: no period found (the title block has no Period: line; the file"
            " name (provider-data) names none); under REPLACE a file without a period would"
            " replace the whole of staging.tbl_ae: write the file's period: in the manifest, or"
            " period: none if the file holds the whole table (a time series)"
        )
    assert not table_exists(conn, "staging.tbl_ae")
    statuses = conn.execute("SELECT load_status FROM datawarp.tbl_load_events").fetchall()
    assert statuses == [("failed",)]  # the real attempt only: a dry run writes nothing


def test_period_none_replaces_the_whole_table(conn, db_url, tmp_path, home):
    register(conn, "ae", load_mode="REPLACE")
    first = write_csv(tmp_path / "series-a.csv", HEADER, provider_rows("2025-09"))
    second = write_csv(tmp_path / "series-b.csv", HEADER, provider_rows("2025-09", 5))
    for data in (first, second):
        entry = {"source_code": "ae", "path": data.name, "period": "none"}
        (outcome,) = run(db_url, home, write_manifest(tmp_path, [entry]))[0].outcomes
        assert (outcome.status, outcome.period, outcome.period_source) == (
            "completed", None, "none",
        )  # fmt: skip
    assert outcome.rows_replaced == 13 and "replaced 13 rows (the whole table)" in outcome.notes
    assert len(table_rows(conn, "staging.tbl_ae")) == 6
    assert _event(conn, outcome.load_id)["period_source"] == "none"


def test_append_loads_a_file_without_a_period_and_says_so(conn, db_url, tmp_path, home):
    register(conn, "ae", load_mode="APPEND")
    data = write_csv(tmp_path / "provider-data.csv", HEADER, provider_rows("2025-09"))
    manifest = write_manifest(tmp_path, [{"source_code": "ae", "path": data.name}])
    (outcome,) = run(db_url, home, manifest)[0].outcomes
    assert outcome.status == "completed" and outcome.period is None
    assert outcome.warnings == [
        "no period found (the title block has no Period: line; the file name (provider-data)"
        " names none); its rows load with no period: write period: in the manifest, or period:"
        " none to say the file has none"
    ]
    assert _event(conn, outcome.load_id)["period_source"] is None


def test_a_manifest_period_the_file_name_contradicts_is_warned_about(
    conn, db_url, tmp_path, home, nhs_samples
):
    register(conn, "ae_provider")
    entry = {"source_code": "ae_provider", "path": str(nhs_samples / AE_MONTHLY),
             "period": "2023-10"}  # fmt: skip
    (outcome,) = run(db_url, home, write_manifest(tmp_path, [entry]))[0].outcomes
    assert outcome.status == "completed" and outcome.period == "2023-10"
    assert (
        "the manifest says 2023-10, but the file name (Monthly-AE-September-2023) says 2023-09:"
        " is this the right file for 2023-10?"
    ) in outcome.warnings


# --- weeks --------------------------------------------------------------------------------


def test_the_weekly_sitrep_loads_as_the_week_its_title_block_names(
    conn, db_url, tmp_path, home, nhs_samples
):
    register(conn, "ae_sitrep", load_mode="REPLACE")
    entry = {"source_code": "ae_sitrep", "path": str(nhs_samples / SITREP), "sheet": "A&E Data"}
    (outcome,) = run(db_url, home, write_manifest(tmp_path, [entry]))[0].outcomes
    assert (outcome.status, outcome.rows_loaded) == ("completed", 297)
    assert (outcome.period, outcome.period_kind, outcome.period_source) == (
        "2010-11-07", "week_ending", "title",
    )  # fmt: skip
    assert outcome.warnings == []  # the file name (we-07-Nov-2010) agrees
    span = conn.execute(
        "SELECT period_start, datawarp.period_end(period, period_kind)"
        " FROM datawarp.tbl_source_periods WHERE source_code = 'ae_sitrep'"
    ).fetchone()
    assert [str(day) for day in span] == ["2010-11-01", "2010-11-07"]
    cadence = conn.execute(
        "SELECT cadence, last_period, next_period FROM datawarp.freshness(now(), 30, 7)"
        " WHERE source_code = 'ae_sitrep'"
    ).fetchone()
    assert cadence == ("weekly", "2010-11-07", "2010-11-14")


@pytest.mark.parametrize(
    ("name", "period", "expected"),
    [
        ("AE-Sitrep-we-01-Oct-2023.csv", None, ("2023-10-01", "week_ending")),
        ("sitrep.csv", "week ending 2023-10-01", ("2023-10-01", "week_ending")),
        ("sitrep.csv", "2023-W39", ("2023-W39", "week")),
    ],
)
def test_a_week_ending_on_the_1st_is_not_read_as_the_month(
    conn, db_url, tmp_path, home, name, period, expected
):
    register(conn, "sitrep", load_mode="REPLACE")
    data = write_csv(tmp_path / name, HEADER, provider_rows("2025-09"))
    entry = {"source_code": "sitrep", "path": data.name, **({"period": period} if period else {})}
    (outcome,) = run(db_url, home, write_manifest(tmp_path, [entry]))[0].outcomes
    assert outcome.status == "completed", outcome.error
    assert (outcome.period, outcome.period_kind) == expected
    stored = conn.execute("SELECT DISTINCT _period FROM staging.tbl_sitrep").fetchall()
    assert stored == [(expected[0],)]
    start = conn.execute(
        "SELECT period_start FROM datawarp.tbl_source_periods WHERE source_code = 'sitrep'"
    ).fetchone()[0]
    assert str(start) == "2023-09-25"  # the Monday of the week, not 1 October


def test_a_load_over_the_duplicate_row_limit_says_it_was_not_checked(conn, db_url, tmp_path, home):
    register(conn, "ae")
    data = write_csv(tmp_path / "ae.csv", HEADER, provider_rows("2025-09"))
    entry = {"source_code": "ae", "path": data.name, "period": "2025-09",
             "validation": {"duplicate_rows_max_rows": 12}}  # fmt: skip
    (outcome,) = run(db_url, home, write_manifest(tmp_path, [entry]), validate=True)[0].outcomes
    check = _check(outcome, "duplicate_rows")
    assert (check.status, check.message) == (
        "warn", "duplicate rows not checked: 13 rows is over duplicate_rows_max_rows (12)",
    )  # fmt: skip
