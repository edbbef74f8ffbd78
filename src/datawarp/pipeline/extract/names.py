"""Column names: NHS headers to stable snake_case PostgreSQL identifiers.

The style is R's ``janitor::clean_names``, which NHS analysts already know: "Org Code" ->
``org_code``, "% Occupied" -> ``percent_occupied``, "A&E" -> ``a_and_e``, "4-12 hs" ->
``x4_12_hs``. Every name matches ``[a-z][a-z0-9_]*`` and fits PostgreSQL's 63-byte limit, so
it is valid unquoted (the loader still quotes it with ``sql.Identifier``, since words such as
``order`` or ``user`` are reserved). Choices beyond janitor:

* ``+`` is ``plus`` as a word of its own: "52+" -> ``x52_plus``, "Gt 52+ Weeks" -> ``gt_52_plus_weeks``.
* Currency symbols (£ $ €) vanish: the header's unit goes, the words stay ("Cost (£)" -> ``cost``).
* Accents are transliterated (NFKD, plus a few letters NFKD leaves alone, such as ß -> ss);
  any other non-ASCII character separates words rather than gluing them ("A–B" -> ``a_b``).
* A name never starts with ``_``: that prefix is reserved for DataWarp's provenance columns.
* PostgreSQL's system column names (``xmin``, ``ctid``, ...) are numbered like repeats.
* A name longer than 63 bytes keeps its first 56 characters plus ``_`` and 6 hex digits of the
  SHA-1 of the full cleaned name: two long headers sharing a prefix stay apart, and the same
  header always gives the same name from one run, machine or Python version to the next.
"""

import datetime as dt
import hashlib
import re
import unicodedata
from collections.abc import Callable, Sequence

from datawarp.core.naming import MAX_IDENTIFIER_BYTES

RESERVED_PREFIX = "_"
# PostgreSQL's system columns exist in every table: a header cleaned to one of them is
# numbered like a repeated header ("xmin" -> ``xmin_2``).
SYSTEM_COLUMNS = frozenset({"tableoid", "xmin", "cmin", "xmax", "cmax", "ctid", "oid"})
EMPTY_NAME = "x"  # janitor's name for a header with nothing usable in it
_HASH_DIGITS = 6

# Symbols that carry meaning become words; janitor does this for % and #.
_SYMBOL_WORDS = {"%": " percent ", "&": " and ", "#": " number ", "+": " plus "}
_DROPPED = dict.fromkeys(map(ord, "'\"\u2018\u2019\u201c\u201d`"), "")  # "Patient's" -> patients
_LETTERS_NFKD_KEEPS = {"ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ø": "o", "Ø": "O"}
_LETTERS_NFKD_KEEPS |= {"ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "þ": "th"}
_TRANSLATION = str.maketrans({**_SYMBOL_WORDS, **_LETTERS_NFKD_KEEPS}) | _DROPPED

_SEPARATORS = re.compile(r"[^A-Za-z0-9]+")


def clean_name(text: object) -> str:
    """One header as a snake_case identifier: ``[a-z][a-z0-9_]*``, at most 63 bytes."""
    words = _ascii_words(_header_text(text))
    name = _SEPARATORS.sub("_", words).strip("_").lower() or EMPTY_NAME
    if name[0].isdigit():
        name = EMPTY_NAME + name
    return _fit_length(name)


def clean_names(headers: Sequence[object]) -> list[str]:
    """Clean every header, then number repeats ``name_2``, ``name_3`` ... so all are unique.

    A suffix never takes a name that another header cleans to (headers ``a, a, a_2`` give
    ``a, a_3, a_2``), so each real header keeps its own name wherever it sits.
    """
    cleaned = [clean_name(header) for header in headers]
    claimed_by_headers = set(cleaned) | SYSTEM_COLUMNS
    used: set[str] = set(SYSTEM_COLUMNS)
    unique = []
    for name in cleaned:
        if name in used:
            name = _first_free_suffix(name, lambda c: c in used or c in claimed_by_headers)
        used.add(name)
        unique.append(name)
    return unique


def _header_text(text: object) -> str:
    # Excel hands numeric headers over as floats (2019.0) and date headers as dates.
    if text is None:
        return ""
    if isinstance(text, float) and text.is_integer():
        return str(int(text))
    if isinstance(text, dt.datetime) and text.time() == dt.time(0):
        return text.date().isoformat()
    if isinstance(text, dt.date):
        return text.isoformat()
    return str(text)


def _ascii_words(text: str) -> str:
    # NFKD first, so that compatibility forms such as a full-width ％ reach the translation;
    # camelCase is split before ß/Æ become two letters, or "Ærø" would read as "AE" + "ro".
    decomposed = unicodedata.normalize("NFKD", text)
    unaccented = "".join(char for char in decomposed if not unicodedata.combining(char))
    translated = _split_camel_case(unaccented).translate(_TRANSLATION)
    return "".join(char if char.isascii() else " " for char in translated)


def _split_camel_case(text: str) -> str:
    """Space before each word that starts with a capital: orgCode, OrgCode, NHSEngland."""
    spaced = []
    for index, char in enumerate(text):
        if index and char.isupper():
            before, after = text[index - 1], text[index + 1 : index + 2]
            if before.islower() or (before.isupper() and after.islower()):
                spaced.append(" ")
        spaced.append(char)
    return "".join(spaced)


def _fit_length(name: str) -> str:
    if len(name) <= MAX_IDENTIFIER_BYTES:  # ASCII by now, so characters are bytes
        return name
    digest = hashlib.sha1(name.encode(), usedforsecurity=False).hexdigest()[:_HASH_DIGITS]
    keep = MAX_IDENTIFIER_BYTES - _HASH_DIGITS - 1
    return f"{name[:keep].rstrip('_')}_{digest}"


def _first_free_suffix(name: str, is_taken: Callable[[str], bool]) -> str:
    number = 2
    while True:
        suffix = f"_{number}"
        candidate = name[: MAX_IDENTIFIER_BYTES - len(suffix)].rstrip("_") + suffix
        if not is_taken(candidate):
            return candidate
        number += 1
