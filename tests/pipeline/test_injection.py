"""Hostile text from files and manifests never runs as SQL: headers, values, sheet names,
column descriptions, source codes and periods are stored verbatim or refused in one line,
and the catalog is the same afterwards except for what the load itself wrote."""

from __future__ import annotations

from pathlib import Path

import openpyxl

from tests.cli_helpers import run_cli
from tests.pipeline.helpers import register, table_rows, write_csv, write_manifest

# Each closes a quote or an identifier the way a string-built statement would need.
HOSTILE = [
    'x"); DROP TABLE datawarp.tbl_load_events; --',
    "Robert'); DELETE FROM datawarp.tbl_data_sources; --",
    "$$; SELECT pg_terminate_backend(pg_backend_pid()); $$",
    "back\\slash'quote\"double",
]


def _catalog_objects(conn) -> set[tuple[str, str]]:
    """Every relation and function outside the system schemas."""
    relations = conn.execute(
        "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace"
        " WHERE n.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')"
    ).fetchall()
    functions = conn.execute(
        "SELECT n.nspname, p.proname FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace"
        " WHERE n.nspname NOT IN ('pg_catalog', 'information_schema')"
    ).fetchall()
    return set(relations) | set(functions)


def _registry_counts(conn) -> tuple[int, int]:
    return conn.execute(
        "SELECT (SELECT count(*) FROM datawarp.tbl_data_sources),"
        " (SELECT count(*) FROM datawarp.tbl_load_events)"
    ).fetchone()


def test_hostile_headers_values_and_descriptions_are_stored_verbatim(conn, db_url, tmp_path):
    register(conn, "hostile")
    conn.commit()
    before = _catalog_objects(conn)
    header = ["Org Code", *HOSTILE]
    rows = [[f"R{index}", *HOSTILE[index:], *HOSTILE[:index]] for index in range(4)]
    data = write_csv(tmp_path / "hostile.csv", header, rows)
    columns = {"org_code": {"description": HOSTILE[1], "search_terms": [HOSTILE[0]]}}
    manifest = write_manifest(
        tmp_path, [{"source_code": "hostile", "path": data.name, "columns": columns}],
        period="2025-09",
    )  # fmt: skip
    result = run_cli("load-batch", str(manifest), database_url=db_url,
                     env={"DATAWARP_HOME": str(tmp_path / "home")})  # fmt: skip
    assert result.exit_code == 0, result.stdout + result.stderr
    assert _catalog_objects(conn) - before == {
        ("staging", "tbl_hostile"),
        ("staging", "tbl_hostile_load_period_idx"),
    }
    assert _registry_counts(conn) == (1, 1)
    headers = dict(conn.execute(
        "SELECT original_header, column_name FROM datawarp.tbl_column_metadata"
        " WHERE source_code = 'hostile'"
    ).fetchall())  # fmt: skip
    assert set(HOSTILE) <= set(headers)
    stored = table_rows(conn, "staging.tbl_hostile",
                        ", ".join(f'"{headers[text]}"' for text in HOSTILE))  # fmt: skip
    assert [list(row) for row in stored] == [row[1:] for row in rows]
    description = conn.execute(
        "SELECT description, search_terms FROM datawarp.tbl_column_metadata"
        " WHERE source_code = 'hostile' AND column_name = 'org_code'"
    ).fetchone()
    assert description == (HOSTILE[1], [HOSTILE[0]])


def test_a_hostile_sheet_name_is_read_and_recorded_verbatim(conn, db_url, tmp_path):
    register(conn, "sheeted")
    conn.commit()
    name = "Data'; DROP TABLE x; --"
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.title = name
    sheet.append(["Org Code", "Attendances"])
    for index in range(1, 6):
        sheet.append([f"R{index}", index * 10])
    book.save(tmp_path / "book.xlsx")
    manifest = write_manifest(
        tmp_path, [{"source_code": "sheeted", "path": "book.xlsx", "sheet": name}], period="2025-09"
    )
    result = run_cli("load-batch", str(manifest), database_url=db_url,
                     env={"DATAWARP_HOME": str(tmp_path / "home")})  # fmt: skip
    assert result.exit_code == 0, result.stdout + result.stderr
    stored = table_rows(conn, "staging.tbl_sheeted", "_sheet, org_code, attendances")
    assert stored == [(name, f"R{index}", index * 10) for index in range(1, 6)]


def _refused_with_nothing_written(conn, db_url, tmp_path: Path, manifest: Path) -> str:
    before, counts = _catalog_objects(conn), _registry_counts(conn)
    result = run_cli("load-batch", str(manifest), database_url=db_url,
                     env={"DATAWARP_HOME": str(tmp_path / "home")})  # fmt: skip
    assert result.exit_code != 0
    assert _catalog_objects(conn) == before
    assert _registry_counts(conn) == counts
    message = (result.stderr or result.stdout).strip()
    assert len(message.splitlines()) == 1, message
    return message


def test_a_hostile_source_code_is_refused_in_one_line(conn, db_url, tmp_path):
    data = write_csv(tmp_path / "a.csv", ["Org Code", "Value"], [["R1", 1]])
    for code in ('ae"; DROP TABLE datawarp.tbl_data_sources; --', "ae'||pg_sleep(5)||'"):
        manifest = write_manifest(tmp_path, [{"source_code": code, "path": data.name}])
        message = _refused_with_nothing_written(conn, db_url, tmp_path, manifest)
        assert "source_code" in message


def test_a_hostile_period_is_refused_in_one_line(conn, db_url, tmp_path):
    register(conn, "ae")
    conn.commit()
    data = write_csv(tmp_path / "a.csv", ["Org Code", "Value"], [["R1", 1]])
    manifest = write_manifest(
        tmp_path, [{"source_code": "ae", "path": data.name}],
        period="2025-09'; DROP TABLE datawarp.tbl_data_sources; --",
    )  # fmt: skip
    message = _refused_with_nothing_written(conn, db_url, tmp_path, manifest)
    assert "period" in message.lower()
