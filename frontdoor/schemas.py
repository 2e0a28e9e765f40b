"""What every data file may contain, as typed schemas (pydantic), and one-line messages for what breaks them.

The settings are checked by their own dataclasses (``frontdoor.settings``) with the same messages. Files
reject unknown keys, naming the file and the key ("config/incidents.yaml: incidents[0].etaa: unknown key
(did you mean 'eta'?)"); the Statuspage feed, which is not ours, may carry keys we do not read, but the
ones we read must have the right types.
"""

from __future__ import annotations

import difflib
import re
from datetime import datetime
from typing import Annotated, Any, Iterable, TypeVar
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, Field, ValidationError
from pydantic_core import ErrorDetails

from frontdoor.errors import ConfigError
from frontdoor.incidents.model import IMPACTS, STATUSES

Model = TypeVar("Model", bound=BaseModel)

# --- messages --------------------------------------------------------------------------------

_EXPECTED = {
    "int_type": "expected a whole number", "int_parsing": "expected a whole number", "int_from_float": "expected a whole number",
    "float_type": "expected a number", "float_parsing": "expected a number", "finite_number": "expected a finite number",
    "bool_type": "expected true or false", "bool_parsing": "expected true or false",
    "string_type": "expected text", "list_type": "expected a list", "tuple_type": "expected a list",
    "dict_type": "expected a mapping of keys", "model_type": "expected a mapping of keys",
}


def describe(error: ErrorDetails) -> str:
    """One line for one schema error, without its location: "must be greater than 0, got 0"."""
    kind, context, got = error["type"], error.get("ctx") or {}, error.get("input")
    if kind in {"extra_forbidden", "unexpected_keyword_argument"}:
        return "unknown key"
    if kind == "missing":
        return "required"
    if kind in _EXPECTED:
        return f"{_EXPECTED[kind]}, got {got!r}"
    if kind == "value_error":
        return str(context.get("error", error["msg"]))
    if kind == "greater_than":
        return f"must be greater than {_number(context['gt'])}, got {got!r}"
    if kind == "greater_than_equal":
        return f"must be at least {_number(context['ge'])}, got {got!r}"
    if kind == "less_than_equal":
        return f"must be at most {_number(context['le'])}, got {got!r}"
    if kind == "less_than":
        return f"must be less than {_number(context['lt'])}, got {got!r}"
    if kind in {"string_too_short", "too_short"}:
        return "must not be empty"
    return f"{error['msg'][:1].lower()}{error['msg'][1:]}, got {got!r}"


def _number(value: Any) -> str:
    return f"{value:g}" if isinstance(value, float) else str(value)


def _location(loc: Iterable[int | str]) -> str:
    """``("incidents", 0, "eta")`` as ``incidents[0].eta``."""
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def closest(name: str, known: Iterable[str]) -> str | None:
    """The one of ``known`` that ``name`` looks like a slip of ("etaa" -> "eta"), if any."""
    close = difflib.get_close_matches(name, list(known), n=1, cutoff=0.6)
    return close[0] if close else None


def did_you_mean(name: str, known: Iterable[str]) -> str:
    """`` (did you mean 'eta'?)`` when ``name`` looks like a slip of one of ``known``, else ``""``."""
    match = closest(name, known)
    return f" (did you mean '{match}'?)" if match else ""


def check(schema: type[Model], data: Any, where: str) -> Model:
    """``data`` read as ``schema``; ``ConfigError`` naming ``where`` and the first bad key otherwise."""
    try:
        return schema.model_validate(data)
    except ValidationError as exc:
        raise ConfigError(f"{where}: {_first_problem(exc, schema)}") from None


def _first_problem(exc: ValidationError, schema: type[BaseModel]) -> str:
    """``incidents[0].etaa: unknown key (did you mean 'eta'?)``: the first error, located (a misspelt key before what it leaves missing)."""
    errors = exc.errors()
    error = next((e for e in errors if e["type"] == "extra_forbidden"), errors[0])
    loc = error["loc"]
    message = describe(error)
    if message == "unknown key" and loc:
        message += did_you_mean(str(loc[-1]), _keys_at(schema, loc[:-1]))
    return f"{_location(loc)}: {message}" if loc else message


def _keys_at(schema: type[BaseModel], loc: Iterable[int | str]) -> list[str]:
    """The keys ``schema`` allows at ``loc`` (for suggestions)."""
    current: Any = schema
    for part in loc:
        if isinstance(part, int):
            continue
        field = current.model_fields.get(part) if isinstance(current, type) and issubclass(current, BaseModel) else None
        if field is None:
            return []
        current = _inner_model(field.annotation)
    return list(current.model_fields) if isinstance(current, type) and issubclass(current, BaseModel) else []


def _inner_model(annotation: Any) -> Any:
    for argument in getattr(annotation, "__args__", ()) or ():
        found = _inner_model(argument)
        if found is not None:
            return found
    return annotation if isinstance(annotation, type) and issubclass(annotation, BaseModel) else None


# --- shared field types ----------------------------------------------------------------------


def _not_blank(value: str) -> str:
    if not value.strip():
        raise ValueError("must not be empty")
    return value.strip()


