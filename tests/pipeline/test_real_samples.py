"""Genuine NHS publication files load through manifests, with no validation `fail`.

Reads ../shared/nhs-samples in place (the `nhs_samples` fixture skips only outside CI).
"""

from __future__ import annotations

import pytest

from datawarp.catalog import registry, schema_changes
from tests.pipeline.helpers import events, register, run, write_manifest

# source code -> (files as (relative path, period, sheet), expected rows per file)
SAMPLES = {
    "ae_provider_csv": ([("ae_monthly_provider/Monthly-AE-September-2023.csv", "2023-09", None)], [202]),
    "ae_sitrep": ([("ae_weekly_sitrep/Weekly-AE-Sitrep-Provider-we-07-Nov-2010.xls", "2010-11-07", "A&E Data")], [297]),
    "ambco": ([("ambco/AmbCO-up-to-Nov-2019-CSV.csv", "2019-11", None), ("ambco/AmbCO-up-to-20200731.csv", "2020-07", None)], [1998, 2093]),
    "ambsys": ([("ambsys/AmbSYS-up-to-March-2020-CSV.csv", "2020-03", None), ("ambsys/AmbSYS-to-July-2020.csv", "2020-07", None)], [608, 684]),
    "beds_kh03": ([("beds_kh03_overnight/Beds-Open-Overnight-Web_File-Final-DE5WC.xlsx", "2020-21 Q2", "NHS Trust by Sector")], [196]),
    "cwt_provider": ([("cancer_waiting_times/CWT-CRS-Apr-2023-to-Sep-2023-Data-Extract-Provider-Provisional.xlsx", "2023-09", None)], [51509]),
    "cwt_icb": ([("cancer_waiting_times/CWT-CRS-Apr-23-to-Oct-23-Data-Extract-ICB-Sub-Location.xlsx", "2023-10", None)], [7127]),
    "cwt_national": ([("cancer_waiting_times/CWT-CRS-National-Time-Series-Oct-2009-Oct-2023-with-Revisions.xlsx", "2023-10", "Monthly Performance")], [93]),
    "cwt_legacy": ([("cancer_waiting_times/Cancer-Waiting-Times-National-Time-Series-Oct-2009-Sep-2023-with-Revisions.xlsx", "2023-09", "Monthly Data")], [1680]),
    "ccg_outcomes": ([("ccg_outcomes_indicators/CCG_1_2_I00754_D.xls", "2016", "Data")], [2136]),
    "mhsds_4ww": ([("mhsds_4ww/MHSDS%20Data_4WW_AprPerf_2024_v2.csv", "2024-04", None)], [19958]),
    "proms_key_facts": ([("proms_csv_datapack/Key Facts Hip and Knee Replacement 1617.csv.zip", "2016/17", None), ("proms_csv_datapack/Key Facts Hip and Knee Replacements 1718.csv.zip", "2017/18", None)], [8138, 8044]),
    "proms_equality": ([("proms_csv_datapack/Equality Hip and Knee Replacement 1617.csv.zip", "2016/17", None)], [732]),
    "proms_time_series": ([("proms_csv_datapack/Time Series Hip and Knee Replacement 1819.csv.zip", "2018/19", None)], [4530]),
    "rtt_full": ([("rtt_full_csv_subset_DERIVED/20241130-RTT-November-2024-RBD.csv", "2024-11", None)], [512]),
    "rtt_overview": ([("rtt_overview_timeseries/RTT-Overview-Timeseries-Jun22-XLS-77K-68395.xlsx", "2022-06", None)], [192]),
    "rtt_new_periods": ([("rtt_provider_new_periods/New-Periods-Provider-Apr23.xls", "2023-04", "Provider")], [4080]),
    # two editions of one publication whose layout changed: the 2019 edition has an extra
    # key column, auto-added when it arrives after the 2024 edition
    "ae_timeseries": ([("ae_monthly_timeseries/Monthly-AE-Time-Series-January-2024.xls", "2024-01", "Activity"), ("ae_monthly_timeseries/AE_England_data.xls", "2019-04", "Activity")], [162, 105]),
    # a layout that changed completely: the second file's new columns wait for review
    "workforce": ([("workforce_nationality/EU_and_UK_nationals_by_staff_group_and_organisation__September_2016.xlsx", "2016-09", None), ("workforce_nationality/hchs-staff-by-staff-group-nationality-and-organisation-september-2017-and-june-2018_ah2324.xlsx", "2018-06", "Data")], [449, 81603]),
}  # fmt: skip


@pytest.fixture(scope="module")
def manifest_sources(nhs_samples):
    sources = []
    for code, (files, _rows) in SAMPLES.items():
        entries = []
        for path, period, sheet in files:
            entry = {"path": str(nhs_samples / path), "period": period}
            if sheet:
                entry["sheet"] = sheet
            entries.append(entry)
        sources.append({"source_code": code, "files": entries})
    return sources


def test_every_sample_loads_with_no_validation_fail(conn, db_url, tmp_path, manifest_sources):
    for code in SAMPLES:
        register(conn, code, load_mode="REPLACE", validation_required=True)
    manifest = write_manifest(tmp_path, manifest_sources)
    report, _ = run(db_url, tmp_path / "home", manifest, validate=True)

    failures = [(o.source_code, o.error) for o in report.outcomes if o.status != "completed"]
    assert failures == []
    loaded = {}
    for outcome in report.outcomes:
        loaded.setdefault(outcome.source_code, []).append(outcome.rows_loaded)
        assert all(check.status != "fail" for check in outcome.validation), outcome.validation
    assert loaded == {code: rows for code, (_files, rows) in SAMPLES.items()}
    statuses = conn.execute(
        "SELECT DISTINCT status FROM datawarp.tbl_validation_results"
    ).fetchall()
    assert ("fail",) not in statuses
    assert {s.status for s in registry.list_sources(conn)} == {"active"}

    # the changed layout: one new key column, added automatically and logged
    changes = [c for c in schema_changes.list_changes(conn) if c["source_code"] == "ae_timeseries"]
    assert [(c["kind"], c["status"]) for c in changes] == [("create", "auto"), ("add", "auto")]
    assert [c["name"] for c in changes[1]["columns"]] == ["column_b"]

    # the wholly different layout: its new columns are held for review, rows still loaded
    (pending,) = [c for c in schema_changes.list_changes(conn, "pending")]
    assert pending["source_code"] == "workforce" and len(pending["columns"]) >= 5
    assert pending["held_rows"] > 0
    workforce = events(conn, "workforce")
    assert [e["rows_loaded"] for e in workforce] == [449, 81603]
