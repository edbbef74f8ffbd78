"""Several sheets holding tables: one decision, the same candidates for inspect and the loader."""

from __future__ import annotations

import openpyxl
import pytest
import yaml

from datawarp.core.errors import NotFoundError
from datawarp.pipeline.extract.engine import open_fetched
from datawarp.pipeline.extract.sheets import (
    SeveralSheetsError,
    candidates_listing,
    manifest_sheet,
)
from datawarp.pipeline.fetch import fetch
from datawarp.pipeline.inspect import open_table
from tests.pipeline.extract.test_engine import provider_workbook

AE_2024 = "ae_monthly_timeseries/Monthly-AE-Time-Series-January-2024.xls"
MULTI_SHEET_SAMPLES = {
    AE_2024: ["Activity", "Performance", "Booking"],
    "ae_monthly_timeseries/AE_England_data.xls": ["Activity", "Performance"],
    "beds_kh03_overnight/Beds-Open-Overnight-Web_File-Final-DE5WC.xlsx": [
        "NHS Trust by Sector",
        "Region by Sector",
        "Occupied by Specialty",
    ],
    "ae_weekly_sitrep/Weekly-AE-Sitrep-Provider-we-07-Nov-2010.xls": ["A&E Data", "Acute mapped"],
    "cancer_waiting_times/CWT-CRS-National-Time-Series-Oct-2009-Oct-2023-with-Revisions.xlsx": [
        "Monthly Performance",
        "Quarterly Performance",
        "Annual Performance",
        "Monthly Referrals Seen",
    ],
}


def refusal(path, cache) -> SeveralSheetsError:
    with pytest.raises(SeveralSheetsError) as caught:
        open_fetched(fetch(str(path), cache_dir=cache), refuse_several_sheets=True)
    return caught.value


@pytest.mark.samples
@pytest.mark.parametrize("relative_path", sorted(MULTI_SHEET_SAMPLES))
def test_inspect_and_the_loader_list_the_same_candidates(nhs_samples, tmp_path, relative_path):
    path = nhs_samples / relative_path
    shown = open_table(str(path), cache_dir=tmp_path)
    refused = refusal(path, tmp_path)
    names = MULTI_SHEET_SAMPLES[relative_path]
    assert [candidate.name for candidate in shown.sheet_candidates] == names
    assert refused.candidates == shown.sheet_candidates
    listing = candidates_listing(shown.sheet_candidates)
    assert listing in refused.message and listing in shown.warnings[0]
    assert shown.sheet == names[0] and shown.sheet_ambiguous
    assert "\n" not in refused.message and "\n" not in shown.warnings[0]
    assert refused.message.startswith(f"{path.name} has {len(names)} sheets holding tables: ")
    assert f"add sheet: NAME to the file's manifest entry (e.g. sheet: {names[0]})" in (
        refused.message
    )
    assert f"shown: '{names[0]}' (the first)" in shown.warnings[0]


@pytest.mark.samples
@pytest.mark.parametrize("relative_path", [AE_2024, *sorted(MULTI_SHEET_SAMPLES)[1:3]])
def test_each_candidate_says_what_loading_it_would_read(nhs_samples, tmp_path, relative_path):
    """Rows and columns as a load of that sheet counts them; headers as the file has them."""
    path = nhs_samples / relative_path
    for candidate in open_table(str(path), cache_dir=tmp_path).sheet_candidates:
        table = open_table(str(path), sheet=candidate.name, cache_dir=tmp_path)
        file_columns = [column for column in table.columns if column.originals_of is None]
        assert (candidate.rows, candidate.columns) == (table.row_count, len(file_columns))
        assert not table.sheet_ambiguous and table.sheet_candidates == []
        assert candidate.summary.startswith(
            f"'{candidate.name}' ({table.row_count:,} rows × {len(file_columns)} cols: "
        )


