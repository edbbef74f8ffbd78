"""The lifecycle's settings: deprecation grace, where Parquet archives go, what counts as unused.

``[datawarp.lifecycle]`` in datawarp.toml (or ``DATAWARP_LIFECYCLE`` as JSON).
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field


class LifecycleSettings(BaseModel):
    """``[datawarp.lifecycle]`` in datawarp.toml."""

    model_config = ConfigDict(extra="forbid")

    deprecation_grace_days: int = Field(
        30, ge=0, le=3650, description="Default days between deprecation and archiving"
    )
    archive_path: str | None = Field(
        None,
        description="Folder or filesystem URI (s3://..., gs://...) for Parquet archives;"
        " unset: <home>/archive",
    )
    stopped_after_intervals: int = Field(
        3, ge=1, le=24, description="Editions missed in a row before a publication is 'stopped'"
    )
    unused_days: int = Field(
        90, ge=1, le=3650, description="No reads of a source's table for this long: candidate"
    )
    orphans: Literal["archive", "alert"] = Field(
        "archive",
        description="What the weekly maintenance does with orphans older than 7 days:"
        " archive them, or only alert the DBA",
    )
    verify: Literal["file", "database"] = Field(
        "file",
        description="How an archive file is checked before anything moves: read back and"
        " compared value by value with the rows exported ('file'), or also loaded back into"
        " the database and compared by the server's checksum ('database', about twice as slow)",
    )
    row_group_rows: int = Field(
        100_000, ge=1_000, le=10_000_000, description="Rows per Parquet row group"
    )

    def archive_location(self, home: Path) -> str:
        return self.archive_path or str(home / "archive")
