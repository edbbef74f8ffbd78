"""Gates that stay quiet on healthy sources, as pure policy: a time series' old dates, a
cumulative file's growth and metadata already reported do not warn; what is out of place does."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from datawarp.catalog.gate_queries import (
    DuplicateRows,
    LoadedStats,
    MetadataCoverage,
    PreviousLoad,
    PreviousMetadata,
)
from datawarp.core.gate_settings import GateSettings
from datawarp.pipeline.gate_dates import age_of, ages_in, ages_text, apart
from datawarp.pipeline.gate_growth import Growth, cumulative_growth
from datawarp.pipeline.gates import (
    ColumnStat,
    GateContext,
    GateFacts,
    date_bounds,
    date_range_check,
    evaluate,
    metadata_checks,
    row_count_checks,
)
from tests.pipeline.test_gate_policy import date_stats

DEFAULTS = GateSettings()


def months(first: date, last: date) -> list[date]:
    days, year, month = [], first.year, first.month
    while date(year, month, 1) <= last:
        days.append(date(year, month, 1))
        year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    return days


def judged(days: list[date], period: str | None, kind: str | None, today: date):
    bounds = date_bounds(today, DEFAULTS, period, kind)
    stats = LoadedStats(len(days), {"d": len(days)}, {"d": date_stats(days, bounds.anchor,
                                                                       bounds.future_after)})  # fmt: skip
    return date_range_check(stats, bounds, DEFAULTS)


# --- dates ------------------------------------------------------------------------------


AE_SERIES = months(date(2010, 8, 1), date(2024, 1, 1))  # the A&E time series, January 2024


def test_fifteen_years_of_months_are_in_range_whatever_their_age():
    check = judged(AE_SERIES, "2024-01", "month", date(2035, 6, 1))
    assert (check.status, check.message) == (
        "pass",
        "dates within range (2010-08-01 to 2024-01-01)",
    )
    assert check.details["columns"]["d"]["ages"] == "0-13"


def test_a_time_series_without_a_period_is_judged_against_today():
    assert judged(AE_SERIES, None, None, date(2024, 2, 8)).status == "pass"


def test_rest_of_year_rows_after_the_period_are_in_place_when_published():
    # RTT overview June 2022: months to March 2023 are listed (empty) when it is published
    rtt = months(date(2007, 4, 1), date(2023, 3, 1))
    assert judged(rtt, "2022-06", "month", date(2022, 7, 14)).status == "pass"


@pytest.mark.parametrize(
    ("odd", "until", "since"),
    [
        (date(1900, 1, 1), "1962-01-30", "2010-01-31"),  # an Excel placeholder
        (date(1989, 6, 1), "1990-01-30", "2010-01-31"),  # before 1990 while the rest is 2010+
    ],
)
def test_a_date_long_before_a_time_series_is_out_of_place(odd, until, since):
    check = judged([*AE_SERIES, odd], "2024-01", "month", date(2024, 2, 8))
    assert check.status == "warn"
    assert check.message == (
        f"d: dates on or before {until} (earliest {odd}) are far before the rest"
        f" (on or after {since})"
    )


def test_a_provider_files_stray_dates_are_out_of_place():
    month = [date(2023, 9, 1)] * 200
    for stray in (date(1900, 1, 1), date(2013, 9, 1)):  # a placeholder, a mistyped year
        check = judged([*month, stray], "2023-09", "month", date(2023, 10, 12))
        assert check.status == "warn" and f"(earliest {stray})" in check.message
    later = judged([*month, date(2031, 9, 1)], "2023-09", "month", date(2023, 10, 12))
    assert later.message == "d: 1 more than 366 days after the period loaded (latest 2031-09-01)"
    within = judged([*month, date(2024, 6, 1)], "2023-09", "month", date(2023, 10, 12))
    assert within.status == "pass"  # less than a year after the period: a publication date


@pytest.mark.parametrize(
    ("ages", "found"),
    [
        ([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13], None),  # unbroken
        ([0, 5, 10, 15, 20, 25, 30], None),  # a census every five years
        ([0, 62], (0, 62)),
        ([0, 9], None),  # nine years apart: under past_years
        ([0, 10], (0, 10)),  # 2013 in a 2023 provider file
        ([*range(14), 24], None),  # eleven years before fourteen years of dates
        ([*range(14), 28, 29, 62], (13, 28)),  # two clusters apart: both are reported
    ],
)
def test_dates_lie_apart_past_years_and_more_than_the_later_span_before_the_rest(ages, found):
    assert apart(ages, DEFAULTS.past_years) == found


def test_ages_are_stored_as_runs():
    years = sum(1 << age for age in (0, 1, 2, 13, 62))
    assert ages_in(years) == [0, 1, 2, 13, 62]
    assert ages_text(ages_in(years)) == "0-2, 13, 62+"
    assert ages_text([]) == ""


def test_past_years_sets_the_gap():
    strict = GateSettings(past_years=3)
    assert apart([0, 4], strict.past_years) == (0, 4)
    assert age_of(date(2020, 1, 1), date(2024, 1, 1)) == 4  # 1,461 days make four years
    assert age_of(date(2020, 1, 2), date(2024, 1, 1)) == 3


# --- growth of cumulative time series -------------------------------------------------------


def _ranges(first: date, last: date) -> dict:
    return {"d": date_stats([first, last], last, last + timedelta(400))}


def test_a_range_that_covers_the_previous_one_makes_growth_expected():
    previous = {"d": ("2010-08-01", "2019-04-01")}
    growth = cumulative_growth(False, _ranges(date(2010, 8, 1), date(2024, 1, 1)), previous)
    assert growth == Growth(False, "d", (date(2010, 8, 1), date(2019, 4, 1)),
                            (date(2010, 8, 1), date(2024, 1, 1)))  # fmt: skip
    (check,) = row_count_checks(162, PreviousLoad(4, 105, "2019-04"), DEFAULTS, growth)
    assert check.status == "pass"
    assert check.message == (
        "162 (+54% vs previous: 105; cumulative: d now 2010-08-01 to 2024-01-01, previously to"
        " 2019-04-01)"
    )
    assert check.details["cumulative"]["expected_rows"] == 163
    (bloated,) = row_count_checks(400, PreviousLoad(4, 105, "2019-04"), DEFAULTS, growth)
    assert bloated.status == "warn" and bloated.details["note"].endswith(
        "so about 163 expected; limit ±50%"
    )
    (lost,) = row_count_checks(60, PreviousLoad(4, 105, "2019-04"), DEFAULTS, growth)
    assert lost.status == "warn"


@pytest.mark.parametrize(
    ("now", "before"),
    [
        ((date(2023, 10, 1), date(2023, 10, 1)), ("2023-09-01", "2023-09-01")),  # one month each
        ((date(2012, 1, 1), date(2024, 1, 1)), ("2010-08-01", "2019-04-01")),  # a rolling window
        ((date(2010, 8, 1), date(2019, 4, 1)), ("2010-08-01", "2024-01-01")),  # an older edition
        ((date(2010, 8, 1), date(2019, 4, 1)), ("2010-08-01", "2019-04-01")),  # the same again
    ],
)
def test_no_growth_is_expected_unless_the_range_covers_and_extends_the_previous(now, before):
    assert cumulative_growth(False, _ranges(*now), {"d": before}) is None


def test_a_declared_cumulative_source_may_grow_but_not_shrink():
    growth = cumulative_growth(True, {}, {})
    assert growth == Growth(declared=True)
    (grew,) = row_count_checks(1_368, PreviousLoad(1, 608, "2020-03"), DEFAULTS, growth)
    assert (grew.status, grew.message) == (
        "pass", "1,368 (+125% vs previous: 608; cumulative, as the manifest declares)",
    )  # fmt: skip
    (fell,) = row_count_checks(200, PreviousLoad(1, 608, "2020-03"), DEFAULTS, growth)
    assert (fell.status, fell.message) == ("warn", "200 (-67% vs previous: 608; limit ±50%)")
    (undeclared,) = row_count_checks(1_368, PreviousLoad(1, 608, "2020-03"), DEFAULTS, None)
    assert undeclared.status == "warn"


# --- metadata -------------------------------------------------------------------------------


def _metadata(described, total, previous, *, terms=False, settings=DEFAULTS):
    checks = metadata_checks(MetadataCoverage(described, terms), total, settings, previous)
    return {c.check_name: (c.status, c.message) for c in checks}


def test_missing_metadata_warns_once_then_is_reported():
    assert _metadata(0, 15, None) == {
        "descriptions": ("warn", "0/15 columns have descriptions (0%)"),
        "search_terms": ("warn", "no search terms for this source"),
    }
    assert _metadata(0, 15, PreviousMetadata(7, 0, 15, False)) == {
        "descriptions": ("pass", "0/15 columns have descriptions (0%, as at load 7)"),
        "search_terms": ("pass", "no search terms for this source (as at load 7)"),
    }
    assert _metadata(3, 15, PreviousMetadata(7, 0, 15, False), terms=True) == {
        "descriptions": ("pass", "3/15 columns have descriptions (20%, up from 0% at load 7)"),
    }


def test_metadata_warns_again_when_coverage_drops():
    assert _metadata(2, 16, PreviousMetadata(7, 2, 15, True)) == {
        "descriptions": ("warn", "2/16 columns have descriptions (12%, down from 13% at load 7)"),
        "search_terms": ("warn", "no search terms for this source (load 7 had some)"),
    }
    # 0/15 then 0/16: nothing described either way, so no drop
    assert _metadata(0, 16, PreviousMetadata(7, 0, 15, False))["descriptions"][0] == "pass"
    above = _metadata(9, 15, PreviousMetadata(7, 10, 15, False), terms=True)
    assert above == {"descriptions": ("pass", "9/15 columns have descriptions (60%)")}


def test_a_fail_severity_makes_metadata_a_requirement_on_every_load():
    strict = GateSettings(severity={"descriptions": "fail", "search_terms": "fail"})
    again = _metadata(0, 15, PreviousMetadata(7, 0, 15, False), settings=strict)
    assert {name: status for name, (status, _text) in again.items()} == {
        "descriptions": "fail", "search_terms": "fail",
    }  # fmt: skip


# --- all together -------------------------------------------------------------------------


def test_a_second_edition_of_a_time_series_passes_every_gate():
    columns = [ColumnStat("period", "date"), ColumnStat("attendances", "integer")]
    ctx = GateContext("ae", "staging", "tbl_ae", 9, "2024-01", "month", columns,
                      today=date(2024, 2, 8))  # fmt: skip
    bounds = date_bounds(ctx.today, ctx.settings, ctx.period, ctx.period_kind)
    stats = LoadedStats(162, {"period": 162, "attendances": 162},
                        {"period": date_stats(AE_SERIES, bounds.anchor, bounds.future_after)})  # fmt: skip
    facts = GateFacts(
        columns=columns, stats=stats, previous=PreviousLoad(4, 105, "2019-04"), changes=[],
        duplicates=None, duplicate_rows=DuplicateRows(0, 0, [], []),
        coverage=MetadataCoverage(0, False), previous_dates={"period": ("2010-08-01", "2019-04-01")},
        previous_metadata=PreviousMetadata(4, 0, 2, False),
    )  # fmt: skip
    results = evaluate(ctx, facts)
    assert {r.check_name: r.status for r in results} == {
        "row_change": "pass", "columns_added": "pass", "all_null_columns": "pass",
        "duplicate_rows": "pass", "date_range": "pass", "descriptions": "pass",
        "search_terms": "pass",
    }  # fmt: skip
    ctx.cumulative = True  # declared as well: the dates still set what is expected
    (row_change,) = [r for r in evaluate(ctx, facts) if r.check_name == "row_change"]
    assert row_change.details["cumulative"]["declared"] is True
    assert row_change.details["cumulative"]["expected_rows"] == 163
