"""Gates that stay quiet on healthy sources, loaded for real: genuine NHS time series loaded
twice or edition after edition warn about neither their dates nor their growth, metadata is
warned about once, and a date genuinely out of place still warns."""

from __future__ import annotations

import json
from datetime import date, datetime

from datawarp.catalog.gate_queries import loaded_stats
from datawarp.pipeline.gate_dates import age_of
from tests.cli_helpers import run_cli
from tests.pipeline.helpers import register, run, write_csv, write_manifest

AE_2019 = ("ae_monthly_timeseries/AE_England_data.xls", "2019-04")
AE_2024 = ("ae_monthly_timeseries/Monthly-AE-Time-Series-January-2024.xls", "2024-01")
RTT = ("rtt_overview_timeseries/RTT-Overview-Timeseries-Jun22-XLS-77K-68395.xlsx", "2022-06")
MHSDS = "mhsds_4ww/MHSDS%20Data_4WW_AprPerf_2024_v2.csv"


def _load(db_url, folder, code, path, period, **entry):
    manifest = write_manifest(folder, [{"source_code": code, "path": str(path), "period": period,
                                        **entry}])  # fmt: skip
    report, _ = run(db_url, folder / "home", manifest, validate=True, force=True)
    (outcome,) = report.outcomes
    assert outcome.status == "completed", outcome.error
    return outcome


def _checks(outcome) -> dict:
    return {r.check_name: r for r in outcome.validation}


def _warnings(outcome) -> dict[str, str]:
    return {r.check_name: r.message for r in outcome.validation if r.status != "pass"}


def test_two_editions_of_the_ae_time_series_warn_about_neither_dates_nor_growth(
    conn, db_url, tmp_path, nhs_samples
):
    register(conn, "ae_series", load_mode="REPLACE")
    (old, old_period), (new, new_period) = AE_2019, AE_2024
    first = _load(db_url, tmp_path, "ae_series", nhs_samples / old, old_period, sheet="Activity")
    assert set(_warnings(first)) == {"descriptions", "search_terms"}  # told once
    assert _checks(first)["date_range"].message == "dates within range (2010-08-01 to 2019-04-01)"
    second = _load(db_url, tmp_path, "ae_series", nhs_samples / new, new_period, sheet="Activity")
    assert _warnings(second) == {}
    checks = _checks(second)
    assert checks["row_change"].message == (
        "162 (+54% vs previous: 105; cumulative: period now 2010-08-01 to 2024-01-01,"
        " previously to 2019-04-01)"
    )
    assert checks["date_range"].message == "dates within range (2010-08-01 to 2024-01-01)"
    columns = checks["descriptions"].details["columns"]
    assert checks["descriptions"].message == (
        f"0/{columns} columns have descriptions (0%, as at load {first.load_id})"
    )
    assert checks["search_terms"].status == "pass"


def test_the_rtt_time_series_loaded_twice_is_quiet_the_second_time(
    conn, db_url, tmp_path, nhs_samples
):
    register(conn, "rtt_series", load_mode="REPLACE")
    path, period = RTT
    first = _load(db_url, tmp_path, "rtt_series", nhs_samples / path, period)
    # 2007 to the rest of the financial year (empty months to March 2023): one span, in place
    assert _checks(first)["date_range"].message == "dates within range (2007-04-01 to 2023-03-01)"
    again = _load(db_url, tmp_path, "rtt_series", nhs_samples / path, period)
    assert _warnings(again) == {}
    assert _checks(again)["row_change"].message == "192 (same as previous: 192)"
    # `datawarp validate` judges the same way later: the load is still quiet
    result = run_cli("validate", "rtt_series", "--json", database_url=db_url)
    assert result.exit_code == 0, result.stderr
    assert json.loads(result.stdout)["status"] == "pass"


