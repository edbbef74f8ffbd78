"""Names DataWarp gives things in PostgreSQL, without a database."""

from __future__ import annotations

from datetime import date

import pytest

from datawarp.core.errors import BadInputError
from datawarp.core.naming import (
    MAX_IDENTIFIER_BYTES,
    MAX_SOURCE_CODE_LENGTH,
    TableRef,
    archive_table,
    check_source_code,
)


def test_a_source_loads_into_staging_and_test_loads_into_staging_test():
    assert TableRef.for_source("ae") == TableRef("staging", "tbl_ae")
    assert TableRef.for_source("ae", test=True) == TableRef("staging_test", "tbl_ae")
    assert str(TableRef.for_source("ae")) == "staging.tbl_ae"


def test_the_longest_source_code_still_fits_its_archive_table_name():
    code = "a" * MAX_SOURCE_CODE_LENGTH
    assert check_source_code(code) == code
    assert len(archive_table(code, date(2026, 11, 30)).encode()) == MAX_IDENTIFIER_BYTES


@pytest.mark.parametrize(
    "code", ["", "1ae", "AE", "a-e", "a e", "a" * (MAX_SOURCE_CODE_LENGTH + 1)]
)
def test_bad_source_codes_are_refused_with_the_rule(code):
    with pytest.raises(BadInputError, match="Invalid source code"):
        check_source_code(code)
