"""Settings: shipped defaults, a user file, the environment, and one-line errors for bad config."""

from __future__ import annotations

import os
import re
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


# --- ranges (issue 13, item 5: these were all accepted)


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("[handoff]\nfrustration_threshold = 0\n", "'handoff.frustration_threshold': must be greater than 0, got 0"),
        ("[handoff]\nurgency_threshold = -1\n", "'handoff.urgency_threshold': must be greater than 0, got -1"),
        ("[notifications]\nretry_attempts = 0\n", "'notifications.retry_attempts': must be at least 1, got 0"),
        ('[handoff]\nwhisper_accept_digit = "abc"\n', "'handoff.whisper_accept_digit': expected one key, 0-9, * or #, got 'abc'"),
        ("[twilio]\ndial_timeout_seconds = -5\n", "'twilio.dial_timeout_seconds': must be at least 5, got -5"),
        ("[twilio]\ndial_timeout_seconds = 600\n", "'twilio.dial_timeout_seconds': must be at most 120, got 600"),
        ("[conversation]\nlow_confidence = 2\n", "'conversation.low_confidence': must be at most 1, got 2"),
        ("[notifications]\nsmtp_port = 0\n", "'notifications.smtp_port': must be at least 1, got 0"),
        ("[incidents]\nfeed_timeout_seconds = 0\n", "'incidents.feed_timeout_seconds': must be greater than 0, got 0"),
        ("[incidents]\nfeed_timeout_seconds = nan\n", "'incidents.feed_timeout_seconds': expected a finite number"),
        ('[twilio]\npublic_url = "javascript:alert(1)"\n', "'twilio.public_url': expected an http:// or https:// address"),
        ("[handoff]\nagents = [\"+15550001111\", 3]\n", "'handoff.agents[1]': expected text, got 3"),
        ("[notifications]\nretry_attempts = 2.5\n", "'notifications.retry_attempts': expected a whole number, got 2.5"),
        ("[conversation]\nlow_confidance = 0.3\n", "unknown key 'conversation.low_confidance' (did you mean 'low_confidence'?)"),
        ('[general]\norganisation = ""\n', "'general.organisation': must not be empty"),
    ],
)
def test_out_of_range_settings_name_the_file_and_key(tmp_path: Path, content: str, message: str) -> None:
    path = tmp_path / "mine.toml"
    path.write_text(content)
    with pytest.raises(ConfigError) as caught:
        load_settings(path, environ={})
    assert str(caught.value).startswith(f"{path}: {message}")
    assert "\n" not in str(caught.value)


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("FRONTDOOR_HANDOFF_HUMAN_REQUEST_THRESHOLD", "0", "'handoff.human_request_threshold': must be greater than 0"),
        ("FRONTDOOR_NOTIFICATIONS_RETRY_ATTEMPTS", "0", "'notifications.retry_attempts': must be at least 1"),
        ("FRONTDOOR_HANDOFF_WHISPER_ACCEPT_DIGIT", "abc", "'handoff.whisper_accept_digit': expected one key"),
        ("FRONTDOOR_TWILIO_DIAL_TIMEOUT_SECONDS", "-5", "'twilio.dial_timeout_seconds': must be at least 5"),
        ("FRONTDOOR_CONVERSATION_LOW_CONFIDENCE", "2", "'conversation.low_confidence': must be at most 1"),
        ("FRONTDOOR_PUBLIC_URL", "ftp://frontdoor.example.com", "'twilio.public_url': expected an http:// or https:// address"),
    ],
)
def test_out_of_range_environment_values_name_the_variable(variable: str, value: str, message: str) -> None:
    with pytest.raises(ConfigError, match=f"^environment variable {variable}: {re.escape(message)}"):
        load_settings(environ={variable: value})


def test_every_allowed_keypad_key_and_the_bounds_themselves_are_accepted() -> None:
    for key in [*"0123456789*#", ""]:
        assert load_settings(environ={"FRONTDOOR_HANDOFF_WHISPER_ACCEPT_DIGIT": key}).handoff.whisper_accept_digit == key
    edges = load_settings(environ={"FRONTDOOR_TWILIO_DIAL_TIMEOUT_SECONDS": "5", "FRONTDOOR_CONVERSATION_LOW_CONFIDENCE": "1",
                                   "FRONTDOOR_NOTIFICATIONS_RETRY_ATTEMPTS": "1", "FRONTDOOR_HANDOFF_URGENCY_THRESHOLD": "0.01"})
    assert (edges.twilio.dial_timeout_seconds, edges.conversation.low_confidence, edges.notifications.retry_attempts) == (5, 1.0, 1)


def test_unknown_frontdoor_variables_are_warned_about_with_the_likely_name(caplog: pytest.LogCaptureFixture) -> None:
    environ = {"FRONTDOOR_DATABSE_URL": "postgresql://db/x", "FRONTDOOR_BANANA": "1", "FRONTDOOR_CONFIG": "", "FRONTDOOR_TEST_POSTGRES_URL": "x",
               "FRONTDOOR_PUBLIC_URL": "https://frontdoor.example.com", "HOME": "/root"}
    with caplog.at_level("WARNING", logger="frontdoor.settings"):
        settings = load_settings(environ=environ)
    assert settings.database.url == ""
    assert [record.getMessage() for record in caplog.records] == [
        "environment variable FRONTDOOR_BANANA is not a frontdoor setting and is ignored",
        "environment variable FRONTDOOR_DATABSE_URL is not a frontdoor setting and is ignored (did you mean FRONTDOOR_DATABASE_URL?)",
    ]


def test_the_cli_warns_about_a_misspelt_variable_in_one_line_and_goes_on(tmp_path: Path) -> None:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("FRONTDOOR_", "TWILIO_"))}
    env.update(FRONTDOOR_DATABSE_URL="postgresql://db/frontdoor", FRONTDOOR_DATABASE_URL=f"sqlite:///{tmp_path / 'cli.db'}")
    result = subprocess.run(
        [sys.executable, "-m", "frontdoor.cli", "assess", "--jsonl", "-"], input='{"id": "a", "turns": ["agent"]}\n',
        capture_output=True, text=True, timeout=60, env=env,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.splitlines() == [
        "WARNING frontdoor.settings: environment variable FRONTDOOR_DATABSE_URL is not a frontdoor setting and is ignored"
        " (did you mean FRONTDOOR_DATABASE_URL?)"
    ]


def test_a_range_error_from_the_cli_is_one_line_without_a_traceback(tmp_path: Path) -> None:
    path = tmp_path / "bad.toml"
    path.write_text("[handoff]\nfrustration_threshold = -1\n")
    result = subprocess.run(
        [sys.executable, "-m", "frontdoor.cli", "assess", "--jsonl", "-", "--config", str(path)], input="", capture_output=True, text=True, timeout=60,
    )
    assert result.returncode == 2
    assert result.stderr == f"frontdoor: error: {path}: 'handoff.frustration_threshold': must be greater than 0, got -1\n"


def test_a_first_lockout_longer_than_the_longest_is_refused_naming_both(tmp_path: Path) -> None:
    path = tmp_path / "mine.toml"
    path.write_text("[console]\nfirst_lockout_minutes = 90\nlongest_lockout_minutes = 30\n")
    with pytest.raises(ConfigError, match=re.escape(f"{path}: 'console.longest_lockout_minutes': must be at least first_lockout_minutes (90), got 30")):
        load_settings(path, environ={})
