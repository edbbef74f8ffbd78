"""The Arrow fast path for CSV gives exactly what the Python path gives, or steps aside.

Every comparison opens the same file twice: once with ``DATAWARP_NO_ARROW=1`` (the Python
path, the reference) and once normally (the fast path), then compares the columns (name,
header, type, counts), the row count, the totals rows, the row levels, the layout, the
warnings, and every value of every row (``_is_total`` and ``_level`` included):
``iter_arrow_batches`` against ``iter_batches``. Numeric values travel as
text in Arrow; they must be the very Decimal the Python path makes (same digits, exponent).
"""

from __future__ import annotations

import contextlib
import csv
import datetime as dt
import io
import os
import tempfile
import threading
import time
import zipfile
from decimal import Decimal
from pathlib import Path

import pyarrow as pa
import pytest
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from datawarp.core.errors import BadInputError
from datawarp.core.pgtypes import PG_TYPE_KEY
from datawarp.pipeline.extract import arrow_stream
from datawarp.pipeline.extract.arrow_values import PY_WHITESPACE, analyse
from datawarp.pipeline.extract.engine import ExtractedTable
from datawarp.pipeline.extract.env_limits import NO_ARROW_ENV
from datawarp.pipeline.extract.values import MISSING_MARKERS, classify
from datawarp.pipeline.inspect import open_table

SAMPLE_CSVS = [
    "ae_monthly_provider/Monthly-AE-September-2023.csv",
    "ambco/AmbCO-up-to-20200731.csv",
    "ambco/AmbCO-up-to-Nov-2019-CSV.csv",
    "ambsys/AmbSYS-to-July-2020.csv",
    "ambsys/AmbSYS-up-to-March-2020-CSV.csv",
    "mhsds_4ww/MHSDS%20Data_4WW_AprPerf_2024_v2.csv",
    "rtt_full_csv_subset_DERIVED/20241130-RTT-November-2024-RBD.csv",
    "proms_csv_datapack/Equality Hip and Knee Replacement 1617.csv.zip",
    "proms_csv_datapack/Key Facts Hip and Knee Replacement 1617.csv.zip",
    "proms_csv_datapack/Key Facts Hip and Knee Replacements 1718.csv.zip",
    "proms_csv_datapack/Time Series Hip and Knee Replacement 1819.csv.zip",
]


# ---------------------------------------------------------------------------------------------
# The comparison


@contextlib.contextmanager
def python_path():
    """The reference: DATAWARP_NO_ARROW=1 for the duration."""
    previous = os.environ.get(NO_ARROW_ENV)
    os.environ[NO_ARROW_ENV] = "1"
    try:
        yield
    finally:
        if previous is None:
            del os.environ[NO_ARROW_ENV]
        else:
            os.environ[NO_ARROW_ENV] = previous


@contextlib.contextmanager
def small_blocks(size: int):
    """Batches of ``size`` bytes of file, so a small file spans several batches."""
    previous, arrow_stream.BLOCK_BYTES = arrow_stream.BLOCK_BYTES, size
    try:
        yield
    finally:
        arrow_stream.BLOCK_BYTES = previous


def open_both(path: Path, cache: Path, **options) -> tuple[ExtractedTable, ExtractedTable]:
    with python_path():
        python = open_table(str(path), cache_dir=cache, **options)
    assert not python.supports_arrow and python.iter_arrow_batches() is None
    return python, open_table(str(path), cache_dir=cache, **options)


def column_facts(table: ExtractedTable) -> list[tuple]:
    return [
        (c.name, c.original_header, c.pg_type, c.suppressed_count, c.null_count,
         c.is_fully_suppressed, c.source_column, c.censored_count, c.censored_values,
         c.kept_text_by, c.unit, c.originals_of)
        for c in table.columns
    ]  # fmt: skip


