"""The made-up numbers behind the sample files: periods, providers and A&E counts.

Providers depend only on the seed (so every period of a publication lists the same trusts);
the counts depend on the seed and the period. Names and regions carry the quirks of the
published files: a few trailing spaces, and one en dash (non-ASCII) in the last provider.
"""

from __future__ import annotations

import datetime as dt
import random
import re
from dataclasses import dataclass

MONTH_NAMES = (
    "January February March April May June July August September October November December"
).split()
REGIONS = (
    "NHS ENGLAND NORTH EAST AND YORKSHIRE",
    "NHS ENGLAND NORTH WEST",
    "NHS ENGLAND MIDLANDS",
    "NHS ENGLAND EAST OF ENGLAND",
    "NHS ENGLAND LONDON",
    "NHS ENGLAND SOUTH EAST",
    "NHS ENGLAND SOUTH WEST",
)
PLACES = (
    "ASHBOURNE BARNSTAPLE BRIDGWATER CARLISLE CHESTERFIELD COLCHESTER DARLINGTON DONCASTER "
    "DORCHESTER EASTBOURNE GLOUCESTER GRANTHAM HARROGATE HEREFORD HUDDERSFIELD IPSWICH KENDAL "
    "KETTERING LANCASTER LINCOLN MACCLESFIELD MAIDSTONE MANSFIELD NORTHALLERTON OLDHAM "
    "PETERBOROUGH PLYMOUTH PRESTON READING ROTHERHAM SALISBURY SCARBOROUGH SHREWSBURY "
    "SOUTHPORT STAFFORD SWINDON TAUNTON TELFORD TRURO WAKEFIELD WARRINGTON WATFORD WIGAN "
    "WORCESTER WORTHING YEOVIL YORK"
).split()
_TRUST_SUFFIXES = (
    "NHS FOUNDATION TRUST",
    "NHS TRUST",
    "HOSPITALS NHS FOUNDATION TRUST",
    "TEACHING HOSPITALS NHS FOUNDATION TRUST",
    "AND DISTRICT NHS FOUNDATION TRUST",
)
_DIRECTIONS = ("NORTH", "SOUTH", "EAST", "WEST")
_CODE_CHARS = "0123456789ABCDEFGHJKLMNPQRTVWXY"
_PERIOD = re.compile(r"(\d{4})-(\d{2})")

# Measures of one provider: internal key -> how it is drawn (see _values).
MEASURES = (
    "att_t1 att_t2 att_t3 att_booked att_total br_t1 br_t2 br_t3 br_total "
    "adm_t1 adm_t2 adm_t3 adm_ae adm_other adm_total dta_4_12 dta_12 "
    "booked_t1 booked_t2 booked_t3 br_booked_t1 br_booked_t2 br_booked_t3"
).split()
_DASH_CANDIDATES = ("att_t2", "br_t2", "adm_t2", "att_t3", "br_t3")
_STAR_CANDIDATES = ("dta_12", "dta_4_12", "br_t2", "adm_t3")

Value = int | str  # a count, or a suppression marker


@dataclass(frozen=True)
class Provider:
    code: str
    name: str  # as published: a few names keep a trailing space
    region: str  # ditto


@dataclass(frozen=True)
class AEData:
    """One period of the publication: providers, their values and the England totals."""

    period: str  # 2025-09
    providers: list[Provider]
    values: list[dict[str, Value]]  # per provider, MEASURES -> count or marker
    england: dict[str, int]  # per measure: the sum of the providers' numeric cells


# ---------------------------------------------------------------------------------------------
# Periods and providers


def month_parts(period: str) -> tuple[int, int]:
    match = _PERIOD.fullmatch(period)
    if match is None or not 1 <= int(match[2]) <= 12:
        raise ValueError(f"period must look like 2025-09, not {period!r}")
    return int(match[1]), int(match[2])


def month_name(period: str) -> str:
    """'September 2025' for '2025-09'."""
    year, month = month_parts(period)
    return f"{MONTH_NAMES[month - 1]} {year}"


