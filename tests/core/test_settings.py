"""Settings layers (code < datawarp.toml < DATAWARP_* < flags) and refusing unknown keys."""

from __future__ import annotations

import os
import textwrap
from pathlib import Path

import pytest

from datawarp.core.errors import BadInputError
from datawarp.core.gate_settings import GateOverrides, GateSettings, ValidationSettings
from datawarp.core.settings import NotifySettings, Settings, load_settings
from datawarp.pipeline.manifest import parse_manifest


@pytest.fixture(autouse=True)
def clean(tmp_path, monkeypatch):
    """No DATAWARP_* from the machine running the tests, and no datawarp.toml but ours."""
    for name in list(os.environ):
        if name.upper().startswith("DATAWARP_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def write(path: Path, text: str) -> Path:
    path.write_text(textwrap.dedent(text), encoding="utf-8")
    return path


def problems(**kwargs) -> list[str]:
    with pytest.raises(BadInputError) as excinfo:
        load_settings(**kwargs)
    assert str(excinfo.value) == "\n".join(excinfo.value.problems)
    return excinfo.value.problems


def test_defaults_without_file_or_environment():
    settings = load_settings()
    assert settings.database_url is None and settings.notify == NotifySettings()
    assert (settings.schema_auto_add_limit, settings.lock_timeout_seconds) == (5, 600)
    assert settings.validation == ValidationSettings()
    assert settings.cache_dir == settings.home / "cache"
    assert settings.embedded_data_dir == settings.home / "pgdata"


def test_each_layer_overrides_the_one_below(monkeypatch, tmp_path):
    write(
        tmp_path / "datawarp.toml",
        """\
        [datawarp]
        database_url = "postgresql://file/db"
        schema_auto_add_limit = 2
        lock_timeout_seconds = 30
        """,
    )
    monkeypatch.setenv("DATAWARP_SCHEMA_AUTO_ADD_LIMIT", "3")
    monkeypatch.setenv("DATAWARP_DATABASE_URL", "postgresql://env/db")
    monkeypatch.setenv("DATAWARP_HOME", str(tmp_path / "env-home"))

    settings = load_settings(database_url="postgresql://flag/db", schema_auto_add_limit=None)

    assert settings.lock_timeout_seconds == 30  # file over code
    assert settings.schema_auto_add_limit == 3  # environment over file; None is no flag
    assert settings.home == tmp_path / "env-home"
    assert settings.database_url == "postgresql://flag/db"  # flag over environment


def test_config_flag_beats_datawarp_config_beats_the_local_file(monkeypatch, tmp_path):
    write(tmp_path / "datawarp.toml", "[datawarp]\nschema_auto_add_limit = 2\n")
    named = write(tmp_path / "named.toml", "[datawarp]\nschema_auto_add_limit = 3\n")
    flagged = write(tmp_path / "flag.toml", "[datawarp]\nschema_auto_add_limit = 4\n")
    assert load_settings().schema_auto_add_limit == 2
    monkeypatch.setenv("DATAWARP_CONFIG", str(named))
    assert load_settings().schema_auto_add_limit == 3
    assert load_settings(flagged).schema_auto_add_limit == 4


def test_missing_explicit_config_file_is_an_error(monkeypatch, tmp_path):
    with pytest.raises(BadInputError, match=r"^Config file .*nope\.toml not found$"):
        load_settings(tmp_path / "nope.toml")
    monkeypatch.setenv("DATAWARP_CONFIG", str(tmp_path / "gone.toml"))
    with pytest.raises(BadInputError, match=r"^Config file .*gone\.toml not found$"):
        load_settings()


def test_invalid_toml_keeps_its_message(tmp_path):
    path = write(tmp_path / "bad.toml", "[datawarp\n")
    with pytest.raises(BadInputError, match=r"^Config file .*bad\.toml is not valid TOML: "):
        load_settings(path)


@pytest.mark.parametrize(
    ("toml", "problem"),
    [
        (
            "[datawarp]\ndatabase_uri = 'x'\n",
            "[datawarp] unknown key 'database_uri'",
        ),
        (
            "[datawarp.validation]\nmin_rowz = 3\n",
            "[datawarp.validation] unknown key 'min_rowz'",
        ),
        (
            "[datawarp.validation.severity]\nzero_row = 'warn'\n",
            "[datawarp.validation.severity] unknown check 'zero_row' (known: all_null_columns,",
        ),
        (
            "[datawarp.validation.sources.ae_attendances]\nmin_row = 3\n",
            "[datawarp.validation.sources.ae_attendances] unknown key 'min_row'",
        ),
        (
            "[datawarp.validation.sources.ae_attendances.severity]\nrow_changes = 'fail'\n",
            "[datawarp.validation.sources.ae_attendances.severity] unknown check 'row_changes'",
        ),
        (
            "[datawarp.validation.sources.Bad-Code]\nmin_rows = 3\n",
            "[datawarp.validation.sources] invalid key 'Bad-Code': use lowercase letters",
        ),
        (
            "[tool.datawarp]\ndatabase_url = 'x'\n",
            "unknown top-level table 'tool' (settings go in the [datawarp] table)",
        ),
        (
            "database_url = 'x'\n",
            "unknown top-level key 'database_url' (settings go in the [datawarp] table)",
        ),
        ("datawarp = 5\n", "'datawarp' must be the [datawarp] table"),
    ],
)
def test_unknown_keys_are_refused_naming_file_and_key(toml, problem):
    write(Path("datawarp.toml"), toml)
    (line,) = problems()
    assert line.startswith(f"Invalid DataWarp setting in datawarp.toml: {problem}")


def test_every_problem_is_reported_at_once():
    write(
        Path("datawarp.toml"),
        """\
        [datawarp]
        schema_auto_add_limit = 0
        [datawarp.validation.sources.ae_attendances]
        min_row = 3
        [other]
        """,
    )
    assert sorted(problems()) == [
        "Invalid DataWarp setting in datawarp.toml: [datawarp.validation.sources.ae_attendances]"
        " unknown key 'min_row'",
        "Invalid DataWarp setting in datawarp.toml: [datawarp] schema_auto_add_limit = 0:"
        " Input should be greater than or equal to 1",
        "Invalid DataWarp setting in datawarp.toml: unknown top-level table 'other'"
        " (settings go in the [datawarp] table)",
    ]


def test_invalid_value_names_its_key_and_value(tmp_path):
    path = write(tmp_path / "dw.toml", "[datawarp.validation]\nmin_description_percent = 150\n")
    assert problems(config_file=path) == [
        f"Invalid DataWarp setting in {path}: [datawarp.validation] min_description_percent"
        " = 150: Input should be less than or equal to 100"
    ]


def test_invalid_environment_value_names_the_variable(monkeypatch):
    monkeypatch.setenv("DATAWARP_LOCK_TIMEOUT_SECONDS", "soon")
    (line,) = problems()
    assert line.startswith(
        "Invalid DataWarp setting in environment variable DATAWARP_LOCK_TIMEOUT_SECONDS:"
        " lock_timeout_seconds = 'soon': Input should be a valid number"
    )


def test_validation_from_the_environment_is_json_and_checked(monkeypatch):
    monkeypatch.setenv("DATAWARP_VALIDATION", '{"sources": {"ae": {"min_rows": 3}}}')
    assert load_settings().validation.for_source("ae").min_rows == 3
    monkeypatch.setenv("DATAWARP_VALIDATION", '{"min_row": 3}')
    assert problems() == [
        "Invalid DataWarp setting in environment variable DATAWARP_VALIDATION:"
        " validation: unknown key 'min_row'"
    ]
    monkeypatch.setenv("DATAWARP_VALIDATION", "{min_rows: 3}")
    (line,) = problems()
    assert line.startswith("Invalid DataWarp setting in environment variable DATAWARP_VALIDATION")


def test_invalid_flag_is_reported_as_a_flag():
    assert problems(schema_auto_add_limit=0) == [
        "Invalid DataWarp setting on the command line: schema_auto_add_limit = 0:"
        " Input should be greater than or equal to 1"
    ]


def test_empty_environment_values_are_ignored(monkeypatch):
    write(Path("datawarp.toml"), "[datawarp]\ndatabase_url = 'postgresql://file/db'\n")
    monkeypatch.setenv("DATAWARP_DATABASE_URL", "")
    monkeypatch.setenv("DATAWARP_SCHEMA_AUTO_ADD_LIMIT", "")
    monkeypatch.setenv("DATAWARP_NOTIFY_SMTP_HOST", "")
    monkeypatch.setenv("DATAWARP_CONFIG", "")
    settings = load_settings()
    assert (settings.database_url, settings.schema_auto_add_limit) == ("postgresql://file/db", 5)
    assert settings.notify.smtp_host is None


def test_other_datawarp_variables_are_not_settings(monkeypatch):
    for name in ("TEST_DATABASE_URL", "SAMPLES_DIR", "NO_ARROW", "LOGIN_PASSWORD"):
        monkeypatch.setenv(f"DATAWARP_{name}", "anything")
    settings = load_settings()
    assert settings == Settings(home=settings.home)


def test_settings_built_directly_read_neither_environment_nor_file(monkeypatch, tmp_path):
    write(Path("datawarp.toml"), "[datawarp]\nnot_a_setting = 1\n")
    monkeypatch.setenv("DATAWARP_DATABASE_URL", "postgresql://env/db")
    monkeypatch.setenv("DATAWARP_SCHEMA_AUTO_ADD_LIMIT", "0")
    settings = Settings(database_url="postgresql://given/db", home=tmp_path)
    assert (settings.database_url, settings.schema_auto_add_limit) == ("postgresql://given/db", 5)
    assert settings.home == tmp_path
    copied = settings.model_copy(update={"lock_timeout_seconds": 5})
    assert (copied.lock_timeout_seconds, copied.database_url) == (5, "postgresql://given/db")
    with pytest.raises(ValueError, match="not_a_setting"):
        Settings(not_a_setting=1)


def test_for_source_merges_global_per_source_and_manifest():
    validation = ValidationSettings(
        min_rows=20,
        max_rows=1000,
        severity={"zero_rows": "warn", "date_range": "fail"},
        sources={"ae": {"min_rows": 5, "severity": {"row_change": "fail"}}},
    )
    manifest = {"max_new_columns": 2, "severity": {"date_range": "warn"}}
    gates = validation.for_source("ae", manifest)
    assert isinstance(gates, GateSettings)
    assert (gates.min_rows, gates.max_rows, gates.max_new_columns) == (5, 1000, 2)
    assert gates.severity == {"zero_rows": "warn", "date_range": "warn", "row_change": "fail"}
    assert gates.severity_of("duplicate_keys") == "fail"  # the default still applies
    other = validation.for_source("other")
    assert (other.min_rows, other.severity) == (20, {"zero_rows": "warn", "date_range": "fail"})


def test_a_manifest_validation_block_is_the_same_overrides_model():
    text = textwrap.dedent(
        """\
        sources:
          - source_code: ae
            path: a.csv
            validation: {min_rows: 3, severity: {descriptions: fail}}
        """
    )
    block = parse_manifest(text).sources[0].validation
    assert isinstance(block, GateOverrides)
    gates = ValidationSettings().for_source("ae", block)
    assert (gates.min_rows, gates.severity_of("descriptions")) == (3, "fail")

    bad = text.replace("min_rows", "min_row")
    with pytest.raises(BadInputError) as excinfo:
        parse_manifest(bad, name="m.yaml")
    assert excinfo.value.problems == [
        "m.yaml:4: sources[0].validation.min_row: unknown key 'min_row'"
    ]


def test_overrides_have_exactly_the_gate_settings_keys():
    assert GateOverrides.model_fields.keys() == GateSettings.model_fields.keys()


# --- [notify] ----------------------------------------------------------------------------


def test_notify_defaults():
    notify = load_settings().notify
    assert (notify.smtp_host, notify.smtp_port, notify.smtp_security) == (None, 587, "starttls")
    assert (notify.smtp_user, notify.smtp_password, notify.email_from) == (None, None, None)
    assert (notify.dba_emails, notify.webhook_url, notify.webhook_format) == ([], None, "json")


@pytest.mark.parametrize("header", ["[notify]", "[datawarp.notify]"])
def test_notify_from_the_file_and_each_key_from_the_environment(monkeypatch, header):
    write(
        Path("datawarp.toml"),
        f"""\
        [datawarp]
        schema_auto_add_limit = 3
        {header}
        smtp_host = "smtp.file.nhs.net"
        smtp_port = 25
        smtp_security = "none"
        email_from = "DataWarp <datawarp@nhs.net>"
        dba_emails = "dba.one@nhs.net, dba.two@nhs.net"
        webhook_format = "slack"
        """,
    )
    monkeypatch.setenv("DATAWARP_NOTIFY_SMTP_HOST", "smtp.env.nhs.net")
    monkeypatch.setenv("DATAWARP_NOTIFY_SMTP_PORT", "465")
    monkeypatch.setenv("DATAWARP_NOTIFY_WEBHOOK_URL", "https://hooks.example.org/T1/B2")

    settings = load_settings()

    notify = settings.notify
    assert (notify.smtp_host, notify.smtp_port) == ("smtp.env.nhs.net", 465)  # env over file
    assert (notify.smtp_security, notify.webhook_format) == ("none", "slack")  # file over code
    assert notify.email_from == "DataWarp <datawarp@nhs.net>"
    assert notify.dba_emails == ["dba.one@nhs.net", "dba.two@nhs.net"]
    assert notify.webhook_url == "https://hooks.example.org/T1/B2"
    assert settings.schema_auto_add_limit == 3


def test_dba_emails_are_a_list_in_the_file_or_comma_separated_in_the_environment(monkeypatch):
    write(Path("datawarp.toml"), '[notify]\ndba_emails = ["a@nhs.net", "b@nhs.net"]\n')
    assert load_settings().notify.dba_emails == ["a@nhs.net", "b@nhs.net"]
    monkeypatch.setenv("DATAWARP_NOTIFY_DBA_EMAILS", " c@nhs.net,d@nhs.net , ")
    assert load_settings().notify.dba_emails == ["c@nhs.net", "d@nhs.net"]


@pytest.mark.parametrize("header", ["[notify]", "[datawarp.notify]"])
def test_a_password_in_the_file_is_refused_naming_the_variable(header):
    write(Path("datawarp.toml"), f'{header}\nsmtp_host = "x"\nsmtp_password = "hunter2-pw"\n')
    assert problems() == [
        f"Invalid DataWarp setting in datawarp.toml: {header} smtp_password is not read from a"
        " settings file; set the environment variable DATAWARP_NOTIFY_SMTP_PASSWORD"
    ]


def test_the_password_comes_from_the_environment_and_is_never_shown(monkeypatch):
    monkeypatch.setenv("DATAWARP_NOTIFY_SMTP_PASSWORD", "hunter2-pw")
    settings = load_settings()
    assert settings.notify.smtp_password.get_secret_value() == "hunter2-pw"
    for shown in (repr(settings), str(settings), settings.model_dump_json(), repr(settings.notify)):
        assert "hunter2-pw" not in shown


def test_invalid_notify_values_in_the_file_one_line_each_naming_the_key():
    write(
        Path("datawarp.toml"),
        """\
        [notify]
        email_from = "datawarp"
        dba_emails = "dba@nhs.net, not an address"
        webhook_url = "ftp://hooks.example.org/x"
        smtp_security = "tls"
        smtp_hots = "typo"
        """,
    )
    where = "Invalid DataWarp setting in datawarp.toml: [notify]"
    assert sorted(problems()) == [
        f"{where} dba_emails = 'dba@nhs.net, not an address': not a valid e-mail address:"
        " 'not an address' (An email address must have an @-sign.)",
        f"{where} email_from = 'datawarp': value is not a valid email address:"
        " An email address must have an @-sign.",
        f"{where} smtp_security = 'tls': Input should be 'none', 'starttls' or 'ssl'",
        f"{where} unknown key 'smtp_hots'",
        f"{where} webhook_url = 'ftp://hooks.example.org/x': URL scheme should be 'http' or"
        " 'https'",
    ]


def test_invalid_notify_values_in_the_environment_name_their_variable(monkeypatch):
    monkeypatch.setenv("DATAWARP_NOTIFY_EMAIL_FROM", "nobody@")
    monkeypatch.setenv("DATAWARP_NOTIFY_WEBHOOK_URL", "not a url")
    monkeypatch.setenv("DATAWARP_NOTIFY_SMTP_PORT", "0")
    lines = sorted(problems())
    assert [line.split(":")[0] for line in lines] == [
        "Invalid DataWarp setting in environment variable DATAWARP_NOTIFY_EMAIL_FROM",
        "Invalid DataWarp setting in environment variable DATAWARP_NOTIFY_SMTP_PORT",
        "Invalid DataWarp setting in environment variable DATAWARP_NOTIFY_WEBHOOK_URL",
    ]
    assert "notify: smtp_port = '0': Input should be greater than or equal to 1" in lines[1]


def test_notify_given_twice_in_the_file_is_refused():
    write(Path("datawarp.toml"), "[notify]\nsmtp_host = 'a'\n[datawarp.notify]\nsmtp_host = 'b'\n")
    assert problems() == [
        "Invalid DataWarp setting in datawarp.toml: both [notify] and [datawarp.notify] given;"
        " keep one"
    ]


def test_the_old_dba_email_setting_says_what_replaced_it():
    write(Path("datawarp.toml"), "[datawarp]\ndba_email = 'dba@nhs.net'\n")
    assert problems() == [
        "Invalid DataWarp setting in datawarp.toml: [datawarp] unknown key 'dba_email'"
        " (replaced by dba_emails in the [notify] table)"
    ]
