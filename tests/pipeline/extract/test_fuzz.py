"""Mutated files and manifests: the only outcomes are a table or a one-line DataWarpError,
and reading them never takes memory over a bound.

Hypothesis flips, drops and inserts bytes in a CSV, in the XML parts of an xlsx and in a ZIP's
structure, moves cells to far-away addresses, and edits manifest text. A fixed example budget
keeps the run short in CI. Memory is measured in a separate process (its peak RSS is its own,
whatever the test session did before), under an address-space cap so that a file asking for a
huge grid fails the test at once instead of taking the machine's memory.
"""

from __future__ import annotations

import io
import json
import re
import subprocess
import sys
import zipfile

import openpyxl
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from datawarp.core.errors import DataWarpError
from datawarp.pipeline.inspect import open_table
from datawarp.pipeline.manifest import parse_manifest

BUDGET = settings(max_examples=150, deadline=None, derandomize=True,
                  suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
CSV = (b"Period,Org Code,Org Name,Attendances,Rate\n"
       + b"".join(b'2025-09,R%03d,"Trust %d, NHS",%d,%d.5\n' % (i, i, i * 7, i) for i in range(40))
       + b"2025-09,-,England,999,*\n")  # fmt: skip
MANIFEST = ("period: 2025-09\nsources:\n  - source_code: ae\n    path: a.csv\n"
            "    primary_key: [org_code]\n  - source_code: rtt\n    files:\n"
            "      - path: b.xlsx\n        sheet: Data\n")  # fmt: skip


def _xlsx() -> bytes:
    book = openpyxl.Workbook()
    book.active.title = "Data"
    book.active.append(["Org Code", "Attendances", "Published"])
    for number in range(30):
        book.active.append([f"R{number:03d}", number, "2025-09-01"])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


XLSX = _xlsx()


@st.composite
def mutated(draw, data: bytes) -> bytes:
    """A few flips, deletions and insertions of bytes."""
    buffer = bytearray(data)
    for _ in range(draw(st.integers(1, 4))):
        if not buffer:
            break
        at = draw(st.integers(0, len(buffer) - 1))
        action = draw(st.sampled_from(["flip", "drop", "insert", "cut"]))
        if action == "flip":
            buffer[at] = draw(st.integers(0, 255))
        elif action == "drop":
            del buffer[at : at + draw(st.integers(1, 64))]
        elif action == "insert":
            buffer[at:at] = draw(st.binary(min_size=1, max_size=16))
        else:
            del buffer[at:]
    return bytes(buffer)


def _written(factory, name: str, data: bytes):
    path = factory.mktemp("fuzz") / name
    path.write_bytes(data)
    return path


def _read_all(path) -> None:
    """Open and read every row, as a load would; a DataWarpError must be one line."""
    try:
        table = open_table(str(path))
        for _ in table.iter_batches(1000):
            pass
    except DataWarpError as exc:
        assert "\n" not in str(exc) or hasattr(exc, "problems"), str(exc)


@BUDGET
@given(data=mutated(CSV))
def test_mutated_csv(tmp_path_factory, data):
    _read_all(_written(tmp_path_factory, "fuzz.csv", data))


@BUDGET
@given(part=st.sampled_from(["xl/worksheets/sheet1.xml", "xl/workbook.xml", "xl/styles.xml",
                             "[Content_Types].xml"]), data=st.data())  # fmt: skip
def test_mutated_xlsx_parts(tmp_path_factory, part, data):
    path = tmp_path_factory.mktemp("xlsx") / "fuzz.xlsx"
    with zipfile.ZipFile(io.BytesIO(XLSX)) as source, zipfile.ZipFile(path, "w") as target:
        for item in source.infolist():
            body = source.read(item)
            target.writestr(item, data.draw(mutated(body)) if item.filename == part else body)
    _read_all(path)


@BUDGET
@given(data=mutated(XLSX))
def test_mutated_zip_structure(tmp_path_factory, data):
    _read_all(_written(tmp_path_factory, "fuzz.xlsx", data))


MEMORY_BOUND_MB = 512  # reading a few small files peaks near 150 MB; a dense stray grid, GBs
_READ_ALL = """
import resource, sys
resource.setrlimit(resource.RLIMIT_AS, (4 << 30, 4 << 30))
from datawarp.core.errors import DataWarpError
from datawarp.pipeline.inspect import open_table
for path in sys.argv[1:]:
    print(path, file=sys.stderr, flush=True)  # a crash names the file it was reading
    try:
        for _ in open_table(path).iter_batches(1000):
            pass
    except DataWarpError:
        pass
print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)
"""
_REFERENCE = re.compile(rb'(<c r=")([A-Z]+[0-9]+)(")')


@st.composite
def far_cells(draw) -> bytes:
    """The test workbook with some cells moved to far addresses (up to XFD1048576), as a
    stray value typed far from a publisher's table."""
    with zipfile.ZipFile(io.BytesIO(XLSX)) as source:
        sheet = source.read("xl/worksheets/sheet1.xml")
        references = _REFERENCE.findall(sheet)
        for _ in range(draw(st.integers(1, 3))):
            _, old, _ = draw(st.sampled_from(references))
            column = draw(st.sampled_from(["XFD", "BXY", "AAA", "C", "CV"]))
            row = draw(st.sampled_from([1048576, 100001, 40, 2]))
            sheet = sheet.replace(b'r="' + old + b'"', b'r="%s%d"' % (column.encode(), row), 1)
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as target:
            for item in source.infolist():
                body = sheet if item.filename == "xl/worksheets/sheet1.xml" else source.read(item)
                target.writestr(item, body)
    return buffer.getvalue()


@settings(max_examples=3, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture])  # fmt: skip
@given(files=st.lists(st.one_of(far_cells(), mutated(XLSX)), min_size=12, max_size=12),
       texts=st.lists(mutated(CSV), min_size=4, max_size=4))  # fmt: skip
def test_reading_mutated_files_stays_under_the_memory_bound(tmp_path_factory, files, texts):
    folder = tmp_path_factory.mktemp("memory")
    paths = [_written_in(folder, f"book{n}.xlsx", data) for n, data in enumerate(files)]
    paths += [_written_in(folder, f"table{n}.csv", data) for n, data in enumerate(texts)]
    with zipfile.ZipFile(folder / "pack.zip", "w") as archive:
        archive.writestr("inner.xlsx", files[0])
    done = subprocess.run(
        [sys.executable, "-c", _READ_ALL, *map(str, paths), str(folder / "pack.zip")],
        capture_output=True, text=True, timeout=600,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    peak_mb = json.loads(done.stdout.split()[-1])
    assert peak_mb < MEMORY_BOUND_MB, f"peak {peak_mb} MB reading {len(paths) + 1} files"


def _written_in(folder, name: str, data: bytes):
    path = folder / name
    path.write_bytes(data)
    return path


@BUDGET
@given(text=mutated(MANIFEST.encode()))
def test_mutated_manifests(text):
    try:
        parse_manifest(text.decode("utf-8", "replace"))
    except DataWarpError as exc:
        problems = getattr(exc, "problems", [str(exc)])
        assert all("\n" not in problem for problem in problems), problems
