"""``copy_arrow`` loads exactly what ``copy_rows`` loads: same values, NULLs, provenance.

Tables are compared as text (``col::text``), so a numeric's scale (12 vs 12.0), a timestamp's
fraction or an empty string against NULL would all show up as differences.
"""

from __future__ import annotations

import datetime as dt

import pyarrow as pa
import pytest
from psycopg import sql

from datawarp.catalog import staging_arrow
from datawarp.catalog.introspect import identifier
from datawarp.catalog.schema_changes import IncomingColumn
from datawarp.catalog.staging import Provenance, copy_rows, create_table
from datawarp.catalog.staging_arrow import copy_arrow
from datawarp.core.naming import TableRef
from datawarp.demo.samplegen import write_large_csv
from datawarp.pipeline.extract.env_limits import NO_ARROW_ENV
from datawarp.pipeline.inspect import open_table
from tests.pipeline.extract.test_arrow_csv import python_path
from tests.pipeline.helpers import register, run, write_manifest

MIXED = (
    "Period,Org Code,Org Name,Attendances,Big,Rate,Share,Date,Moment,Flag,Note\n"
    '2025-09,R01,"Leeds, West",1200,9000000000,67.30%,1.5e3,01/09/2025,2025-09-01 10:30,yes,'
    '"say ""hi"""\n'
    "2025-09,R02,Café Ærø,*,-5,0.5,2E-3,2-9-25,2025-09-02T11:00:00.25,No,x\n"
    '2025-09,R03,York,,12,12.0,"$1,200.50",,2025-09-03,TRUE,\n'
    '2025-09,-,England," 1,300 ",7,-.5,+0.0,04/09/2025,2025-09-04 00:00,false,Total\n'
)


@pytest.fixture(
    params=[True, False] if staging_arrow.BINARY_COPY else [False],
    ids=["binary-copy", "csv-copy"] if staging_arrow.BINARY_COPY else ["csv-copy"],
    autouse=True,
)
def copy_format(request, monkeypatch):
    """Every test here runs with both COPY formats copy_arrow can send (binary needs pgpq)."""
    monkeypatch.setattr(staging_arrow, "BINARY_COPY", request.param)
    return request.param


def _table_text(conn, target: TableRef, exclude: tuple[str, ...] = ("_loaded_at",)) -> list:
    names = [
        row[0]
        for row in conn.execute(
            "SELECT column_name FROM information_schema.columns"
            " WHERE table_schema = %s AND table_name = %s ORDER BY ordinal_position",
            (target.schema, target.table),
        )
        if row[0] not in exclude
    ]
    query = sql.SQL("SELECT {} FROM {} ORDER BY _row_number").format(
        sql.SQL(", ").join(sql.SQL("{}::text").format(sql.Identifier(n)) for n in names),
        identifier(target),
    )
    return [names, *conn.execute(query).fetchall()]


def _load_both(conn, path, tmp_path, **copy_options):
    with python_path():
        python = open_table(str(path), cache_dir=tmp_path)
    fast = open_table(str(path), cache_dir=tmp_path)
    assert fast.supports_arrow and not python.supports_arrow
    incoming = [IncomingColumn(c.name, c.pg_type, c.original_header) for c in fast.columns]
    provenance = Provenance(41, "2025-09", str(path), fast.sheet)
    targets = TableRef("staging_test", "tbl_rows"), TableRef("staging_test", "tbl_arrow")
    for target in targets:
        create_table(conn, target, incoming, first_load=copy_options.get("new_table", False))
    counted: list[int] = []
    loaded = (
        copy_rows(conn, targets[0], python.column_names, python.iter_batches(2), provenance,
                  **copy_options),
        copy_arrow(conn, targets[1], fast.column_names, fast.iter_arrow_batches(2), provenance,
                   on_rows=counted.append, **copy_options),
    )  # fmt: skip
    assert loaded == (python.row_count, fast.row_count) and sum(counted) == fast.row_count
    return targets, fast


