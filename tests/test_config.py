"""Settings: typed, validated, read from the environment in one place, and documented."""

from __future__ import annotations

import dataclasses
import re

import pytest

from tests.conftest import PROJECT_ROOT
from workbench.config import Settings
from workbench.errors import ConfigError


def test_defaults_need_no_environment():
    s = Settings.from_env({})
    assert s.k == 5 and s.generator == "auto" and s.port == 7860


def test_env_values_are_coerced_to_field_types():
    s = Settings.from_env({"WORKBENCH_K": "8", "WORKBENCH_GENERATOR_TIMEOUT_S": "2.5"})
    assert s.k == 8 and s.generator_timeout_s == 2.5


def test_conventional_variables_are_read():
    s = Settings.from_env({"OPENAI_API_KEY": "sk-x", "FEEDBACK_HUB_REPO": "me/fb", "SPACE_ID": "me/app"})
    assert s.openai_api_key == "sk-x" and s.feedback_hub_repo == "me/fb"
    assert s.on_space and s.resolved_host == "0.0.0.0"


def test_prefixed_variable_wins_over_conventional_one():
    s = Settings.from_env({"WORKBENCH_OPENAI_API_KEY": "a", "OPENAI_API_KEY": "b"})
    assert s.openai_api_key == "a"


@pytest.mark.parametrize(
    "env, fragment",
    [
        ({"WORKBENCH_K": "many"}, "WORKBENCH_K"),
        ({"WORKBENCH_K": "0"}, "'k'"),
        ({"WORKBENCH_GENERATOR": "gpt9"}, "'generator'"),
        ({"WORKBENCH_TYPO": "1"}, "WORKBENCH_TYPO"),
        ({"WORKBENCH_AUTH": "nopassword"}, "'auth'"),
        ({"WORKBENCH_PORT": "70000"}, "'port'"),
        ({"WORKBENCH_K": "0"}, "WORKBENCH_K"),  # a range error names the variable too
    ],
)
def test_bad_settings_fail_at_start_naming_the_field(env, fragment):
    """Guards against typos or ill-typed values passing silently."""
    with pytest.raises(ConfigError, match=re.escape(fragment)):
        Settings.from_env(env)


@pytest.mark.parametrize("auth", [":", "ann:", ":s3cret", " : "])
def test_empty_auth_user_or_password_is_refused(auth):
    """Issue 19 item 5: `WORKBENCH_AUTH=':'` (empty user and password) was accepted at start-up,
    putting a login in front of the app that anyone passes. The message names the setting and
    which half is empty, never the secret itself."""
    with pytest.raises(ConfigError, match=r"WORKBENCH_AUTH.*empty") as caught:
        Settings.from_env({"WORKBENCH_AUTH": auth})
    assert "s3cret" not in str(caught.value)
    assert Settings.from_env({"WORKBENCH_AUTH": "ann:s3cret"}).auth_pair == ("ann", "s3cret")


@pytest.mark.parametrize("value", ["inf", "nan", "-inf", "0"])
def test_generator_timeout_must_be_finite_and_positive(value):
    """Issue 19 item 12: `WORKBENCH_GENERATOR_TIMEOUT_S=nan` started silently and made every LLM
    turn fall back at once (`nan <= 0` is false); `inf` disabled the deadline."""
    with pytest.raises(ConfigError, match="WORKBENCH_GENERATOR_TIMEOUT_S"):
        Settings.from_env({"WORKBENCH_GENERATOR_TIMEOUT_S": value})


def test_openai_generator_without_base_url_is_refused_at_start():
    """Issue 19 item 12: `WORKBENCH_GENERATOR=openai` without a base URL started silently and
    answered every turn with the template."""
    with pytest.raises(ConfigError, match="WORKBENCH_OPENAI_BASE_URL"):
        Settings.from_env({"WORKBENCH_GENERATOR": "openai", "WORKBENCH_OPENAI_MODEL": "m"})
    s = Settings.from_env({"WORKBENCH_GENERATOR": "openai", "OPENAI_BASE_URL": "http://127.0.0.1:9/v1"})
    assert s.openai_base_url == "http://127.0.0.1:9/v1"


def test_settings_are_frozen():
    s = Settings()
    with pytest.raises(dataclasses.FrozenInstanceError):
        s.k = 3  # type: ignore[misc]


def test_only_config_reads_the_environment():
    """Settings are read in one place: no other module calls os.environ / os.getenv."""
    offenders = []
    for path in (PROJECT_ROOT / "workbench").rglob("*.py"):
        if path.name == "config.py":
            continue
        text = path.read_text(encoding="utf-8")
        if re.search(r"os\.environ\b(?!\.copy)|os\.getenv\(", text):
            offenders.append(str(path.relative_to(PROJECT_ROOT)))
    assert not offenders, f"environment read outside config.py: {offenders}"


def test_serving_limits_must_be_positive_and_consistent():
    """Issue 19: the queue and session bounds are settings; nonsense values stop start-up by name."""
    from workbench.errors import ConfigError

    with pytest.raises(ConfigError, match="WORKBENCH_MAX_QUEUE"):
        Settings(max_queue=0)
    with pytest.raises(ConfigError, match="WORKBENCH_API_SESSIONS_PER_CLIENT.*more than"):
        Settings(api_sessions_per_client=10, max_api_sessions=5)
    s = Settings.from_env({"WORKBENCH_MODEL_CHOICES": " a/b, c ,, a/b", "WORKBENCH_GENERATOR_MODEL": "m"})
    assert s.offered_models == ("m", "a/b", "c") and not s.allow_custom_models
