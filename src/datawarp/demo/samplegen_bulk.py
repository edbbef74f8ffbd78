"""RTT full-extract ZIPs and large NHS-shaped CSV/xlsx files for the benchmarks.

The large writers stream: rows are assembled from precomputed pools of text (organisation
prefixes and value tails) chosen by a seeded generator, so a million rows cost one random draw
each and memory stays flat. Public entry points are re-exported by :mod:`datawarp.samplegen`.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import math
import random
import zipfile
from pathlib import Path

from openpyxl import Workbook

from datawarp.demo.samplegen_data import (
    MONTH_NAMES,
    REGIONS,
    make_providers,
    month_end,
    month_parts,
)

# ---------------------------------------------------------------------------------------------
# RTT full CSV extract in a ZIP

RTT_PARTS = (
    ("Part_1A", "Completed Pathways For Admitted Patients"),
    ("Part_1B", "Completed Pathways For Non-Admitted Patients"),
    ("Part_2", "Incomplete Pathways"),
    ("Part_2A", "Incomplete Pathways with DTA"),
    ("Part_3", "New RTT Periods - All Patients"),
)
TREATMENT_FUNCTIONS = (
    ("C_100", "General Surgery Service"),
    ("C_101", "Urology Service"),
    ("C_110", "Trauma and Orthopaedic Service"),
    ("C_120", "Ear Nose and Throat Service"),
    ("C_130", "Ophthalmology Service"),
    ("C_140", "Oral Surgery Service"),
    ("C_160", "Plastic Surgery Service"),
    ("C_300", "General Internal Medicine Service"),
    ("C_301", "Gastroenterology Service"),
    ("C_320", "Cardiology Service"),
    ("C_330", "Dermatology Service"),
    ("C_340", "Respiratory Medicine Service"),
    ("C_400", "Neurology Service"),
    ("C_410", "Rheumatology Service"),
    ("C_430", "Elderly Medicine Service"),
    ("C_502", "Gynaecology Service"),
    ("X02", "Other - Medical Services"),
    ("X03", "Other - Mental Health Services"),
    ("X04", "Other - Paediatric Services"),
    ("X05", "Other - Surgical Services"),
    ("X06", "Other - Other Services"),
    ("C_999", "Total"),  # the sum of the rows above it, as published
)
RTT_WEEKS = 52
RTT_REGION_CODES = ("Y63", "Y62", "Y60", "Y61", "Y56", "Y59", "Y58")  # matches samplegen_ae.REGIONS


def rtt_headers() -> list[str]:
    bands = [f"Gt {w:02d} To {w + 1:02d} Weeks SUM 1" for w in range(RTT_WEEKS)]
    return [
        "Period",
        "Provider Parent Org Code",
        "Provider Parent Name",
        "Provider Org Code",
        "Provider Org Name",
        "RTT Part Type",
        "RTT Part Description",
        "Treatment Function Code",
        "Treatment Function Name",
        *bands,
        f"Gt {RTT_WEEKS} Weeks SUM 1",
        "Total",
        "Patients with unknown clock start date",
        "Total All",
    ]


def rtt_member_name(period: str) -> str:
    year, month = month_parts(period)
    return f"{month_end(period):%Y%m%d}-RTT-{MONTH_NAMES[month - 1]}-{year}-full-extract.csv"


def write_rtt_zip(
    folder: Path | str, period: str = "2025-09", *, rows: int = 500, seed: int = 0
) -> Path:
    """``RTT-<Month>-<year>.zip``: one full-extract CSV plus a ``__MACOSX/._`` junk member."""
    year, month = month_parts(period)
    rng = random.Random(f"rtt:{seed}:{period}")
    groups = math.ceil(rows / len(TREATMENT_FUNCTIONS))
    providers = make_providers(max(1, math.ceil(groups / len(RTT_PARTS))), seed)
    label = f"RTT-{MONTH_NAMES[month - 1]}-{year}"
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow(rtt_headers())
    written = 0
    for provider in providers:
        region = provider.region.strip()
        keys = [label, RTT_REGION_CODES[REGIONS.index(region)], region, provider.code]
        keys.append(provider.name.strip())
        for part, description in RTT_PARTS:
            for row in _rtt_group(rng, part):
                if written == rows:
                    break
                writer.writerow([*keys, part, description, *row])
                written += 1
    member = rtt_member_name(period)
    path = Path(folder) / f"RTT-{MONTH_NAMES[month - 1]}-{year}.zip"
    stamp = (year, month, 28, 9, 30, 0)
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr(zipfile.ZipInfo(member, stamp), buffer.getvalue().encode("utf-8"))
        junk = zipfile.ZipInfo(f"__MACOSX/._{member}", stamp)
        archive.writestr(junk, b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        ")
    return path


def _rtt_group(rng: random.Random, part: str) -> list[list[object]]:
    """The rows of one provider and part: each treatment function, then C_999 = their sum."""
    rows, sums = [], [0] * (RTT_WEEKS + 4)
    for code, name in TREATMENT_FUNCTIONS[:-1]:
        size = rng.choice((0, 5, 40, 150, 400))
        if part == "Part_3":  # new periods: only the total is published
            total_all = int(size * rng.uniform(0.5, 1.5) * 4)
            rows.append([code, name, *[""] * (RTT_WEEKS + 3), total_all])
            sums[-1] += total_all
            continue
        decay = rng.uniform(0.85, 0.97)
        bands = [int(size * decay**week * rng.uniform(0.6, 1.4)) for week in range(RTT_WEEKS)]
        bands.append(int(size * rng.uniform(0, 0.2)))
        unknown = rng.randrange(3) if part in ("Part_1A", "Part_1B") else ""
        total = sum(bands)
        row = [*bands, total, unknown, total + (unknown or 0)]
        rows.append([code, name, *row])
        for index, value in enumerate(row):
            sums[index] += value or 0
    code, name = TREATMENT_FUNCTIONS[-1]
    if part == "Part_3":
        rows.append([code, name, *[""] * (RTT_WEEKS + 3), sums[-1]])
    else:
        if part not in ("Part_1A", "Part_1B"):
            sums[-2] = ""
        rows.append([code, name, *sums])
    return rows


# ---------------------------------------------------------------------------------------------
# Large files for the benchmarks: 12 columns

LARGE_HEADERS = (
    "Period",
    "Org Code",
    "Org Name",
    "Region",
    "Total Attendances",
    "Attendances Over 4 Hours",
    "Emergency Admissions",
    "Referrals",
    "Incomplete Pathways",
    "Breaches",
    "Percent Within 4 Hours",
    "Extract Date",
)
_PREFIXES = 997  # pool sizes are primes, so pairs repeat rarely
_TAILS = 4093
_LINES_PER_WRITE = 8192


def _large_pools(seed: int, *, text: bool) -> tuple[list, list]:
    """(prefixes, tails): the first four columns and the last eight, as text or cell values."""
    rng = random.Random(f"large:{seed}")
    providers = make_providers(300, seed)
    periods = [f"{2023 + m // 12}-{m % 12 + 1:02d}" for m in range(24)]
    prefixes = []
    for _ in range(_PREFIXES):
        provider = rng.choice(providers)
        cells = (rng.choice(periods), provider.code, provider.name.strip(), provider.region.strip())
        prefixes.append(",".join(cells) if text else cells)
    tails = []
    start = dt.date(2023, 1, 1)
    for _ in range(_TAILS):
        attendances = rng.randrange(100, 25_000)
        breaches = int(attendances * rng.uniform(0.05, 0.5))
        counts = (
            attendances,
            breaches,
            int(attendances * rng.uniform(0.2, 0.3)),
            rng.randrange(0, 9_000),
            rng.randrange(1_000, 120_000),
            rng.randrange(0, 500),
        )
        percent = round(100 * (attendances - breaches) / attendances, 1)
        day = start + dt.timedelta(days=rng.randrange(730))
        if text:
            tails.append(",".join(map(str, counts)) + f",{percent:.1f},{day:%d/%m/%Y}\n")
        else:
            tails.append((*counts, percent, day))
    return prefixes, tails


def write_large_csv(path: Path | str, rows: int, *, seed: int = 0) -> Path:
    """A 12-column NHS-shaped CSV of exactly ``rows`` data rows (LF), written in streaming."""
    path = Path(path)
    prefixes, tails = _large_pools(seed, text=True)
    tails = [f",{tail}" for tail in tails]
    getrandbits = random.Random(f"large-rows:{seed}").getrandbits
    with path.open("w", encoding="utf-8", newline="") as stream:
        stream.write(",".join(LARGE_HEADERS) + "\n")
        remaining = rows
        while remaining > 0:
            count = min(remaining, _LINES_PER_WRITE)
            picks = [getrandbits(32) for _ in range(count)]
            stream.write(
                "".join([prefixes[r % _PREFIXES] + tails[(r >> 10) % _TAILS] for r in picks])
            )
            remaining -= count
    return path


def write_large_xlsx(path: Path | str, rows: int, *, seed: int = 0) -> Path:
    """The same 12 columns as ``write_large_csv`` in one sheet 'Data' (openpyxl write-only)."""
    path = Path(path)
    prefixes, tails = _large_pools(seed, text=False)
    getrandbits = random.Random(f"large-rows:{seed}").getrandbits
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet("Data")
    sheet.append(LARGE_HEADERS)
    for _ in range(rows):
        r = getrandbits(32)
        sheet.append(prefixes[r % _PREFIXES] + tails[(r >> 10) % _TAILS])
    workbook.save(path)
    return path
