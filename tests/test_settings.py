"""Settings: shipped defaults, a user file, the environment, and one-line errors for bad config."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from frontdoor.errors import ConfigError
from frontdoor.settings import load_settings


def test_shipped_defaults_load_and_point_at_shipped_files() -> None:
    settings = load_settings(environ={})
    assert settings.conversation.max_reprompts == 1
    assert settings.incidents_file.name == "incidents.yaml" and settings.incidents_file.exists()
    assert settings.directory_file.name == "directory.yaml"
    assert settings.database_url.startswith("sqlite:///") and settings.database_url.endswith("frontdoor.db")
    assert settings.twilio.validate_signatures is True


def test_user_file_overrides_defaults_and_environment_overrides_file(tmp_path: Path) -> None:
    user = tmp_path / "mine.toml"
    user.write_text('[conversation]\nautomated_turn_budget = 4\n[general]\ntimezone = "Europe/Berlin"\n')
    settings = load_settings(user, environ={"FRONTDOOR_CONVERSATION_AUTOMATED_TURN_BUDGET": "9"})
    assert settings.conversation.automated_turn_budget == 9
    assert settings.general.timezone == "Europe/Berlin"


def test_config_path_from_frontdoor_config_variable(tmp_path: Path) -> None:
    user = tmp_path / "mine.yaml"
    user.write_text("general:\n  organisation: Acme IT\n")
    assert load_settings(environ={"FRONTDOOR_CONFIG": str(user)}).general.organisation == "Acme IT"


def test_documented_environment_variables_reach_their_settings() -> None:
    settings = load_settings(
        environ={
            "FRONTDOOR_DATABASE_URL": "postgresql://u:p@db/frontdoor",
            "FRONTDOOR_INCIDENTS_FILE": "/srv/incidents.yaml",
            "FRONTDOOR_DIRECTORY_FILE": "/srv/directory.yaml",
            "FRONTDOOR_PUBLIC_URL": "https://frontdoor.example.com",
            "FRONTDOOR_AGENTS": "+15550001111, sip:desk@pbx.example.com,queue:support",
            "TWILIO_AUTH_TOKEN": "secret-token",
            "TWILIO_ACCOUNT_SID": "AC123",
            "TWILIO_FROM_NUMBER": "+15550002222",
        }
    )
    assert settings.database_url == "postgresql://u:p@db/frontdoor"
    assert settings.incidents_file == Path("/srv/incidents.yaml")
    assert settings.directory_file == Path("/srv/directory.yaml")
    assert settings.twilio.public_url == "https://frontdoor.example.com"
    assert settings.handoff.agents == ("+15550001111", "sip:desk@pbx.example.com", "queue:support")
    assert (settings.twilio.auth_token, settings.twilio.account_sid, settings.twilio.from_number) == (
        "secret-token",
        "AC123",
        "+15550002222",
    )


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("unknown-key.toml", "[conversation]\nturn_budget = 3\n", "unknown key 'conversation.turn_budget'"),
        ("unknown-section.toml", "[telephone]\nx = 1\n", "unknown section [telephone]"),
        ("wrong-type.toml", '[conversation]\nautomated_turn_budget = "six"\n', "'conversation.automated_turn_budget': expected a whole number"),
        ("bad.toml", "[conversation\n", "invalid TOML"),
        ("bad.yaml", "conversation: [unclosed\n", "invalid YAML"),
        ("list.yaml", "- a\n- b\n", "expected a table of sections"),
        ("bool.toml", "[twilio]\nvalidate_signatures = \"no\"\n", "'twilio.validate_signatures': expected true or false"),
        ("tz.toml", '[general]\ntimezone = "Mars/Olympus"\n', "unknown time zone"),
        ("reprompts.toml", "[conversation]\nmax_reprompts = 3\n", "at most one re-prompt"),
    ],
)
def test_bad_settings_files_give_one_clear_line(tmp_path: Path, name: str, content: str, message: str) -> None:
    path = tmp_path / name
    path.write_text(content)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    text = str(caught.value)
    assert message in text
    assert "\n" not in text


def test_file_errors_name_the_file(tmp_path: Path) -> None:
    missing = tmp_path / "nope.toml"
    with pytest.raises(ConfigError, match=f"{missing}: settings file not found"):
        load_settings(missing, environ={})
    binary = tmp_path / "binary.toml"
    binary.write_bytes(b"\xff\xfe\x00garbage")
    with pytest.raises(ConfigError, match="not UTF-8"):
        load_settings(binary, environ={})


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("FRONTDOOR_CONVERSATION_AUTOMATED_TURN_BUDGET", "lots", "expected a whole number"),
        ("FRONTDOOR_TWILIO_VALIDATE_SIGNATURES", "maybe", "expected true or false"),
        ("FRONTDOOR_INCIDENTS_FEED_TIMEOUT_SECONDS", "fast", "expected a number"),
    ],
)
def test_bad_environment_values_name_the_variable(variable: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=f"environment variable {variable}: {message}"):
        load_settings(environ={variable: value})


def test_cli_reports_bad_config_in_one_line_with_exit_status_2(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[conversation]\nbudget = 1\n")
    result = subprocess.run(
        [sys.executable, "-m", "frontdoor.cli", "assess", "--jsonl", "-", "--config", str(path)],
        input="", capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr.strip() == f"frontdoor: error: {path}: unknown key 'conversation.budget'"
    assert "Traceback" not in result.stderr
