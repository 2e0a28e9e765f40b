"""One typed settings object: shipped defaults, then a user file, then the environment.

Order of precedence (last wins):
1. ``config/frontdoor.toml`` shipped with frontdoor;
2. a user file: ``--config PATH`` or ``FRONTDOOR_CONFIG`` (TOML, or YAML by its ``.yaml``/``.yml`` ending);
3. environment variables: ``FRONTDOOR_<SECTION>_<KEY>`` for every key, plus the aliases in
   ``ENVIRONMENT_ALIASES`` (``FRONTDOOR_PUBLIC_URL``, ``TWILIO_AUTH_TOKEN``, ...).
"""

from __future__ import annotations

import dataclasses
import logging
import os
import tomllib
import typing
from pathlib import Path
from typing import Annotated, Any, Mapping
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import AfterValidator, ConfigDict, Field, ValidationError, ValidationInfo, field_validator
from pydantic.dataclasses import dataclass

from frontdoor import CONFIG_DIR
from frontdoor.errors import ConfigError
from frontdoor.schemas import WebAddress, closest, describe, did_you_mean

log = logging.getLogger(__name__)

DEFAULTS_FILE = CONFIG_DIR / "frontdoor.toml"

SECTION = ConfigDict(extra="forbid", strict=True, allow_inf_nan=False)
"""Every settings section: no unknown keys, no type coercion ("6" is not 6), no NaN or infinity."""


def _time_zone(name: str) -> str:
    try:
        ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown time zone {name!r}") from None
    return name


def _log_level(name: str) -> str:
    if name.upper() not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
        raise ValueError(f"expected DEBUG, INFO, WARNING or ERROR, got {name!r}")
    return name


def _keypad_key(key: str) -> str:
    if key and (len(key) != 1 or key not in "0123456789*#"):
        raise ValueError(f"expected one key, 0-9, * or #, got {key!r}")
    return key


def _transfer_mode(mode: str) -> str:
    plain = mode.strip().lower()
    if plain not in {"conference", "dial"}:
        raise ValueError(f"expected conference or dial, got {mode!r}")
    return plain


def _reprompts(count: int) -> int:
    if count not in {0, 1}:
        raise ValueError("must be 0 or 1 (a misunderstood caller gets at most one re-prompt)")
    return count


Positive = Annotated[float, Field(gt=0)]
Seconds = Annotated[float, Field(ge=0)]
Fraction = Annotated[float, Field(ge=0, le=1)]
AtLeastOne = Annotated[int, Field(ge=1)]
Port = Annotated[int, Field(ge=1, le=65535)]
NotEmpty = Annotated[str, Field(min_length=1)]


@dataclass(frozen=True, config=SECTION)
class GeneralSettings:
    organisation: NotEmpty = "the IT service desk"
    timezone: Annotated[str, AfterValidator(_time_zone)] = "UTC"
    data_dir: str = ""
    log_level: Annotated[str, AfterValidator(_log_level)] = "INFO"


@dataclass(frozen=True, config=SECTION)
class DatabaseSettings:
    url: str = ""


@dataclass(frozen=True, config=SECTION)
class IncidentSettings:
    file: str = ""
    feed_url: WebAddress = ""
    feed_timeout_seconds: Annotated[float, Field(gt=0, le=60)] = 2.0
    feed_cache_seconds: Seconds = 30.0


@dataclass(frozen=True, config=SECTION)
class DirectorySettings:
    file: str = ""


@dataclass(frozen=True, config=SECTION)
class ConversationSettings:
    answers_file: str = ""
    automated_turn_budget: AtLeastOne = 6
    max_reprompts: Annotated[int, AfterValidator(_reprompts)] = 1
    low_confidence: Fraction = 0.35
    repeat_caller_window_days: Annotated[int, Field(ge=0)] = 7
    act_threshold: Fraction = 0.45


@dataclass(frozen=True, config=SECTION)
class HandoffSettings:
    agents: tuple[str, ...] = ()
    model_dir: str = ""
    detector_file: str = ""
    human_request_threshold: Positive = 1.0
    security_threshold: Positive = 1.0
    frustration_threshold: Positive = 1.0
    urgency_threshold: Positive = 1.0
    distress_speaking_rate: Annotated[float, Field(gt=0, le=1)] = 0.85
    whisper_accept_digit: Annotated[str, AfterValidator(_keypad_key)] = ""


