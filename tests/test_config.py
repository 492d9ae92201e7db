"""Configuration: the shipped file runs, typos are named, env overrides and secrets."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from handlers.config import DEFAULT_CONNECT_TIMEOUT_SECONDS, ConfigError, load_settings

ROOT = Path(__file__).resolve().parents[1]


def test_shipped_config_is_valid() -> None:
    settings = load_settings(ROOT / "config.yaml", environ={})
    assert settings.platform.kind == "local"
    assert settings.timezone == "Asia/Ho_Chi_Minh"
    assert settings.engagement.monthly_message_budget == 3000


def test_unknown_key_is_named(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("engagement:\n  inactive_after_dayz: 3\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={})
    message = str(info.value)
    assert str(path) in message
    assert "engagement.inactive_after_dayz" in message
    assert "unknown key" in message


@pytest.mark.parametrize(
    "text, key",
    [
        ("timezone: Mars/Olympus\n", "timezone"),
        ("engagement:\n  quiet_hours: late\n", "engagement.quiet_hours"),
        ("digest:\n  time: '25:00'\n", "digest.time"),
        ("platform:\n  kind: telegram\n", "platform.kind"),
        ("database:\n  url: mysql://x\n", "database.url"),
        ("groups:\n  - name: x\n", "groups.0.chat_id"),
    ],
)
def test_bad_values_are_named(tmp_path: Path, text: str, key: str) -> None:
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={})
    assert key in str(info.value)


def test_not_yaml_and_missing_file(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("a: [1, 2\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_settings(path, environ={})
    with pytest.raises(ConfigError, match=r"file not found$"):
        load_settings(tmp_path / "nope.yaml", environ={})
    # The systemd unit names the file in ANTT_CONFIG: the message says where to look.
    gone = str(tmp_path / "etc.yaml")
    with pytest.raises(ConfigError, match=r"file not found \(named by ANTT_CONFIG\)"):
        load_settings(gone, environ={"ANTT_CONFIG": gone})
    path.write_text("- 1\n- 2\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="mapping"):
        load_settings(path, environ={})


def test_env_overrides_nest_and_secrets_stay_secret(tmp_path: Path) -> None:
    env = {
        "ANTT_PLATFORM__TOKEN": "123:abc",
        "ANTT_ENGAGEMENT__INACTIVE_AFTER_DAYS": "3",
        "ANTT_PLATFORM__WEBHOOK_SECRET": "12345678",
        "ANTT_DASHBOARD__PASSWORD": "pw",
    }
    settings = load_settings(ROOT / "config.yaml", environ=env)
    assert settings.platform.token.get_secret_value() == "123:abc"
    assert settings.platform.webhook_secret.get_secret_value() == "12345678"  # stays a string
    assert settings.engagement.inactive_after_days == 3
    assert "123:abc" not in repr(settings)


def test_env_typo_is_named_too() -> None:
    with pytest.raises(ConfigError, match=r"platform\.tokn"):
        load_settings(None, environ={"ANTT_PLATFORM__TOKN": "x"})


def test_the_test_and_benchmark_variables_are_not_configuration() -> None:
    url = "postgresql+asyncpg://postgres@127.0.0.1:5432/test"
    environ = {"ANTT_TEST_POSTGRES_URL": url, "ANTT_BENCH_POSTGRES_URL": url}
    settings = load_settings(None, environ=environ)
    assert settings.database.url.startswith("sqlite")
    with pytest.raises(ConfigError, match="ANTT_BECH_URL"):  # a near miss is still named
        load_settings(None, environ={**environ, "ANTT_BECH_URL": "1"})


def test_cli_exits_2_with_the_key_and_no_traceback(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("server:\n  prot: 80\n", encoding="utf-8")
    proc = subprocess.run([sys.executable, "-m", "bot", "-h"], capture_output=True, text=True)
    assert proc.returncode == 0
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "export", "messages", "-c", str(path)],
        capture_output=True,
        text=True,
    )
    assert proc.returncode == 2
    assert "server.prot" in proc.stderr and str(path) in proc.stderr
    assert "Traceback" not in proc.stderr


def test_a_misspelt_urgent_category_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.yaml"
    path.write_text("alerts:\n  urgent_categories: [fier]\n", encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={})
    assert "alerts.urgent_categories.0" in str(info.value)


def test_errors_from_the_environment_name_the_variable() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(ROOT / "config.yaml", environ={"ANTT_SERVER__PORT": "abc"})
    assert "server.port (set by the environment variable ANTT_SERVER__PORT)" in str(info.value)


# Issue 13 (found under attack): configuration that started the wrong bot or refused a good one.


def test_an_empty_or_comment_only_file_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    for text in ("", "\n", "# platform:\n#   kind: zalo_bot\n"):
        path.write_text(text, encoding="utf-8")
        with pytest.raises(ConfigError, match="empty") as info:
            load_settings(path, environ={})
        assert str(path) in str(info.value)
    proc = subprocess.run(
        [sys.executable, "-m", "bot", "serve", "-c", str(path)], capture_output=True, text=True
    )
    assert proc.returncode == 2 and "empty" in proc.stderr and "serving" not in proc.stderr


@pytest.mark.parametrize(
    "name, value, key",
    [
        ("ANTT_PLATFORM__APP_ID", "360846524940903967", "app_id"),
        ("ANTT_PLATFORM__OA_ID", "0012", "oa_id"),
        ("ANTT_PLATFORM__BOT_NAME", "2026", "bot_name"),
    ],
)
def test_digits_set_through_the_environment_stay_text(name: str, value: str, key: str) -> None:
    settings = load_settings(ROOT / "config.yaml", environ={name: value})
    assert getattr(settings.platform, key) == value  # every digit kept, no leading zero lost


def test_all_digit_secrets_stay_text() -> None:
    env = {
        "ANTT_DASHBOARD__PASSWORD": "12345678901234567890",
        "ANTT_PLATFORM__WEBHOOK_SECRET": "0001234567",
        "ANTT_PLATFORM__APP_SECRET": "1e5",
        "ANTT_PLATFORM__OA_SECRET_KEY": "true",
    }
    settings = load_settings(ROOT / "config.yaml", environ=env)
    assert settings.dashboard.password.get_secret_value() == "12345678901234567890"
    assert settings.platform.webhook_secret.get_secret_value() == "0001234567"
    assert settings.platform.app_secret.get_secret_value() == "1e5"
    assert settings.platform.oa_secret_key.get_secret_value() == "true"


def test_typed_values_from_the_environment_are_still_read_by_type() -> None:
    env = {
        "ANTT_SERVER__PORT": "9090",
        "ANTT_DATABASE__ECHO": "true",
        "ANTT_COORDINATORS": "[u1, 0042, 360846524940903967]",
        "ANTT_PLATFORM__MEDIA_HOSTS": "[zdn.vn, 127.0.0.1]",
        "ANTT_ROSTER": "2026.csv",
        "ANTT_DIGEST__TIME": "08:00",
    }
    settings = load_settings(ROOT / "config.yaml", environ=env)
    assert settings.server.port == 9090 and settings.database.echo is True
    assert settings.coordinators == ("u1", "0042", "360846524940903967")
    assert settings.platform.media_hosts == ("zdn.vn", "127.0.0.1")
    assert settings.roster == "2026.csv" and settings.digest.time == "08:00"


@pytest.mark.parametrize(
    "text, key, variable",
    [
        ("platform:\n  token: '123:abc'\n", "platform.token", "ANTT_PLATFORM__TOKEN"),
        (
            "platform:\n  webhook_secret: abcdefgh123\n",
            "platform.webhook_secret",
            "ANTT_PLATFORM__WEBHOOK_SECRET",
        ),
        ("platform:\n  app_secret: x\n", "platform.app_secret", "ANTT_PLATFORM__APP_SECRET"),
        ("dashboard:\n  password: hunter2\n", "dashboard.password", "ANTT_DASHBOARD__PASSWORD"),
        (
            "database:\n  url: postgresql+asyncpg://antt:pw@db/antt\n",
            "database.url",
            "ANTT_DATABASE__URL",
        ),
    ],
)
def test_secrets_written_in_the_file_are_refused(
    tmp_path: Path, text: str, key: str, variable: str
) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={})
    message = str(info.value)
    assert str(path) in message and key in message and variable in message
    assert "hunter2" not in message and "abcdefgh123" not in message


def test_empty_secret_placeholders_and_passwordless_urls_are_fine(tmp_path: Path) -> None:
    path = tmp_path / "config.yaml"
    path.write_text(
        "platform:\n  token: ''\ndatabase:\n  url: postgresql+asyncpg://antt@db:5432/antt\n",
        encoding="utf-8",
    )
    settings = load_settings(path, environ={"ANTT_PLATFORM__TOKEN": "1:x"})
    assert settings.platform.token.get_secret_value() == "1:x"


def test_a_misspelt_section_in_a_variable_names_the_variable_not_the_file() -> None:
    with pytest.raises(ConfigError) as info:
        load_settings(ROOT / "config.yaml", environ={"ANTT_PLATFROM__TOKEN": "1:x"})
    message = str(info.value)
    assert "ANTT_PLATFROM__TOKEN" in message and "unknown key" in message
    assert "config.yaml" not in message


def test_media_hosts_must_be_host_names() -> None:
    with pytest.raises(ConfigError, match=r"platform\.media_hosts"):
        load_settings(None, environ={"ANTT_PLATFORM__MEDIA_HOSTS": "['https://zdn.vn/x']"})
    assert load_settings(None, environ={}).platform.media_hosts == ("zdn.vn", "zadn.vn")


@pytest.mark.parametrize(
    "text, key, read_as",
    [
        ("digest:\n  time: 9:30\n", "digest.time", "the number 570"),
        ("engagement:\n  holidays: [2026-09-02]\n", "engagement.holidays.0", "the date 2026-09-02"),
        ("groups:\n  - {chat_id: 12345, name: x}\n", "groups.0.chat_id", "the number 12345"),
        ("platform:\n  app_id: 0123\n", "platform.app_id", "the number 83"),
    ],
)
def test_an_unquoted_time_date_or_id_says_to_quote_it(
    tmp_path: Path, text: str, key: str, read_as: str
) -> None:
    """YAML reads 9:30, 2026-09-02 and 0123 as numbers and dates: say so, not just 'string'."""
    path = tmp_path / "c.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={})
    assert f"{key}: YAML read the value as {read_as}: write it in quotes" in str(info.value)


def test_a_section_written_twice_is_refused(tmp_path: Path) -> None:
    """A second `alerts:` would silently replace the first one's keys."""
    path = tmp_path / "c.yaml"
    path.write_text(
        "alerts:\n  urgent_categories: [fire, hazmat]\nserver:\n  port: 8080\n"
        "alerts:\n  chair: '0901000010'\n",
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as info:
        load_settings(path, environ={})
    message = str(info.value)
    assert f"{path}: key 'alerts' is written twice (lines 1 and 5)" in message, message
    nested = tmp_path / "n.yaml"
    nested.write_text("server:\n  port: 8080\n  host: 0.0.0.0\n  port: 9090\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"key 'port' is written twice \(lines 2 and 4\)"):
        load_settings(nested, environ={})
    merged = tmp_path / "m.yaml"  # a YAML merge key still overrides as YAML says
    merged.write_text("digest:\n  <<: {weekday: wed, time: '07:00'}\n  weekday: tue\n", "utf-8")
    assert load_settings(merged, environ={}).digest.weekday == "tue"


def test_the_postgres_connect_timeout_default_is_one_figure_for_config_and_engine() -> None:
    """A config without `database.connect_timeout_seconds` and code that builds an engine
    without settings (a restore, a test) wait the same 10 s: the figure is written once."""
    from models.db import CONNECT_TIMEOUT, make_engine

    settings = load_settings(None, environ={})
    engine = make_engine("postgresql+asyncpg://antt@db.kcn.invalid/antt")
    assert settings.database.connect_timeout_seconds == 10
    assert engine.get_execution_options()[CONNECT_TIMEOUT] == DEFAULT_CONNECT_TIMEOUT_SECONDS
