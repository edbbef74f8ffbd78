"""A plain CSV's table typed from its first block while load-batch starts (``read_ahead``).

The load must take what was worked out ahead only for the file as it is when it is loaded,
and load exactly what it would have loaded without it; what was found ahead not to be a
plain CSV sends the load straight to the usual path, without opening the file to ask again.
"""

from __future__ import annotations

import pytest

from datawarp.pipeline import one_read
from datawarp.pipeline.extract import one_pass
from datawarp.pipeline.extract.file_ahead import AHEAD
from datawarp.pipeline.manifest import load_manifest
from datawarp.pipeline.read_ahead import read_first_file_ahead
from tests.pipeline.helpers import register, run, write_manifest
from tests.pipeline.test_load_arrow import _table_text
from tests.pipeline.test_row_defaults import TableRef

HEADER = "Period,Org Code,Attendances,Seen on\n"


def _rows(count: int, start: int = 0) -> str:
    return "".join(f"2025-09,R{n:04d},{100 + n},{1 + n % 28:02d}/09/2025\n"
                   for n in range(start, start + count))  # fmt: skip


@pytest.fixture(autouse=True)
def _nothing_ahead():
    AHEAD.clear()
    yield
    AHEAD.clear()


@pytest.fixture
def opened(monkeypatch):
    """Every ``open_provisional`` call, ahead or by the load."""
    calls = []
    real = one_pass.open_provisional

    def counting(*args, **kwargs):
        calls.append(args[0].sha256 or "ahead")
        return real(*args, **kwargs)

    monkeypatch.setattr(one_pass, "open_provisional", counting)
    monkeypatch.setattr(one_read, "open_provisional", counting)
    return calls


def _load(conn, db_url, tmp_path, code: str, *, ahead: bool, before_load=None):
    register(conn, code)
    conn.commit()
    manifest = write_manifest(tmp_path, [{"source_code": code, "path": "data.csv"}],
                              period="2025-09")  # fmt: skip
    if ahead:
        read_first_file_ahead(load_manifest(manifest))
        AHEAD._pending["provisional"][1].result()  # done before the load asks for it
    if before_load:
        before_load()
    report, _ = run(db_url, tmp_path / "home", manifest, test=True)
    assert [o.status for o in report.outcomes] == ["completed"], report.outcomes
    table = _table_text(conn, TableRef("staging_test", f"tbl_{code}"),
                        exclude=("_loaded_at", "_load_id"))  # fmt: skip
    conn.commit()
    return table, report.outcomes[0]


def test_the_load_takes_the_table_typed_ahead_and_loads_what_it_would_have(
    conn, db_url, tmp_path, opened
):
    (tmp_path / "data.csv").write_text(HEADER + _rows(50))
    ahead, ahead_outcome = _load(conn, db_url, tmp_path, "typed_ahead", ahead=True)
    assert opened == ["ahead"]  # the load did not open the file for its first block again
    assert AHEAD._pending == {}
    alone, alone_outcome = _load(conn, db_url, tmp_path, "typed_by_load", ahead=False)
    assert len(opened) == 2 and opened[1] != "ahead"
    assert ahead == alone and len(ahead) == 51
    assert ahead_outcome.rows_loaded == alone_outcome.rows_loaded == 50


def test_a_file_changed_after_it_was_typed_ahead_loads_as_it_is_now(conn, db_url, tmp_path, opened):
    path = tmp_path / "data.csv"
    path.write_text(HEADER + _rows(50))

    def rewrite() -> None:  # a longer file, a wider number: the table ahead is stale
        path.write_text(HEADER + _rows(50) + "2025-09,R9999,70000,01/09/2025\n")

    table, outcome = _load(conn, db_url, tmp_path, "changed", ahead=True, before_load=rewrite)
    assert opened[0] == "ahead" and len(opened) == 2  # the load typed the file itself
    assert outcome.rows_loaded == 51
    assert [row[2] for row in table if "R9999" in row] == ["70000"]


def test_a_csv_found_ahead_not_to_be_plain_goes_to_the_usual_path_unopened(
    conn, db_url, tmp_path, opened
):
    (tmp_path / "data.csv").write_text("Attendances by trust\n\n" + HEADER + _rows(20))
    table, outcome = _load(conn, db_url, tmp_path, "titled", ahead=True)
    assert opened == ["ahead"]  # found not plain ahead: not asked again
    assert outcome.rows_loaded == 20 and len(table) == 21


def test_a_dry_run_or_a_filled_down_source_types_nothing_ahead(tmp_path):
    (tmp_path / "data.csv").write_text(HEADER + _rows(5))
    manifest = write_manifest(tmp_path, [{"source_code": "x", "path": "data.csv"}])
    read_first_file_ahead(load_manifest(manifest), loading=False)
    assert "provisional" not in AHEAD._pending
    AHEAD.clear()
    filled = write_manifest(tmp_path, [{"source_code": "x", "path": "data.csv",
                                        "fill_down": ["Org Code"]}])  # fmt: skip
    read_first_file_ahead(load_manifest(filled))
    assert "provisional" not in AHEAD._pending
