"""`datawarp archive`: verified Parquet read back independently, one transaction, every failure
leaving the database as it was, purge and restore."""

from __future__ import annotations

import errno
import hashlib
import io
import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.fs as pafs
import pyarrow.parquet as pq
import pytest

from datawarp.core.settings import Settings
from datawarp.ops.archive_store import ArchiveFailed, ArchiveStore
from datawarp.ops.lifecycle import archive_source, deprecate, purge, restore
from datawarp.ops.orphans import archive_orphan
from tests.cli_helpers import run_cli
from tests.pipeline.helpers import HEADER, provider_rows, register, run, write_csv, write_manifest

TODAY = datetime.now(UTC).date()
RATES = ["3.125", "12.5", "7", "0.25", ""]  # mixed scales, and a NULL


def load_source(conn, db_url, tmp_path, home, code="ae", periods=("2025-08", "2025-09")) -> None:
    """Real loads: provider rows with a numeric, a date, a boolean and a timestamp column."""
    register(conn, code)
    conn.commit()
    header = [*HEADER, "Rate", "Published", "Flag", "Updated"]
    for period in periods:
        rows = [
            [*row, RATES[i % len(RATES)], f"{period}-01", "true" if i % 2 else "false",
             f"{period}-02 10:00:0{i % 10}.25"]
            for i, row in enumerate(provider_rows(period))
        ]  # fmt: skip
        path = write_csv(tmp_path / f"{code}-{period}.csv", header, rows)
        manifest = write_manifest(tmp_path, [{"source_code": code, "path": path.name}],
                                  period=period)  # fmt: skip
        report, _ = run(db_url, home, manifest)
        assert report.outcomes[0].status == "completed", report.outcomes[0].error


def settings_for(db_url, home, **lifecycle) -> Settings:
    return Settings(database_url=db_url, home=home, lifecycle=lifecycle)


def deprecated_source(conn, db_url, tmp_path, home, code="ae") -> Settings:
    load_source(conn, db_url, tmp_path, home, code)
    settings = settings_for(db_url, home)
    deprecate(conn, code, "Replaced by a newer publication", settings, archive_date=TODAY)
    conn.commit()
    return settings


def state_of(conn, code="ae") -> dict:
    """Everything an archive run may change, to compare before and after a refusal."""
    return {
        "status": conn.execute("SELECT status, archived_at FROM datawarp.tbl_data_sources"
                               " WHERE source_code = %s", (code,)).fetchone(),
        "staging": conn.execute("SELECT to_regclass(%s) IS NOT NULL",
                                (f"staging.tbl_{code}",)).fetchone()[0],
        "archive_tables": conn.execute("SELECT count(*) FROM pg_tables"
                                       " WHERE schemaname = 'archive'").fetchone()[0],
        "archives": conn.execute("SELECT count(*) FROM datawarp.tbl_archives").fetchone()[0],
    }  # fmt: skip


def files_in(folder: Path) -> list[str]:
    return sorted(str(p.relative_to(folder)) for p in folder.rglob("*") if p.is_file())