def month_end(period: str) -> dt.date:
    year, month = month_parts(period)
    following = dt.date(year + month // 12, month % 12 + 1, 1)
    return following - dt.timedelta(days=1)


def publication_date(period: str) -> dt.date:
    """The second Thursday of the following month, as NHS England publishes."""
    first = month_end(period) + dt.timedelta(days=1)
    return first + dt.timedelta(days=(3 - first.weekday()) % 7 + 7)


def make_providers(count: int, seed: int = 0) -> list[Provider]:
    """``count`` providers with unique ODS-like codes; the same for every period of a seed."""
    rng = random.Random(f"providers:{seed}")
    places = rng.sample(PLACES, len(PLACES))
    providers, codes = [], set()
    for index in range(count):
        lap, place = divmod(index, len(places))
        place = places[place]
        if lap:  # more providers than places: NORTH X, SOUTH X ... then NORTH X 2 ...
            place = f"{_DIRECTIONS[(lap - 1) % 4]} {place}"
            place += f" {(lap - 1) // 4 + 1}" if lap > 4 else ""
        last = index == count - 1
        independent = index % 13 == 12 and not last
        code = _new_code(rng, independent, codes)
        codes.add(code)
        if independent:
            name = f"{place} TREATMENT CENTRE LTD"
        elif last:
            name = f"{place} \u2013 {places[0]} UNIVERSITY HOSPITALS NHS TRUST"  # en dash
        else:
            name = f"{place} {_TRUST_SUFFIXES[rng.randrange(len(_TRUST_SUFFIXES))]}"
        region = rng.choice(REGIONS)
        name += " " if index % 7 == 3 else ""
        region += " " if index % 5 == 1 else ""
        providers.append(Provider(code, name, region))
    return providers


def _new_code(rng: random.Random, independent: bool, taken: set[str]) -> str:
    """'RXX'-style trust codes, 'NT4'-style independent ones; 5 characters once those run out."""
    for _ in range(100):
        if independent:
            code = "N" + rng.choice("TQV") + rng.choice("0123456789")
        else:
            code = "R" + rng.choice(_CODE_CHARS) + rng.choice(_CODE_CHARS[9:])
        if code not in taken:
            return code
    return f"{'N' if independent else 'R'}{len(taken):04d}"


# ---------------------------------------------------------------------------------------------
# Values


def make_ae_data(period: str, providers: int = 40, seed: int = 0) -> AEData:
    """The period's numbers: counts, a few suppressed cells, England = sum of the numbers."""
    month_parts(period)
    rng = random.Random(f"ae:{seed}:{period}")
    people = make_providers(providers, seed)
    values = [_values(rng, provider) for provider in people]
    _suppress(rng, values)
    england = {
        measure: sum(row[measure] for row in values if isinstance(row[measure], int))
        for measure in MEASURES
    }
    return AEData(period, people, values, england)


def _values(rng: random.Random, provider: Provider) -> dict[str, Value]:
    independent = provider.code.startswith("N")
    size = rng.uniform(0.3, 2.0)
    t1 = 0 if independent else int(12_000 * size * rng.uniform(0.8, 1.2))
    t2 = int(900 * size * rng.uniform(0.5, 1.5)) if rng.random() < 0.2 else 0
    t3 = int(6_000 * size * rng.uniform(0.3, 1.5)) if rng.random() < 0.75 or independent else 0
    booked = [int(n * rng.uniform(0.0, 0.03)) for n in (t1, t2, t3)]
    breach = [int(n * rng.uniform(0.15, 0.45)) for n in (t1, t2)] + [int(t3 * rng.uniform(0, 0.05))]
    adm = [int(t1 * rng.uniform(0.22, 0.32)), int(t2 * rng.uniform(0, 0.05)), int(t3 * 0.01)]
    adm_other = int(2_500 * size * rng.uniform(0.5, 1.5)) if not independent else 0
    dta_4_12 = int(adm[0] * rng.uniform(0.1, 0.3))
    return {
        "att_t1": t1,
        "att_t2": t2,
        "att_t3": t3,
        "att_booked": sum(booked),
        "att_total": t1 + t2 + t3,
        "br_t1": breach[0],
        "br_t2": breach[1],
        "br_t3": breach[2],
        "br_total": sum(breach),
        "adm_t1": adm[0],
        "adm_t2": adm[1],
        "adm_t3": adm[2],
        "adm_ae": sum(adm),
        "adm_other": adm_other,
        "adm_total": sum(adm) + adm_other,
        "dta_4_12": dta_4_12,
        "dta_12": int(dta_4_12 * rng.uniform(0.0, 0.4)),
        "booked_t1": booked[0],
        "booked_t2": booked[1],
        "booked_t3": booked[2],
        "br_booked_t1": int(booked[0] * rng.uniform(0, 0.3)),
        "br_booked_t2": int(booked[1] * rng.uniform(0, 0.3)),
        "br_booked_t3": int(booked[2] * rng.uniform(0, 0.3)),
    }


def _suppress(rng: random.Random, values: list[dict[str, Value]]) -> None:
    """'-' where a provider has no such department, '*' over a few small counts."""
    count = max(1, len(values) // 10)
    zeros = [(r, m) for r, row in enumerate(values) for m in _DASH_CANDIDATES if row[m] == 0]
    cells = [(r, m) for r in range(len(values)) for m in _DASH_CANDIDATES]
    for row, measure in rng.sample(zeros or cells, min(count, len(zeros or cells))):
        values[row][measure] = "-"
    small = [
        (r, m) for r, row in enumerate(values) for m in _STAR_CANDIDATES if isinstance(row[m], int)
    ]
    for row, measure in rng.sample(small, min(count, len(small))):
        values[row][measure] = "*"
