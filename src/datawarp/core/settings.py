"""Settings: what a DataWarp command needs to know about its environment.

Four layers, nearest wins (the precedence dbt and psql users expect: the nearer a setting is
to the command being run, the more it wins):

1. defaults in code (the fields of ``Settings``);
2. the ``[datawarp]`` table of the settings file: ``--config PATH``, else the file named by
   ``DATAWARP_CONFIG``, else ``./datawarp.toml`` if there is one;
3. environment variables ``DATAWARP_<FIELD>``; empty ones are ignored and ``validation``
   takes JSON. Other ``DATAWARP_*`` variables (``DATAWARP_CONFIG``, the test suite's) are
   not settings and are left alone;
4. command-line flags, given to ``load_settings`` as keyword arguments (``None``: not given).

Only ``load_settings`` reads the environment and the file: ``Settings(...)`` built directly
(tests, ``database_for_url``) holds exactly what it was given.

Mistakes are refused at start-up, all at once, one line each naming where the setting came
from and its dotted key: an unknown key anywhere (top level, ``[datawarp.validation]``, its
``severity`` table, each ``sources.<code>`` block), a table other than ``[datawarp]``, an
invalid value or source code.
"""

from __future__ import annotations

import os
import tomllib
from contextvars import ContextVar
from pathlib import Path
from typing import Any

import platformdirs
from pydantic import Field, ValidationError
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from datawarp.core.errors import InputProblems
from datawarp.core.gate_settings import DEFAULT_SEVERITY, ValidationSettings
from datawarp.core.monitoring_settings import MonitoringSettings

CONFIG_FILE_NAME = "datawarp.toml"
ENV_PREFIX = "DATAWARP_"
CONFIG_ENV = f"{ENV_PREFIX}CONFIG"
TABLE = "datawarp"
_INVALID = "Invalid DataWarp setting"

# The file and environment layers of the load_settings call in progress. A context variable
# rather than a class attribute, so that Settings(...) built anywhere else, or in another
# thread meanwhile, reads neither.
_LAYERS: ContextVar[tuple[PydanticBaseSettingsSource, ...]] = ContextVar(
    "datawarp_settings_layers", default=()
)


class Settings(BaseSettings):
    """Everything a DataWarp command needs to know about its environment."""

    model_config = SettingsConfigDict(extra="forbid", env_prefix=ENV_PREFIX, env_ignore_empty=True)

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
    monitoring: MonitoringSettings = Field(default_factory=MonitoringSettings)
    home: Path = Field(
        default_factory=lambda: platformdirs.user_data_path("datawarp"),
        description="Folder for the embedded server's data and the download cache",
    )

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        # Keyword arguments are the nearest layer (flags); outside load_settings the only one.
        return (init_settings, *_LAYERS.get())

    @property
    def embedded_data_dir(self) -> Path:
        return self.home / "pgdata"

    @property
    def cache_dir(self) -> Path:
        return self.home / "cache"


class _ConfigFileTable(InitSettingsSource):
    """The ``[datawarp]`` table of the settings file.

    pydantic-settings' TomlConfigSettingsSource takes a whole file as the settings; ours sit
    in one table so that the file can grow other sections, and anything outside it is refused
    (``problems``) rather than silently ignored.
    """

    def __init__(self, settings_cls: type[BaseSettings], path: Path | None):
        self.path = path
        self.problems: list[str] = []
        document = _read_toml(path) if path is not None else {}
        table = document.pop(TABLE, {})
        for key, value in document.items():
            kind = "table" if isinstance(value, dict) else "key"
            self.problems.append(
                f"{_INVALID} in {path}: unknown top-level {kind} {key!r}"
                f" (settings go in the [{TABLE}] table)"
            )
        if not isinstance(table, dict):
            self.problems.append(f"{_INVALID} in {path}: {TABLE!r} must be the [{TABLE}] table")
            table = {}
        self.values = table
        super().__init__(settings_cls, table)


