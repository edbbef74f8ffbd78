"""Gate policy without a database: made-up numbers in, the stored checks out."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import pytest

from datawarp.catalog.gate_queries import (
    DateStats,
    DuplicateKeys,
    DuplicateRows,
    LoadedStats,
    MetadataCoverage,
    PreviousLoad,
    RecordedChange,
)
from datawarp.core.checks import local_today
from datawarp.core.clock import FixedClock
from datawarp.core.gate_settings import GateSettings
from datawarp.pipeline.gate_dates import age_of, first_day_of_age, last_day_of_age
from datawarp.pipeline.gates import (
    ColumnStat,
    GateContext,
    GateFacts,
    date_bounds,
    date_range_check,
    duplicate_rows_check,
    duplicates_check,
    evaluate,
    metadata_checks,
    null_columns_check,
    row_count_checks,
    schema_checks,
)

DEFAULTS = GateSettings()
LEAP_DAY = date(2028, 2, 29)


def _by_name(results):
    return {r.check_name: r for r in results}


# --- row count --------------------------------------------------------------------------


def test_zero_rows_fails_alone():
    (check,) = row_count_checks(0, PreviousLoad(1, 100, "2025-08"), DEFAULTS)
    assert (check.check_name, check.status, check.message) == (
        "zero_rows",
        "fail",
        "0 (no rows loaded)",
    )


def test_few_and_many_rows_warn_with_their_thresholds():
    few = _by_name(row_count_checks(7, None, DEFAULTS))
    assert few["too_few_rows"].status == "warn"
    assert few["too_few_rows"].details["note"] == "fewer than 10 rows: extraction issue?"
    assert few["row_change"].message == "7 (first load of this kind of period)"
    many = _by_name(row_count_checks(11, None, GateSettings(max_rows=10, min_rows=0)))
    assert many["too_many_rows"].message == "11 (more than 10 rows: performance concern)"
    assert "too_few_rows" not in many


@pytest.mark.parametrize(
    ("rows", "before", "status", "note"),
    [
        (21, 20, "pass", "within 5% of previous: 20"),
        (20, 20, "pass", "same as previous: 20"),
        (2001, 2000, "pass", "within 1% of previous: 2,000"),
        (40, 100, "warn", "-60% vs previous: 100; limit ±50%"),
        (150, 100, "warn", "+50% vs previous: 100; limit ±50%"),
        (149, 100, "pass", "within 49% of previous: 100"),
        (12, 0, "warn", "+100% vs previous: 0; limit ±50%"),
    ],
)
def test_row_change_against_the_previous_load(rows, before, status, note):
    checks = _by_name(row_count_checks(rows, PreviousLoad(3, before, "2025-08"), DEFAULTS))
    check = checks["row_change"]
    assert (check.status, check.details["note"]) == (status, note)
    assert check.message == f"{rows:,} ({note})"
    assert check.details["previous_load_id"] == 3 and check.details["previous_period"] == "2025-08"


def test_row_change_limit_and_severity_are_settings():
    settings = GateSettings(row_change_percent=5, severity={"row_change": "fail"})
    check = _by_name(row_count_checks(60, PreviousLoad(1, 50, None), settings))["row_change"]
    assert check.status == "fail" and check.details["change_percent"] == 20.0


# --- schema -----------------------------------------------------------------------------


def _added(names, status="auto"):
    return RecordedChange("add", status, [{"name": n, "type": "integer"} for n in names])


def test_schema_new_table_and_no_changes():
    (created,) = schema_checks([RecordedChange("create", "auto", [])], 3, DEFAULTS)
    assert created.message == "3 columns (new table)" and created.details == {"columns": 3}
    (unchanged,) = schema_checks([], 12, DEFAULTS)
    assert (unchanged.status, unchanged.message) == ("pass", "12 columns (no changes)")


def test_added_columns_pass_until_more_than_the_limit_then_report_held_ones():
    (few,) = schema_checks([_added(["a", "b"])], 5, DEFAULTS)
    assert (few.status, few.message) == ("pass", "5 columns, 2 new: a, b")
    names = [f"m{n}" for n in range(11)]
    (many,) = schema_checks([_added(names[:4]), _added(names[4:], "pending")], 14, DEFAULTS)
    assert many.status == "warn"
    assert many.message.startswith("14 columns, 11 new (7 held for review): m0, m1")
    assert many.details == {"added": names, "held_for_review": names[4:]}


def test_widened_columns_are_a_type_change():
    widen = RecordedChange(
        "widen", "auto", [{"name": "n", "old_type": "smallint", "type": "numeric"}]
    )
    checks = _by_name(schema_checks([widen], 3, DEFAULTS))
    assert checks["columns_added"].status == "pass"
    assert checks["type_changes"].status == "warn"
    assert checks["type_changes"].message == "type changes: n smallint→numeric"


# --- data quality -----------------------------------------------------------------------


def _stats(rows, non_null, dates=None):
    return LoadedStats(rows, non_null, dates or {})


def test_all_null_is_told_apart_from_fully_suppressed():
    columns = [
        ColumnStat("a", "text"),
        ColumnStat("empty", "text"),
        ColumnStat("s", "integer", True, 20),
    ]
    both = null_columns_check(columns, _stats(20, {"a": 20, "empty": 0, "s": 0}), DEFAULTS)
    assert (both.check_name, both.status) == ("all_null_columns", "warn")
    assert both.message == "all-NULL column(s): empty"
    assert both.details == {"all_null": ["empty"], "fully_suppressed": ["s"]}
    only = null_columns_check(columns[::2], _stats(20, {"a": 20, "s": 0}), DEFAULTS)
    assert (only.check_name, only.status) == ("fully_suppressed_columns", "warn")
    assert only.message.endswith("(every cell a suppression marker): s")


def test_no_rows_means_no_null_columns():
    check = null_columns_check([ColumnStat("a", "text")], _stats(0, {"a": 0}), DEFAULTS)
    assert (check.status, check.message) == ("pass", "No NULL columns")


def test_duplicates_without_a_key_missing_key_columns_and_found_keys():
    # no key: nothing was checked, so no "0 duplicates" claim (duplicate rows cover it)
    assert duplicates_check([], ["a"], None, DEFAULTS) is None
    missing = duplicates_check(["a", "b"], ["a"], None, DEFAULTS)
    assert (missing.status, missing.details["missing"]) == ("warn", ["b"])
    clean = duplicates_check(["a"], ["a"], DuplicateKeys(0, 0, []), DEFAULTS)
    assert (clean.status, clean.message, clean.details["examples"]) == (
        "pass", "0 duplicate keys", [],
    )  # fmt: skip
    found = DuplicateKeys(2, 5, ['["R002"]', '["R001"]'])
    dup = duplicates_check(["org_code"], ["org_code"], found, DEFAULTS)
    assert dup.status == "fail"
    assert dup.message == '2 duplicate key(s) on (org_code), e.g. ["R002"]; ["R001"]'
    assert dup.details == {"primary_key": ["org_code"], "duplicate_keys": 2, "rows_involved": 5,
                           "examples": ['["R002"]', '["R001"]']}  # fmt: skip


def test_duplicate_rows_are_counted_within_the_file_and_against_other_loads():
    clean = duplicate_rows_check(NO_DUPLICATE_ROWS, "2025-09", DEFAULTS)
    assert (clean.check_name, clean.status, clean.message) == (
        "duplicate_rows", "pass", "0 duplicate rows",
    )  # fmt: skip
    reload = duplicate_rows_check(DuplicateRows(0, 582, [7], []), "2010-Q1", DEFAULTS)
    assert reload.status == "warn"  # the default: a file may hold repeats on purpose
    assert reload.message == (
        "582 duplicate row(s): 582 are already in the table for 2010-Q1 (load 7)"
    )
    pair = {"first_row": 14, "last_row": 15, "copies": 2}
    three = {"first_row": 20, "last_row": 31, "copies": 3}
    both = duplicate_rows_check(DuplicateRows(3, 2, [4, 9], [pair, three]), None, DEFAULTS)
    assert both.message == (
        "5 duplicate row(s): 3 repeat a row of the file (rows 14 and 15; 3 rows alike, rows 20"
        " to 31); 2 are already in the table with no period (load 4, 9)"
    )
    assert both.details == {"duplicate_rows": 5, "within_file": 3, "of_other_loads": 2,
                            "other_loads": [4, 9], "examples": [pair, three]}  # fmt: skip
    strict = GateSettings(severity={"duplicate_rows": "fail"})
    assert duplicate_rows_check(DuplicateRows(1, 0, [], [pair]), "x", strict).status == "fail"
    unchecked = duplicate_rows_check(None, "x", GateSettings(duplicate_rows_max_rows=1000), 1001)
    assert (unchecked.status, unchecked.message) == (
        "warn", "duplicate rows not checked: 1,001 rows is over duplicate_rows_max_rows (1,000)",
    )  # fmt: skip


def test_evaluate_reports_duplicate_rows_without_a_primary_key():
    columns = [ColumnStat("org_code", "text")]
    ctx = GateContext("ae", "staging", "tbl_ae", 2, "2025-09", "month", columns,
                      today=date(2025, 10, 1))  # fmt: skip
    facts = _facts(_stats(20, {"org_code": 20}), columns=columns,
                   rows=DuplicateRows(0, 20, [1], []))  # fmt: skip
    quality = [r for r in evaluate(ctx, facts) if r.validation_type == "quality"]
    assert [(r.check_name, r.status) for r in quality] == [
        ("all_null_columns", "pass"), ("duplicate_rows", "warn"),
    ]  # fmt: skip


def date_stats(days, anchor, future_after):
    """A date column's stats as the gates' scan computes them (years: one bit per age)."""
    years = 0
    for day in days:
        years |= 1 << age_of(day, anchor)
    late = sum(day > future_after for day in days)
    return DateStats(min=min(days).isoformat(), max=max(days).isoformat(), future=late,
                     years=years)  # fmt: skip


def test_date_range_judges_dates_against_the_period_loaded_and_their_own_span():
    bounds = date_bounds(date(2025, 10, 1), DEFAULTS, "2025-09", "month")
    assert (bounds.anchor, bounds.future_after, bounds.anchored_on) == (
        date(2025, 9, 30), date(2026, 10, 1), "period",
    )  # fmt: skip
    assert date_range_check(_stats(20, {}), bounds, DEFAULTS) is None
    fine = date_stats([date(2025, 4, 1)], bounds.anchor, bounds.future_after)
    ok = date_range_check(_stats(20, {}, {"d": fine}), bounds, DEFAULTS)
    assert (ok.status, ok.message) == ("pass", "dates within range (2025-04-01 to 2025-04-01)")
    assert ok.details["future_after"] == "2026-10-01" and ok.details["anchor"] == "2025-09-30"
    days = [date(2025, 4, 1)] * 18 + [date(1990, 6, 15), date(2099, 1, 1)]
    odd = date_stats(days, bounds.anchor, bounds.future_after)
    check = date_range_check(_stats(20, {}, {"d": odd}), bounds, DEFAULTS)
    assert check.status == "warn"
    assert check.message == (
        "d: 1 more than 366 days after the period loaded (latest 2099-01-01); dates on or before"
        " 1990-09-30 (earliest 1990-06-15) are far before the rest (on or after 2024-09-30)"
    )
    assert check.details["columns"]["d"]["apart"] == {"until": "1990-09-30", "since": "2024-09-30"}


def test_without_a_period_dates_are_judged_against_today():
    bounds = date_bounds(date(2025, 10, 1), DEFAULTS)
    assert (bounds.anchor, bounds.future_after, bounds.anchored_on) == (
        date(2025, 10, 1), date(2025, 10, 1), "today",
    )  # fmt: skip
    tomorrow = date_stats([date(2025, 10, 2)], bounds.anchor, bounds.future_after)
    check = date_range_check(_stats(1, {}, {"d": tomorrow}), bounds, DEFAULTS)
    assert check.message == "d: 1 in the future (latest 2025-10-02)"


def test_future_allowance_moves_the_bound():
    bounds = date_bounds(date(2025, 12, 30), GateSettings(future_dates_allowed_days=5))
    assert bounds.future_after == date(2026, 1, 4)


@pytest.mark.parametrize(
    ("period", "kind", "end", "future_after"),
    [
        ("2028-02", "month", LEAP_DAY, date(2029, 3, 1)),
        ("2027-28", "fiscal_year", date(2028, 3, 31), date(2029, 4, 1)),
        ("2028-W09", "week", date(2028, 3, 5), date(2029, 3, 6)),
        ("2028-02-29", "day", LEAP_DAY, date(2029, 3, 1)),
    ],
)
def test_the_period_loaded_bounds_its_dates_calendar_safely(period, kind, end, future_after):
    bounds = date_bounds(date(2030, 1, 1), DEFAULTS, period, kind)
    assert (bounds.anchor, bounds.future_after) == (end, future_after)


def test_ages_count_whole_years_back_from_the_anchor_on_a_leap_day():
    assert [age_of(day, LEAP_DAY) for day in (
        date(2029, 1, 1), LEAP_DAY, date(2027, 3, 1), date(2027, 2, 28), date(1966, 3, 1),
        date(1900, 1, 1), date(1, 1, 1),
    )] == [0, 0, 0, 1, 61, 62, 62]  # fmt: skip
    for age in (0, 1, 4, 61):  # the days each age covers meet without gap or overlap
        first, last = first_day_of_age(LEAP_DAY, age), last_day_of_age(LEAP_DAY, age + 1)
        assert age_of(first, LEAP_DAY) == age and age_of(first - timedelta(1), LEAP_DAY) == age + 1
        assert last == first - timedelta(1)


def test_gates_run_on_a_leap_day():
    ctx = GateContext("ae", "staging", "tbl_ae", 2, "2028-02", "month",
                      [ColumnStat("d", "date")], today=LEAP_DAY)  # fmt: skip
    bounds = date_bounds(ctx.today, ctx.settings, ctx.period, ctx.period_kind)
    days = [date(year, 2, 28) for year in range(2018, 2028)] + [LEAP_DAY]
    facts = _facts(_stats(11, {"d": 11}, {"d": date_stats(days, bounds.anchor, bounds.future_after)}),
                   columns=ctx.columns)  # fmt: skip
    check = _by_name(evaluate(ctx, facts))["date_range"]
    assert check.details["anchor"] == "2028-02-29" and check.status == "pass"
    assert check.details["columns"]["d"]["ages"] == "0-10"


def test_today_defaults_to_the_clock_and_can_be_fixed():
    # Naive, so read as local time: the test holds in every time zone the suite runs in.
    clock = FixedClock(datetime(2028, 2, 29, 12))
    assert local_today(clock) == LEAP_DAY
    ctx = GateContext("ae", "staging", "tbl_ae", 1, None, None, [])
    assert ctx.today == local_today()


# --- metadata ---------------------------------------------------------------------------


def test_descriptions_below_the_threshold_and_missing_search_terms_warn():
    described = _by_name(metadata_checks(MetadataCoverage(2, True), 3, DEFAULTS))
    assert described["descriptions"].message == "2/3 columns have descriptions (67%)"
    assert described["descriptions"].status == "pass" and "search_terms" not in described
    bare = _by_name(metadata_checks(MetadataCoverage(0, False), 3, DEFAULTS))
    assert bare["descriptions"].status == "warn"
    assert bare["descriptions"].details == {"described": 0, "columns": 3, "percent": 0.0}
    assert bare["search_terms"].message == "no search terms for this source"
    strict = metadata_checks(
        MetadataCoverage(1, True), 3, GateSettings(severity={"descriptions": "fail"})
    )
    assert strict[0].status == "fail"


def test_no_columns_counts_as_fully_described():
    (check,) = metadata_checks(MetadataCoverage(0, True), 0, DEFAULTS)
    assert check.status == "pass" and check.details["percent"] == 100.0


# --- all four -----------------------------------------------------------------------------


NO_DUPLICATE_ROWS = DuplicateRows(0, 0, [], [])


def _facts(stats, *, columns, previous=None, changes=(), duplicates=None, coverage=None,
           rows=NO_DUPLICATE_ROWS):  # fmt: skip
    return GateFacts(
        columns=list(columns), stats=stats, previous=previous, changes=list(changes),
        duplicates=duplicates, duplicate_rows=rows,
        coverage=coverage or MetadataCoverage(2, True),
    )  # fmt: skip


def test_evaluate_gives_every_gate_in_report_order():
    columns = [ColumnStat("org_code", "text"), ColumnStat("org_name", "text"),
               ColumnStat("attendances", "smallint")]  # fmt: skip
    ctx = GateContext("ae", "staging", "tbl_ae", 2, "2025-09", "month", columns,
                      primary_key=["org_code"], today=date(2025, 10, 1))  # fmt: skip
    stats = _stats(21, {"org_code": 21, "org_name": 21, "attendances": 21})
    facts = _facts(stats, columns=columns, previous=PreviousLoad(1, 20, "2025-08"),
                   duplicates=DuplicateKeys(0, 0, []))  # fmt: skip
    results = evaluate(ctx, facts)
    assert [(r.validation_type, r.check_name, r.status) for r in results] == [
        ("row_count", "row_change", "pass"),
        ("schema", "columns_added", "pass"),
        ("quality", "all_null_columns", "pass"),
        ("quality", "duplicate_keys", "pass"),
        ("quality", "duplicate_rows", "pass"),
        ("metadata", "descriptions", "pass"),
    ]
