"""NHS-style A&E provider files (xlsx and CSV) for the demo, tests and benchmarks.

The shapes imitate NHS England's monthly "A&E Attendances and Emergency Admissions" provider
files: a ``Title:``/``Period:`` key-value block, a 'Provider Level Data' banner with a stray
count, a two-row grouped header with merged bands and blank spacer columns, an England row
first, suppressed cells (``*`` and ``-``) and numbered notes under the table. The numbers come
from :mod:`datawarp.samplegen_data`. Public entry points are re-exported by
:mod:`datawarp.samplegen`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from pathlib import Path

from openpyxl import Workbook
from openpyxl.styles import Alignment, Font

from datawarp.demo.samplegen_data import (
    MONTH_NAMES,
    Provider,
    make_ae_data,
    month_name,
    month_parts,
    publication_date,
)

# ---------------------------------------------------------------------------------------------
# The xlsx layout: key columns, then bands of (sub-header, measure), a spacer between groups

KEY_HEADERS = {"Period": "period", "Region": "region", "Org Code": "code", "Org Name": "name"}
BREACH_BAND = "A&E attendances > 4 hours from arrival to admission, transfer or discharge"


def ae_layout(version: int) -> tuple[list[str], list[tuple[str, list[tuple[str, str]]]]]:
    """(key column headers, bands) of a layout version (1: August 2025, 2: September 2025)."""
    if version not in (1, 2):
        raise ValueError(f"layout_version must be 1 or 2, not {version!r}")
    attendances = [
        ("Type 1 Departments - Major A&E", "att_t1"),
        ("Type 2 Departments - Single Specialty", "att_t2"),
        ("Other A&E Departments", "att_t3"),
        ("Total attendances", "att_total"),
    ]
    keys = ["Period", "Region", "Org Code", "Org Name"]
    waits = "4-12 hs"  # the published typo; fixed in version 2
    if version == 2:
        attendances.insert(3, ("Booked Appointments", "att_booked"))
        keys = ["Period", "Org Code", "Org Name", "Region"]
        waits = "4-12 hrs"
    bands = [
        ("A&E attendances", attendances),
        (
            BREACH_BAND,
            [
                ("Type 1 Departments - Major A&E", "br_t1"),
                ("Type 2 Departments - Single Specialty", "br_t2"),
                ("Other A&E Departments", "br_t3"),
                ("Total Attendances > 4 hours", "br_total"),
            ],
        ),
        (
            "Emergency Admissions",
            [
                ("Emergency Admissions via Type 1 A&E", "adm_t1"),
                ("Emergency Admissions via Type 2 A&E", "adm_t2"),
                ("Emergency Admissions via Other A&E", "adm_t3"),
                ("Total Emergency Admissions via A&E", "adm_ae"),
                ("Other Emergency admissions (i.e not via A&E)", "adm_other"),
                ("Total Emergency Admissions", "adm_total"),
            ],
        ),
        (
            "Waits from decision to admit to admission",
            [(waits, "dta_4_12"), ("12+ hrs", "dta_12")],
        ),
    ]
    return keys, bands


def ae_xlsx_name(period: str) -> str:
    year, month = month_parts(period)
    return f"Monthly-AE-{MONTH_NAMES[month - 1]}-{year}.xlsx"


def write_ae_provider_xlsx(
    folder: Path | str,
    period: str = "2025-09",
    *,
    providers: int = 40,
    seed: int = 0,
    layout_version: int = 1,
) -> Path:
    """The monthly A&E provider workbook: 'Cover', 'Provider Level Data', hidden 'Lookup'."""
    data = make_ae_data(period, providers, seed)
    keys, bands = ae_layout(layout_version)
    workbook = Workbook()
    cover = workbook.active
    cover.title = "Cover"
    _write_cover(cover, period)
    sheet = workbook.create_sheet("Provider Level Data")
    _write_title_block(sheet, period)
    columns = _write_header(sheet, keys, bands, len(data.providers))
    england = {"period": period, "region": "-", "code": "-", "name": "England"}
    rows = [({**england, **data.england}, 16)]  # row 15 stays blank under the header
    rows += [
        ({"period": period, **_key_cells(p), **v}, 17 + i)
        for i, (p, v) in enumerate(zip(data.providers, data.values, strict=True))
    ]
    for cells, row in rows:
        for column, field in columns.items():
            sheet.cell(row, column, cells[field])
    _write_notes(sheet, 17 + len(data.providers) + 1)
    sheet.column_dimensions["D" if layout_version == 1 else "C"].width = 48
    lookup = workbook.create_sheet("Lookup")
    lookup.append(["Org Code", "Org Name", "Region"])
    for provider in data.providers:
        lookup.append([provider.code, provider.name, provider.region])
    lookup.sheet_state = "hidden"
    path = Path(folder) / ae_xlsx_name(period)
    workbook.properties.created = dt.datetime(2000, 1, 1)
    workbook.save(path)
    return path


def _key_cells(provider: Provider) -> dict[str, str]:
    return {"region": provider.region, "code": provider.code, "name": provider.name}


def _write_cover(sheet, period: str) -> None:
    bold = Font(bold=True, size=14)
    sheet["A1"] = "A&E Attendances and Emergency Admissions"
    sheet["A1"].font = bold
    sheet["A3"] = f"Monthly provider level data, {month_name(period)}"
    sheet["A5"] = "Contents"
    sheet["A6"] = "Provider Level Data - attendances, 4-hour performance and admissions"
    sheet["A8"] = "Synthetic data generated by DataWarp for demonstration and testing."
    sheet["A9"] = "The figures do not describe any real organisation."


def _write_title_block(sheet, period: str) -> None:
    lines = [
        ("Title:", "A&E Attendances and Emergency Admissions"),
        ("Summary:", "Monthly A&E attendances and emergency admissions by provider"),
        ("Period:", month_name(period)),
        ("Source:", "Monthly Situation Report (MSitAE)"),
        ("Basis:", "Provider"),
        ("Published:", publication_date(period)),
        ("Revised:", None),
        ("Status:", "Published (Finalised)"),
        ("Contact:", "england.aestats@example.nhs.net"),
    ]
    for row, (key, value) in enumerate(lines, start=1):
        sheet.cell(row, 1, key).font = Font(bold=True)
        cell = sheet.cell(row, 2, value)
        if isinstance(value, dt.date):
            cell.number_format = "dd/mm/yyyy"
            cell.alignment = Alignment(horizontal="left")


def _write_header(sheet, keys: list[str], bands, providers: int) -> dict[int, str]:
    """Banner (row 11), band row (13), sub-header row (14); returns column -> field."""
    bold = Font(bold=True)
    sheet.cell(11, 1, "Provider Level Data").font = Font(bold=True, size=12)
    sheet.merge_cells(start_row=11, start_column=1, end_row=11, end_column=3)
    columns: dict[int, str] = {}
    for column, header in enumerate(keys, start=1):
        sheet.cell(14, column, header).font = bold
        columns[column] = KEY_HEADERS[header]
    column = len(keys) + 2  # one blank spacer column
    for band, subs in bands:
        sheet.cell(13, column, band).font = bold
        sheet.cell(13, column).alignment = Alignment(horizontal="center", wrap_text=True)
        sheet.merge_cells(
            start_row=13, start_column=column, end_row=13, end_column=column + len(subs) - 1
        )
        for offset, (header, measure) in enumerate(subs):
            sheet.cell(14, column + offset, header).font = bold
            columns[column + offset] = measure
        column += len(subs) + 1
    sheet.cell(11, column - 2, providers)  # the stray count far right of the banner
    return columns


AE_NOTES = (
    "Notes:",
    "1. Type 1 departments are consultant-led 24-hour services with full resuscitation facilities.",
    "2. Figures for England are the sum of the providers' published figures.",
    "3. * denotes a figure suppressed to protect confidentiality; - denotes not applicable.",
    "Source: NHS England, Monthly Situation Report (synthetic data generated by DataWarp).",
)


def _write_notes(sheet, first_row: int) -> None:
    for offset, line in enumerate(AE_NOTES):
        sheet.cell(first_row + offset, 1, line)


# ---------------------------------------------------------------------------------------------
# CSV: one header row, the published column names, a TOTAL row at the end

CSV_COLUMNS = (
    ("A&E attendances Type 1", "att_t1"),
    ("A&E attendances Type 2", "att_t2"),
    ("A&E attendances Other A&E Department", "att_t3"),
    ("A&E attendances Booked Appointments Type 1", "booked_t1"),
    ("A&E attendances Booked Appointments Type 2", "booked_t2"),
    ("A&E attendances Booked Appointments Other Department", "booked_t3"),
    ("Attendances over 4hrs Type 1", "br_t1"),
    ("Attendances over 4hrs Type 2", "br_t2"),
    ("Attendances over 4hrs Other Department", "br_t3"),
    ("Attendances over 4hrs Booked Appointments Type 1", "br_booked_t1"),
    ("Attendances over 4hrs Booked Appointments Type 2", "br_booked_t2"),
    ("Attendances over 4hrs Booked Appointments Other Department", "br_booked_t3"),
    ("Patients who have waited 4-12 hs from DTA to admission", "dta_4_12"),
    ("Patients who have waited 12+ hrs from DTA to admission", "dta_12"),
    ("Emergency admissions via A&E - Type 1", "adm_t1"),
    ("Emergency admissions via A&E - Type 2", "adm_t2"),
    ("Emergency admissions via A&E - Other A&E department", "adm_t3"),
    ("Other emergency admissions", "adm_other"),
)


def write_ae_provider_csv(
    folder: Path | str,
    period: str = "2025-09",
    *,
    providers: int = 40,
    seed: int = 0,
    encoding: str = "utf-8",
) -> Path:
    """The provider CSV (LF line ends); the last provider's name holds an en dash."""
    data = make_ae_data(period, providers, seed)
    label = f"MSitAE-{month_name(period).upper().replace(' ', '-')}"
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["Period", "Org Code", "Parent Org", "Org name", *(h for h, _ in CSV_COLUMNS)])
    for provider, values in zip(data.providers, data.values, strict=True):
        row = [label, provider.code, provider.region, provider.name]
        writer.writerow(row + [values[measure] for _, measure in CSV_COLUMNS])
    writer.writerow(["TOTAL"] * 4 + [data.england[measure] for _, measure in CSV_COLUMNS])
    path = Path(folder) / ae_xlsx_name(period).replace(".xlsx", ".csv")
    path.write_bytes(buffer.getvalue().encode(encoding))
    return path