def test_archive_writes_verified_parquet_that_pyarrow_reads_back(conn, db_url, tmp_path, home):
    settings = deprecated_source(conn, db_url, tmp_path, home)
    before = conn.execute("SELECT * FROM staging.tbl_ae ORDER BY _load_id, _row_number").fetchall()
    names = [d.name for d in conn.execute("SELECT * FROM staging.tbl_ae LIMIT 0").description]
    loads_before = conn.execute("SELECT count(*) FROM datawarp.tbl_load_events").fetchone()[0]
    store = ArchiveStore.at(str(tmp_path / "archive"))

    record = archive_source(conn, "ae", store, settings)

    path = Path(record["path"])
    assert path == tmp_path / "archive" / "ae" / f"tbl_ae_archived_{TODAY:%Y%m%d}.parquet"
    assert files_in(tmp_path / "archive") == [f"ae/{path.name}"]  # no .partial left
    assert record["row_count"] == len(before) == 26
    assert record["file_bytes"] == path.stat().st_size
    assert record["file_sha256"] == hashlib.sha256(path.read_bytes()).hexdigest()
    stored = conn.execute("SELECT kind, source_table, archive_table, content_checksum"
                          " FROM datawarp.tbl_archives").fetchall()  # fmt: skip
    archived = f"archive.tbl_ae_archived_{TODAY:%Y%m%d}"
    assert stored == [("archive", "staging.tbl_ae", archived, record["content_checksum"])]

    # Independently: pyarrow reads the same rows and values, with the promised types.
    table = pq.read_table(path).sort_by([("_load_id", "ascending"), ("_row_number", "ascending")])
    assert table.column_names == names
    types = dict(zip(table.column_names, table.schema.types, strict=True))
    assert types["attendances"] == pa.int16() and types["_load_id"] == pa.int64()
    assert types["rate"] == pa.decimal128(5, 3)  # two integer digits, three decimals
    assert types["published"] == pa.date32() and types["flag"] == pa.bool_()
    assert types["updated"] == pa.timestamp("us")
    assert types["_loaded_at"] == pa.timestamp("us", tz="UTC")
    assert types["org_name"] == pa.string() and types["_level"] == pa.string()
    assert [tuple(r.values()) for r in table.to_pylist()] == before
    levels = table.column("_level").to_pylist()
    assert levels.count("national") == 2 and levels.count("organisation") == 24
    assert table.column("rate").to_pylist()[:5] == [Decimal(r) if r else None for r in RATES]

    parquet = pq.ParquetFile(path)
    metadata = parquet.schema_arrow.metadata
    assert json.loads(metadata[b"datawarp.source"])["source_code"] == "ae"
    history = json.loads(metadata[b"datawarp.load_history"])
    assert [h["period"] for h in history] == ["2025-08", "2025-09"]
    assert {c["column_name"] for c in json.loads(metadata[b"datawarp.columns"])} >= {"rate"}
    footer = parquet.metadata.metadata  # the file's own key-value pairs, written after the rows
    assert json.loads(footer[b"datawarp.row_count"]) == 26
    assert json.loads(footer[b"datawarp.content_checksum"]) == record["content_checksum"]
    assert parquet.schema_arrow.field("rate").metadata == {b"datawarp.pg_type": b"numeric"}
    assert parquet.metadata.row_group(0).column(0).compression == "ZSTD"

    # The table moved in the same transaction; the registry and load history say so.
    assert state_of(conn)["staging"] is False
    assert conn.execute(f"SELECT count(*) FROM {archived}").fetchone()[0] == 26  # noqa: S608
    snapshot = f"archive.tbl_metadata_ae_archived_{TODAY:%Y%m%d}"
    described = conn.execute(f"SELECT count(*) FROM {snapshot}").fetchone()[0]  # noqa: S608
    assert described == conn.execute("SELECT count(*) FROM datawarp.tbl_column_metadata"
                                     " WHERE source_code = 'ae'").fetchone()[0] > 0  # fmt: skip
    assert state_of(conn)["status"][0] == "archived"
    assert (
        conn.execute("SELECT count(*) FROM datawarp.tbl_load_events").fetchone()[0] == loads_before
    )


EVERY_TYPE = """
CREATE TABLE staging.every_type AS
SELECT g AS id, (g % 30000)::smallint AS small, g * 1000003::bigint AS big,
       CASE g % 4 WHEN 0 THEN 1.50 WHEN 1 THEN 1.500 WHEN 2 THEN -0.001 END
           + g AS amount,
       (g / 7.0)::numeric(10, 2) AS fixed,
       CASE WHEN g % 3 = 0 THEN 10::numeric ^ 40 + 0.5 END AS huge,
       CASE WHEN g % 5 = 0 THEN 'NaN'::numeric ELSE g END AS odd,
       g / 3.0::float8 AS ratio, (g / 3.0)::real AS approx,
       date '2020-01-01' + g AS day, timestamp '2020-01-01 00:00:00.123456' + g * interval '1 h' AS ts,
       timestamptz '2020-06-01 12:00:00.5+01' + g * interval '1 min' AS tstz,
       g % 2 = 0 AS even,
       (ARRAY['plain', '', 'NULL', 'comma, "quoted"', E'two\\nlines', 'Zoë ✓', NULL])[g % 7 + 1]
           AS label,
       jsonb_build_object('g', g) AS doc, ('{"g": ' || g || '}')::json AS plain_doc,
       ('{' || g || ',2}')::int[] AS pair,
       make_interval(days => g) AS span, ('v' || g)::varchar(10) AS short, 'ab'::char(3) AS padded,
       md5(g::text)::uuid AS uid, decode(lpad(to_hex(g), 8, '0'), 'hex') AS raw
  FROM generate_series(1, 2500) g
"""