def arrow_rows(table: ExtractedTable, batch_size: int = 7) -> list[tuple]:
    rows = []
    for batch in table.iter_arrow_batches(batch_size):
        assert isinstance(batch, pa.RecordBatch) and batch.num_rows <= batch_size
        rows.extend(zip(*(column.to_pylist() for column in batch.columns), strict=True))
    return rows


def same_value(fast: object, reference: object) -> bool:
    if isinstance(reference, Decimal):  # numeric: Arrow carries the Decimal's text
        return isinstance(fast, str) and Decimal(fast).as_tuple() == reference.as_tuple()
    return type(fast) is type(reference) and fast == reference


def assert_same(python: ExtractedTable, arrow: ExtractedTable) -> int:
    """Everything the two paths report agrees, row by row; returns the rows compared."""
    assert column_facts(arrow) == column_facts(python)
    assert arrow.row_count == python.row_count
    assert arrow.total_rows == python.total_rows
    assert arrow.row_levels == python.row_levels
    assert arrow.layout == python.layout
    assert arrow.warnings == python.warnings
    assert arrow.metadata == python.metadata
    assert (arrow.encoding, arrow.delimiter) == (python.encoding, python.delimiter)
    reference = [row for batch in python.iter_batches(1000) for row in batch]
    if not arrow.supports_arrow:
        assert arrow.iter_arrow_batches() is None
        return 0
    fast = arrow_rows(arrow)
    assert len(fast) == len(reference) == python.row_count
    for number, (got, want) in enumerate(zip(fast, reference, strict=True)):
        assert len(got) == len(want)
        for position, (a, b) in enumerate(zip(got, want, strict=True)):
            assert same_value(a, b), (
                number,
                python.column_names + ["_row", "_total", "_level"],
                position,
                a,
                b,
            )
    return len(fast)


# ---------------------------------------------------------------------------------------------
# Genuine NHS files


@pytest.mark.samples
@pytest.mark.parametrize("relative_path", SAMPLE_CSVS)
def test_every_sample_csv_takes_the_fast_path_with_identical_results(
    nhs_samples, relative_path, tmp_path
):
    python, arrow = open_both(nhs_samples / relative_path, tmp_path)
    assert arrow.supports_arrow, "every sample CSV is plain"
    assert assert_same(python, arrow) == python.row_count > 0


def test_sample_list_covers_every_csv(nhs_samples):
    found = {
        p.relative_to(nhs_samples).as_posix()
        for p in nhs_samples.rglob("*")
        if p.suffix.lower() in (".csv", ".zip")
    }
    assert found == set(SAMPLE_CSVS)


# ---------------------------------------------------------------------------------------------
# Generated files


def _cells(*values: str):
    return st.sampled_from(values)


