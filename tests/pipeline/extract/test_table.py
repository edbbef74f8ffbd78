"""Table detection on constructed grids: each NHS layout habit, one test at a time.

Grids are lists of rows as the readers give them (None for an empty cell; CSV cells are
strings). Row numbers are 1-based, as in Excel.
"""

from __future__ import annotations

import itertools
from collections.abc import Iterable, Iterator

import pytest

from datawarp.core.errors import BadInputError
from datawarp.pipeline.extract.column_names import table_names
from datawarp.pipeline.extract.table import WINDOW_ROWS, NoTableError, detect_layout
from datawarp.pipeline.extract.table_rows import TableReader, is_note_line

TITLE_BLOCK = [
    [None],
    [None, "Title:", "A&E Attendances and Emergency Admissions"],
    [None, "Summary:", "Provider level"],
    [None, "Period:", "September 2023"],
    [None, "Source:", "SDCS - MSitAE"],
    [None, "Published:", "12th October 2023"],
    [None, "Revised:"],
    [None, "Status:", "Published"],
    [None, "Contact:", "england.nhsdata@nhs.net"],
    [None],
]


def numbered(rows: Iterable[list[object]]) -> Iterator[tuple[int, list[object]]]:
    return ((number, list(cells)) for number, cells in enumerate(rows, start=1))


def read(rows: list[list[object]], *, is_csv: bool = False):
    """(layout, reader, data rows) for a grid, through the same path the engine takes."""
    window = list(itertools.islice(numbered(rows), WINDOW_ROWS))
    layout = detect_layout(window, sheet_label="test", is_csv=is_csv)
    reader = TableReader(layout, display_name="test.csv", is_csv=is_csv)
    return layout, reader, list(reader.rows(numbered(rows)))


def values(data) -> list[tuple]:
    return [row_values for _, row_values, _ in data]


# ---------------------------------------------------------------------------------------------
# Header detection


def test_title_block_is_skipped_and_kept_as_metadata():
    rows = [
        *TITLE_BLOCK,
        [None, "Code", "Name", "Attendances"],
        [None, "RXX", "Trust X", 10],
        [None, "RYY", "Trust Y", 20],
    ]
    layout, reader, data = read(rows)
    assert layout.header_rows == [11]
    assert layout.first_data_row == 12
    assert layout.column_names == ["code", "name", "attendances"]
    assert layout.metadata["Title"] == "A&E Attendances and Emergency Admissions"
    assert layout.metadata["Period"] == "September 2023"
    assert layout.metadata["Revised"] == ""
    assert layout.metadata["Contact"] == "england.nhsdata@nhs.net"
    assert values(data) == [("RXX", "Trust X", 10), ("RYY", "Trust Y", 20)]
    assert reader.last_data_row == 13


def test_key_value_in_one_cell_and_untitled_lines_become_metadata():
    rows = [
        ["Return to Contents"],
        ["CCG OIS Indicator 1.2 - Under 75 mortality"],
        ["Source: PCMD, GP Registered population"],
        [None],
        ["Breakdown", "Level", "Indicator value"],
        ["National", "England", 66.4],
    ]
    layout, _, _ = read(rows)
    assert layout.metadata == {
        "Title": "CCG OIS Indicator 1.2 - Under 75 mortality",
        "Source": "PCMD, GP Registered population",
    }


def test_banner_and_stray_count_never_reach_column_names():
    rows = [
        *TITLE_BLOCK,
        [None, "Provider Level Data", None, None, 227.0],
        [None, None, None, None, "Available", None, "Occupied", None],
        [None, "Year", "Org Code", "Org Name", "Total", "Maternity", "Total", "Maternity"],
        [None, "2020-21", "R1H", "Barts", 100.0, 5.0, 90.0, 4.0],
    ]
    layout, _, data = read(rows)
    assert layout.header_rows == [12, 13]
    assert layout.column_names == [
        "block_title",  # the banner is a value of every row, never part of a name
        "year",
        "org_code",
        "org_name",
        "available_total",
        "available_maternity",
        "occupied_total",
        "occupied_maternity",
    ]
    assert layout.metadata["Banner"] == "Provider Level Data"
    assert not any("227" in column.original_header for column in layout.columns)
    assert values(data) == [
        ("Provider Level Data", "2020-21", "R1H", "Barts", 100.0, 5.0, 90.0, 4.0)
    ]