def test_every_type_survives_and_row_groups_are_bounded(conn, raw_conn, db_url, tmp_path, home):
    raw_conn.execute(EVERY_TYPE)
    settings = settings_for(db_url, home, row_group_rows=1000)
    pg_rows = raw_conn.execute("SELECT * FROM staging.every_type ORDER BY id").fetchall()
    texts = raw_conn.execute(
        "SELECT huge::text, odd::text, doc::text, plain_doc::text, pair::text, span::text,"
        " uid::text, raw::text"
        " FROM staging.every_type ORDER BY id"
    ).fetchall()

    record = archive_orphan(conn, "staging.every_type", ArchiveStore.at(str(tmp_path)), settings)

    parquet = pq.ParquetFile(record["path"])
    assert [parquet.metadata.row_group(i).num_rows for i in range(3)] == [1000, 1000, 500]
    table = parquet.read().sort_by("id")
    types = dict(zip(table.column_names, table.schema.types, strict=True))
    assert types["amount"] == pa.decimal128(7, 3) and types["fixed"] == pa.decimal128(10, 2)
    assert types["huge"] == types["odd"] == pa.string()  # beyond decimal128, and NaN
    assert types["tstz"] == pa.timestamp("us", tz="UTC") and types["approx"] == pa.float32()
    columns = {name: table.column(name).to_pylist() for name in table.column_names}
    as_is = ["id", "small", "big", "amount", "fixed", "ratio", "day", "ts", "tstz", "even",
             "label", "short", "padded"]  # fmt: skip
    for name in as_is:
        index = table.column_names.index(name)
        assert columns[name] == [row[index] for row in pg_rows], name
    approx = table.column_names.index("approx")
    assert np.array_equal(np.float32(columns["approx"]), np.float32([r[approx] for r in pg_rows]))
    as_text = ["huge", "odd", "doc", "plain_doc", "pair", "span", "uid", "raw"]
    for i, name in enumerate(as_text):
        assert columns[name] == [row[i] for row in texts], name
    assert columns["label"][:7] == ["", "NULL", 'comma, "quoted"', "two\nlines", "Zoë ✓", None,
                                    "plain"]  # fmt: skip
    assert parquet.schema_arrow.field("short").metadata[b"datawarp.pg_type"] == (
        b"character varying(10)"
    )
    assert record["kind"] == "orphan" and record["row_count"] == 2500


def test_restore_from_the_archive_table_then_from_parquet_after_purge(conn, db_url, tmp_path, home):
    settings = deprecated_source(conn, db_url, tmp_path, home)
    original = conn.execute(
        "SELECT * FROM staging.tbl_ae ORDER BY _load_id, _row_number"
    ).fetchall()
    archive_source(conn, "ae", ArchiveStore.at(str(tmp_path / "archive")), settings)

    from_table = restore(conn, "ae", "staging.ae_back")
    assert from_table["from"].startswith("archive.") and from_table["rows"] == 26
    purged = purge(conn, "ae")
    assert conn.execute("SELECT to_regclass(%s)", (purged["archive_table"],)).fetchone()[0] is None
    from_file = restore(conn, "ae", "staging.ae_back_again")
    assert from_file["from"].endswith(".parquet") and from_file["rows"] == 26

    for table in ("staging.ae_back", "staging.ae_back_again"):
        rows = conn.execute(
            f"SELECT * FROM {table} ORDER BY _load_id, _row_number"  # noqa: S608
        ).fetchall()
        assert rows == original, table
    assert state_of(conn)["status"][0] == "archived"  # a restore changes no status


