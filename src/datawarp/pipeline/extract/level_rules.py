"""What one value says about its row's level: an ODS code's shape, a name, a breakdown word.

Pure functions of one text (docs/rows.md is the user's account). Each returns a level
(``national``, ``region``, ``system``, ``organisation``) or None when the value does not say,
and says None rather than guess: a wrong level is worse than none.

* **Codes** (``code_level``), as written (ODS codes are capitals; only the national ``Eng``
  is matched in any case): ``E92000001``, ``ENG`` national; ``Y54``-``Y63`` (NHS England
  regions), ``E40000nnn``, ``Q30``-``Q39`` (strategic health authorities) region; ``Q`` and
  two characters with a letter (``QE1``, ``QHG``: ICBs), ``E54nnnnnn`` system; ``R``, ``T``,
  ``N``, ``A`` and two characters (trusts, independent providers), the same with four (their
  sites, a digit among them), ``8`` and four, a letter and five digits (GP practices,
  ``Y00751``), two digits and a letter (CCGs, sub-ICB locations: ``03V``), ``E38nnnnnn`` and
  ``5`` with a letter (primary care trusts: ``5J9``) organisation: a commissioner named by its
  code is an organisation (the workforce tables list CCGs beside trusts as employers). Local
  authorities (``108``) are not placed.
* **Names** (``name_level``): "Health Education East Midlands", "NHS England North West",
  "… Commissioning Region" region; "… Integrated Care Board", "… ICB", "… STP", "… ICS"
  system; "… NHS Trust", "… NHS Foundation Trust" organisation. A name ending in its code in
  brackets ("SOUTH EAST COMMISSIONING HUB (14G)") is placed by the code.
* **Breakdowns** (``breakdown_level``), the words of a column that says what each row is
  broken down by: "England", "National" national; "Region", "Commissioning Region" region;
  "ICB of GP Practice or Residence", "CCG of GP Practice", "Sub ICB" system (figures for the
  population of an area, beside the providers' own); "Provider", "Trust", "GP Practice"
  organisation. Only the words before ``;`` and ``of`` count: "England; Age Group" is
  national.
"""

from __future__ import annotations

import re

from datawarp.core.vocabulary import RowLevel

NATIONAL, REGION, SYSTEM, ORGANISATION = (
    RowLevel.NATIONAL.value,
    RowLevel.REGION.value,
    RowLevel.SYSTEM.value,
    RowLevel.ORGANISATION.value,
)
LEVEL_ORDER = (NATIONAL, REGION, SYSTEM, ORGANISATION)  # coarsest first
FINENESS = {level: rank for rank, level in enumerate(LEVEL_ORDER)}

_NATIONAL_CODES = frozenset({"E92000001", "ENG"})
_CODE_SHAPES = (
    (REGION, re.compile(r"Y5[4-9]|Y6[0-3]|E40000\d{3}|Q3\d")),
    (SYSTEM, re.compile(r"Q[A-Z][A-Z0-9]|Q\d[A-Z]|E54\d{6}")),
    (
        ORGANISATION,
        re.compile(
            r"[RTNA][A-Z0-9]{2}|[RNA][A-Z0-9]{4}|8[A-Z0-9]{4}|[A-Z]\d{5}|\d\d[A-Z]|5[A-Z][A-Z0-9]"
            r"|E38\d{6}"
        ),
    ),
)
# Capitals that would pass for a three-letter code but are words (months, answers, ...).
_WORDS = frozenset(
    "ALL AND ANY APR ARE AUG AGE NHS NON NOT NIL NEW NOV NOS RED TBA TBC THE TOP TOT TWO TEN"
    " QTR N/A".split()
)
_LONGEST_CODE = 9

_BRACKETED_CODE = re.compile(r"^(.*\S)\s*\(([A-Z0-9]{3,9})\)$")
_NAME_SHAPES = (
    (
        REGION,
        re.compile(
            r"^health education (?!england$)[a-z]|^nhs england (?!region$)[a-z]"
            r"|\bcommissioning region$|\bstrategic health authority$"
        ),
    ),
    (
        SYSTEM,
        re.compile(
            r"\b(?:integrated care board|icb|integrated care system|ics|stp"
            r"|sustainability and transformation partnership)$"
        ),
    ),
    (ORGANISATION, re.compile(r"\bnhs (?:foundation )?trust$")),
)
_LONGEST_NAME = 160

_BREAKDOWN_WORDS = (
    (SYSTEM, frozenset({"icb", "icbs", "stp", "stps", "ics", "ccg", "ccgs", "sub-icb", "pct"})),
    (REGION, frozenset({"region", "regions", "sha", "shas"})),
    (
        ORGANISATION,
        frozenset({"provider", "providers", "trust", "trusts", "practice", "practices", "site"}),
    ),
)
_NATIONAL_BREAKDOWNS = frozenset({"england", "national", "country", "all england"})
_BREAKDOWN_HEAD = re.compile(r"\s+of\s+|;|\s+-\s+|:")


def code_level(text: str) -> str | None:
    """The level an ODS or ONS code's shape says (``text`` already stripped)."""
    if len(text) > _LONGEST_CODE:
        return None
    if text.upper() in _NATIONAL_CODES:
        return NATIONAL
    if text in _WORDS:
        return None
    for level, shape in _CODE_SHAPES:
        if shape.fullmatch(text):
            if len(text) == 5 and not any(character.isdigit() for character in text):
                return None  # five capitals are a word ('OTHER'), not a site code
            return level
    return None


def name_level(text: str) -> str | None:
    """The level an organisation's name says (``text`` already stripped)."""
    if len(text) > _LONGEST_NAME:
        return None
    bracketed = _BRACKETED_CODE.match(text)
    if bracketed:
        by_code = code_level(bracketed.group(2))
        if by_code is not None:
            return by_code
        text = bracketed.group(1)
    words = " ".join(text.casefold().split())
    for level, shape in _NAME_SHAPES:
        if shape.search(words):
            return level
    return None


def breakdown_level(text: str) -> str | None:
    """The level a breakdown column's value says ('Provider', 'ICB of GP Practice ...')."""
    if len(text) > _LONGEST_NAME:
        return None
    head = _BREAKDOWN_HEAD.split(text.casefold(), maxsplit=1)[0]
    head = " ".join(head.replace("_", " ").split())
    if head in _NATIONAL_BREAKDOWNS:
        return NATIONAL
    words = set(head.replace("sub icb", "sub-icb").split())
    for level, vocabulary in _BREAKDOWN_WORDS:
        if words & vocabulary:
            return level
    return None


def finest(levels) -> str | None:
    """The finest of the levels given (None ignored): a row naming a trust and its region is
    the trust's row."""
    best = None
    for level in levels:
        if level is not None and (best is None or FINENESS[level] > FINENESS[best]):
            best = level
    return best