_DATES = st.dates(dt.date(1950, 1, 1), dt.date(2060, 12, 31))
FAMILIES = {
    "int": st.integers(-40_000, 40_000).map(str),
    "wide int": st.integers(-(2**66), 2**66).map(str),
    "grouped": st.tuples(st.sampled_from(["", "-", "+", "£", "$", "-$"]), st.integers(0, 10**13))
    .map(lambda t: f"{t[0]}{t[1]:,}"),
    "decimal": st.decimals(-(10**6), 10**6, places=3, allow_nan=False).map(str),
    "float text": st.floats(-1e6, 1e6, allow_nan=False).map(lambda f: f"{f:.{abs(int(f)) % 5}f}"),
    "percent": st.decimals(0, 100, places=2, allow_nan=False).map(lambda d: f"{d}%"),
    "censored": st.tuples(
        st.sampled_from(["<", "> ", "<=", "\u2264", "~", "capped at ", "", ""]),
        st.sampled_from(["5", "52", "1,000", "0.5", "100%", "05", "1,5", "\u0663"]),
        st.sampled_from(["+", "*", "\u2020", " (capped)", "", ""]),
    ).map("".join),
    "odd numbers": _cells("5.", ".5", "-.50", "+0.0", "1e5", "2E-3", "1.5e+2", "-0", "0.000",
                          "12.0", "1,234.50", "£1,200", "€3.5", "$.5", "1,23", "0,123", "007",
                          "1.2.3", "12345678901234567890", "9223372036854775808", "٣"),
    "code": st.integers(0, 99_999).map(lambda n: f"0{n}"),
    "uk date": _DATES.map(lambda d: d.strftime("%d/%m/%Y")),
    "short date": _DATES.map(lambda d: f"{d.day}-{d.month}-{d.strftime('%y')}"),
    "iso date": _DATES.map(dt.date.isoformat),
    "moment": st.datetimes(dt.datetime(1990, 1, 1), dt.datetime(2040, 1, 1)).map(
        lambda m: m.isoformat(sep=" " if m.microsecond % 2 else "T", timespec="seconds")
    ),
    "month": _DATES.map(lambda d: d.strftime(["%b-%y", "%B %Y", "%Y-%b", "%d %b %Y"][d.day % 4])),
    "odd dates": _cells("31/02/2025", "2025-04", "Sept-24", "Sep-24", "1 Apr 25", "2025-13-01",
                        "29/02/2024 10:30", "2024-01-01 00:00", "2024-01-01T12:00:00.5",
                        "Apr-25", "Foo-25", "5-Apr-2025"),
    "boolean": _cells("true", "FALSE", "Yes", "no", "Y", "N", "True"),
    "text": st.text(
        st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r\n"),
        min_size=1, max_size=10,
    ),
    "words": _cells("Leeds", "NHS ENGLAND NORTH WEST ", "a,b", 'say "hi"', "O'Neil",
                    "Zoë", "  padded  ", "x y", "İstanbul", "ß", "N/A Trust"),
    "totals": _cells("England", "TOTAL", " total ", "All Providers", "ENGLAND TOTAL", "Totals",
                     "Leeds", "York", "National", "Englandx", "ENGLAND\xa0", "ENGLAND*", "Total4",
                     "England5", "England (Excluding Independent Sector)", "Total [note 2]",
                     "Total 4", "England\u00b9", "ENGLAND\u00a0*", "Totally", "england (x"),
    "ods codes": _cells("Eng", "E92000001", "Y56", "Y63", "Q35", "QE1", "QHG", "RRU", "R1F",
                        "RXX01", "TAF", "NN4", "AAH", "8J094", "C83023", "Y00751", "03V", "5J9",
                        "E38000004", "E54000008", "108", "APR", "OTHER", "rru", " RRU ", "-"),
    "org names": _cells("Health Education East Midlands", "NHS ENGLAND SOUTH WEST ",
                        "North East England NHS Trust", "NHS Corby CCG", "Leeds ICB",
                        "SOUTH EAST COMMISSIONING HUB (14G)", "London", "Health Education England"),
    "breakdowns": _cells("England", "Provider", "ICB of GP Practice or Residence",
                         "CCG of GP Practice", "Commissioning Region", "England; Age Group",
                         "Local Authority of Residence"),
}  # fmt: skip
MARKERS = st.sampled_from(sorted(MISSING_MARKERS) + [" * ", "X", "NA", "[Z]", "N/a"])
BLANKS = _cells("", " ", "  ", "\t", "\xa0", "\u3000")
HEADERS = ["Period", "Org Code", "Org Name", "Attendances", "Rate %", "Breaches", "Region",
           "Value", "Date", "Flag", "Median wait (mins)", "Cost (£)", "Code", "Name",
           "Percent within 18 weeks", "95th percentile", "Breakdown", "Parent Org",
           "Region Code", "Organisation Type", "Provider"]  # fmt: skip


