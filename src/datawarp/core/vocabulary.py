"""Every enumeration DataWarp stores, in one place.

The catalog's CHECK constraints hold the same lists (tests/core/test_vocabulary.py compares
them with the database's own definitions), the CLI offers them as choices, and pydantic models
validate against them.
"""

from __future__ import annotations

from enum import StrEnum


class SourceStatus(StrEnum):
    REGISTERED = "registered"
    ACTIVE = "active"
    DEPRECATED = "deprecated"
    ARCHIVED = "archived"


class LoadMode(StrEnum):
    APPEND = "APPEND"
    REPLACE = "REPLACE"


class LoadStatus(StrEnum):
    IN_PROGRESS = "in_progress"
    COMPLETED = "completed"
    FAILED = "failed"
    ROLLED_BACK = "rolled_back"


FINAL_LOAD_STATUSES = (LoadStatus.COMPLETED, LoadStatus.FAILED, LoadStatus.ROLLED_BACK)


class PeriodSource(StrEnum):
    """Where a load's period came from (NULL on the event: no period was found)."""

    MANIFEST = "manifest"
    TITLE = "title"  # the sheet's title block, ``Period: …``
    FILE_NAME = "file_name"
    NONE = "none"  # the manifest says ``period: none``: the file has no period


class SchemaChangeKind(StrEnum):
    CREATE = "create"
    ADD = "add"
    WIDEN = "widen"


class SchemaChangeStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"
    AUTO = "auto"


class ValidationType(StrEnum):
    ROW_COUNT = "row_count"
    SCHEMA = "schema"
    QUALITY = "quality"
    METADATA = "metadata"


class CheckStatus(StrEnum):
    PASS = "pass"
    WARN = "warn"
    FAIL = "fail"


class AuditAction(StrEnum):
    INSERT = "INSERT"
    UPDATE = "UPDATE"
    DELETE = "DELETE"


class AlertSeverity(StrEnum):
    INFO = "info"
    WARNING = "warning"
    CRITICAL = "critical"


class AlertStatus(StrEnum):
    OPEN = "open"
    ACKNOWLEDGED = "acknowledged"
    RESOLVED = "resolved"


class NotificationStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"


class ArchiveKind(StrEnum):
    ARCHIVE = "archive"
    RETENTION = "retention"
    ORPHAN = "orphan"
    LOAD_EVENTS = "load_events"


class MaintenanceSchedule(StrEnum):
    WEEKLY = "weekly"
    MONTHLY = "monthly"
    QUARTERLY = "quarterly"


class StepOutcome(StrEnum):
    RUNNING = "running"
    OK = "ok"
    WARNING = "warning"
    FAILED = "failed"
    SKIPPED = "skipped"


class ColumnUnit(StrEnum):
    """The scale of a numeric column's values (``tbl_column_metadata.unit``)."""

    FRACTION = "fraction"  # 0.691 is 69.1%
    PERCENT = "percent"  # 69.1 is 69.1%


class RowLevel(StrEnum):
    """A loaded row's place in the NHS hierarchy (``_level`` of a staging table; NULL where a
    file has one level only, or for a row DataWarp cannot place). docs/rows.md has the rules."""

    NATIONAL = "national"  # England
    REGION = "region"  # NHS England regions, former SHAs, Health Education England regions
    SYSTEM = "system"  # ICBs, STPs; figures by CCG / ICB of GP practice or residence
    ORGANISATION = "organisation"  # trusts, independent providers, GP practices, CCGs, sites
