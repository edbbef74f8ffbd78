"""Settings: defaults in code, overridden by ``datawarp.toml``, then ``DATAWARP_*`` env, then flags.

The precedence is the one dbt and psql users expect: the nearer the setting is to the
command being run, the more it wins.
"""

from __future__ import annotations

import os
import tomllib
from pathlib import Path

import platformdirs
from pydantic import BaseModel, ConfigDict, Field

from datawarp.core.errors import BadInputError
from datawarp.core.gate_settings import ValidationSettings

CONFIG_FILE_NAME = "datawarp.toml"
ENV_PREFIX = "DATAWARP_"


class Settings(BaseModel):
    """Everything a DataWarp command needs to know about its environment."""

    model_config = ConfigDict(extra="forbid")

    database_url: str | None = Field(
        default=None, description="PostgreSQL URL; unset means the embedded server"
    )
    dba_email: str | None = Field(
        default=None, description="Where schema reviews and DBA alerts go (log only if unset)"
    )
    schema_auto_add_limit: int = Field(
        default=5, ge=1, description="Fewer new columns than this in one load are auto-added"
    )
    lock_timeout_seconds: float = Field(
        default=600, ge=0, description="How long a load waits for another load of its source"
    )
    validation: ValidationSettings = Field(default_factory=ValidationSettings)
    home: Path = Field(
        default_factory=lambda: platformdirs.user_data_path("datawarp"),
        description="Folder for the embedded server's data and the download cache",
    )

    @property
    def embedded_data_dir(self) -> Path:
        return self.home / "pgdata"

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache"


def _config_file_values(path: Path | None) -> dict:
    candidate = path or Path(os.environ.get(f"{ENV_PREFIX}CONFIG", CONFIG_FILE_NAME))
    if not candidate.is_file():
        if path is not None:
            raise BadInputError(f"Config file {candidate} not found")
        return {}
    try:
        return tomllib.loads(candidate.read_text(encoding="utf-8")).get("datawarp", {})
    except tomllib.TOMLDecodeError as exc:
        raise BadInputError(f"Config file {candidate} is not valid TOML: {exc}") from exc


def _env_values() -> dict:
    values = {}
    for field in Settings.model_fields:
        raw = os.environ.get(ENV_PREFIX + field.upper())
        if raw:
            values[field] = raw
    return values


def load_settings(config_file: Path | None = None, **overrides) -> Settings:
    """Merge the layers; ``overrides`` are command-line flags (``None`` means not given)."""
    values = _config_file_values(config_file)
    values.update(_env_values())
    values.update({key: value for key, value in overrides.items() if value is not None})
    try:
        return Settings(**values)
    except ValueError as exc:
        raise BadInputError(f"Invalid DataWarp setting: {exc}") from exc
