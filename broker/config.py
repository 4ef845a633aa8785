"""Settings: defaults, then ``settings.toml`` in the data directory, then environment variables.

Environment overrides are named ``EID_BROKER_<KEY>`` (``EID_BROKER_SMTP_PORT=2525``); ``DATABASE_URL``
overrides ``database_url``; ``EID_BROKER_HOME`` names the data directory. Per-level maximum ages are a
table in TOML (``[level_max_age] high = 900``) and ``EID_BROKER_LEVEL_MAX_AGE_HIGH=900`` in the environment.
"""

from __future__ import annotations

import dataclasses
import os
import secrets
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import timedelta
from pathlib import Path
from types import MappingProxyType
from typing import Any

from broker.assurance import Level

SETTINGS_FILE = "settings.toml"
SECRET_KEY_FILE = "secret_key"
DEFAULT_DATA_DIR = ".eid-broker"


class SettingsError(Exception):
    """The settings file or an environment override is unusable; the message names the key."""


def _default_level_max_age() -> Mapping[Level, timedelta]:
    return MappingProxyType({
        Level.LOW: timedelta(hours=12),
        Level.SUBSTANTIAL: timedelta(minutes=30),
        Level.HIGH: timedelta(minutes=15),
    })


@dataclass(frozen=True)
class Settings:
    data_dir: Path
    database_url: str = ""
    secret_key: str = ""
    # Where citizens reach the broker; links in mails point here. Empty: `serve` derives it from its
    # address, and pages fall back to the request's host.
    public_url: str = ""
    # Plain-HTTP development: cookies lose their Secure flag.
    insecure_http: bool = False
    smtp_host: str = "127.0.0.1"
    smtp_port: int = 25
    smtp_starttls: bool = False
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_timeout: float = 10.0
    mail_sender: str = "eid-broker <noreply@localhost>"
    # argon2id, OWASP's minimum: m = 19 MiB, t = 2, p = 1.
    argon2_time_cost: int = 2
    argon2_memory_cost_kib: int = 19 * 1024
    argon2_parallelism: int = 1
    password_min_length: int = 8
    password_max_length: int = 128
    session_idle_timeout: timedelta = timedelta(minutes=30)
    session_absolute_timeout: timedelta = timedelta(hours=12)
    level_max_age: Mapping[Level, timedelta] = field(default_factory=_default_level_max_age)
    verification_link_ttl: timedelta = timedelta(hours=24)
    reset_link_ttl: timedelta = timedelta(hours=1)
    # Per client address (Flask-Limiter). Off: no limit in the application (where a reverse proxy limits per
    # address); the per-account throttle below stays. process-memory:// counts in this process (per worker,
    # broker/ratelimit.py); use a shared storage URI (redis://, memcached://) when running several workers.
    ratelimit_enabled: bool = True
    ratelimit_storage_uri: str = "process-memory://"
    ratelimit_login: str = "30 per minute; 300 per hour"
    ratelimit_register: str = "10 per hour"
    ratelimit_reset: str = "10 per hour"
    # The eID step-up (each start makes an eID-Server session): starts per client address and per browser
    # session, and the step-up's other requests (the page polls its status every second) per browser session.
    ratelimit_step_up: str = "60 per hour"
    ratelimit_step_up_session: str = "10 per 10 minutes"
    ratelimit_eid_requests: str = "120 per minute"
    # Per account, in the database (so several workers share it): failures from clients without the
    # account's device cookie are free up to this count, then each further attempt waits twice as long.
    throttle_free_failures: int = 5
    throttle_base_delay: timedelta = timedelta(seconds=1)
    throttle_max_delay: timedelta = timedelta(minutes=5)
    device_cookie_lifetime: timedelta = timedelta(days=180)
    log_level: str = "INFO"
    # Demo only: directory whose .eml files the /demo/mailbox page lists.
    demo_mailbox_dir: str = ""
    # The eID step-up (broker/step_up.py). It needs HTTPS: eID clients accept only https tcTokenURLs.
    eid_enabled: bool = True
    # Terminal PKI directory as `eid-broker pki create-test` writes it; empty: the demo terminal made from
    # the shipped test PKI in <data dir>/eid-terminal (broker/eid_terminal.py). Never for production.
    eid_terminal_dir: str = ""
    # More CSCA certificates (PEM bundle) for passive authentication, trusted besides the terminal
    # directory's csca.pem (e.g. the German CSCA, or a test CSCA).
    eid_csca_file: str = ""
    # Revoked ID cards and Document Signers (eid/server/blocklist.py): one entry a line, the sector-specific
    # identifier (hex) of a revoked card for this terminal's sector — as the Document Verifier's blocklist
    # gives them, or a card's pseudonym — or ds:<hex serial> of a revoked Document Signer certificate. Read
    # again when the file changes. A listed card's step-up fails with "card revoked".
    eid_blocklist_file: str = ""
    # The eID-Server's own TLS listener (TC token and PAOS). Empty host: the broker's; port 0: a free port
    # chosen at start. `serve` runs it in gunicorn's master process: one listener for all workers.
    eid_host: str = ""
    eid_port: int = 0
    # https origin of that listener as eID clients reach it; empty: derived by `serve` from host and port.
    eid_public_url: str = ""
    # TLS-PSK for the PAOS channel (the TC token carries the PSK); off: the client resumes the TLS session
    # of the TC-token download, which lives in the listener's process.
    eid_psk: bool = True
    # Where the step-up page sends the browser: the local eID client (AusweisApp, or `eid-broker eid-client`).
    eid_client_url: str = "http://127.0.0.1:24727/eID-Client"

    @property
    def sqlite_default_url(self) -> str:
        return f"sqlite:///{self.data_dir / 'broker.sqlite3'}"