@st.composite
def csv_files(draw) -> tuple[bytes, str]:
    """(bytes, encoding label) of an NHS-like CSV: typed columns with markers and blanks."""
    width = draw(st.integers(2, 5))
    families = draw(st.lists(st.sampled_from(sorted(FAMILIES)), min_size=width, max_size=width))
    header = draw(st.lists(st.sampled_from(HEADERS), min_size=width, max_size=width, unique=True))
    rows = []
    for _ in range(draw(st.integers(1, 30))):
        row = []
        for family in families:
            roll = draw(st.integers(0, 29))
            if roll < 2:
                cell = draw(MARKERS)
            elif roll < 4:
                cell = draw(BLANKS)
            elif roll == 4:
                cell = draw(FAMILIES[draw(st.sampled_from(sorted(FAMILIES)))])
            elif roll in (5, 6):  # censored values and percentages among numbers and words
                cell = draw(FAMILIES["censored" if roll == 5 else "percent"])
            else:
                cell = draw(FAMILIES[family])
            if draw(st.integers(0, 14)) == 0:
                cell = draw(_cells(" ", "\xa0", "\t")) + cell + draw(_cells("", " ", "\u2003"))
            row.append(cell)
        rows.append(row)
    delimiter = draw(st.sampled_from([",", ",", ";", "\t", "|"]))
    quoting = draw(st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]))
    text = io.StringIO()
    writer = csv.writer(text, delimiter=delimiter, quoting=quoting, lineterminator="\r\n")
    writer.writerow(header)
    writer.writerows(rows)
    encoding = draw(st.sampled_from(["utf-8", "utf-8-sig", "cp1252", "utf-16"]))
    try:
        return text.getvalue().encode(encoding), encoding
    except UnicodeEncodeError:
        return text.getvalue().encode("utf-8"), "utf-8"


@settings(
    max_examples=int(os.environ.get("ARROW_EXAMPLES", 300)),
    suppress_health_check=[HealthCheck.too_slow],
)
@given(csv_files(), st.booleans(), st.sampled_from([300, 1000, arrow_stream.BLOCK_BYTES]))
def test_generated_csvs_give_identical_results(generated, zipped, block_bytes):
    data, encoding = generated
    with tempfile.TemporaryDirectory() as folder, small_blocks(block_bytes):
        path = Path(folder) / "generated.csv"
        path.write_bytes(data)
        if zipped:
            path = path.with_suffix(".zip")
            with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
                archive.write(Path(folder) / "generated.csv", "data/generated.csv")
        try:
            python, arrow = open_both(path, Path(folder) / "cache")
        except BadInputError as exc:  # neither path loads it: they must say the same
            with pytest.raises(BadInputError) as again:
                open_table(str(path), cache_dir=Path(folder) / "cache")
            assert again.value.message == exc.message
            event("not loadable")
            return
        event(f"fast path: {arrow.supports_arrow} ({encoding})")
        assert_same(python, arrow)


# Rows of a file that mixes levels: (region, code, name) at every level, totals decorated or
# not, codes DataWarp cannot place, and hierarchy columns that name the row's own group.
LEVEL_ROWS = [
    ("Eng", "Eng", "England"), ("-", "-", "ENGLAND*"), ("", "", "England (Excluding IS)"),
    ("", "E92000001", "All of England"), ("TOTAL", "TOTAL", "TOTAL"), ("", "", "Total4"),
    ("London", "Y56", "London"), ("Y99", "Y99", "Old region"), ("", "", "NHS England North West"),
    ("Y56", "QE1", "NHS Somewhere ICB"), ("Y56", "RRU", "London Ambulance NHS Trust"),
    ("Y56", "R1F", "North East England NHS Trust"), ("Y58", "C83023", "A Practice"),
    ("Y58", "03V", "NHS Corby CCG"), ("Y58", "DD401", "Unplaced Ltd"), ("Y58", "", ""),
    ("Unknown", "Unknown", "Unknown"), ("-", "108", "A Council"), ("", "", "Health Education X"),
]  # fmt: skip
LEVEL_HEADERS = [
    ("Region", "Org Code", "Org Name"), ("Region Code", "Provider Code", "Provider Name"),
    ("Parent Org", "Code", "Name"), ("SHA", "Org Code", "Name"), ("Breakdown", "Code", "Name"),
    ("Country", "Org Code", "Org Name"),
]  # fmt: skip


