"""Censored values, markers and percentages as they land in PostgreSQL, on both read paths.

A censored value (``52+``, ``<5``) is NULL in its numeric column and its text is in the
companion ``<name>_original``; a later edition that brings censored values for the first time
adds the companion like any new column (automatically, or held for review and backfilled).
Percentages land as fractions and the unit is in ``tbl_column_metadata``.
"""

from __future__ import annotations

import pytest

from datawarp.catalog import schema_changes
from datawarp.catalog.introspect import table_columns
from datawarp.pipeline.extract.originals import originals_name
from tests.pipeline.helpers import register, run, table_rows, write_csv, write_manifest

RTT = "rtt_overview_timeseries/RTT-Overview-Timeseries-Jun22-XLS-77K-68395.xlsx"
PROMS = "proms_csv_datapack/Key Facts Hip and Knee Replacement 1617.csv.zip"
HEADER = ["Org Code", "Referrals", "% seen"]


@pytest.fixture(params=["arrow", "python"])
def read_path(request, monkeypatch) -> str:
    """Every load here runs once on the Arrow fast path and once on the Python path."""
    if request.param == "python":
        monkeypatch.setenv("DATAWARP_NO_ARROW", "1")
    return request.param


def _load(db_url, home, folder, code, files, **settings):
    entries = [{"path": str(path), "period": period} for path, period in files]
    manifest = write_manifest(folder, [{"source_code": code, "files": entries}])
    report, _ = run(db_url, home, manifest, settings=settings)
    return report.outcomes


def _metadata(conn, code: str) -> dict[str, tuple]:
    rows = conn.execute(
        "SELECT column_name, unit, originals_of FROM datawarp.tbl_column_metadata"
        " WHERE source_code = %s",
        (code,),
    ).fetchall()
    return {name: (unit, originals_of) for name, unit, originals_of in rows}


@pytest.mark.samples
def test_rtt_overview_loads_52_plus_beside_numbers_and_dashes_as_null(
    conn, db_url, tmp_path, home, nhs_samples
):
    register(conn, "rtt_overview")
    (outcome,) = _load(db_url, home, tmp_path, "rtt_overview", [(nhs_samples / RTT, "2022-06")])
    assert outcome.status == "completed", outcome.error
    columns = table_columns(conn, "staging", "tbl_rtt_overview")
    metadata = _metadata(conn, "rtt_overview")
    companions = {name: of for name, (_unit, of) in metadata.items() if of}
    assert len(companions) == 3
    for companion, numeric in companions.items():
        assert (columns[numeric], columns[companion]) == ("numeric", "text")
        assert companion == originals_name(numeric, set())  # <name>_original within 63 bytes
    e = "incomplete_rtt_pathways_x92nd_percentile_weeks"
    median = "incomplete_rtt_pathways_median_wait_weeks"
    rows = table_rows(conn, "staging.tbl_rtt_overview", f"_row_number, {median}, {e}, {e}_original")
    # rows 11-14 hold '-' in D and E: NULL in both, whatever the column was before
    assert [r for r in rows if r[0] <= 14] == [(n, None, None, None) for n in range(11, 15)]
    censored = [r for r in rows if r[3] is not None]
    assert len(censored) == 9 and all(r[2] is None and r[3] == "52+" for r in censored)
    shown = conn.execute(
        f"SELECT count(coalesce({e}::text, {e}_original)) FROM staging.tbl_rtt_overview"  # noqa: S608
    ).fetchone()[0]
    assert shown == 192 - 4 - 9  # every value but the 4 dashes and 9 blank cells, as published
    percent = metadata["incomplete_rtt_pathways_percent_within_18_weeks"]
    assert percent == ("fraction", None)


@pytest.mark.samples
def test_proms_percentages_land_as_fractions_with_their_unit(
    conn, db_url, tmp_path, home, nhs_samples, read_path
):
    register(conn, "proms")
    (outcome,) = _load(db_url, home, tmp_path, "proms", [(nhs_samples / PROMS, "2016/17")])
    assert outcome.status == "completed", outcome.error
    (england,) = conn.execute(
        "SELECT percent_improved::text FROM staging.tbl_proms WHERE _row_number = 2"
    ).fetchone()
    assert england == "0.6730"  # "67.30%" in the file, exactly, on either read path
    assert _metadata(conn, "proms")["percent_improved"] == ("fraction", None)


def _edition(folder, name: str, referrals: list[str]) -> object:
    rows = [[f"R{n}", value, f"{50 + n}.5%"] for n, value in enumerate(referrals)]
    return write_csv(folder / name, HEADER, rows)


def test_censored_values_arriving_later_add_the_companion_like_any_new_column(
    conn, db_url, tmp_path, home, read_path
):
    register(conn, "referrals")
    first = _edition(tmp_path, "2025-08.csv", ["12", "30", "7", "9"])
    second = _edition(tmp_path, "2025-09.csv", ["14", "<5", "8", "-"])
    third = _edition(tmp_path, "2025-10.csv", ["15", "31", "6", "10"])
    outcomes = _load(db_url, home, tmp_path, "referrals",
                     [(first, "2025-08"), (second, "2025-09"), (third, "2025-10")])  # fmt: skip
    assert [o.status for o in outcomes] == ["completed"] * 3
    columns = table_columns(conn, "staging", "tbl_referrals")
    assert columns["referrals"] == "smallint" and columns["referrals_original"] == "text"
    changes = schema_changes.list_changes(conn)
    assert [(c["kind"], c["status"]) for c in changes] == [("create", "auto"), ("add", "auto")]
    assert [c["name"] for c in changes[1]["columns"]] == ["referrals_original"]
    assert any("referrals_original" in w for w in outcomes[2].warnings)  # stays NULL there
    values = table_rows(conn, "staging.tbl_referrals", "_period, referrals, referrals_original",
                        "_period, _row_number")  # fmt: skip
    assert values[4:8] == [("2025-09", 14, None), ("2025-09", None, "<5"),
                           ("2025-09", 8, None), ("2025-09", None, None)]  # fmt: skip
    assert {v[2] for v in values if v[0] != "2025-09"} == {None}
    assert _metadata(conn, "referrals")["referrals_original"] == (None, "referrals")
    assert _metadata(conn, "referrals")["percent_seen"] == ("fraction", None)
    seen = conn.execute("SELECT percent_seen::text FROM staging.tbl_referrals LIMIT 1").fetchone()
    assert seen == ("0.505",)


def test_a_companion_held_for_review_is_backfilled_on_approval(
    conn, db_url, tmp_path, home, read_path
):
    register(conn, "referrals")
    first = _edition(tmp_path, "2025-08.csv", ["12", "30", "7", "9"])
    second = _edition(tmp_path, "2025-09.csv", ["14", "<5", "52+", "8", "11"])
    outcomes = _load(db_url, home, tmp_path, "referrals", [(first, "2025-08"), (second, "2025-09")],
                     schema_auto_add_limit=1)  # fmt: skip
    assert [o.status for o in outcomes] == ["completed"] * 2
    assert "referrals_original" not in table_columns(conn, "staging", "tbl_referrals")
    (pending,) = schema_changes.list_changes(conn, "pending")
    assert [c["name"] for c in pending["columns"]] == ["referrals_original"]
    assert pending["held_rows"] == 2  # only the censored rows have a value to keep
    schema_changes.approve(conn, pending["change_id"])
    values = table_rows(conn, "staging.tbl_referrals", "referrals, referrals_original",
                        "_period, _row_number")  # fmt: skip
    assert values[4:] == [(14, None), (None, "<5"), (None, "52+"), (8, None), (11, None)]
