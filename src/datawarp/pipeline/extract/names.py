"""Column names: one NHS header to the words of a stable snake_case PostgreSQL identifier.

The style is R's ``janitor::clean_names``, which NHS analysts already know: "Org Code" ->
``org_code``, "% Occupied" -> ``percent_occupied``, "A&E" -> ``a_and_e``, "4-12 hs" ->
``x4_12_hs``. Every name matches ``[a-z][a-z0-9_]*`` and fits PostgreSQL's 63-byte limit, so
it is valid unquoted (the loader still quotes it with ``sql.Identifier``, since words such as
``order`` or ``user`` are reserved). The rules, with the reasons, are in docs/column-names.md;
the choices beyond janitor:

* Comparison signs and phrases are words: ``>`` and "greater/more than" -> ``over``, ``<`` and
  "less/fewer than" -> ``under``, ``>=`` -> ``at_least``, ``<=`` -> ``at_most``, ``=`` ->
  ``equals``, ``<>`` -> ``not_equal`` ("No. > 18 weeks" -> ``no_over_18_weeks``).
* Footnote marks go: superscript digits ("European Union¹"), digits glued to the end of a word
  ("European Union1", "Monthly data2") and "[note 3]". A number that belongs to its word
  stays ("Covid19", "June23", "Week52"), and so do the digits of a header already written as
  a clean name (``data2``); ``column_names`` puts the digits back where dropping them would
  make two headers of a table one name.
* ``+`` is ``plus`` as a word of its own: "52+" -> ``x52_plus``, "Gt 52+ Weeks" -> ``gt_52_plus_weeks``.
* Currency symbols (£ $ €) vanish: the header's unit goes, the words stay ("Cost (£)" -> ``cost``).
* Accents are transliterated (NFKD, plus a few letters NFKD leaves alone, such as ß -> ss);
  any other non-ASCII character separates words rather than gluing them ("A–B" -> ``a_b``).
* A name never starts with ``_``: that prefix is reserved for DataWarp's provenance columns.
* PostgreSQL's system column names (``xmin``, ``ctid``, ...) are numbered like repeats.

A comparison with its number and unit ("> 4 hours") is one word here (``over_4_hours``), and so
are "A&E" (``a_and_e``) and hyphenated words ("Non-Admitted", ``non_admitted``): shortening
(``column_names``) keeps or drops them whole.
"""

import datetime as dt
import re
import unicodedata

EMPTY_NAME = "x"  # janitor's name for a header with nothing usable in it
NUMBER_PREFIX = "x"  # janitor's prefix for a name that would start with a digit

# Symbols that carry meaning become words; janitor does this for % and #.
_SYMBOL_WORDS = {"%": " percent ", "&": " and ", "#": " number ", "+": " plus "}
_DROPPED = dict.fromkeys(map(ord, "'\"\u2018\u2019\u201c\u201d`"), "")  # "Patient's" -> patients
_LETTERS_NFKD_KEEPS = {"ß": "ss", "æ": "ae", "Æ": "AE", "œ": "oe", "Œ": "OE", "ø": "o", "Ø": "O"}
_LETTERS_NFKD_KEEPS |= {"ł": "l", "Ł": "L", "đ": "d", "Đ": "D", "ð": "d", "Ð": "D", "þ": "th"}
_TRANSLATION = str.maketrans({**_SYMBOL_WORDS, **_LETTERS_NFKD_KEEPS}) | _DROPPED
_WORD = re.compile(r"[A-Za-z0-9]+")
# "Non-Admitted", "Pre-Op", "4-12": one word, never cut in two by shortening.
_HYPHENATED = re.compile(r"[A-Za-z0-9]+(?:-[A-Za-z0-9]+)*")
CLEAN_NAME = re.compile(r"[a-z][a-z0-9_]*")

_SUPERSCRIPT_DIGITS = re.compile("[\u00b9\u00b2\u00b3\u2070\u2074-\u2079]+")
_NOTE_REFERENCE = re.compile(
    r"[\[(]\s*notes?\s*\d+[a-z]?(?:\s*(?:,|and|&)\s*\d+[a-z]?)*\s*[\])]", re.IGNORECASE
)
# A footnote number glued to a word: "Union1", "data13". Acronyms with numbers (COVID19, A122,
# R1r, SQU03) do not match: the letters before the digits must be lower case.
_GLUED_FOOTNOTE = re.compile(r"(?<=[a-z]{3})\d{1,2}(?![A-Za-z0-9])")
# Words whose number is part of the name, not a footnote: "Covid19", "June23", "Week52".
_DIGITS_BELONG_TO = frozenset(
    "covid january february march april may june july august september sept october november"
    " december jan feb mar apr jun jul aug sep oct nov dec week day month year quarter type"
    " phase wave tier level stage part round cohort version".split()
)
_LETTERS_BEFORE = re.compile(r"[A-Za-z]+$")