@settings(max_examples=int(os.environ.get("ARROW_EXAMPLES", 150)))
@given(
    st.sampled_from(LEVEL_HEADERS),
    st.lists(st.sampled_from(LEVEL_ROWS), min_size=1, max_size=40),
    st.sampled_from([60, 200, arrow_stream.BLOCK_BYTES]),
)
def test_files_that_mix_levels_give_identical_levels(header, rows, block_bytes):
    """Levels and totals agree on both paths, whichever rows meet in a file and a batch."""
    with tempfile.TemporaryDirectory() as folder, small_blocks(block_bytes):
        path = Path(folder) / "levels.csv"
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow([*header, "Value"])
        writer.writerows([*row, str(number)] for number, row in enumerate(rows))
        path.write_text(text.getvalue(), encoding="utf-8")
        python, arrow = open_both(path, Path(folder) / "cache")
        assert arrow.supports_arrow
        assert assert_same(python, arrow) == len(rows)
        event(f"levels: {sorted(arrow.row_levels)}")


_EDGES = ["0", "00", "01", "0.5", "00.5", "5.0", "5.", ".5", "1.2.3", "10.00", "32767", "32768",
          "99999", "2147483647", "2147483648", "9999999999", "123456789012345678",
          "9223372036854775807", "9223372036854775808", "1.000", "0.0"]  # fmt: skip
PLAIN_NUMBERS = st.one_of(
    st.integers(0, 3 * 10**10).map(str),
    st.sampled_from(_EDGES),
    st.tuples(st.integers(0, 10**6), st.integers(0, 999)).map(lambda t: f"{t[0]}.{t[1]}"),
)


@settings(max_examples=int(os.environ.get("ARROW_EXAMPLES", 300)))
@given(st.lists(st.lists(PLAIN_NUMBERS, min_size=2, max_size=2), min_size=1, max_size=40))
def test_columns_of_plain_numbers_give_identical_results(rows):
    """Digits and points only: the fast screens (no regex) decide these."""
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "numbers.csv"
        path.write_text("Count,Rate\n" + "".join(f"{a},{b}\n" for a, b in rows))
        with small_blocks(100):
            python, arrow = open_both(path, Path(folder) / "cache")
            assert arrow.supports_arrow
            assert_same(python, arrow)


@settings(max_examples=int(os.environ.get("ARROW_EXAMPLES", 500)))
@given(st.lists(st.one_of(*FAMILIES.values(), MARKERS, BLANKS), min_size=1, max_size=30))
def test_vectorised_classification_matches_classify(values):
    analysis = analyse(pa.array(values, pa.string()))
    for position, value in enumerate(values):
        kind, parsed = classify(value)
        assert analysis.kinds[position].as_py() == kind, value
        if position in analysis.parsed:
            assert analysis.parsed[position] == parsed
        elif kind == 2:  # INT went the vectorised way
            assert analysis.ints[position].as_py() == parsed, value


def test_python_whitespace_list_is_complete():
    assert PY_WHITESPACE == "".join(chr(c) for c in range(0x110000) if chr(c).isspace())


# ---------------------------------------------------------------------------------------------
# Particular files


def write(path: Path, text: str, encoding: str = "utf-8") -> Path:
    path.write_bytes(text.encode(encoding))
    return path


PLAIN = (
    "Period,Org Code,Org Name,Attendances,Rate,Date\n"
    '2025-09,R01,Leeds,"1,200",67.30%,01/09/2025\n'
    '2025-09,R02,"York, North",*,0.5,02/09/2025\n'
    "2025-09,-,England,1200,12.0,03/09/2025\n"
)


