"""The Python enumerations and the catalog's CHECK constraints hold the same lists."""

from __future__ import annotations

import re

import pytest

from datawarp.core.naming import DATA_SCHEMAS
from datawarp.core.vocabulary import (
    AlertSeverity,
    AlertStatus,
    ArchiveKind,
    AuditAction,
    CheckStatus,
    ColumnUnit,
    LoadMode,
    LoadStatus,
    MaintenanceSchedule,
    NotificationStatus,
    PeriodSource,
    SchemaChangeKind,
    SchemaChangeStatus,
    SourceStatus,
    StepOutcome,
    ValidationType,
)

CONSTRAINTS = {
    ("tbl_data_sources", "status_values"): SourceStatus,
    ("tbl_data_sources", "load_mode_values"): LoadMode,
    ("tbl_load_events", "load_status_values"): LoadStatus,
    ("tbl_load_events", "target_schema_values"): DATA_SCHEMAS,
    ("tbl_load_events", "period_source_values"): PeriodSource,
    ("tbl_schema_changes", "schema_change_kind"): SchemaChangeKind,
    ("tbl_schema_changes", "schema_change_status"): SchemaChangeStatus,
    ("tbl_validation_results", "validation_type_values"): ValidationType,
    ("tbl_validation_results", "validation_status_values"): CheckStatus,
    ("tbl_validation_results", "validation_severity_values"): CheckStatus,
    ("tbl_audit_log", "audit_action_values"): AuditAction,
    ("tbl_alerts", "alert_severity_values"): AlertSeverity,
    ("tbl_alerts", "alert_status_values"): AlertStatus,
    ("tbl_notifications", "notification_status_values"): NotificationStatus,
    ("tbl_archives", "archive_kind_values"): ArchiveKind,
    ("tbl_maintenance_runs", "maintenance_schedule_values"): MaintenanceSchedule,
    ("tbl_maintenance_runs", "maintenance_outcome_values"): StepOutcome,
    ("tbl_column_metadata", "column_unit_values"): ColumnUnit,
}

# Constraints that name some values of an enumeration (a rule about them, not the list).
SUBSETS = {("tbl_schema_changes", "decided_when_decided"): SchemaChangeStatus}


def _check_values(raw_conn, table: str, constraint: str) -> set[str]:
    row = raw_conn.execute(
        "SELECT pg_get_constraintdef(c.oid) FROM pg_constraint c"
        " WHERE c.conrelid = to_regclass(%s) AND c.conname = %s AND c.contype = 'c'",
        (f"datawarp.{table}", constraint),
    ).fetchone()
    assert row is not None, f"no CHECK constraint {constraint} on {table}"
    return set(re.findall(r"'([^']*)'::text", row[0]))


@pytest.mark.parametrize(("table", "constraint"), list(CONSTRAINTS), ids="{0[1]}".format)
def test_python_enumeration_matches_the_check_constraint(raw_conn, table, constraint):
    expected = {str(value) for value in CONSTRAINTS[(table, constraint)]}
    assert _check_values(raw_conn, table, constraint) == expected


def test_every_enumerated_check_constraint_is_compared(raw_conn):
    rows = raw_conn.execute(
        "SELECT c.conrelid::regclass::text, c.conname FROM pg_constraint c"
        " JOIN pg_namespace n ON n.oid = c.connamespace"
        " WHERE n.nspname = 'datawarp' AND c.contype = 'c'"
        " AND pg_get_constraintdef(c.oid) ~ 'ANY \\(ARRAY\\['"
    ).fetchall()
    found = {(table.removeprefix("datawarp."), name) for table, name in rows}
    assert found == set(CONSTRAINTS) | set(SUBSETS)


@pytest.mark.parametrize(("table", "constraint"), list(SUBSETS), ids="{0[1]}".format)
def test_rules_about_some_values_name_only_known_values(raw_conn, table, constraint):
    known = {str(value) for value in SUBSETS[(table, constraint)]}
    assert _check_values(raw_conn, table, constraint) <= known
