"""One typed settings object: shipped defaults, then a user file, then the environment.

Order of precedence (last wins):
1. ``config/frontdoor.toml`` shipped with frontdoor;
2. a user file: ``--config PATH`` or ``FRONTDOOR_CONFIG`` (TOML, or YAML by its ``.yaml``/``.yml`` ending);
3. environment variables: ``FRONTDOOR_<SECTION>_<KEY>`` for every key, plus the aliases in
   ``ENVIRONMENT_ALIASES`` (``FRONTDOOR_PUBLIC_URL``, ``TWILIO_AUTH_TOKEN``, ...).
"""

from __future__ import annotations

import os
import tomllib
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Mapping

import yaml

from frontdoor import CONFIG_DIR
from frontdoor.errors import ConfigError

DEFAULTS_FILE = CONFIG_DIR / "frontdoor.toml"


@dataclass(frozen=True)
class GeneralSettings:
    organisation: str = "the IT service desk"
    timezone: str = "UTC"
    data_dir: str = ""
    log_level: str = "INFO"


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = ""


@dataclass(frozen=True)
class IncidentSettings:
    file: str = ""
    feed_url: str = ""
    feed_timeout_seconds: float = 2.0
    feed_cache_seconds: float = 30.0


@dataclass(frozen=True)
class DirectorySettings:
    file: str = ""


@dataclass(frozen=True)
class ConversationSettings:
    answers_file: str = ""
    automated_turn_budget: int = 6
    max_reprompts: int = 1
    low_confidence: float = 0.35
    repeat_caller_window_days: int = 7


@dataclass(frozen=True)
class HandoffSettings:
    agents: tuple[str, ...] = ()
    lexicon_file: str = ""
    human_request_threshold: float = 1.0
    security_threshold: float = 1.0
    frustration_threshold: float = 1.0
    urgency_threshold: float = 1.0
    distress_speaking_rate: float = 0.85
    whisper_accept_digit: str = ""


@dataclass(frozen=True)
class TwilioSettings:
    account_sid: str = ""
    auth_token: str = ""
    from_number: str = ""
    public_url: str = ""
    validate_signatures: bool = True
    api_base_url: str = ""
    transfer_mode: str = "conference"
    hold_music_url: str = "http://com.twilio.music.classical.s3.amazonaws.com/BusyStrings.mp3"
    dial_timeout_seconds: int = 15
    speech_model: str = ""
    language: str = "en-US"
    voice: str = "Polly.Joanna"


@dataclass(frozen=True)
class NotificationSettings:
    webhook_url: str = ""
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    email_from: str = ""
    email_to: tuple[str, ...] = ()
    sms_to: tuple[str, ...] = ()
    retry_attempts: int = 4
    retry_base_seconds: float = 0.5


@dataclass(frozen=True)
class ConsoleSettings:
    secret_key: str = ""
    session_minutes: int = 480


@dataclass(frozen=True)
class VoiceSettings:
    model_dir: str = ""
    input_device: str = ""
    output_device: str = ""
    endpoint_silence_seconds: float = 0.8
    wake_phrase: str = ""
    tts_rate: int = 175
    tts_voice: str = ""


