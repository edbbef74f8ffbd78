"""The schema drift policy, without a database: what a file's columns do to a table."""

from __future__ import annotations

from datawarp.core.pgtypes import IncomingColumn
from datawarp.pipeline.schema_policy import plan_changes, retypable

EXISTING = {"org_code": "text", "attendances": "integer", "period_end": "date"}


def _incoming(*names_and_types: tuple[str, str]) -> list[IncomingColumn]:
    return [IncomingColumn(name, pg_type) for name, pg_type in names_and_types]


BASE = _incoming(("org_code", "text"), ("attendances", "integer"), ("period_end", "date"))


def test_same_columns_change_nothing():
    plan = plan_changes(EXISTING, BASE, {})
    assert (plan.add, plan.widen, plan.held_back, plan.new_request_columns, plan.missing) == (
        [], [], {}, [], []
    )  # fmt: skip


def test_fewer_new_columns_than_the_limit_are_added():
    new = _incoming(("a", "text"), ("b", "integer"))
    plan = plan_changes(EXISTING, BASE + new, {}, auto_add_limit=3)
    assert plan.add == new and plan.new_request_columns == []


def test_as_many_new_columns_as_the_limit_wait_for_review():
    new = _incoming(("a", "text"), ("b", "integer"), ("c", "date"))
    plan = plan_changes(EXISTING, BASE + new, {}, auto_add_limit=3)
    assert plan.add == [] and plan.new_request_columns == new


def test_columns_of_a_pending_request_stay_held_under_it():
    held = _incoming(("a", "text"), ("b", "text"))
    plan = plan_changes(EXISTING, BASE + held, {7: held}, auto_add_limit=5)
    assert plan.add == [] and plan.held_back == {7: held} and plan.new_request_columns == []


def test_types_only_widen():
    incoming = _incoming(("org_code", "integer"), ("attendances", "numeric"),
                         ("period_end", "timestamp"))  # fmt: skip
    plan = plan_changes(EXISTING, incoming, {})
    assert plan.widen == [("attendances", "integer", "numeric"),
                          ("period_end", "date", "timestamp")]  # fmt: skip


def test_integer_and_date_disagreeing_widen_to_text():
    plan = plan_changes({"x": "integer"}, _incoming(("x", "date")), {})
    assert plan.widen == [("x", "integer", "text")]


def test_columns_the_file_lacks_are_reported_missing():
    plan = plan_changes(EXISTING, BASE[:1], {})
    assert plan.missing == ["attendances", "period_end"]


def test_a_text_column_holding_no_value_takes_the_files_type():
    existing = {"org_code": "text", "may_25": "text", "note": "text"}
    incoming = _incoming(("org_code", "integer"), ("may_25", "integer"), ("note", "text"))
    plan = plan_changes(existing, incoming, {}, empty={"may_25", "note"})
    # org_code holds values: it stays text; the empty month takes the numbers' type
    assert plan.widen == [("may_25", "text", "integer")]
    assert retypable(existing, incoming) == ["org_code", "may_25"]