class _Environment(EnvSettingsSource):
    """``DATAWARP_<FIELD>`` variables; a JSON value that does not parse names its variable."""

    def __init__(self, settings_cls: type[BaseSettings]):
        super().__init__(settings_cls)
        self.values: dict[str, Any] = {}

    def prepare_field_value(self, field_name: str, field, value: Any, value_is_complex: bool):
        try:
            return super().prepare_field_value(field_name, field, value, value_is_complex)
        except ValueError as exc:
            # Not re-raised as a ValueError: pydantic-settings would replace it with a message
            # naming the field but not the variable.
            raise InputProblems(
                [f"{_INVALID} in environment variable {_env_name(field_name)}: not JSON ({exc})"]
            ) from None

    def __call__(self) -> dict[str, Any]:
        # Kept to tell, when a value is refused, whether it came from here.
        self.values = super().__call__()
        return self.values


def _find_config_file(config_file: Path | None = None) -> Path | None:
    """``--config``, else ``DATAWARP_CONFIG``, else ``./datawarp.toml`` if it exists.

    A file named explicitly (either way) must exist: a typo must not silently mean defaults.
    """
    named = config_file or os.environ.get(CONFIG_ENV) or None
    if named is not None:
        path = Path(named).expanduser()
        if not path.is_file():
            raise InputProblems([f"Config file {named} not found"])
        return path
    default = Path(CONFIG_FILE_NAME)
    return default if default.is_file() else None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise InputProblems([f"Config file {path} is not valid TOML: {exc}"]) from None
    except UnicodeDecodeError as exc:
        raise InputProblems([f"Config file {path} is not UTF-8 text ({exc.reason})"]) from None


def load_settings(config_file: Path | None = None, **overrides: Any) -> Settings:
    """Merge the layers; ``overrides`` are command-line flags (``None`` means not given).

    Raises ``InputProblems`` (a ``BadInputError``) listing every problem, one per line.
    """
    file_layer = _ConfigFileTable(Settings, _find_config_file(config_file))
    env_layer = _Environment(Settings)
    flags = {key: value for key, value in overrides.items() if value is not None}
    token = _LAYERS.set((env_layer, file_layer))
    try:
        settings = Settings(**flags)
    except ValidationError as exc:
        layers = {"flags": flags, "env": env_layer.values, "file": file_layer.values}
        problems = [_problem_line(error, layers, file_layer.path) for error in exc.errors()]
        raise InputProblems([*file_layer.problems, *problems]) from None
    finally:
        _LAYERS.reset(token)
    if file_layer.problems:
        raise InputProblems(file_layer.problems)
    return settings


def _env_name(field_name: str) -> str:
    return f"{ENV_PREFIX}{field_name.upper()}"


def _layer_of(loc: tuple, layers: dict[str, dict[str, Any]]) -> str | None:
    """The nearest layer holding the value at ``loc``: the one the merged settings took."""
    for name, values in layers.items():
        node: Any = values
        for part in loc:
            if not isinstance(node, dict) or part not in node:
                break
            node = node[part]
        else:
            return name
    return None


def _problem_line(
    error: dict[str, Any], layers: dict[str, dict[str, Any]], path: Path | None
) -> str:
    loc = tuple(error["loc"])
    bad_key = loc[-1:] == ("[key]",)  # pydantic's marker for a dict key that failed
    if bad_key:
        loc = loc[:-1]
    if not loc:
        return f"{_INVALID}: {error['msg']}"
    *parent, key = (str(part) for part in loc)
    what = _what(error, parent, key, bad_key)
    layer = _layer_of(loc, layers)
    if layer == "file":
        return f"{_INVALID} in {path}: [{'.'.join((TABLE, *parent))}] {what}"
    origin = {
        "env": f" in environment variable {_env_name(str(loc[0]))}",
        "flags": " on the command line",
    }.get(layer or "", "")
    dotted = f"{'.'.join(parent)}: " if parent else ""
    return f"{_INVALID}{origin}: {dotted}{what}"


def _what(error: dict[str, Any], parent: list[str], key: str, bad_key: bool) -> str:
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        if parent[-1:] == ["severity"]:
            return f"unknown check {key!r} (known: {', '.join(sorted(DEFAULT_SEVERITY))})"
        return f"unknown key {key!r}"
    if bad_key:
        return f"invalid key {key!r}: {message}"
    return f"{key} = {error['input']!r}: {message}"
