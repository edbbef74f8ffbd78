"""Thresholds of the dashboards and alert rules; defaults in code, overridable in settings."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict, Field


class MonitoringSettings(BaseModel):
    """``[datawarp.monitoring]`` in datawarp.toml."""

    model_config = ConfigDict(extra="forbid")

    stale_after_days: int = Field(30, ge=1, le=3650, description="No completed load for longer")
    overdue_grace_days: int = Field(
        7, ge=0, le=365, description="Days after an edition's usual arrival before it is overdue"
    )
    failures_in_a_row: int = Field(3, ge=1, description="Consecutive failed loads: critical")
    slow_load_factor: float = Field(
        2.0, gt=1, description="A load slower than this × the source's average: warning"
    )
    slow_load_history: int = Field(
        3, ge=1, description="Completed loads needed before a load can be called slow"
    )
    pending_review_days: int = Field(7, ge=1, description="Schema review waiting longer: warning")
    new_table_days: int = Field(7, ge=1, description="How long a new-table alert stays open")
    high_drift_changes: int = Field(5, ge=1, description="More schema changes in 30 days")