def test_banner_alone_above_a_one_row_header_is_not_a_band():
    rows = [
        [None, "England Level Data"],
        [None, "Period", "Type 1", "Type 2"],
        [None, "2023-01-01", 1, 2],
    ]
    layout, _, _ = read(rows)
    assert layout.header_rows == [2]
    assert layout.column_names == ["period", "type_1", "type_2"]


@pytest.mark.parametrize(
    ("line", "block_title"),
    [
        ("England Level Data", "England Level Data"),
        ("Field Testing Sites Only", "Field Testing Sites Only"),
        ("Table 3", None),  # a caption
        ("Back to contents", None),  # a link
        ("Attendances by provider, April 2025", None),  # a subtitle sentence
    ],
)
def test_a_banner_under_the_title_block_is_the_block_title(line, block_title):
    rows = [*TITLE_BLOCK, [None, line], [None, "Period", "Type 1"], [None, "2023-01-01", 1]]
    layout, _, data = read(rows)
    assert layout.header_rows == [12]
    expected = (["block_title"] if block_title else []) + ["period", "type_1"]
    assert layout.column_names == expected
    assert values(data)[0][0] == (block_title or "2023-01-01")


def test_title_sentence_at_the_left_edge_is_not_a_column_label():
    rows = [
        ["NHS Trusts and CCGs, as at 30 September 2016", None, None, None, None, None, "headcount"],
        [None, None, "EU", None, None, "UK", None],
        [None, None, "All staff", "Doctors", "Nurses", "All staff", "Doctors"],
        ["England", None, 59796.0, 10386.0, 22227.0, 955090.0, 79447.0],
        [None, "Trust A", 108.0, 21.0, 42.0, 3565.0, 265.0],
    ]
    layout, _, data = read(rows)
    assert layout.header_rows == [2, 3]
    assert layout.column_names == [
        "column_a",
        "column_b",
        "eu_all_staff",
        "eu_doctors",
        "eu_nurses",
        "uk_all_staff",
        "uk_doctors",
    ]
    assert any("column A has no header" in warning for warning in layout.warnings)
    assert len(data) == 2


def test_two_row_header_carries_the_band_over_merged_cells():
    rows = [
        ["Code", "Name", "A&E attendances", None, None, "Emergency Admissions", None],
        [None, None, "Type 1", "Type 2", "Total", "Emergency Admissions via Type 1", "Other"],
        ["RXX", "Trust X", 1, 2, 3, 4, 5],
    ]
    layout, _, _ = read(rows)
    assert layout.header_rows == [1, 2]
    assert layout.column_names == [
        "code",
        "name",
        "a_and_e_attendances_type_1",
        "a_and_e_attendances_type_2",
        "a_and_e_attendances_total",
        "emergency_admissions_via_type_1",  # the band is already in the sub-header
        "emergency_admissions_other",
    ]
    assert layout.columns[2].original_header == "A&E attendances | Type 1"


def test_three_row_header_combines_every_level():
    rows = [
        ["Org", "Beds", None, None, None],
        [None, "Available", None, "Occupied", None],
        [None, "Day", "Night", "Day", "Night"],
        ["RXX", 1, 2, 3, 4],
    ]
    layout, _, _ = read(rows)
    assert layout.header_rows == [1, 2, 3]
    assert layout.column_names == [
        "org",
        "beds_available_day",
        "beds_available_night",
        "beds_occupied_day",
        "beds_occupied_night",
    ]


def test_a_band_stops_at_a_spacer_column():
    rows = [
        [None, "Incomplete pathways", None, None, "New periods", None, "Standard"],
        ["Month", "Median", "Total", None, "Total", None, "Target"],
        ["2022-04-01", 10.5, 100, None, 7, None, 0.92],
    ]
    layout, _, _ = read(rows)
    assert layout.column_names == [
        "month",
        "incomplete_pathways_median",
        "incomplete_pathways_total",
        "new_periods_total",
        "standard_target",
    ]


def test_blank_spacer_columns_are_dropped():
    rows = [
        ["Indicator value", None, "CI lower", None, "CI upper", None, None, "Numerator"],
        [66.4, None, 65.7, None, 67.1, None, None, 33457],
        [41.5, None, 40.8, None, 42.3, None, None, 10626],
    ]
    layout, _, data = read(rows)
    assert layout.column_names == ["indicator_value", "ci_lower", "ci_upper", "numerator"]
    assert values(data)[0] == (66.4, 65.7, 67.1, 33457)
    assert layout.warnings == []