def test_drop_after_export_and_the_cli(conn, db_url, tmp_path, home):
    deprecated_source(conn, db_url, tmp_path, home)
    env = {"DATAWARP_HOME": str(home),
           "DATAWARP_LIFECYCLE": json.dumps({"archive_path": str(tmp_path / "pq")})}  # fmt: skip

    result = run_cli("archive", "ae", "--drop-after-export", "--json", database_url=db_url, env=env)

    assert result.exit_code == 0, result.stderr
    record = json.loads(result.stdout)
    assert record["table_dropped_at"] and Path(record["path"]).is_file()
    assert state_of(conn)["archive_tables"] == 1  # the metadata snapshot only
    again = run_cli("archive", "purge", "ae", database_url=db_url, env=env)
    assert again.exit_code == 2 and "already dropped" in again.stderr
    back = run_cli("archive", "restore", "ae", "--into", "staging.ae_back", database_url=db_url,
                   env=env)  # fmt: skip
    assert back.exit_code == 0, back.stderr
    assert "Restored 26 rows" in back.stdout


def _refused(args, db_url, env) -> str:
    result = run_cli(*args, database_url=db_url, env=env)
    assert result.exit_code == 2, (args, result.stdout, result.stderr)
    assert result.stderr.startswith("Error: ") and result.stderr.count("\n") == 1, result.stderr
    return result.stderr


def test_bad_inputs_are_one_line_and_write_nothing(conn, db_url, tmp_path, home):
    load_source(conn, db_url, tmp_path, home, "ae")
    register(conn, "fresh")
    conn.commit()
    env = {"DATAWARP_HOME": str(home),
           "DATAWARP_LIFECYCLE": json.dumps({"archive_path": str(tmp_path / "pq")})}  # fmt: skip
    before = state_of(conn)

    assert "'nope' is not registered" in _refused(["archive", "nope"], db_url, env)
    assert "fresh is registered; only a deprecated" in _refused(["archive", "fresh"], db_url, env)
    assert "ae is active; only a deprecated" in _refused(["archive", "ae"], db_url, env)
    run_cli("deprecate", "ae", "--reason", "Superseded", database_url=db_url, env=env)
    grace = _refused(["archive", "ae"], db_url, env)
    assert "may be archived from" in grace and "--force" in grace
    assert state_of(conn) | {"status": None} == before | {"status": None}
    assert not (tmp_path / "pq").exists() or files_in(tmp_path / "pq") == []

    assert run_cli("archive", "ae", "--force", database_url=db_url, env=env).exit_code == 0
    assert "already archived" in _refused(["archive", "ae"], db_url, env)
    assert "restore into a new table" in _refused(
        ["archive", "restore", "ae", "--into", "archive.tbl_ae_archived_" + f"{TODAY:%Y%m%d}"],
        db_url, env,
    )  # fmt: skip
    assert "give SCHEMA.TABLE" in _refused(["archive", "restore", "ae", "--into", "x"], db_url, env)


def test_a_parquet_path_that_is_a_file_is_refused(conn, db_url, tmp_path, home):
    deprecated_source(conn, db_url, tmp_path, home)
    (tmp_path / "taken").write_text("not a folder")
    env = {"DATAWARP_HOME": str(home),
           "DATAWARP_LIFECYCLE": json.dumps({"archive_path": str(tmp_path / "taken")})}  # fmt: skip
    before = state_of(conn)

    assert "is a file" in _refused(["archive", "ae"], db_url, env)
    assert state_of(conn) == before


def _unwritable(folder: Path) -> None:
    folder.mkdir()
    folder.chmod(0o500)
    if os.access(folder, os.W_OK):  # root ignores modes; the immutable flag stops root too
        folder.chmod(0o700)
        made = subprocess.run(["chattr", "+i", str(folder)], capture_output=True, check=False)
        if made.returncode != 0:
            pytest.skip("cannot make a folder unwritable here")


def test_an_unwritable_folder_changes_nothing(conn, db_url, tmp_path, home):
    settings = deprecated_source(conn, db_url, tmp_path, home)
    folder = tmp_path / "locked"
    _unwritable(folder)
    before = state_of(conn)
    try:
        with pytest.raises(ArchiveFailed, match="Permission denied|Operation not permitted"):
            archive_source(conn, "ae", ArchiveStore.at(str(folder)), settings)
        assert state_of(conn) == before
        assert files_in(folder) == []
    finally:
        subprocess.run(["chattr", "-i", str(folder)], capture_output=True, check=False)
        folder.chmod(0o700)


