"""Mutated files and manifests: the only outcomes are a table or a one-line DataWarpError.

Hypothesis flips, drops and inserts bytes in a CSV, in the XML parts of an xlsx and in a ZIP's
structure, and edits manifest text. A fixed example budget keeps the run short in CI.
"""

from __future__ import annotations

import io
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


@BUDGET
@given(text=mutated(MANIFEST.encode()))
def test_mutated_manifests(text):
    try:
        parse_manifest(text.decode("utf-8", "replace"))
    except DataWarpError as exc:
        problems = getattr(exc, "problems", [str(exc)])
        assert all("\n" not in problem for problem in problems), problems