def test_unnamed_column_with_a_stray_number_is_dropped_with_a_warning():
    rows = [
        ["Org", "Total", None, "Total"],
        ["England", 10.0, 0.0, 9.0],
        [None],
        *[[f"R{n:02}", 1.0, None, 2.0] for n in range(10)],
    ]
    layout, _, _ = read(rows)
    assert layout.column_names == ["org", "total", "total_2"]
    assert layout.warnings == [
        "column C has no header and values in only 1 of the first 11 data rows; not loaded"
    ]


def test_a_header_cell_reading_like_a_marker_names_its_column():
    rows = [
        ["Org", "Name", "C", "Total"],
        ["RXX", "Trust X", 5, 10],
        ["RYY", "Trust Y", "c", 12],
    ]
    layout, _, _ = read(rows)
    assert layout.column_names == ["org", "name", "c", "total"]
    assert layout.warnings == []  # no "column C has no header"


def test_marker_letters_and_booleans_in_the_header_row_are_names():
    rows = [["Site", "Grid", "X", "Y", "Z", "Yes"], ["A1", "TQ", 1.5, 2.5, 0.0, 4]]
    layout, _, _ = read(rows)
    assert layout.column_names == ["site", "grid", "x", "y", "z", "yes"]


def test_footnote_marks_are_not_glued_to_header_words():
    rows = [
        [None, "European Union\u00b9", None, "United Kingdom2"],
        ["Org", "All staff", "Doctors", "All staff"],
        ["RXX", 1, 2, 3],
    ]
    layout, _, _ = read(rows)
    assert layout.column_names == [
        "org",
        "european_union_all_staff",
        "european_union_doctors",
        "united_kingdom_all_staff",
    ]
    assert layout.columns[1].original_header == "European Union\u00b9 | All staff"


def test_year_headers_stored_as_numbers_are_labels():
    rows = [
        ["Region", 2019.0, 2020.0, 2021.0],
        ["North", 1, 2, 3],
    ]
    layout, _, _ = read(rows)
    assert layout.column_names == ["region", "x2019", "x2020", "x2021"]


def test_a_narrow_band_row_does_not_pass_for_the_header():
    rows = [
        [None, "Urgent referrals", None, None, "Breast referrals"],
        [None],
        [None, "Monthly", "Total", None, "Monthly", "Total"],
        [None, "2009-10-01", 77076.0, None, "2009-10-01", 14736.0],
    ]
    layout, _, _ = read(rows)
    assert layout.header_rows[-1] == 3


def test_no_header_row_is_a_clear_error():
    rows = [["Notes"], [None], ["1. Figures are provisional."], ["2. Totals may not add up."]]
    with pytest.raises(NoTableError, match="no table found"):
        read(rows)


def test_long_names_keep_the_sub_header_whole():
    band = "A&E attendances greater than 4 hours from arrival to admission, transfer or discharge"
    other = "A&E attendances less than 4 hours from arrival to admission, transfer or discharge"
    names = table_names(
        [[other, "Type 1 Departments - Major A&E"], [band, "Type 1 Departments - Major A&E"]]
    )
    assert all(len(name) <= 63 for name in names)
    assert names == [
        "a_and_e_atts_under_4_hours_type_1_departments_major_a_and_e",
        "a_and_e_atts_over_4_hours_type_1_departments_major_a_and_e",
    ]


# ---------------------------------------------------------------------------------------------
# The end of the table


def test_blank_row_then_footnotes_ends_the_table():
    rows = [
        ["Code", "Name", "Total"],
        ["RXX", "Trust X", 1],
        ["RYY", "Trust Y", 2],
        [None],
        ["Notes:"],
        ["1. A hash (-) denotes an organisation did not submit"],
    ]
    layout, reader, data = read(rows)
    assert len(data) == 2
    assert reader.last_data_row == 3
    assert reader.end_row == 5
    assert reader.end_warnings() == []


def test_england_row_blank_row_then_providers_is_one_table():
    rows = [
        ["Code", "Name", "Total"],
        ["-", "England", 3],
        [None],
        ["RXX", "Trust X", 1],
        ["RYY", "Trust Y", 2],
    ]
    _, reader, data = read(rows)
    assert [number for number, _, _ in data] == [2, 4, 5]
    assert reader.end_row is None


def test_a_data_value_starting_with_source_does_not_end_the_table():
    rows = [
        ["Source of referral", "Count", "Rate"],
        ["GP", 10, 0.5],
        ["Source of referral: self", 4, 0.2],
        ["Source of referral unknown", 1, 0.1],
        ["Notes", 2, 0.2],
    ]
    _, reader, data = read(rows)
    assert len(data) == 4
    assert reader.end_row is None