def test_copy_arrow_loads_what_copy_rows_loads(conn, tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_text(MIXED, encoding="utf-8")
    (rows_target, arrow_target), table = _load_both(conn, path, tmp_path)
    assert [c.pg_type for c in table.columns] == [
        "text", "text", "text", "smallint", "bigint", "numeric", "numeric", "date",
        "timestamp", "boolean", "text",
    ]  # fmt: skip
    expected = _table_text(conn, rows_target)
    assert _table_text(conn, arrow_target) == expected
    by_name = dict(zip(expected[0], zip(*expected[1:], strict=True), strict=True))
    assert by_name["rate"] == ("0.6730", "0.5", "12", "-0.5")  # 67.30% as its fraction
    assert by_name["share"] == ("1500", "0.002", "1200.50", "0")
    assert by_name["moment"][2:] == ("2025-09-03 00:00:00", "2025-09-04 00:00:00")
    assert by_name["attendances"] == ("1200", None, None, "1300")
    assert by_name["note"] == ('say "hi"', "x", None, "Total")
    assert by_name["_is_total"] == ("false", "false", "false", "true")
    assert by_name["_level"] == ("organisation", "organisation", "organisation", "national")
    assert by_name["_row_number"] == ("2", "3", "4", "5")
    assert set(by_name["_load_id"]) == {"41"} and set(by_name["_period"]) == {"2025-09"}


def test_a_table_made_by_the_load_gets_the_same_rows_frozen_and_keeps_no_defaults(conn, tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_text(MIXED, encoding="utf-8")
    # the tables are created in the transaction that copies into them, as a first load does;
    # PostgreSQL refuses COPY FREEZE into any other table, so the FREEZE is checked too
    (rows_target, arrow_target), _ = _load_both(conn, path, tmp_path, new_table=True)
    expected = _table_text(conn, rows_target)
    assert _table_text(conn, arrow_target) == expected
    by_name = dict(zip(expected[0], zip(*expected[1:], strict=True), strict=True))
    assert set(by_name["_load_id"]) == {"41"} and set(by_name["_period"]) == {"2025-09"}
    assert set(by_name["_source_file"]) == {str(path)} and by_name["_row_number"][0] == "2"
    defaults = conn.execute(
        "SELECT table_name, column_name FROM information_schema.columns"
        " WHERE table_schema = 'staging_test' AND column_default IS NOT NULL"
        " AND column_name IN ('_load_id', '_period', '_source_file', '_sheet')"
    ).fetchall()
    assert defaults == []  # the load's constants were defaults for its COPY only


def test_a_first_loads_constants_are_kept_once_and_later_loads_keep_their_own(conn, tmp_path):
    path = tmp_path / "mixed.csv"
    path.write_text(MIXED, encoding="utf-8")
    table = open_table(str(path), cache_dir=tmp_path)
    target = TableRef("staging_test", "tbl_once")
    incoming = [IncomingColumn(c.name, c.pg_type, c.original_header) for c in table.columns]
    create_table(conn, target, incoming, first_load=True)
    first, later = Provenance(41, "2025-09", "a.csv", None), Provenance(42, None, "b.csv", "S")
    copy_arrow(conn, target, table.column_names, table.iter_arrow_batches(2), first,
               new_table=True)  # fmt: skip
    kept_once = conn.execute(
        "SELECT attname FROM pg_attribute WHERE attrelid = 'staging_test.tbl_once'::regclass"
        " AND atthasmissing ORDER BY attnum"
    ).fetchall()  # the value held in the catalog for the rows already there, not in each row
    assert kept_once == [("_load_id",), ("_period",), ("_source_file",), ("_loaded_at",)]
    copy_arrow(conn, target, table.column_names, table.iter_arrow_batches(2), later)

    query = sql.SQL(
        "SELECT _load_id, _period, _source_file, _sheet, count(*), count(DISTINCT _loaded_at),"
        " min(_row_number) FROM {} GROUP BY 1, 2, 3, 4 ORDER BY 1"
    ).format(identifier(target))
    assert conn.execute(query).fetchall() == [
        (41, "2025-09", "a.csv", None, 4, 1, 2),
        (42, None, "b.csv", "S", 4, 1, 2),
    ]
    deleted = conn.execute(
        sql.SQL("DELETE FROM {} WHERE _period = %s").format(identifier(target)), ("2025-09",)
    )
    assert deleted.rowcount == 4  # REPLACE finds a first load's period like any other


def test_text_nulls_and_awkward_characters_round_trip(conn):
    target = TableRef("staging_test", "tbl_awkward")
    create_table(conn, target, [IncomingColumn("words", "text"), IncomingColumn("n", "integer")])
    words = ["a,b", 'say "hi"', "line\nbreak", "", None, "\\N", "\\.", "tab\there", "é £ –", "\r\n"]
    schema = pa.schema([("words", pa.string()), ("n", pa.int32()), ("_row_number", pa.int32()),
                        ("_is_total", pa.bool_()), ("_level", pa.string())])  # fmt: skip
    batch = pa.RecordBatch.from_arrays(
        [
            pa.array(words, pa.string()),
            pa.array([None if i % 3 else i for i in range(len(words))], pa.int32()),
            pa.array(range(2, 2 + len(words)), pa.int32()),
            pa.array([False] * len(words)),
            pa.nulls(len(words), pa.string()),
        ],
        schema=schema,
    )
    provenance = Provenance(7, None, "memory", None)
    assert copy_arrow(conn, target, ["words", "n"], [batch], provenance) == len(words)
    rows = conn.execute(
        "SELECT words, n, _period, _sheet, _source_file FROM staging_test.tbl_awkward"
        " ORDER BY _row_number"
    ).fetchall()
    assert [row[0] for row in rows] == words  # '' stays '', None is NULL
    assert [row[1] for row in rows] == [None if i % 3 else i for i in range(len(words))]
    assert {row[2:] for row in rows} == {(None, None, "memory")}


def test_held_back_columns_go_to_quarantine_as_copy_rows_puts_them(conn, db_url, tmp_path):
    header = "Period,Org Code,Attendances,Rate,Seen,Note\n"
    lines = [
        f"2025-09,R{n:02d},{n * 100},{n}.50,0{n}/09/2025,{'*' if n % 3 else n}\n"
        for n in range(1, 9)
    ]
    for code, environment in (("held_py", {NO_ARROW_ENV: "1"}), ("held_ar", {})):
        register(conn, code)
        base = tmp_path / f"{code}-base.csv"
        base.write_text("Period,Org Code\n2025-08,R01\n")
        extra = tmp_path / f"{code}-extra.csv"
        extra.write_text(header + "".join(lines))
        files = [
            {"path": base.name, "period": "2025-08"},
            {"path": extra.name, "period": "2025-09"},
        ]
        manifest = write_manifest(tmp_path, [{"source_code": code, "files": files}])
        with pytest.MonkeyPatch.context() as patch:
            for name, value in environment.items():
                patch.setenv(name, value)
            report, _ = run(
                db_url, tmp_path / "home", manifest, settings={"schema_auto_add_limit": 2}
            )
        assert [o.status for o in report.outcomes] == ["completed", "completed"]
    held = conn.execute(
        "SELECT e.source_code, q.row_number, q.values FROM datawarp.tbl_quarantine q"
        " JOIN datawarp.tbl_load_events e USING (load_id) ORDER BY e.source_code, q.row_number"
    ).fetchall()
    python = [(number, values) for code, number, values in held if code == "held_py"]
    arrow = [(number, values) for code, number, values in held if code == "held_ar"]
    assert python == arrow and len(python) == 8
    first = dict(python)[2]
    assert first["rate"] == "1.50" and first["seen"] == "2025-09-01" and first["attendances"] == 100
    assert "note" not in first  # a suppressed value is NULL, and NULLs are left out


def test_load_batch_fast_and_python_paths_fill_identical_tables(conn, db_url, tmp_path):
    path = write_large_csv(tmp_path / "large.csv", 3000)
    targets = []
    for code, environment in (("large_py", {NO_ARROW_ENV: "1"}), ("large_ar", {})):
        manifest = write_manifest(
            tmp_path, [{"source_code": code, "path": path.name}], period="2025-09"
        )
        with pytest.MonkeyPatch.context() as patch:
            for name, value in environment.items():
                patch.setenv(name, value)
            report, _ = run(db_url, tmp_path / "home", manifest, test=True, batch_size=500)
        (outcome,) = report.outcomes
        assert outcome.status == "completed" and outcome.rows_loaded == 3000
        targets.append(TableRef("staging_test", f"tbl_{code}"))
    python, arrow = (_table_text(conn, t, ("_loaded_at", "_load_id")) for t in targets)
    assert arrow == python and len(arrow) == 3001


def test_a_csvs_record_batches_are_shaped_whole_and_sent_in_pieces(db_url, tmp_path, monkeypatch):
    """The COPY shapes each record batch as parsed (its numeric columns encoded in one go),
    then sends it ``batch_size`` rows at a time; a workbook's batches come at that size."""
    shaped, sent = [], []
    pieces = staging_arrow._pieces

    def recorded(batch, rows):
        shaped.append(batch.num_rows)
        for piece in pieces(batch, rows):
            sent.append(piece.num_rows)
            yield piece

    monkeypatch.setattr(staging_arrow, "_pieces", recorded)
    path = write_large_csv(tmp_path / "large.csv", 3000)
    manifest = write_manifest(
        tmp_path, [{"source_code": "pieces", "path": path.name}], period="2025-09"
    )
    report, _ = run(db_url, tmp_path / "home", manifest, test=True, batch_size=500)
    assert report.outcomes[0].rows_loaded == 3000
    assert sum(shaped) == sum(sent) == 3000
    assert max(shaped) > 500 >= max(sent)  # one block: shaped whole, sent in sixes


def test_mixed_types_survive_a_second_period_in_the_same_table(conn, tmp_path):
    """Loading into an existing table (the APPEND case) needs nothing special."""
    path = tmp_path / "mixed.csv"
    path.write_text(MIXED)
    (rows_target, arrow_target), table = _load_both(conn, path, tmp_path)
    again = copy_arrow(
        conn, arrow_target, table.column_names, table.iter_arrow_batches(),
        Provenance(42, "2025-10", str(path), table.sheet),
    )  # fmt: skip
    assert again == 4
    count = conn.execute("SELECT count(*) FROM staging_test.tbl_arrow").fetchone()[0]
    assert count == 8
    moments = conn.execute(
        "SELECT moment FROM staging_test.tbl_arrow WHERE _load_id = 42 ORDER BY _row_number"
    ).fetchall()
    assert moments[1] == (dt.datetime(2025, 9, 2, 11, 0, 0, 250000),)


@pytest.mark.samples
def test_ambsys_levels_load_identically_on_both_copy_paths(conn, nhs_samples, tmp_path):
    path = nhs_samples / "ambsys" / "AmbSYS-up-to-March-2020-CSV.csv"
    (rows_target, arrow_target), table = _load_both(conn, path, tmp_path)
    assert _table_text(conn, arrow_target) == _table_text(conn, rows_target)
    counts = conn.execute(
        "SELECT _level, _is_total, count(*) FROM staging_test.tbl_arrow GROUP BY 1, 2 ORDER BY 3"
    ).fetchall()
    assert counts == [("national", True, 32), ("region", False, 224), ("organisation", False, 352)]
    regions = conn.execute(
        "SELECT DISTINCT org_code FROM staging_test.tbl_arrow WHERE _level = 'region'"
    ).fetchall()
    assert sorted(code for (code,) in regions) == ["Y56", "Y58", "Y59", "Y60", "Y61", "Y62", "Y63"]


def test_a_table_made_before_levels_gains_the_column_on_its_next_load(conn, db_url, tmp_path):
    """Provenance, not the file's schema: added on the next load, no review, earlier rows NULL."""
    register(conn, "levels")
    rows = ["R01,A NHS Trust,10", "R02,B NHS Trust,20", "-,England,30"]
    files = []
    for period in ("2025-08", "2025-09"):
        (tmp_path / f"{period}.csv").write_text("Org Code,Org Name,Beds\n" + "\n".join(rows) + "\n")
        files.append({"path": f"{period}.csv", "period": period})
    first = write_manifest(tmp_path, [{"source_code": "levels", "files": files[:1]}])
    report, _ = run(db_url, tmp_path / "home", first)
    assert [o.status for o in report.outcomes] == ["completed"]
    with conn.transaction():  # the table as DataWarp made it before _level
        conn.execute("ALTER TABLE staging.tbl_levels DROP COLUMN _level")
    second = write_manifest(tmp_path, [{"source_code": "levels", "files": files[1:]}])
    report, _ = run(db_url, tmp_path / "home", second)
    assert [o.status for o in report.outcomes] == ["completed"]
    loaded = conn.execute(
        "SELECT _period, org_code, _level, _is_total FROM staging.tbl_levels"
        " ORDER BY _period, _row_number"
    ).fetchall()
    assert loaded == [
        ("2025-08", "R01", None, False), ("2025-08", "R02", None, False),
        ("2025-08", "-", None, True), ("2025-09", "R01", "organisation", False),
        ("2025-09", "R02", "organisation", False), ("2025-09", "-", "national", True),
    ]  # fmt: skip
    changes = conn.execute(
        "SELECT kind FROM datawarp.tbl_schema_changes WHERE source_code = 'levels'"
    ).fetchall()
    assert changes == [("create",)]


def test_the_binary_copy_is_sent_only_into_columns_of_the_types_it_encodes(
    conn, tmp_path, monkeypatch, copy_format
):
    path = tmp_path / "mixed.csv"
    path.write_text(MIXED, encoding="utf-8")
    sent = []
    monkeypatch.setattr(staging_arrow._BinaryStream, "finish", lambda self: sent.append(1) or (
        staging_arrow._NO_ROWS[-2:]))  # fmt: skip
    (_, arrow_target), _ = _load_both(conn, path, tmp_path)
    assert bool(sent) == copy_format  # the tables were made from the file's own types
    # an older edition typed the dates as text: the text COPY lets the server convert them
    conn.execute("ALTER TABLE staging_test.tbl_arrow ALTER date TYPE text")
    conn.execute("TRUNCATE staging_test.tbl_arrow")
    sent.clear()
    table = open_table(str(path), cache_dir=tmp_path)
    provenance = Provenance(42, "2025-09", str(path), table.sheet)
    copy_arrow(conn, arrow_target, table.column_names, table.iter_arrow_batches(2), provenance)
    assert not sent
    dates = conn.execute("SELECT date FROM staging_test.tbl_arrow ORDER BY _row_number")
    assert [row[0] for row in dates] == ["2025-09-01", "2025-09-02", None, "2025-09-04"]