class _FullDisk(io.RawIOBase):
    """A file that takes ``room`` bytes, then fails as a full disk does."""

    def __init__(self, inner, room: int):
        self.inner, self.room = inner, room

    def writable(self) -> bool:
        return True

    def write(self, data) -> int:
        self.room -= len(data)
        if self.room < 0:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        self.inner.write(data)
        return len(data)

    def close(self) -> None:
        self.inner.close()
        super().close()


class _FullDiskHandler(pafs.FileSystemHandler):
    """The local filesystem, with a disk that fills after ``room`` bytes of any one file."""

    def __init__(self, room: int):
        self.local, self.room = pafs.LocalFileSystem(), room

    def open_output_stream(self, path, metadata):
        return pa.PythonFile(_FullDisk(self.local.open_output_stream(path), self.room), mode="w")

    def __getattr__(self, name):  # every other operation as the local filesystem does it
        return getattr(self.local, name)

    def get_type_name(self):
        return "full-disk"

    def normalize_path(self, path):
        return path

    def get_file_info(self, paths):
        return self.local.get_file_info(paths)

    def get_file_info_selector(self, selector):
        return self.local.get_file_info(selector)

    def create_dir(self, path, recursive):
        self.local.create_dir(path, recursive=recursive)

    def delete_file(self, path):
        self.local.delete_file(path)

    def move(self, src, dest):
        self.local.move(src, dest)

    def open_input_stream(self, path):
        return self.local.open_input_stream(path)

    def open_input_file(self, path):
        return self.local.open_input_file(path)

    def delete_dir(self, path):
        self.local.delete_dir(path)

    def delete_dir_contents(self, path, missing_dir_ok=False):
        self.local.delete_dir_contents(path, missing_dir_ok=missing_dir_ok)

    def delete_root_dir_contents(self):
        raise OSError("not here")

    def copy_file(self, src, dest):
        self.local.copy_file(src, dest)

    def open_append_stream(self, path, metadata):
        raise OSError("not here")

    def __eq__(self, other):
        return self is other

    def __ne__(self, other):
        return self is not other


def _multiply_rows(raw_conn, times: int) -> None:
    """Each row of the source's table ``times`` more times, under other names and row numbers."""
    raw_conn.execute(
        "INSERT INTO staging.tbl_ae (period, org_code, org_name, attendances, over_4_hours,"
        " rate, published, flag, updated, _load_id, _period, _source_file, _sheet, _row_number,"
        " _is_total) SELECT period, org_code, org_name || g, attendances, over_4_hours, rate,"
        " published, flag, updated, _load_id, _period, _source_file, _sheet,"
        " _row_number + 1000 * g, _is_total FROM staging.tbl_ae, generate_series(1, %s) g",
        (times,),
    )


def test_a_full_disk_mid_write_changes_nothing(conn, raw_conn, db_url, tmp_path, home):
    settings = deprecated_source(conn, db_url, tmp_path, home)
    _multiply_rows(raw_conn, 200)
    folder = tmp_path / "full"
    folder.mkdir()
    store = ArchiveStore(pafs.PyFileSystem(_FullDiskHandler(room=16_384)), str(folder))
    before = state_of(conn)

    with pytest.raises(ArchiveFailed, match="No space left on device"):
        archive_source(conn, "ae", store, settings)

    assert state_of(conn) == before
    assert files_in(folder) == []