def test_plain_csv_types_totals_and_row_numbers(tmp_path):
    python, arrow = open_both(write(tmp_path / "plain.csv", PLAIN), tmp_path)
    assert arrow.supports_arrow
    assert assert_same(python, arrow) == 3
    assert [c.pg_type for c in arrow.columns] == [
        "text",
        "text",
        "text",
        "smallint",
        "numeric",
        "date",
    ]
    (batch,) = list(arrow.iter_arrow_batches())
    assert batch.column("_row_number").to_pylist() == [2, 3, 4]
    assert batch.column("_is_total").to_pylist() == [False, False, True]
    assert batch.column("rate").to_pylist() == ["0.6730", "0.5", "12"]  # 67.30% as a fraction
    assert batch.column("attendances").type == pa.int16()
    assert batch.schema.field("rate").metadata == {PG_TYPE_KEY: b"numeric"}


def test_no_arrow_env_turns_the_fast_path_off(tmp_path, monkeypatch):
    path = write(tmp_path / "plain.csv", PLAIN)
    monkeypatch.setenv(NO_ARROW_ENV, "1")
    assert not open_table(str(path), cache_dir=tmp_path).supports_arrow
    monkeypatch.setenv(NO_ARROW_ENV, "0")
    assert open_table(str(path), cache_dir=tmp_path).supports_arrow


@pytest.mark.parametrize("encoding", ["cp1252", "utf-16", "utf-8-sig"])
def test_encodings_are_decoded_like_the_python_path(tmp_path, encoding):
    text = PLAIN.replace("Leeds", "Café £5 – Leeds") + "2025-09,R03,Ærø\xa0,5,1.5,04/09/2025\n"
    python, arrow = open_both(write(tmp_path / "enc.csv", text, encoding), tmp_path)
    assert arrow.supports_arrow and arrow.encoding == encoding
    assert assert_same(python, arrow) == 4


def test_cp1252_bytes_cp1252_leaves_undefined_decode_like_the_python_path(tmp_path):
    path = tmp_path / "undefined.csv"
    path.write_bytes(PLAIN.encode().replace(b"Leeds", b"Le\x81eds \xa3"))
    python, arrow = open_both(path, tmp_path)
    assert arrow.encoding == "cp1252" and arrow.supports_arrow
    assert_same(python, arrow)


def test_csv_inside_a_zip(tmp_path):
    archive = tmp_path / "data.zip"
    with zipfile.ZipFile(archive, "w") as zipped:
        zipped.writestr("folder/plain.csv", PLAIN)
        zipped.writestr("__MACOSX/._plain.csv", "junk")
    python, arrow = open_both(archive, tmp_path)
    assert arrow.supports_arrow and arrow.member == "folder/plain.csv"
    assert assert_same(python, arrow) == 3


FALLBACKS = {
    "notes at the end": PLAIN + "\nNotes:\n* = suppressed\n",
    "a notes line straight after the data": PLAIN + "Source: NHS England,,,,,\n",
    "blank line inside": PLAIN + "\n2025-09,R04,Hull,5,1,04/09/2025\n",
    "a line break inside a quoted value": PLAIN.replace('"York, North"', '"York,\nNorth"'),
    "a title line above the header": "A&E attendances\n" + PLAIN,
    "a ragged row": PLAIN + "2025-09,R05,Bath\n",
    "trailing empty fields": PLAIN.replace("01/09/2025\n", "01/09/2025,,\n"),
    "utf-8 with a stray cp1252 byte": PLAIN.replace("Leeds", "Café") + "x,\udca3,y,1,2,3\n",
    "one column": "Code\nR01\nR02\n",
    "a blank line at the end": PLAIN + "\n",
    "a CR in a value": PLAIN.replace('"York, North"', '"York\rNorth"'),
}


@pytest.mark.parametrize("case", sorted(FALLBACKS))
def test_unusual_files_fall_back_to_the_python_path(tmp_path, case):
    path = tmp_path / "unusual.csv"
    path.write_bytes(FALLBACKS[case].encode("utf-8", "surrogateescape"))
    try:
        python, arrow = open_both(path, tmp_path)
    except BadInputError as exc:
        assert case == "a ragged row", exc
        with pytest.raises(BadInputError, match="ragged row"):
            open_table(str(path), cache_dir=tmp_path)
        return
    assert not arrow.supports_arrow
    assert_same(python, arrow)


