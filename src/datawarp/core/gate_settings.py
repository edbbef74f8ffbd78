"""Thresholds and severities of the validation gates: defaults from the seed, overridable.

Layers, nearest wins: these defaults; ``[datawarp.validation]`` in datawarp.toml; per source
``[datawarp.validation.sources.<code>]`` in datawarp.toml; the manifest source's
``validation:`` block. Severities use dbt's vocabulary: a tripped check records ``warn`` or
``fail``; ``fail`` rolls the load back when the source has ``validation_required``.
"""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator

Severity = Literal["warn", "fail"]

DEFAULT_SEVERITY: dict[str, Severity] = {
    "zero_rows": "fail",
    "too_few_rows": "warn",
    "too_many_rows": "warn",
    "row_change": "warn",
    "many_new_columns": "warn",
    "type_changes": "warn",
    "all_null_columns": "warn",
    "fully_suppressed_columns": "warn",
    "duplicate_keys": "fail",
    "date_range": "warn",
    "descriptions": "warn",
    "search_terms": "warn",
}


class GateSettings(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min_rows: int = Field(10, ge=0)
    max_rows: int = Field(10_000_000, ge=1)
    row_change_percent: float = Field(50, gt=0)
    max_new_columns: int = Field(10, ge=0)
    future_dates_allowed_days: int = Field(0, ge=0)
    past_years: int = Field(10, ge=1)
    min_description_percent: float = Field(50, ge=0, le=100)
    severity: dict[str, Severity] = Field(default_factory=dict)

    @field_validator("severity")
    @classmethod
    def _known_checks(cls, value: dict[str, Severity]) -> dict[str, Severity]:
        unknown = sorted(set(value) - set(DEFAULT_SEVERITY))
        if unknown:
            raise ValueError(f"unknown check(s) {unknown}; known: {sorted(DEFAULT_SEVERITY)}")
        return value

    def severity_of(self, check: str) -> Severity:
        return self.severity.get(check, DEFAULT_SEVERITY[check])


class ValidationSettings(GateSettings):
    """Global gate settings plus per-source overrides (same keys)."""

    sources: dict[str, dict] = Field(default_factory=dict)

    def for_source(self, source_code: str, manifest_overrides: dict | None = None) -> GateSettings:
        merged = self.model_dump(exclude={"sources"})
        for layer in (self.sources.get(source_code, {}), manifest_overrides or {}):
            severity = {**merged["severity"], **layer.get("severity", {})}
            merged.update(layer)
            merged["severity"] = severity
        return GateSettings(**merged)
