"""Names DataWarp gives things in PostgreSQL: schemas, a source's tables, source codes.

One place for them, so the catalog, the loader, the demo and the commands agree on where a
source's rows live.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date
from typing import Annotated

from pydantic import AfterValidator

from datawarp.core.errors import BadInputError

CATALOG_SCHEMA = "datawarp"
STAGING_SCHEMA = "staging"
TEST_SCHEMA = "staging_test"
ARCHIVE_SCHEMA = "archive"
DATA_SCHEMAS = (STAGING_SCHEMA, TEST_SCHEMA)

MAX_IDENTIFIER_BYTES = 63  # PostgreSQL's NAMEDATALEN - 1
PROVENANCE_PREFIX = "_"  # provenance columns (_load_id, _period, ...) start with it

_ARCHIVE_SUFFIX = "_archived_YYYYMMDD"
# tbl_<code>_archived_YYYYMMDD must fit in PostgreSQL's 63-byte identifiers.
MAX_SOURCE_CODE_LENGTH = MAX_IDENTIFIER_BYTES - len("tbl_") - len(_ARCHIVE_SUFFIX)
SOURCE_CODE_PATTERN = re.compile(r"^[a-z][a-z0-9_]*$")


def data_schema(*, test: bool) -> str:
    """Where a load writes: test loads never touch ``staging``."""
    return TEST_SCHEMA if test else STAGING_SCHEMA


def source_table(source_code: str) -> str:
    """The table holding a source's rows, in ``staging`` or ``staging_test``."""
    return f"tbl_{source_code}"


@dataclass(frozen=True)
class TableRef:
    """A table by schema and name. Never formatted into SQL: the catalog quotes identifiers."""

    schema: str
    table: str

    @classmethod
    def for_source(cls, source_code: str, *, test: bool = False) -> TableRef:
        return cls(data_schema(test=test), source_table(source_code))

    def __str__(self) -> str:
        return f"{self.schema}.{self.table}"


def archive_table(source_code: str, archived_on: date) -> str:
    return f"tbl_{source_code}_archived_{archived_on:%Y%m%d}"


def is_provenance_column(name: str) -> bool:
    return name.startswith(PROVENANCE_PREFIX)


def check_source_code(code: str) -> str:
    if not SOURCE_CODE_PATTERN.match(code or ""):
        raise BadInputError(
            f"Invalid source code {code!r}: use lowercase letters, digits and underscores,"
            " starting with a letter (e.g. adhd_mi)"
        )
    if len(code) > MAX_SOURCE_CODE_LENGTH:
        raise BadInputError(
            f"Invalid source code {code!r}: {len(code)} characters, at most"
            f" {MAX_SOURCE_CODE_LENGTH} so that tbl_<code>_archived_YYYYMMDD fits"
            " PostgreSQL's 63-byte names"
        )
    return code


def _source_code_value(value: str) -> str:
    """The pydantic face of check_source_code: the reason alone, pydantic adds the field."""
    try:
        return check_source_code(value)
    except BadInputError as exc:
        raise ValueError(exc.message.split(": ", 1)[1]) from None


SourceCode = Annotated[str, AfterValidator(_source_code_value)]