def _convert(key: str, raw: Any, kind: str) -> Any:
    """One value from TOML or the environment, converted to the field's type."""
    try:
        if kind == "bool":
            if isinstance(raw, bool):
                return raw
            lowered = str(raw).strip().lower()
            if lowered in ("1", "true", "yes", "on"):
                return True
            if lowered in ("0", "false", "no", "off"):
                return False
            raise ValueError(raw)
        if kind == "int":
            if isinstance(raw, bool):
                raise ValueError(raw)
            return int(raw)
        if kind == "float":
            return float(raw)
        if kind == "timedelta":
            seconds = float(raw)
            if seconds < 0:
                raise ValueError(raw)
            return timedelta(seconds=seconds)
        if kind == "str":
            if not isinstance(raw, str):
                raise ValueError(raw)
            return raw
    except (TypeError, ValueError):
        raise SettingsError(f"setting {key!r}: {raw!r} is not a valid {kind}") from None
    raise SettingsError(f"setting {key!r} cannot be set this way")


def _level_max_age(raw: Mapping[str, Any], source: str,
                   base: Mapping[Level, timedelta]) -> Mapping[Level, timedelta]:
    merged = dict(base)
    for name, value in raw.items():
        try:
            level = Level.from_name(name)
        except ValueError:
            raise SettingsError(f"{source}: unknown level {name!r} in level_max_age") from None
        merged[level] = _convert(f"level_max_age.{name}", value, "timedelta")
    return MappingProxyType(merged)


def _field_kinds() -> dict[str, str]:
    kinds = {}
    for f in dataclasses.fields(Settings):
        kind = f.type if isinstance(f.type, str) else f.type.__name__
        kinds[f.name] = kind
    return kinds


def _secret_key(data_dir: Path) -> str:
    """The Flask secret key, generated once into the data directory (mode 0600)."""
    path = data_dir / SECRET_KEY_FILE
    if not path.exists():
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(descriptor, "w") as handle:
            handle.write(secrets.token_urlsafe(48))
    return path.read_text().strip()


def load_settings(data_dir: Path | str | None = None, environ: Mapping[str, str] | None = None,
                  **overrides: Any) -> Settings:
    """Settings for ``data_dir`` (created if missing): defaults < settings.toml < environment < overrides."""
    env = os.environ if environ is None else environ
    directory = Path(data_dir or env.get("EID_BROKER_HOME") or DEFAULT_DATA_DIR).resolve()
    directory.mkdir(parents=True, exist_ok=True)
    kinds = _field_kinds()
    values: dict[str, Any] = {}

    settings_path = directory / SETTINGS_FILE
    if settings_path.exists():
        try:
            document = tomllib.loads(settings_path.read_text(encoding="utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
            raise SettingsError(f"{settings_path}: {error}") from None
        for key, raw in document.items():
            if key == "level_max_age":
                if not isinstance(raw, dict):
                    raise SettingsError(f"{settings_path}: level_max_age must be a table")
                values[key] = _level_max_age(raw, str(settings_path), _default_level_max_age())
            elif key in kinds and key != "data_dir":
                values[key] = _convert(key, raw, kinds[key])
            else:
                raise SettingsError(f"{settings_path}: unknown setting {key!r}")

    level_env = {}
    for name, raw in env.items():
        if not name.startswith("EID_BROKER_") or name == "EID_BROKER_HOME":
            continue
        key = name.removeprefix("EID_BROKER_").lower()
        if key.startswith("level_max_age_"):
            level_env[key.removeprefix("level_max_age_")] = raw
        elif key in kinds and key != "data_dir":
            values[key] = _convert(key, raw, kinds[key])
    if level_env:
        base = values.get("level_max_age", _default_level_max_age())
        values["level_max_age"] = _level_max_age(level_env, "environment", base)
    if env.get("DATABASE_URL"):
        values["database_url"] = env["DATABASE_URL"]
    values.update(overrides)

    settings = Settings(data_dir=directory, **values)
    if not settings.database_url:
        settings = dataclasses.replace(settings, database_url=settings.sqlite_default_url)
    if not settings.secret_key:
        settings = dataclasses.replace(settings, secret_key=_secret_key(directory))
    return settings