@dataclass(frozen=True, config=SECTION)
class TwilioSettings:
    account_sid: str = ""
    auth_token: str = ""
    from_number: str = ""
    public_url: WebAddress = ""
    public_hosts: tuple[str, ...] = ()
    validate_signatures: bool = True
    api_base_url: WebAddress = ""
    transfer_mode: Annotated[str, AfterValidator(_transfer_mode)] = "conference"
    hold_music_url: WebAddress = "http://com.twilio.music.classical.s3.amazonaws.com/BusyStrings.mp3"
    dial_timeout_seconds: Annotated[int, Field(ge=5, le=120)] = 15
    speech_model: str = ""
    language: NotEmpty = "en-US"
    voice: NotEmpty = "Polly.Joanna"


@dataclass(frozen=True, config=SECTION)
class NotificationSettings:
    webhook_url: WebAddress = ""
    smtp_host: str = ""
    smtp_port: Port = 25
    smtp_username: str = ""
    smtp_password: str = ""
    smtp_starttls: bool = False
    email_from: str = ""
    email_to: tuple[str, ...] = ()
    sms_to: tuple[str, ...] = ()
    retry_attempts: Annotated[int, Field(ge=1, le=20)] = 4
    retry_base_seconds: Annotated[float, Field(ge=0, le=60)] = 0.5


@dataclass(frozen=True, config=SECTION)
class ConsoleSettings:
    secret_key: str = ""
    session_minutes: AtLeastOne = 480
    lockout_after_failures: AtLeastOne = 5
    address_lockout_after_failures: AtLeastOne = 20
    first_lockout_minutes: Positive = 1.0
    longest_lockout_minutes: Positive = 60.0
    password_checks_at_once: AtLeastOne = 1

    @field_validator("longest_lockout_minutes")
    @classmethod
    def _not_below_the_first(cls, minutes: float, info: ValidationInfo) -> float:
        first = info.data.get("first_lockout_minutes")
        if first is not None and minutes < first:
            raise ValueError(f"must be at least first_lockout_minutes ({first:g}), got {minutes:g}")
        return minutes


@dataclass(frozen=True, config=SECTION)
class WebSettings:
    trusted_proxy_count: Annotated[int, Field(ge=0)] = 0


@dataclass(frozen=True, config=SECTION)
class VoiceSettings:
    model_dir: str = ""
    input_device: str = ""
    output_device: str = ""
    endpoint_silence_seconds: Annotated[float, Field(gt=0, le=10)] = 0.8
    wake_phrase: str = ""
    tts_rate: Annotated[int, Field(ge=40, le=600)] = 175
    tts_voice: str = ""


@dataclass(frozen=True, config=SECTION)
class Settings:
    general: GeneralSettings = dataclasses.field(default_factory=GeneralSettings)
    database: DatabaseSettings = dataclasses.field(default_factory=DatabaseSettings)
    incidents: IncidentSettings = dataclasses.field(default_factory=IncidentSettings)
    directory: DirectorySettings = dataclasses.field(default_factory=DirectorySettings)
    conversation: ConversationSettings = dataclasses.field(default_factory=ConversationSettings)
    handoff: HandoffSettings = dataclasses.field(default_factory=HandoffSettings)
    twilio: TwilioSettings = dataclasses.field(default_factory=TwilioSettings)
    notifications: NotificationSettings = dataclasses.field(default_factory=NotificationSettings)
    console: ConsoleSettings = dataclasses.field(default_factory=ConsoleSettings)
    web: WebSettings = dataclasses.field(default_factory=WebSettings)
    voice: VoiceSettings = dataclasses.field(default_factory=VoiceSettings)

    @property
    def data_dir(self) -> Path:
        """Where frontdoor keeps its SQLite file, downloaded models and the journal (``journal/``)."""
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
    def model_dir(self) -> Path | None:
        return Path(self.handoff.model_dir).expanduser() if self.handoff.model_dir else None

    @property
    def detector_file(self) -> Path:
        return Path(self.handoff.detector_file).expanduser() if self.handoff.detector_file else CONFIG_DIR / "detector.yaml"

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