def test_source_line_straight_after_the_data_ends_the_table():
    rows = [
        ["Org", "Total", "Doctors"],
        ["Trust A", 1, 2],
        ["Source: NHS Digital, HCHS workforce statistics."],
        ["Copyright © 2016, Health and Social Care Information Centre."],
    ]
    _, reader, data = read(rows)
    assert len(data) == 1
    assert reader.end_row == 3


def test_rows_that_look_like_a_second_table_under_the_notes_are_reported():
    rows = [
        ["SHA", "Code", "Name", "Total"],
        ["Q30", "RLN", "Sunderland", 4267],
        [None],
        ["Notes:"],
        ["These organisations are shown below."],
        [None],
        ["Q31", "REP", "Liverpool Women's", 245],
    ]
    _, reader, data = read(rows)
    assert len(data) == 1
    assert reader.end_warnings() == [
        "1 row(s) below the notes under the table (from row 7) were not loaded; "
        "choose another sheet or tidy the file"
    ]


@pytest.mark.parametrize(
    ("text", "is_note"),
    [
        ("Notes:", True),
        ("Note: figures are provisional", True),
        ("Source: NHS England", True),
        ("Sources", True),
        ("Copyright © 2020 NHS Digital", True),
        ("© Crown copyright", True),
        ("* = suppressed for small numbers", True),
        ("Source of referral", False),
        ("Notes and definitions sheet is separate", False),
        ("Total", False),
    ],
)
def test_note_lines(text, is_note):
    assert is_note_line(text) is is_note


def test_text_only_table_loses_no_rows():
    rows = [
        ["Code", "Name", "Region"],
        *[[f"R{n:03}", f"Trust {n}", "North" if n % 2 else None] for n in range(60)],
        ["Z99", "Last trust", None],
    ]
    layout, _, data = read(rows)
    assert layout.first_data_row == 2
    assert len(data) == 61
    assert data[-1][1] == ("Z99", "Last trust", None)


def test_tables_longer_than_any_cap_load_whole():
    def long_grid():
        yield ["Code", "Month", "Attendances"]
        for n in range(25_000):
            yield [f"R{n % 97:02}", "2023-09", n]

    window = list(itertools.islice(numbered(long_grid()), WINDOW_ROWS))
    layout = detect_layout(window, sheet_label="test")
    reader = TableReader(layout, display_name="long.csv", is_csv=True)
    total = sum(row_values[2] for _, row_values, _ in reader.rows(numbered(long_grid())))
    assert reader.row_count == 25_000
    assert total == sum(range(25_000))
    assert reader.last_data_row == 25_001


# ---------------------------------------------------------------------------------------------
# Totals rows


def test_totals_rows_are_marked():
    rows = [
        ["Period", "Org Code", "Org name", "Treatment", "Attendances"],
        ["2023-09", "-", "England", "All", 300],
        ["2023-09", "RXX", "Trust X", "General Surgery", 100],
        ["2023-09", "RXX", "Trust X", "Total", 100],
        ["2023-09", "RYY", "Total Knee Replacement Unit", "General Surgery", 200],
        ["TOTAL", "TOTAL", "TOTAL", "TOTAL", 300],
        ["2023-09", "RZZ", "  england ", "General Surgery", 5],
    ]
    _, reader, data = read(rows)
    assert [number for number, _, is_total in data if is_total] == [2, 4, 6, 7]
    assert reader.total_rows() == [2, 4, 6, 7]


def test_a_column_where_england_is_the_usual_value_is_not_a_totals_marker():
    rows = [
        ["Country", "Org", "Attendances"],
        *[["England", f"R{n:02}", n] for n in range(8)],
        ["Wales", "W01", 3],
        ["England", "Total", 31],
    ]
    _, reader, data = read(rows)
    assert reader.total_rows() == [11]
    assert layout_names(reader, reader.marker_columns()) == ["org"]
    assert len(data) == 10


def layout_names(reader: TableReader, positions) -> list[str]:
    return [reader.layout.columns[position].name for position in positions]


# ---------------------------------------------------------------------------------------------
# Ragged CSV rows


CSV_HEADER = ["Period", "Org Code", "Org Name", "Attendances"]


def test_ragged_csv_row_is_an_error_with_its_line_number():
    rows = [
        CSV_HEADER,
        ["2023-09", "RXX", "Trust X", "10"],
        ["2023-09", "RYY", "Trust Y, with a comma", "20"][:3],
        ["2023-09", "RZZ", "Trust Z", "30"],
    ]
    with pytest.raises(BadInputError, match=r"test\.csv line 3: 3 fields where the header"):
        read(rows, is_csv=True)


