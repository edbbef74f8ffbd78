"""Thresholds and severities of the validation gates: defaults from the seed, overridable.

Layers, nearest wins: these defaults; ``[datawarp.validation]`` in datawarp.toml; per source
``[datawarp.validation.sources.<code>]`` in datawarp.toml; the manifest source's
``validation:`` block. Severities use dbt's vocabulary: a tripped check records ``warn`` or
``fail``; ``fail`` rolls the load back when the source has ``validation_required``.

The two override layers share one model, ``GateOverrides``, so a misspelt key is refused the
same way (naming the key) whether it is in the settings file or in a manifest.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    NonNegativeInt,
    PositiveFloat,
    PositiveInt,
)
from typing_extensions import TypedDict  # pydantic needs this one before Python 3.12

from datawarp.core.naming import SourceCode

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
    "duplicate_rows": "warn",
    "date_range": "warn",
    "descriptions": "warn",
    "search_terms": "warn",
}

# A TypedDict rather than dict[str, Severity]: the value stays a plain dict, but an unknown
# check is reported at its own key ("severity.zero_row"), as an unknown key, like any other.
Severities = TypedDict("Severities", dict.fromkeys(DEFAULT_SEVERITY, Severity), total=False)
Severities.__pydantic_config__ = ConfigDict(extra="forbid")  # type: ignore[attr-defined]

Percent = Annotated[float, Field(ge=0, le=100)]


class GateSettings(BaseModel):
    """The settings one run of the gates uses: every threshold has a value."""

    model_config = ConfigDict(extra="forbid")

    min_rows: NonNegativeInt = 10
    max_rows: PositiveInt = 10_000_000
    row_change_percent: PositiveFloat = 50
    max_new_columns: NonNegativeInt = 10
    # Dates are judged against the period loaded (today when the load has none) and against
    # their own column: a date after the period's end plus after_period_allowed_days (today
    # plus future_dates_allowed_days without a period) is out of place, and so are dates at
    # least past_years (and at least the span of the later dates) before the rest of the column.
    future_dates_allowed_days: NonNegativeInt = 0
    after_period_allowed_days: NonNegativeInt = 366
    past_years: PositiveInt = 10
    min_description_percent: Percent = 50
    # The duplicate-row check groups every row of the period (about 1.5 s a million rows);
    # a load with more rows reports it unchecked rather than spend minutes on it.
    duplicate_rows_max_rows: PositiveInt = 5_000_000
    severity: Severities = Field(default_factory=dict)

    def severity_of(self, check: str) -> Severity:
        return self.severity.get(check, DEFAULT_SEVERITY[check])


class GateOverrides(BaseModel):
    """One source's overrides (settings file or manifest): absent or null inherits.

    Same keys and constraints as GateSettings; ``severity`` is merged check by check.
    """

    model_config = ConfigDict(extra="forbid")

    min_rows: NonNegativeInt | None = None
    max_rows: PositiveInt | None = None
    row_change_percent: PositiveFloat | None = None
    max_new_columns: NonNegativeInt | None = None
    future_dates_allowed_days: NonNegativeInt | None = None
    after_period_allowed_days: NonNegativeInt | None = None
    past_years: PositiveInt | None = None
    min_description_percent: Percent | None = None
    duplicate_rows_max_rows: PositiveInt | None = None
    severity: Severities | None = None


class ValidationSettings(GateSettings):
    """Global gate settings plus per-source overrides (same keys)."""

    sources: dict[SourceCode, GateOverrides] = Field(default_factory=dict)

    def for_source(
        self,
        source_code: str,
        manifest_overrides: GateOverrides | dict[str, Any] | None = None,
    ) -> GateSettings:
        """Global < ``sources.<code>`` < the manifest's ``validation:`` block."""
        merged = self.model_dump(exclude={"sources"})
        for layer in (self.sources.get(source_code), manifest_overrides):
            if layer is None:
                continue
            values = GateOverrides.model_validate(layer).model_dump(exclude_none=True)
            # A layer naming one check must not reset the severities of the others.
            merged["severity"] = {**merged["severity"], **values.pop("severity", {})}
            merged.update(values)
        return GateSettings(**merged)