def test_a_provider_file_with_a_date_out_of_place_still_warns(conn, db_url, tmp_path, nhs_samples):
    """The genuine MHSDS file as published is quiet; one start date typed as 1900 and one end
    date three years after the period loaded are named."""
    register(conn, "mhsds", load_mode="REPLACE")
    published = _load(db_url, tmp_path, "mhsds", nhs_samples / MHSDS, "2024-04")
    assert "date_range" not in _warnings(published)
    lines = (nhs_samples / MHSDS).read_text(encoding="utf-8").splitlines()
    lines[1] = lines[1].replace("01/02/2024,30/04/2024", "01/01/1900,30/04/2024", 1)
    lines[2] = lines[2].replace("01/02/2024,30/04/2024", "01/02/2024,30/04/2027", 1)
    edited = tmp_path / "mhsds-edited.csv"
    edited.write_text("\n".join(lines) + "\n", encoding="utf-8")
    outcome = _load(db_url, tmp_path, "mhsds", edited, "2024-04")
    check = _checks(outcome)["date_range"]
    assert check.status == "warn"
    assert check.message == (
        "reporting_period_start: dates on or before 1962-04-30 (earliest 1900-01-01) are far"
        " before the rest (on or after 2023-05-01); reporting_period_end: 1 more than 366 days"
        " after the period loaded (latest 2027-04-30)"
    )


def test_declared_cumulative_growth_passes_and_metadata_warns_again_only_on_a_drop(
    conn, db_url, tmp_path
):
    """AmbSYS-like files: Year and Month as numbers, so only the manifest can say the files
    are cumulative; a re-validation later still knows it."""
    register(conn, "amb", load_mode="REPLACE")
    header = ["Year", "Month", "Org Code", "Calls"]
    described = {"columns": {"org_code": {"description": "ODS code"}}}

    def rows(months):
        return [[2020 + m // 12, m % 12 + 1, f"R{t}", 100 + t] for m in range(months)
                for t in range(5)]  # fmt: skip

    def load(name, months, extra=(), **source):
        path = write_csv(tmp_path / name, header + list(extra),
                         [row + [1] * len(extra) for row in rows(months)])  # fmt: skip
        return _load(db_url, tmp_path, "amb", path, f"2021-{months % 12 + 1:02d}", **source)

    first = load("a.csv", 4, **described)
    assert _checks(first)["descriptions"].status == "warn"  # 1/4 described, first time
    undeclared = load("b.csv", 8, **described)
    assert _checks(undeclared)["row_change"].status == "warn"  # +100% with nothing to say why
    assert _checks(undeclared)["descriptions"].status == "pass"
    declared = load("c.csv", 12, cumulative=True, **described)
    assert _warnings(declared) == {}
    assert _checks(declared)["row_change"].message == (
        "60 (+50% vs previous: 40; cumulative, as the manifest declares)"
    )
    result = run_cli("validate", "amb", "--json", database_url=db_url)
    (row_change,) = [r for r in json.loads(result.stdout)["results"]
                     if r["check_name"] == "row_change"]  # fmt: skip
    assert row_change["status"] == "pass"
    wider = load("d.csv", 13, extra=["New Measure"], cumulative=True, **described)
    assert _warnings(wider) == {
        "descriptions": f"1/5 columns have descriptions (20%, down from 25% at load"
        f" {declared.load_id})"
    }


def test_the_scan_counts_ages_as_the_policy_does(raw_conn):
    """The years of a date (or timestamp) column, computed in the server, are the ages
    ``age_of`` gives in Python, leap days and far dates included."""
    anchor = date(2028, 2, 29)
    days = [date(2029, 3, 1), anchor, date(2027, 3, 1), date(2027, 2, 28), date(2024, 2, 29),
            date(1966, 3, 1), date(1966, 2, 28), date(1900, 1, 1), date(1, 1, 1)]  # fmt: skip
    raw_conn.execute("CREATE TABLE staging.tbl_ages (d date, t timestamp, _load_id bigint)")
    with raw_conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO staging.tbl_ages VALUES (%s, %s, 1)",
            [(day, datetime(day.year, day.month, day.day, 23, 59)) for day in days],
        )
    stats = loaded_stats(raw_conn, "staging", "tbl_ages", 1, ["d", "t"], {"d", "t"},
                         late_after=date(2029, 1, 1), anchor=anchor)  # fmt: skip
    expected = 0
    for day in days:
        expected |= 1 << age_of(day, anchor)
    assert stats.dates["d"]["years"] == stats.dates["t"]["years"] == expected
    assert stats.dates["d"]["future"] == stats.dates["t"]["future"] == 1
    assert expected == 1 | 1 << 1 | 1 << 4 | 1 << 61 | 1 << 62  # the year 1 counts as 62