def test_csv_row_with_extra_values_is_ragged_but_trailing_empty_fields_are_not():
    rows = [CSV_HEADER, ["2023-09", "RXX", "Trust X", "10", None, None]]
    _, _, data = read(rows, is_csv=True)
    assert len(data) == 1
    with pytest.raises(BadInputError, match="line 2: 5 fields"):
        read([CSV_HEADER, ["2023-09", "RXX", "Trust", "X", "10"]], is_csv=True)


def test_trailing_one_field_note_in_a_csv_is_fine():
    rows = [
        CSV_HEADER,
        ["2023-09", "RXX", "Trust X", "10"],
        ["Data extracted 12 October 2023"],
        ["Contains public sector information licensed under the OGL"],
    ]
    _, reader, data = read(rows, is_csv=True)
    assert len(data) == 1
    assert reader.end_row == 3


def test_short_csv_record_followed_by_data_is_ragged():
    rows = [
        CSV_HEADER,
        ["2023-09", "RXX", "Trust X", "10"],
        ["2023-09"],
        ["2023-09", "RZZ", "Trust Z", "30"],
    ]
    with pytest.raises(BadInputError, match="line 3: 1 field where"):
        read(rows, is_csv=True)


# ---------------------------------------------------------------------------------------------
# Side-by-side blocks


def test_side_by_side_blocks_are_stacked_with_their_titles():
    rows = [
        [None],
        [None, None, "Two Week Wait", None, None, None, "One Month Wait", None],
        [None, None, "Operational Standard = 93%", None, None, None, "Standard = 96%", None],
        [None, "Monthly", "Total", "Within", None, "Monthly", "Total", "Within"],
        [None, "2023-04-01", 100, 90, None, "2023-04-01", 50, 48],
        [None, "2023-05-01", 110, 95, None, "2023-05-01", None, None],
    ]
    layout, reader, data = read(rows)
    assert layout.column_names == ["block_title", "block_subtitle", "monthly", "total", "within"]
    assert layout.header_rows == [2, 3, 4]
    assert len(layout.blocks) == 2
    assert values(data) == [
        ("Two Week Wait", "Operational Standard = 93%", "2023-04-01", 100, 90),
        ("One Month Wait", "Standard = 96%", "2023-04-01", 50, 48),
        ("Two Week Wait", "Operational Standard = 93%", "2023-05-01", 110, 95),
        ("One Month Wait", "Standard = 96%", "2023-05-01", None, None),
    ]
    assert [number for number, _, _ in data] == [5, 5, 6, 6]
    assert any("2 side-by-side blocks" in warning for warning in layout.warnings)


def test_side_by_side_blocks_of_different_shapes_are_refused():
    rows = [
        ["Period", "Total", "Within", None, "Period", "Total"],
        ["2023-04-01", 100, 90, None, "2023-04-01", 50],
    ]
    with pytest.raises(BadInputError, match="side-by-side blocks of different shapes"):
        read(rows)


@pytest.mark.parametrize("left", [0, 1])  # the table from column A (transposed) or from B
@pytest.mark.parametrize("past", [(), (None, None), (None, "note")])  # cells past the table
def test_a_chunks_columns_are_its_rows_cells_column_by_column(left, past):
    """Rows may stop short of the table's last column or reach past it (blank cells on every
    row; a note on every third, which becomes a column of its own)."""
    header = [None] * left + ["Org Code", "Org Name", "Attendances", "Breaches"]
    rows = [header]
    for n in range(1, 1300):
        cells = [None] * left + [f"R{n:04}", f"Trust {n}", n * 7, None if n % 5 else n]
        if past and (past[1] is None or n % 3 == 0):
            cells += list(past)
        short = n % 7 == 0 and past[1:] != (None,)  # rows that stop short, but not where every
        rows.append(cells[: left + 3] if short else cells)  # row reaches past the table
    window = list(itertools.islice(numbered(rows), WINDOW_ROWS))
    layout = detect_layout(window, sheet_label="test")
    reader = TableReader(layout, display_name="test.xlsx")
    chunks = list(reader.chunks(numbered(rows), 512))
    wanted = [
        [cells[c] if c < len(cells) else None for c in layout.blocks[0].sheet_columns]
        for cells in rows[1:]
    ]
    assert [number for numbers, _ in chunks for number in numbers] == list(range(2, 1301))
    got = [list(row) for _, columns in chunks for row in zip(*columns, strict=True)]
    assert got == wanted
    assert all(type(column) is list for _, columns in chunks for column in columns)