_AND = r"[\s_]+"
_OVER, _UNDER = rf"(?<![a-z])(?:greater|more){_AND}than", rf"(?<![a-z])(?:less|fewer){_AND}than"
_OR_EQUAL = rf"{_AND}or{_AND}equal{_AND}to(?![a-z])"
_COMPARISONS = (
    (rf"{_OVER}{_OR_EQUAL}|>=|=>|\u2265|\u2267", "at_least"),
    (rf"{_UNDER}{_OR_EQUAL}|<=|=<|\u2264|\u2266", "at_most"),
    (r"<>|!=|\u2260", "not_equal"),
    (rf"{_OVER}(?![a-z])|>", "over"),
    (rf"{_UNDER}(?![a-z])|<", "under"),
    (r"=", "equals"),
)
# "A&E", "R&D", "T&O": one word, so that dropping filler words never leaves a_e behind.
_LETTER_AND_LETTER = r"(?<![A-Za-z0-9])[A-Za-z]\s*&\s*[A-Za-z](?![A-Za-z0-9])"
_LATIN = r"(?<![A-Za-z0-9])(?:i\.\s?e|e\.\s?g)\.?(?![A-Za-z0-9])"  # i.e. / e.g.: filler words
_PIECES = re.compile(
    "|".join(
        [f"(?P<cmp{n}>{pattern})" for n, (pattern, _) in enumerate(_COMPARISONS)]
        + [f"(?P<amp>{_LETTER_AND_LETTER})", f"(?P<latin>{_LATIN})"]
    ),
    re.IGNORECASE,
)
COMPARISON_WORDS = frozenset(word for _, word in _COMPARISONS) | {"within"}
# The unit after a comparison's number belongs to it: "over_4_hours", "under_95_percent".
UNITS = frozenset(
    "hours hour hrs hr hs h weeks week wks wk days day minutes minute mins min months month"
    " mths years year yrs seconds secs percent".split()
)


def header_words(text: object, *, footnotes: bool = True) -> list[str]:
    """The words of one header, lower case; a word may hold ``_`` (``over_4_hours``, ``a_and_e``).

    With ``footnotes`` (the default) footnote marks are dropped, unless the header is already
    written as a clean name.
    """
    raw = _header_text(text)
    plain = _unaccented(raw)
    if footnotes and not CLEAN_NAME.fullmatch(raw):
        plain = _without_footnotes(raw, plain)
    words: list[str] = []
    compared: set[int] = set()  # comparison words made from signs or phrases ("at_least")
    position = 0
    for match in _PIECES.finditer(plain):
        words += _plain_words(plain[position : match.start()])
        kind = match.lastgroup or ""
        if kind.startswith("cmp"):
            compared.add(len(words))
            words.append(_COMPARISONS[int(kind[3:])][1])
        elif kind == "amp":
            words.append("_and_".join(match[0].replace("&", " ").split()).lower())
        else:
            words.append("_".join(_WORD.findall(match[0])).lower())
        position = match.end()
    words += _plain_words(plain[position:])
    return _joined_comparisons(words, compared)


def words_name(words: list[str]) -> str:
    """The identifier the words spell (before any shortening): ``x`` when there are none."""
    name = "_".join(words)
    if not name:
        return EMPTY_NAME
    return NUMBER_PREFIX + name if name[0].isdigit() else name


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


def _without_footnotes(raw: str, plain: str) -> str:
    # Superscripts are read from the raw text: NFKD has already turned them into digits.
    if _SUPERSCRIPT_DIGITS.search(raw):
        plain = _unaccented(_SUPERSCRIPT_DIGITS.sub(" ", raw))
    plain = _NOTE_REFERENCE.sub(" ", plain)
    return _GLUED_FOOTNOTE.sub(_keep_or_drop_digits, plain)


def _keep_or_drop_digits(match: re.Match[str]) -> str:
    word = _LETTERS_BEFORE.search(match.string, 0, match.start())
    return match[0] if word and word[0].lower() in _DIGITS_BELONG_TO else ""


def _unaccented(text: str) -> str:
    # NFKD first, so that compatibility forms such as a full-width ％ or ＞ reach the rules.
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(char for char in decomposed if not unicodedata.combining(char))


def _plain_words(text: str) -> list[str]:
    # camelCase is split before ß/Æ become two letters, or "Ærø" would read as "AE" + "ro".
    translated = _split_camel_case(text).translate(_TRANSLATION)
    ascii_only = "".join(char if char.isascii() else " " for char in translated)
    return [
        "_".join(_WORD.findall(hyphenated)).lower()
        for hyphenated in _HYPHENATED.findall(ascii_only)
    ]


def _split_camel_case(text: str) -> str:
    """Space before each word that starts with a capital: orgCode, OrgCode, NHSEngland; an
    acronym's plural stays whole (LTCs, GPs, ICBsData)."""
    spaced = []
    for index, char in enumerate(text):
        if index and char.isupper():
            before, after = text[index - 1], text[index + 1 : index + 2]
            if before.islower() or (
                before.isupper() and after.islower() and not _plural_s(text, index + 1)
            ):
                spaced.append(" ")
        spaced.append(char)
    return "".join(spaced)


def _plural_s(text: str, index: int) -> bool:
    """Whether the 's' at ``index`` ends an acronym's plural ('LTCs'), not starts a word."""
    return text[index] == "s" and not text[index + 1 : index + 2].islower()


def _joined_comparisons(words: list[str], compared: set[int]) -> list[str]:
    """A comparison, its number and its unit as one word: ``over``, ``4``, ``hours`` -> one."""
    joined: list[str] = []
    index = 0
    while index < len(words):
        word = words[index]
        if (index in compared or word in COMPARISON_WORDS) and index + 1 < len(words):
            if words[index + 1].isdigit():
                index += 1
                word += "_" + words[index]
                if index + 1 < len(words) and words[index + 1] in UNITS:
                    index += 1
                    word += "_" + words[index]
        joined.append(word)
        index += 1
    return joined