def test_a_killed_archive_leaves_the_source_untouched(conn, raw_conn, db_url, tmp_path, home):
    deprecated_source(conn, db_url, tmp_path, home)
    _multiply_rows(raw_conn, 40000)
    rows = raw_conn.execute("SELECT count(*) FROM staging.tbl_ae").fetchone()[0]
    folder = tmp_path / "pq"
    config = tmp_path / "datawarp.toml"
    config.write_text(f"[datawarp]\nhome = '{home}'\n\n[datawarp.lifecycle]\n"
                      f"archive_path = '{folder}'\n")  # fmt: skip
    before = state_of(conn)
    conn.commit()
    known = _datawarp_backends(raw_conn)

    process = subprocess.Popen(
        [sys.executable, "-m", "datawarp", "--database-url", db_url, "--config", str(config),
         "archive", "ae"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    partial = folder / "ae" / f"tbl_ae_archived_{TODAY:%Y%m%d}.parquet.partial"
    deadline = time.monotonic() + 60
    while not (partial.exists() and partial.stat().st_size > 0) and time.monotonic() < deadline:
        assert process.poll() is None, process.communicate()
        time.sleep(0.01)
    time.sleep(0.2)  # well inside the export: the table takes seconds to write and check
    assert process.poll() is None, "the archive finished before it could be interrupted"
    process.send_signal(signal.SIGKILL)
    process.wait()

    _wait_for_backend_to_go(raw_conn, known)
    assert state_of(conn) == before
    assert raw_conn.execute("SELECT count(*) FROM staging.tbl_ae").fetchone()[0] == rows
    assert not (folder / "ae" / partial.name.removesuffix(".partial")).exists()


def _datawarp_backends(raw_conn) -> set[int]:
    rows = raw_conn.execute(
        "SELECT pid FROM pg_stat_activity WHERE datname = current_database()"
        " AND application_name LIKE 'datawarp%'"
    ).fetchall()
    return {pid for (pid,) in rows}


def _wait_for_backend_to_go(raw_conn, known: set[int]) -> None:
    """The server notices the dead client and rolls its transaction back."""
    deadline = time.monotonic() + 30
    while _datawarp_backends(raw_conn) - known:
        assert time.monotonic() < deadline, "the killed archive's session is still there"
        time.sleep(0.05)


def test_the_archive_date_defaults_to_the_grace_period(conn, db_url, tmp_path, home):
    load_source(conn, db_url, tmp_path, home)
    row = deprecate(conn, "ae", "Old", settings_for(db_url, home, deprecation_grace_days=10))
    assert row["archive_after"] == date.fromordinal(TODAY.toordinal() + 10)


class _OneValueChanged(pq.ParquetWriter):
    """A writer that stores a different first ``attendances`` than it was given."""

    def write_table(self, table, row_group_size=None):
        column = table.column("attendances").to_pylist()
        column[0] = (column[0] or 0) + 1
        index = table.column_names.index("attendances")
        changed = pa.array(column, table.schema.field(index).type)
        super().write_table(table.set_column(index, table.field(index), changed), row_group_size)


@pytest.mark.parametrize("verify", ["file", "database"])
def test_a_file_that_differs_from_the_table_is_refused(
    conn, db_url, tmp_path, home, monkeypatch, verify
):
    settings = deprecated_source(conn, db_url, tmp_path, home)
    settings = settings_for(db_url, home, verify=verify)
    before = state_of(conn)
    monkeypatch.setattr(pq, "ParquetWriter", _OneValueChanged)

    with pytest.raises(ArchiveFailed, match="its values differ from the table's"):
        archive_source(conn, "ae", ArchiveStore.at(str(tmp_path / "archive")), settings)

    assert state_of(conn) == before
    assert files_in(tmp_path / "archive") == []


def test_database_verification_and_archive_verify(conn, db_url, tmp_path, home):
    deprecated_source(conn, db_url, tmp_path, home)
    env = {"DATAWARP_HOME": str(home),
           "DATAWARP_LIFECYCLE": json.dumps({"archive_path": str(tmp_path / "pq"),
                                             "verify": "database"})}  # fmt: skip
    archived = run_cli("archive", "ae", "--json", database_url=db_url, env=env)
    assert archived.exit_code == 0, archived.stderr
    record = json.loads(archived.stdout)

    checked = run_cli("archive", "verify", "ae", "--json", database_url=db_url, env=env)
    assert checked.exit_code == 0, checked.stderr
    assert json.loads(checked.stdout)["content_checksum"] == record["content_checksum"]
    assert json.loads(checked.stdout)["rows"] == 26

    # The same file with one value changed: the bytes no longer match the record.
    path = Path(record["path"])
    table = pq.read_table(path)
    index = table.column_names.index("attendances")
    values = table.column(index).to_pylist()
    values[0] += 1
    pq.write_table(table.set_column(index, table.field(index), pa.array(values, pa.int16())), path)
    refused = run_cli("archive", "verify", "ae", database_url=db_url, env=env)
    assert refused.exit_code != 0 and refused.stderr.count("\n") == 1, refused.stderr
    assert "differs from its record" in refused.stderr