@dataclass(frozen=True)
class Settings:
    general: GeneralSettings = field(default_factory=GeneralSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    incidents: IncidentSettings = field(default_factory=IncidentSettings)
    directory: DirectorySettings = field(default_factory=DirectorySettings)
    conversation: ConversationSettings = field(default_factory=ConversationSettings)
    handoff: HandoffSettings = field(default_factory=HandoffSettings)
    twilio: TwilioSettings = field(default_factory=TwilioSettings)
    notifications: NotificationSettings = field(default_factory=NotificationSettings)
    console: ConsoleSettings = field(default_factory=ConsoleSettings)
    voice: VoiceSettings = field(default_factory=VoiceSettings)

    @property
    def data_dir(self) -> Path:
        """Where frontdoor keeps its SQLite file and downloaded models."""
        if self.general.data_dir:
            return Path(self.general.data_dir).expanduser()
        base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
        return Path(base) / "frontdoor"

    @property
    def database_url(self) -> str:
        return self.database.url or f"sqlite:///{self.data_dir / 'frontdoor.db'}"

    @property
    def incidents_file(self) -> Path:
        return Path(self.incidents.file).expanduser() if self.incidents.file else CONFIG_DIR / "incidents.yaml"

    @property
    def answers_file(self) -> Path:
        path = self.conversation.answers_file
        return Path(path).expanduser() if path else CONFIG_DIR / "answers.yaml"

    @property
    def directory_file(self) -> Path:
        return Path(self.directory.file).expanduser() if self.directory.file else CONFIG_DIR / "directory.yaml"


ENVIRONMENT_ALIASES: dict[str, tuple[str, str]] = {
    "FRONTDOOR_PUBLIC_URL": ("twilio", "public_url"),
    "FRONTDOOR_AGENTS": ("handoff", "agents"),
    "FRONTDOOR_DATA_DIR": ("general", "data_dir"),
    "FRONTDOOR_SECRET_KEY": ("console", "secret_key"),
    "FRONTDOOR_MODEL_DIR": ("voice", "model_dir"),
    "TWILIO_ACCOUNT_SID": ("twilio", "account_sid"),
    "TWILIO_AUTH_TOKEN": ("twilio", "auth_token"),
    "TWILIO_FROM_NUMBER": ("twilio", "from_number"),
}

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def load_settings(config_path: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Build the settings from the shipped defaults, an optional user file and the environment."""
    environ = os.environ if environ is None else environ
    values: dict[str, dict[str, Any]] = {}
    _merge_file(values, DEFAULTS_FILE)
    user_file = config_path or environ.get("FRONTDOOR_CONFIG")
    if user_file:
        _merge_file(values, Path(user_file))
    _merge_environment(values, environ)
    return _build(values)


def _section_types() -> dict[str, type]:
    return typing.get_type_hints(Settings)


def _field_types(section_type: type) -> dict[str, Any]:
    return typing.get_type_hints(section_type)


def _read_file(path: Path) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{path}: settings file not found") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read settings file ({exc.strerror})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError:
        raise ConfigError(f"{path}: settings file is not UTF-8 text") from None
    if path.suffix.lower() in {".yaml", ".yml"}:
        try:
            data = yaml.safe_load(text)
        except yaml.YAMLError as exc:
            mark = getattr(exc, "problem_mark", None)
            where = f" (line {mark.line + 1})" if mark else ""
            raise ConfigError(f"{path}: invalid YAML{where}") from None
        data = {} if data is None else data
    else:
        try:
            data = tomllib.loads(text)
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"{path}: invalid TOML ({exc})") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a table of sections at the top level")
    return data


def _merge_file(values: dict[str, dict[str, Any]], path: Path) -> None:
    sections = _section_types()
    for section, table in _read_file(path).items():
        if section not in sections:
            raise ConfigError(f"{path}: unknown section [{section}] (known: {', '.join(sections)})")
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [{section}] must be a table of keys")
        types_ = _field_types(sections[section])
        for key, value in table.items():
            if key not in types_:
                raise ConfigError(f"{path}: unknown key '{section}.{key}'")
            values.setdefault(section, {})[key] = _check_type(value, types_[key], f"{path}: '{section}.{key}'")


def _merge_environment(values: dict[str, dict[str, Any]], environ: Mapping[str, str]) -> None:
    sections = _section_types()
    targets: dict[str, tuple[str, str]] = {}
    for section, section_type in sections.items():
        for key in _field_types(section_type):
            targets[f"FRONTDOOR_{section}_{key}".upper()] = (section, key)
    targets.update(ENVIRONMENT_ALIASES)
    for name, (section, key) in targets.items():
        if name in environ:
            expected = _field_types(sections[section])[key]
            values.setdefault(section, {})[key] = _parse_environment(environ[name], expected, name)


def _parse_environment(raw: str, expected: Any, name: str) -> Any:
    where = f"environment variable {name}"
    if expected is bool:
        lowered = raw.strip().lower()
        if lowered in _TRUE:
            return True
        if lowered in _FALSE:
            return False
        raise ConfigError(f"{where}: expected true or false, got {raw!r}")
    if expected is int or expected is float:
        try:
            return expected(raw.strip())
        except ValueError:
            raise ConfigError(f"{where}: expected a {'whole number' if expected is int else 'number'}, got {raw!r}") from None
    if typing.get_origin(expected) is tuple:
        return tuple(part.strip() for part in raw.split(",") if part.strip())
    return raw


def _check_type(value: Any, expected: Any, where: str) -> Any:
    if expected is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{where}: expected true or false, got {value!r}")
    if expected is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ConfigError(f"{where}: expected a whole number, got {value!r}")
    if expected is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise ConfigError(f"{where}: expected a number, got {value!r}")
    if typing.get_origin(expected) is tuple:
        if isinstance(value, list) and all(isinstance(item, str) for item in value):
            return tuple(value)
        raise ConfigError(f"{where}: expected a list of strings, got {value!r}")
    if expected is str:
        if isinstance(value, str):
            return value
        raise ConfigError(f"{where}: expected a string, got {value!r}")
    raise ConfigError(f"{where}: unsupported setting type {expected!r}")


def _build(values: dict[str, dict[str, Any]]) -> Settings:
    sections = _section_types()
    built = {name: section_type(**values.get(name, {})) for name, section_type in sections.items()}
    settings = Settings(**built)
    _validate(settings)
    return settings


def _validate(settings: Settings) -> None:
    from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

    try:
        ZoneInfo(settings.general.timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(f"'general.timezone': unknown time zone {settings.general.timezone!r}") from None
    if settings.general.log_level.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
        raise ConfigError(f"'general.log_level': expected DEBUG, INFO, WARNING or ERROR, got {settings.general.log_level!r}")
    if settings.conversation.max_reprompts < 0 or settings.conversation.max_reprompts > 1:
        raise ConfigError("'conversation.max_reprompts': must be 0 or 1 (a misunderstood caller gets at most one re-prompt)")
    if settings.conversation.automated_turn_budget < 1:
        raise ConfigError("'conversation.automated_turn_budget': must be at least 1")