def _web_address(value: str) -> str:
    """``value`` if it is empty or an http(s) URL with a host, else ``ValueError``."""
    if value and not (urlsplit(value).scheme in {"http", "https"} and urlsplit(value).hostname):
        raise ValueError(f"expected an http:// or https:// address, got {value!r}")
    return value


def _number_as_text(value: Any) -> Any:
    return str(value) if isinstance(value, int) and not isinstance(value, bool) else value


def _one_as_list(value: Any) -> Any:
    return [value] if isinstance(value, str) else value


def _time_like(value: Any) -> Any:
    if value is not None and not isinstance(value, (str, datetime)):
        raise ValueError(f"{value!r} is not a time (use 2026-11-22T14:30:00Z or 14:30)")
    return value


def _one_of(choices: tuple[str, ...]) -> AfterValidator:
    def chosen(value: str) -> str:
        if value.lower() not in choices:
            raise ValueError(f"{value!r} is not one of {', '.join(choices)}")
        return value.lower()

    return AfterValidator(chosen)


Text = Annotated[str, AfterValidator(_not_blank)]
Name = Annotated[str, BeforeValidator(_number_as_text), AfterValidator(_not_blank)]
"""An id or a name: YAML reads ``id: 1042`` as a number, which is fine."""
WebAddress = Annotated[str, AfterValidator(_web_address)]
Moment = Annotated[Any, BeforeValidator(_time_like)]
"""ISO 8601 text, a YAML timestamp or ``HH:MM``: read into a time by the file's loader, which knows the zone and day."""

_FILE = ConfigDict(extra="forbid", strict=True)


# --- config/incidents.yaml -------------------------------------------------------------------


class IncidentEntry(BaseModel):
    model_config = _FILE

    id: Name
    title: Name
    services: Annotated[list[Text], BeforeValidator(_one_as_list), Field(min_length=1)]
    status: Annotated[str, _one_of(STATUSES)] = "investigating"
    impact: Annotated[str, _one_of(IMPACTS)] = "minor"
    started: Moment = None
    eta: Moment = None
    workaround: str | None = None


class IncidentFile(BaseModel):
    model_config = _FILE

    incidents: list[IncidentEntry] | None = None


# --- config/directory.yaml -------------------------------------------------------------------


class EmployeeEntry(BaseModel):
    model_config = _FILE

    number: Name
    name: Text
    department: Name | None = None
    vip: bool = False


class DirectoryFile(BaseModel):
    model_config = _FILE

    employees: list[EmployeeEntry] | None = None


# --- config/answers.yaml ---------------------------------------------------------------------


class AnswerEntry(BaseModel):
    model_config = _FILE

    id: Text
    type: Text = "how_to"
    when: Annotated[list[Annotated[list[Text], Field(min_length=1)]], Field(min_length=1)]
    say: Text


class AnswerFile(BaseModel):
    model_config = _FILE

    answers: list[AnswerEntry] | None = None


# --- the Statuspage summary.json feed --------------------------------------------------------

_FEED = ConfigDict(extra="ignore", strict=True)


class FeedComponentRef(BaseModel):
    model_config = _FEED

    name: str | None = None


class FeedComponent(BaseModel):
    model_config = _FEED

    id: str | None = None
    name: str = ""
    status: str | None = None
    group: bool | None = None


class FeedIncident(BaseModel):
    model_config = _FEED

    id: str | None = None
    name: str | None = None
    status: str | None = None
    impact: str | None = None
    started_at: str | None = None
    created_at: str | None = None
    scheduled_for: str | None = None
    scheduled_until: str | None = None
    components: list[FeedComponentRef] | None = None


class FeedSummary(BaseModel):
    model_config = _FEED

    incidents: list[FeedIncident] | None = None
    scheduled_maintenances: list[FeedIncident] | None = None
    components: list[FeedComponent] | None = None


# --- Twilio recordings -----------------------------------------------------------------------

_RECORDING_HOST = re.compile(r"^api(?:\.[a-z0-9-]+\.[a-z]{2}\d)?\.twilio\.com$")
_RECORDING_PATH = re.compile(r"^/2010-04-01/Accounts/AC[0-9a-f]{32}(?:/Calls/CA[0-9a-f]{32})?/Recordings/(RE[0-9a-f]{32})(?:\.(?:mp3|wav))?$")


def twilio_recording_sid(url: str) -> str | None:
    """The recording SID in ``url`` if it is one of Twilio's recording media URLs, else None.

    Twilio documents them as ``https://api.twilio.com/2010-04-01/Accounts/{AccountSid}/Recordings/{RecordingSid}``,
    optionally with ``.mp3`` or ``.wav``, and regional hosts as ``api.{edge}.{region}.twilio.com``.
    """
    try:
        parts = urlsplit(url)
    except ValueError:
        return None
    if parts.scheme != "https" or parts.username or parts.password or parts.port not in {None, 443} or parts.query or parts.fragment:
        return None
    if not _RECORDING_HOST.match(parts.hostname or ""):
        return None
    found = _RECORDING_PATH.match(parts.path)
    return found.group(1) if found else None

