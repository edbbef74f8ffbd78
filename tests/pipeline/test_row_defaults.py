"""Per-row flags every row leaves at the column's default are left to the server, never lost.

A file with no totals rows and one level sends neither ``_is_total`` nor ``_level``: the COPY
leaves them out and the server writes the column defaults (false, NULL), which spares it a
tenth of its parsing. The rows must read exactly as if the flags had been sent; a flag that
pass 2 finds set after all stops the load; an older table whose defaults a DBA changed gets
the flags sent.
"""

from __future__ import annotations

import pytest

from datawarp.catalog.schema_changes import IncomingColumn
from datawarp.catalog.staging import TableRef, create_table, defaulted_columns
from datawarp.pipeline.extract.env_limits import NO_ARROW_ENV
from tests.pipeline.helpers import (
    HEADER,
    provider_rows,
    register,
    run,
    table_rows,
    write_csv,
    write_manifest,
)
from tests.pipeline.test_load_arrow import MIXED, _load_both, _table_text, copy_format  # noqa: F401

BOTH = frozenset({"_is_total", "_level"})
PLAIN = (
    "Period,Org Code,Org Name,Attendances\n"
    "2025-09,R01,Leeds,1200\n2025-09,R02,York,*\n2025-09,R03,Hull,\n"
)


@pytest.mark.parametrize("new_table", [False, True], ids=["older-table", "made-by-the-load"])
def test_rows_read_the_same_with_the_flags_left_to_the_server(conn, tmp_path, new_table):
    path = tmp_path / "plain.csv"
    path.write_text(PLAIN, encoding="utf-8")
    sent_targets, table = _load_both(conn, path, tmp_path, new_table=new_table)
    assert not table.total_rows and not table.row_levels
    sent = [_table_text(conn, target) for target in sent_targets]
    conn.execute("DROP TABLE staging_test.tbl_rows, staging_test.tbl_arrow")
    left_targets, _ = _load_both(conn, path, tmp_path, new_table=new_table, defaulted=BOTH)
    assert [_table_text(conn, target) for target in left_targets] == sent
    by_name = dict(zip(sent[0][0], zip(*sent[0][1:], strict=True), strict=True))
    assert by_name["_is_total"] == ("false",) * 3 and by_name["_level"] == (None,) * 3


@pytest.mark.parametrize("flag", sorted(BOTH))
def test_a_flag_set_on_a_row_after_all_stops_the_load(conn, tmp_path, flag):
    path = tmp_path / "mixed.csv"
    path.write_text(MIXED, encoding="utf-8")  # its England row is a total, at national level
    with pytest.raises(RuntimeError, match=f"a row's {flag} differs"):
        _load_both(conn, path, tmp_path, defaulted=frozenset({flag}))


def test_an_older_table_sends_a_flag_whose_default_was_changed(conn):
    target = TableRef("staging_test", "tbl_older")
    create_table(conn, target, [IncomingColumn("n", "integer")])
    assert defaulted_columns(conn, target, ["_is_total", "_level"], new_table=False) == BOTH
    conn.execute("ALTER TABLE staging_test.tbl_older ALTER _is_total SET DEFAULT true")
    assert defaulted_columns(conn, target, ["_is_total", "_level"], new_table=False) == {"_level"}
    conn.execute("ALTER TABLE staging_test.tbl_older ALTER _level SET DEFAULT 'national'")
    assert defaulted_columns(conn, target, BOTH, new_table=False) == frozenset()
    assert defaulted_columns(conn, target, BOTH, new_table=True) == BOTH  # its own DDL


def test_load_batch_leaves_the_flags_of_a_plain_month_and_sends_those_of_a_totalled_one(
    conn, db_url, tmp_path
):
    register(conn, "ae_flags")
    conn.commit()
    plain = [row for row in provider_rows("2025-09", 3) if row[1] != "-"]  # no England row
    files = {"2025-09": plain, "2025-10": provider_rows("2025-10", 3)}  # with one
    for period, rows in files.items():
        data = write_csv(tmp_path / f"{period}.csv", HEADER, rows)
        manifest = write_manifest(tmp_path, [{"source_code": "ae_flags", "path": data.name}])
        report, _ = run(db_url, tmp_path / "home", manifest, settings={}, force=False)
        assert [o.status for o in report.outcomes] == ["completed"], report.outcomes
    flags = table_rows(
        conn, "staging.tbl_ae_flags", "_period, org_code, _is_total, _level", "_period, _row_number"
    )
    assert [row[2:] for row in flags[:3]] == [(False, None)] * 3
    assert [row[1:3] for row in flags[3:]] == [("R01", False), ("R02", False), ("R03", False),
                                                ("-", True)]  # fmt: skip


@pytest.mark.parametrize("arrow", [False, True], ids=["python-path", "arrow-path"])
def test_a_file_whose_every_column_is_held_back_still_loads_its_rows(
    conn, db_url, tmp_path, monkeypatch, arrow
):
    if not arrow:
        monkeypatch.setenv(NO_ARROW_ENV, "1")
    register(conn, "ae_held")
    conn.commit()
    (tmp_path / "base.csv").write_text("Period,Org Code\n2025-08,R01\n")
    (tmp_path / "next.csv").write_text(
        "Region,Attendances,Rate\n" + "".join(f"North,{n},{n}.5\n" for n in range(1, 6))
    )
    files = [{"path": "base.csv", "period": "2025-08"}, {"path": "next.csv", "period": "2025-09"}]
    manifest = write_manifest(tmp_path, [{"source_code": "ae_held", "files": files}])
    report, _ = run(db_url, tmp_path / "home", manifest, settings={"schema_auto_add_limit": 2})
    assert [o.status for o in report.outcomes] == ["completed", "completed"], report.outcomes
    rows = table_rows(conn, "staging.tbl_ae_held", "_period, _row_number, _is_total, _level")
    assert rows[1:] == [("2025-09", n, False, None) for n in range(2, 7)]
    held = conn.execute("SELECT count(*) FROM datawarp.tbl_quarantine").fetchone()[0]
    assert held == 5
