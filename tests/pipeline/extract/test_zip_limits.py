"""ZIP members past the size or ratio limits are refused while they unpack; scratch folders
of dead processes are swept."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile

import pytest

from datawarp.core.errors import BadInputError
from datawarp.pipeline.extract import zip_limits
from datawarp.pipeline.inspect import open_table


def _zip_with_csv(path, megabytes: int):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("data.csv", "w") as member:
            member.write(b"Code,Count\n")
            line = b"R1,1\n" * 200_000  # 1 MB
            for _ in range(megabytes):
                member.write(line)
    return path


def _scratch_folders() -> set[str]:
    return {p.name for p in zip_limits.Path(zip_limits.tempfile.gettempdir()).glob(
        f"{zip_limits.SCRATCH_PREFIX}{os.getpid()}-*")}  # fmt: skip


def test_a_member_over_the_byte_limit_is_refused_while_it_unpacks(tmp_path, monkeypatch):
    path = _zip_with_csv(tmp_path / "big.zip", 5)
    monkeypatch.setenv(zip_limits.MAX_BYTES_ENV, "1000000")
    with pytest.raises(BadInputError, match=r"big.zip!data.csv unpacks to more than 1,000,000"):
        table = open_table(str(path))
        [row for batch in table.iter_batches() for row in batch]


def test_a_member_compressing_too_well_is_refused_as_a_bomb(tmp_path, monkeypatch):
    path = _zip_with_csv(tmp_path / "bomb.zip", 5)
    monkeypatch.setattr(zip_limits, "RATIO_CHECKED_AFTER", 1 << 20)
    with pytest.raises(BadInputError, match=r"bomb.zip!data.csv unpacks to over \d+ times"):
        table = open_table(str(path))
        [row for batch in table.iter_batches() for row in batch]


def test_an_excel_member_over_the_limit_leaves_no_scratch_folder(tmp_path, monkeypatch):
    import openpyxl

    book = openpyxl.Workbook()
    for row in range(2000):
        book.active.append([f"R{row}", row, "text " * 20])
    book.save(tmp_path / "book.xlsx")
    with zipfile.ZipFile(tmp_path / "books.zip", "w", zipfile.ZIP_DEFLATED) as archive:
        archive.write(tmp_path / "book.xlsx", "book.xlsx")
    before = _scratch_folders()
    monkeypatch.setenv(zip_limits.MAX_BYTES_ENV, "10000")
    with pytest.raises(BadInputError, match="unpacks to more than 10,000 bytes"):
        open_table(str(tmp_path / "books.zip"))
    assert _scratch_folders() == before


def test_scratch_folders_of_dead_processes_are_swept(tmp_path):
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True, check=True).stdout.strip()  # fmt: skip
    dead = tmp_path / f"{zip_limits.SCRATCH_PREFIX}{gone}-abc"
    alive = tmp_path / f"{zip_limits.SCRATCH_PREFIX}{os.getpid()}-def"
    for folder in (dead, alive):
        folder.mkdir()
        (folder / "member.xlsx").write_bytes(b"x")
    assert zip_limits.sweep_scratch(tmp_path) == [dead]
    assert not dead.exists() and alive.exists()
