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

Notification delivery (``NotifySettings``) and fetching (``FetchSettings``) sit in their own
top-level ``[notify]`` and ``[fetch]`` tables (``[datawarp.notify]`` also works), each key
also the variable ``DATAWARP_NOTIFY_<KEY>`` / ``DATAWARP_FETCH_<KEY>``. The SMTP password
comes from ``DATAWARP_NOTIFY_SMTP_PASSWORD`` only: a settings file is shared, so a password
found in one is refused.

Mistakes are refused at start-up, all at once, one line each naming where the setting came
from and its dotted key: an unknown key anywhere (top level, ``[datawarp.validation]``, its
``severity`` table, each ``sources.<code>`` block, ``[notify]``), another top-level table,
an invalid value, source code, e-mail address or URL.
"""

from __future__ import annotations

import os
import tomllib
from contextvars import ContextVar
from email.utils import formataddr
from pathlib import Path
from typing import Any, Literal

import platformdirs
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    HttpUrl,
    SecretStr,
    TypeAdapter,
    ValidationError,
    field_validator,
)
from pydantic.networks import validate_email
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    InitSettingsSource,
    PydanticBaseSettingsSource,
    SettingsConfigDict,
)

from datawarp.core.errors import InputProblems
from datawarp.core.fetch_settings import FetchSettings
from datawarp.core.gate_settings import DEFAULT_SEVERITY, ValidationSettings
from datawarp.core.lifecycle_settings import LifecycleSettings
from datawarp.core.monitoring_settings import MonitoringSettings

CONFIG_FILE_NAME = "datawarp.toml"
ENV_PREFIX = "DATAWARP_"
CONFIG_ENV = f"{ENV_PREFIX}CONFIG"
TABLE = "datawarp"
NOTIFY = "notify"
FETCH = "fetch"
PASSWORD_ENV = f"{ENV_PREFIX}NOTIFY_SMTP_PASSWORD"
_INVALID = "Invalid DataWarp setting"
_HTTP_URL = TypeAdapter(HttpUrl)
# Settings that were renamed: an old settings file is told what to write instead.
_REPLACED = {"dba_email": "replaced by dba_emails in the [notify] table"}

# The file and environment layers of the load_settings call in progress. A context variable
# rather than a class attribute, so that Settings(...) built anywhere else, or in another
# thread meanwhile, reads neither.
_LAYERS: ContextVar[tuple[PydanticBaseSettingsSource, ...]] = ContextVar(
    "datawarp_settings_layers", default=()
)


def _checked_address(value: str) -> str:
    """The address normalised; a display name ("DataWarp <dw@nhs.net>") is kept if given."""
    name, address = validate_email(value.strip())
    return formataddr((name, address)) if "<" in value else address


class NotifySettings(BaseModel):
    """Where notifications are delivered: e-mail through SMTP, and one webhook.

    A channel is configured when its server is named (``smtp_host``, ``webhook_url``); with
    neither, notifications stay in the outbox and the log.
    """

    model_config = ConfigDict(extra="forbid")

    smtp_host: str | None = Field(default=None, description="SMTP server; unset: no e-mail")
    smtp_port: int = Field(default=587, ge=1, le=65535)
    smtp_security: Literal["none", "starttls", "ssl"] = "starttls"
    smtp_user: str | None = Field(default=None, description="SMTP login; unset: no login")
    smtp_password: SecretStr | None = Field(
        default=None, description=f"Only from the environment: {PASSWORD_ENV}"
    )
    email_from: str | None = Field(default=None, description="The sender of every e-mail")
    dba_emails: list[str] = Field(
        default_factory=list, description="Who the recipient 'dba' means (comma-separated)"
    )
    webhook_url: str | None = Field(default=None, description="One POST per delivery run")
    webhook_format: Literal["json", "slack", "teams"] = "json"

    @field_validator("email_from")
    @classmethod
    def _valid_sender(cls, value: str | None) -> str | None:
        return None if value is None else _checked_address(value)

    @field_validator("dba_emails", mode="before")
    @classmethod
    def _valid_dba_emails(cls, value: Any) -> Any:
        # A comma-separated string is what an environment variable can hold.
        if isinstance(value, str):
            value = value.split(",")
        if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
            return value  # pydantic reports the wrong type
        checked, bad = [], []
        for item in filter(None, (item.strip() for item in value)):
            try:
                checked.append(_checked_address(item))
            except ValueError as exc:
                reason = str(exc).removeprefix("value is not a valid email address: ")
                bad.append(f"{item!r} ({reason})")
        if bad:
            raise ValueError(f"not a valid e-mail address: {', '.join(bad)}")
        return checked

    @field_validator("webhook_url")
    @classmethod
    def _valid_webhook(cls, value: str | None) -> str | None:
        if value is None:
            return None
        try:
            _HTTP_URL.validate_python(value)
        except ValidationError as exc:
            raise ValueError(exc.errors()[0]["msg"]) from None
        return value


FLAT_SECTIONS: dict[str, type[BaseModel]] = {NOTIFY: NotifySettings, FETCH: FetchSettings}


class Settings(BaseSettings):
    """Everything a DataWarp command needs to know about its environment."""

    model_config = SettingsConfigDict(extra="forbid", env_prefix=ENV_PREFIX, env_ignore_empty=True)

    database_url: str | None = Field(None, description="PostgreSQL URL; unset: embedded")
    schema_auto_add_limit: int = Field(5, ge=1, description="Fewer new columns: added unreviewed")
    lock_timeout_seconds: float = Field(600, ge=0, description="Wait for a running load (seconds)")
    validation: ValidationSettings = Field(default_factory=ValidationSettings)
    monitoring: MonitoringSettings = Field(default_factory=MonitoringSettings)
    notify: NotifySettings = Field(default_factory=NotifySettings)
    lifecycle: LifecycleSettings = Field(default_factory=LifecycleSettings)
    fetch: FetchSettings = Field(default_factory=FetchSettings)
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
    """The ``[datawarp]`` table of the settings file, and the ``[notify]`` table.

    pydantic-settings' TomlConfigSettingsSource takes a whole file as the settings; ours sit
    in one table so that the file can grow other sections, and anything outside it is refused
    (``problems``) rather than silently ignored.
    """

    def __init__(self, settings_cls: type[BaseSettings], path: Path | None):
        self.path = path
        self.problems: list[str] = []
        # As the file spells each flat section, for messages: [notify] or [datawarp.notify].
        self.spelled = {name: f"{TABLE}.{name}" for name in FLAT_SECTIONS}
        document = _read_toml(path) if path is not None else {}
        table = document.pop(TABLE, {})
        tops = {name: document.pop(name) for name in FLAT_SECTIONS if name in document}
        for key, value in document.items():
            kind = "table" if isinstance(value, dict) else "key"
            self.problems.append(
                f"{_INVALID} in {path}: unknown top-level {kind} {key!r}"
                f" (settings go in the [{TABLE}] table)"
            )
        if not isinstance(table, dict):
            self.problems.append(f"{_INVALID} in {path}: {TABLE!r} must be the [{TABLE}] table")
            table = {}
        for name, given in tops.items():
            self._take_section(table, name, given)
        self._refuse_password(table.get(NOTIFY))
        self.values = table
        super().__init__(settings_cls, table)

    def _take_section(self, table: dict[str, Any], name: str, given: Any) -> None:
        """A top-level ``[notify]`` or ``[fetch]`` table is read as ``[datawarp.<name>]``."""
        if name in table:
            self.problems.append(
                f"{_INVALID} in {self.path}: both [{name}] and [{TABLE}.{name}] given; keep one"
            )
        elif not isinstance(given, dict):
            self.problems.append(f"{_INVALID} in {self.path}: {name!r} must be the [{name}] table")
        else:
            table[name] = given
            self.spelled[name] = name

    def _refuse_password(self, notify: Any) -> None:
        # Dropped as well as refused, so that the value can reach no message.
        if isinstance(notify, dict) and "smtp_password" in notify:
            del notify["smtp_password"]
            self.problems.append(
                f"{_INVALID} in {self.path}: [{self.spelled[NOTIFY]}] smtp_password is not read"
                f" from a settings file; set the environment variable {PASSWORD_ENV}"
            )

    def section(self, parent: list[str]) -> str:
        if parent[:1] and parent[0] in self.spelled:
            return ".".join((self.spelled[parent[0]], *parent[1:]))
        return ".".join((TABLE, *parent))


class _Environment(EnvSettingsSource):
    """``DATAWARP_<FIELD>`` variables; a JSON value that does not parse names its variable.

    The notify and fetch keys are flat variables, ``DATAWARP_NOTIFY_<KEY>`` and
    ``DATAWARP_FETCH_<KEY>``, as operators' scripts set them; they win over a
    ``DATAWARP_NOTIFY`` (or ``DATAWARP_FETCH``) JSON object.
    """

    def __init__(self, settings_cls: type[BaseSettings]):
        super().__init__(settings_cls)
        self.values: dict[str, Any] = {}
        self.flat_variables: dict[str, set[str]] = {}

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
        values = super().__call__()
        for section, model in FLAT_SECTIONS.items():
            found = {
                name: self.env_vars.get(_flat_env_name(section, name).lower())
                for name in model.model_fields
            }
            flat = {name: value for name, value in found.items() if value is not None}
            if flat:
                given = values.get(section)
                values[section] = {**given, **flat} if isinstance(given, dict) else flat
            self.flat_variables[section] = set(flat)
        # Kept to tell, when a value is refused, whether it came from here.
        self.values = values
        return values


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
        problems = [_problem_line(error, layers, file_layer, env_layer) for error in exc.errors()]
        raise InputProblems([*file_layer.problems, *problems]) from None
    finally:
        _LAYERS.reset(token)
    if file_layer.problems:
        raise InputProblems(file_layer.problems)
    return settings


def _env_name(field_name: str) -> str:
    return f"{ENV_PREFIX}{field_name.upper()}"


def _flat_env_name(section: str, key: str) -> str:
    return f"{ENV_PREFIX}{section.upper()}_{key.upper()}"


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
    error: dict[str, Any],
    layers: dict[str, dict[str, Any]],
    file_layer: _ConfigFileTable,
    env_layer: _Environment,
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
        return f"{_INVALID} in {file_layer.path}: [{file_layer.section(parent)}] {what}"
    variable = _env_name(str(loc[0]))
    if len(loc) > 1 and loc[1] in env_layer.flat_variables.get(str(loc[0]), ()):
        variable = _flat_env_name(str(loc[0]), str(loc[1]))
    origin = {
        "env": f" in environment variable {variable}",
        "flags": " on the command line",
    }.get(layer or "", "")
    dotted = f"{'.'.join(parent)}: " if parent else ""
    return f"{_INVALID}{origin}: {dotted}{what}"


def _what(error: dict[str, Any], parent: list[str], key: str, bad_key: bool) -> str:
    message = error["msg"].removeprefix("Value error, ")
    if error["type"] == "extra_forbidden":
        if parent[-1:] == ["severity"]:
            return f"unknown check {key!r} (known: {', '.join(sorted(DEFAULT_SEVERITY))})"
        if not parent and key in _REPLACED:
            return f"unknown key {key!r} ({_REPLACED[key]})"
        return f"unknown key {key!r}"
    if bad_key:
        return f"invalid key {key!r}: {message}"
    if key == "smtp_password":
        return f"{key}: {message}"  # never the value
    return f"{key} = {error['input']!r}: {message}"