READ_ELSEWHERE = frozenset({"FRONTDOOR_CONFIG", "FRONTDOOR_MODEL_BASE_URL"})
"""``FRONTDOOR_*`` variables that are not settings but are read (the settings file, the model mirror)."""
PREFIX = "FRONTDOOR_"
TEST_VARIABLES = "FRONTDOOR_TEST_"
"""Variables of frontdoor's own test suite (``FRONTDOOR_TEST_POSTGRES_URL``...), not warned about."""

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}

Origins = dict[tuple[str, str], str]
"""Where each setting was last set: a file's path or ``environment variable NAME``."""


def load_settings(config_path: str | os.PathLike[str] | None = None, environ: Mapping[str, str] | None = None) -> Settings:
    """Build the settings from the shipped defaults, an optional user file and the environment."""
    environ = os.environ if environ is None else environ
    values: dict[str, dict[str, Any]] = {}
    origins: Origins = {}
    _merge_file(values, origins, DEFAULTS_FILE)
    user_file = config_path or environ.get("FRONTDOOR_CONFIG")
    if user_file:
        _merge_file(values, origins, Path(user_file))
    _merge_environment(values, origins, environ)
    for warning in unknown_variables(environ):
        log.warning("%s", warning)
    return _build(values, origins)


def unknown_variables(environ: Mapping[str, str]) -> list[str]:
    """One line for each ``FRONTDOOR_*`` variable frontdoor does not read, with the name it probably meant."""
    known = {name.removeprefix(PREFIX) for name in (*_environment_targets(), *READ_ELSEWHERE) if name.startswith(PREFIX)}
    lines = []
    for name in sorted(environ):
        if name.startswith(PREFIX) and name.removeprefix(PREFIX) not in known and not name.startswith(TEST_VARIABLES):
            meant = closest(name.removeprefix(PREFIX), known)
            lines.append(f"environment variable {name} is not a frontdoor setting and is ignored{f' (did you mean {PREFIX}{meant}?)' if meant else ''}")
    return lines


def _section_types() -> dict[str, type]:
    return typing.get_type_hints(Settings)


def _field_types(section_type: type) -> dict[str, Any]:
    return typing.get_type_hints(section_type)


def _environment_targets() -> dict[str, tuple[str, str]]:
    targets = {
        f"FRONTDOOR_{section}_{key}".upper(): (section, key)
        for section, section_type in _section_types().items()
        for key in _field_types(section_type)
    }
    return {**targets, **ENVIRONMENT_ALIASES}


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


def _merge_file(values: dict[str, dict[str, Any]], origins: Origins, path: Path) -> None:
    sections = _section_types()
    for section, table in _read_file(path).items():
        if section not in sections:
            raise ConfigError(f"{path}: unknown section [{section}]{did_you_mean(str(section), sections)} (known: {', '.join(sections)})")
        if not isinstance(table, dict):
            raise ConfigError(f"{path}: [{section}] must be a table of keys")
        for key, value in table.items():
            values.setdefault(section, {})[key] = tuple(value) if isinstance(value, list) else value
            origins[(section, key)] = str(path)


def _merge_environment(values: dict[str, dict[str, Any]], origins: Origins, environ: Mapping[str, str]) -> None:
    sections = _section_types()
    for name, (section, key) in _environment_targets().items():
        if name in environ:
            expected = _field_types(sections[section])[key]
            values.setdefault(section, {})[key] = _parse_environment(environ[name], expected, name)
            origins[(section, key)] = f"environment variable {name}"


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


def _build(values: dict[str, dict[str, Any]], origins: Origins) -> Settings:
    built = {}
    for section, section_type in _section_types().items():
        given = values.get(section, {})
        try:
            built[section] = section_type(**given)
        except ValidationError as exc:
            raise ConfigError(_first_problem(exc, section, section_type, origins)) from None
    return Settings(**built)


def _first_problem(exc: ValidationError, section: str, section_type: type, origins: Origins) -> str:
    """``FILE: 'section.key': problem`` for the first bad setting, naming the file or variable that set it."""
    error = exc.errors()[0]
    key, *rest = [str(part) for part in error["loc"]] or ["?"]
    where = origins.get((section, key), str(DEFAULTS_FILE))
    problem = describe(error)
    if problem == "unknown key":
        return f"{where}: unknown key '{section}.{key}'{did_you_mean(key, _field_types(section_type))}"
    path = f"{section}.{key}" + "".join(f"[{part}]" for part in rest)
    return f"{where}: '{path}': {problem}"