def test_one_value_rows_that_are_not_notes_stay_on_the_fast_path(tmp_path):
    text = PLAIN + ",,Lonely,,,\n"
    python, arrow = open_both(write(tmp_path / "sparse.csv", text), tmp_path)
    assert arrow.supports_arrow
    assert assert_same(python, arrow) == 4


def test_batches_are_re_readable_and_a_changed_file_is_refused(tmp_path):
    path = write(tmp_path / "plain.csv", PLAIN)
    table = open_table(str(path), cache_dir=tmp_path)
    first = [b.to_pylist() for b in table.iter_arrow_batches(2)]
    assert [len(b) for b in first] == [2, 1]
    assert [b.to_pylist() for b in table.iter_arrow_batches(2)] == first
    with pytest.raises(ValueError):
        next(table.iter_arrow_batches(0))
    path.write_text(PLAIN + "2025-09,R09,Hull,1,1,05/09/2025\n")
    with pytest.raises(BadInputError, match="changed while it was being read"):
        list(table.iter_arrow_batches())


@pytest.mark.parametrize("form", ["utf-8", "cp1252", "zip"])
def test_big_file_streams_in_several_batches(tmp_path, monkeypatch, form):
    monkeypatch.setattr(arrow_stream, "BLOCK_BYTES", 4096)
    monkeypatch.setattr(arrow_stream, "THROTTLE_WAIT", 30.0)  # a stalled read would show
    lines = [
        f"2025-{1 + n % 12:02d},R{n % 50:03d},Trust {n % 50} £,{n},{n % 7}.{n % 3}5,"
        + ("England" if n % 500 == 0 else "Leeds")
        for n in range(5000)
    ]
    text = "Period,Code,Name,Count,Rate,Area\n" + "\n".join(lines) + "\n"
    path = write(tmp_path / "big.csv", text, "utf-8" if form == "zip" else form)
    if form == "zip":
        with zipfile.ZipFile(tmp_path / "big.zip", "w", zipfile.ZIP_DEFLATED) as archive:
            archive.write(path, "big.csv")
        path = tmp_path / "big.zip"
    started = time.perf_counter()
    python, arrow = open_both(path, tmp_path)
    batches = list(arrow.iter_arrow_batches(100_000))
    assert len(batches) > 10  # one per 4 KiB block: never the whole file at once
    assert assert_same(python, arrow) == 5000
    assert len(arrow.total_rows) == 10
    assert time.perf_counter() - started < 20


def test_opening_the_reader_may_read_past_the_window_before_the_first_batch():
    """pyarrow reads the header's blocks when the reader opens, and no batch releases them:
    the first batch is awaited from the start, or with small blocks (or a long header) a
    window of two blocks waited for the timeout before the first batch (seen: 10 s a file)."""
    stream = arrow_stream._Throttled(io.BytesIO(bytes(1000)), window=2)
    for _ in range(3):
        stream.read(10)
    assert stream._has_room()  # room for a fourth read: opening the reader does not wait
    with stream.hungry():  # the first batch asked for, then taken:
        pass
    stream.release()
    assert not stream._has_room()  # from then on, two blocks ahead of the batches taken
    stream.release()
    assert stream._has_room()


def test_stopping_early_leaves_no_reader_behind(tmp_path, monkeypatch):
    monkeypatch.setattr(arrow_stream, "BLOCK_BYTES", 4096)
    text = "Code,Count\n" + "".join(f"R{n},{n}\n" for n in range(20_000))
    table = open_table(str(write(tmp_path / "long.csv", text)), cache_dir=tmp_path)
    batches = table.iter_arrow_batches(10)
    assert next(batches).num_rows == 10
    batches.close()
    left = {"datawarp-csv-read", "datawarp-csv-convert"}  # pass 2 parses and converts apart
    assert not [t for t in threading.enumerate() if t.name in left]
