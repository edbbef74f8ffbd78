"""A file with no banner, loaded into a table whose rows carry block titles (docs/column-names.md).

The A&E time series' 2019 Performance sheet has two side-by-side blocks ('England Level
Data', 'Field Testing Sites Only'); the 2024 edition's has one and no banner.
"""

from __future__ import annotations

import pytest

from tests.pipeline.helpers import events, register, run, write_manifest

FOLDER = "ae_monthly_timeseries"
EDITION_2019 = ("AE_England_data.xls", "2019-04")
EDITION_2024 = ("Monthly-AE-Time-Series-January-2024.xls", "2024-01")


@pytest.fixture
def performance(nhs_samples):
    def entry(edition, **keys):
        name, period = edition
        path = nhs_samples / FOLDER / name
        return {"path": str(path), "period": period, "sheet": "Performance", **keys}

    return entry


def _titles(conn, load_id: int) -> list[tuple]:
    return conn.execute(
        "SELECT block_title, count(*) FROM staging.tbl_ae_perf WHERE _load_id = %s"
        " GROUP BY block_title ORDER BY block_title",
        (load_id,),
    ).fetchall()


def test_a_file_with_no_banner_takes_the_first_block_of_the_earlier_load(
    conn, db_url, home, tmp_path, performance
):
    register(conn, "ae_perf", load_mode="APPEND")
    files = [performance(EDITION_2019), performance(EDITION_2024)]
    manifest = write_manifest(tmp_path, [{"source_code": "ae_perf", "files": files}])
    report, _ = run(db_url, home, manifest)

    first, second = report.outcomes
    assert [first.status, second.status] == ["completed", "completed"]
    loads = [e["load_id"] for e in events(conn, "ae_perf")]
    assert dict(_titles(conn, loads[0])).keys() == {
        "England Level Data",
        "Field Testing Sites Only",
    }
    assert _titles(conn, loads[1]) == [("England Level Data", second.rows_loaded)]
    england = conn.execute(
        "SELECT count(*) FROM staging.tbl_ae_perf WHERE block_title = 'England Level Data'"
    ).fetchone()[0]
    assert england == dict(_titles(conn, loads[0]))["England Level Data"] + second.rows_loaded
    note = (
        "block_title: the file names no block; its rows take 'England Level Data', the first"
        f" block of load {loads[0]} (set block_title: in the manifest to choose another)"
    )
    assert note in second.notes
    assert not any(n.startswith("block_title:") for n in first.notes)


def test_the_manifest_block_title_overrides(conn, db_url, home, tmp_path, performance):
    register(conn, "ae_perf", load_mode="APPEND")
    files = [
        performance(EDITION_2019),
        performance(EDITION_2024, block_title="All England"),
    ]
    manifest = write_manifest(tmp_path, [{"source_code": "ae_perf", "files": files}])
    report, _ = run(db_url, home, manifest)

    second = report.outcomes[1]
    assert second.status == "completed"
    loads = [e["load_id"] for e in events(conn, "ae_perf")]
    assert _titles(conn, loads[1]) == [("All England", second.rows_loaded)]
    assert not any(n.startswith("block_title:") for n in second.notes)


def test_the_source_block_title_titles_a_first_load(conn, db_url, home, tmp_path, performance):
    register(conn, "ae_perf", load_mode="APPEND")
    source = {"source_code": "ae_perf", "block_title": "England Level Data"}
    source["files"] = [performance(EDITION_2024)]
    report, _ = run(db_url, home, write_manifest(tmp_path, [source]))

    (outcome,) = report.outcomes
    assert outcome.status == "completed"
    (load_id,) = [e["load_id"] for e in events(conn, "ae_perf")]
    assert _titles(conn, load_id) == [("England Level Data", outcome.rows_loaded)]


def test_a_table_without_block_title_is_unaffected(conn, db_url, home, tmp_path, performance):
    register(conn, "ae_perf", load_mode="APPEND")
    files = [performance(EDITION_2024)]
    manifest = write_manifest(tmp_path, [{"source_code": "ae_perf", "files": files}])
    report, _ = run(db_url, home, manifest)

    (outcome,) = report.outcomes
    assert outcome.status == "completed"
    columns = conn.execute(
        "SELECT column_name FROM information_schema.columns"
        " WHERE table_schema = 'staging' AND table_name = 'tbl_ae_perf'"
    ).fetchall()
    assert ("block_title",) not in columns and columns
    assert not any(n.startswith("block_title:") for n in outcome.notes)


def test_a_given_title_is_a_constant_first_column_on_either_path(tmp_path):
    from datawarp.pipeline.extract.engine import open_fetched
    from datawarp.pipeline.fetch import fetch
    from tests.pipeline.helpers import HEADER, provider_rows, write_csv

    data = write_csv(tmp_path / "a.csv", HEADER, provider_rows("2025-09"))
    fetched = fetch(str(data), cache_dir=tmp_path / "cache")
    plain = open_fetched(fetched)
    titled = open_fetched(fetched, block_title="Provider Level Data")
    assert titled.column_names == ["block_title", *plain.column_names]
    assert titled.given_block_title == "Provider Level Data" and plain.given_block_title is None
    assert plain.supports_arrow and not titled.supports_arrow  # the Python path emits it
    assert titled.total_rows == plain.total_rows  # the totals rule reads the same columns
    rows = [row for batch in titled.iter_batches() for row in batch]
    assert {row[0] for row in rows} == {"Provider Level Data"} and len(rows) == plain.row_count
