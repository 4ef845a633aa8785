import os
import stat
from datetime import timedelta

import pytest

from broker.assurance import Level
from broker.config import SettingsError, load_settings


def test_defaults(tmp_path):
    settings = load_settings(tmp_path / "home", environ={})
    assert settings.data_dir == (tmp_path / "home").resolve() and settings.data_dir.is_dir()
    assert settings.database_url == f"sqlite:///{settings.data_dir / 'broker.sqlite3'}"
    assert (settings.argon2_memory_cost_kib, settings.argon2_time_cost, settings.argon2_parallelism) == (19456, 2, 1)
    assert settings.level_max_age[Level.HIGH] < settings.level_max_age[Level.LOW]
    assert not settings.insecure_http


def test_secret_key_is_generated_once_and_private(tmp_path):
    first = load_settings(tmp_path, environ={})
    second = load_settings(tmp_path, environ={})
    assert first.secret_key == second.secret_key and len(first.secret_key) >= 40
    assert stat.S_IMODE(os.stat(tmp_path / "secret_key").st_mode) == 0o600


def test_data_dir_from_environment(tmp_path):
    settings = load_settings(environ={"EID_BROKER_HOME": str(tmp_path / "elsewhere")})
    assert settings.data_dir == (tmp_path / "elsewhere").resolve()


def test_toml_then_environment(tmp_path):
    (tmp_path / "settings.toml").write_text(
        'smtp_port = 2525\nsmtp_host = "mail.example"\nsession_idle_timeout = 600\n'
        '[level_max_age]\nhigh = 300\n')
    settings = load_settings(tmp_path, environ={"EID_BROKER_SMTP_PORT": "587", "EID_BROKER_SMTP_STARTTLS": "yes",
                                                "EID_BROKER_LEVEL_MAX_AGE_LOW": "3600",
                                                "DATABASE_URL": "postgresql://u@db/broker"})
    assert settings.smtp_host == "mail.example"
    assert settings.smtp_port == 587 and settings.smtp_starttls is True
    assert settings.session_idle_timeout == timedelta(minutes=10)
    assert settings.level_max_age[Level.HIGH] == timedelta(minutes=5)
    assert settings.level_max_age[Level.LOW] == timedelta(hours=1)
    assert settings.level_max_age[Level.SUBSTANTIAL] == timedelta(minutes=30)
    assert settings.database_url == "postgresql://u@db/broker"


@pytest.mark.parametrize("content,message", [
    ("smtp_prot = 25\n", "unknown setting 'smtp_prot'"),
    ('smtp_port = "many"\n', "smtp_port"),
    ("smtp_port = true\n", "smtp_port"),
    ("session_idle_timeout = -5\n", "session_idle_timeout"),
    ("[level_max_age]\nmedium = 5\n", "unknown level 'medium'"),
    ("level_max_age = 5\n", "must be a table"),
    ("smtp_port = \n", "settings.toml"),
])
def test_bad_settings_file_names_the_problem(tmp_path, content, message):
    (tmp_path / "settings.toml").write_text(content)
    with pytest.raises(SettingsError, match=message):
        load_settings(tmp_path, environ={})


def test_bad_environment_value_names_the_variable(tmp_path):
    with pytest.raises(SettingsError, match="insecure_http"):
        load_settings(tmp_path, environ={"EID_BROKER_INSECURE_HTTP": "perhaps"})