def loaded_shape(path, sheet, cache) -> tuple[int, int]:
    """Rows and file columns (companions aside) of a load of ``sheet``."""
    table = open_table(str(path), sheet=sheet, cache_dir=cache)
    return table.row_count, sum(column.originals_of is None for column in table.columns)


@pytest.mark.samples
def test_the_summary_shows_the_first_headers(nhs_samples, tmp_path):
    """A band shared with the header before is left out; long headers are shortened."""
    path = nhs_samples / AE_2024
    activity, performance, booking = open_table(str(path), cache_dir=tmp_path).sheet_candidates
    rows, columns = loaded_shape(path, "Activity", tmp_path)
    assert activity.summary == (
        f"'Activity' ({rows} rows × {columns} cols: Period, A&E attendances | Type 1"
        " Departments…, Type 2 Departments - Single Specialty, …)"
    )
    assert (performance.rows, booking.rows) == (159, 42)
    beds = nhs_samples / "beds_kh03_overnight/Beds-Open-Overnight-Web_File-Final-DE5WC.xlsx"
    region = open_table(str(beds), cache_dir=tmp_path).sheet_candidates[1]
    rows, columns = loaded_shape(beds, "Region by Sector", tmp_path)
    assert region.summary == (
        f"'Region by Sector' ({rows} rows × {columns} cols: Year, Period End, Region Code, …)"
    )


def test_generated_workbook_hidden_and_cover_sheets_are_no_candidates(tmp_path):
    path = provider_workbook(tmp_path / "two.xlsx", extra_data_sheet=True)
    table = open_table(str(path), cache_dir=tmp_path)
    assert [(c.name, (c.rows, c.columns)) for c in table.sheet_candidates] == [
        ("Provider Data", loaded_shape(path, "Provider Data", tmp_path)),
        ("Region Data", loaded_shape(path, "Region Data", tmp_path)),
    ]
    assert [c.rows for c in table.sheet_candidates] == [4, 1]
    assert refusal(path, tmp_path).candidates == table.sheet_candidates
    # One data sheet: nothing to choose, nothing refused.
    single = provider_workbook(tmp_path / "one.xlsx")
    opened = open_fetched(fetch(str(single), cache_dir=tmp_path), refuse_several_sheets=True)
    assert opened.sheet == "Provider Data" and opened.sheet_candidates == []


def test_a_named_sheet_must_exist_and_is_read_alone(tmp_path):
    path = provider_workbook(tmp_path / "two.xlsx", extra_data_sheet=True)
    fetched = fetch(str(path), cache_dir=tmp_path)
    table = open_fetched(fetched, sheet="Region Data", refuse_several_sheets=True)
    assert table.sheet == "Region Data" and table.sheet_candidates == []
    with pytest.raises(NotFoundError, match="Sheet 'Regions' not found in two.xlsx; sheets: "):
        open_fetched(fetched, sheet="Regions", refuse_several_sheets=True)


@pytest.mark.parametrize(
    "name", ["Activity", "A&E Data", "2023", "yes", "Data: Sept", "#1 table", "it's here", " x"]
)
def test_the_suggested_manifest_line_reads_back_as_the_sheet_name(name):
    line = manifest_sheet(name)
    assert yaml.safe_load(line) == {"sheet": name}
    assert (line == f"sheet: {name}") == (name in ("Activity", "A&E Data", "it's here"))


def test_a_sheet_name_yaml_would_misread_is_quoted_in_the_refusal(tmp_path):
    book = openpyxl.Workbook()
    book.remove(book.active)
    for name in ("2023", "2024"):
        sheet = book.create_sheet(name)
        sheet.append(["Org Code", "Attendances"])
        sheet.append(["RXX", 10])
    book.save(tmp_path / "years.xlsx")
    message = refusal(tmp_path / "years.xlsx", tmp_path).message
    assert message.endswith("(e.g. sheet: '2023')")
    assert "'2023' (1 row × 2 cols: Org Code, Attendances)" in message
