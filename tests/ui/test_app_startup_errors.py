"""``python app.py`` with a bad setting or data file stops with a clear message, not a traceback."""

from __future__ import annotations

import os
import subprocess
import sys

import pytest

from tests.conftest import PROJECT_ROOT


def _run_app(tmp_path, **env_overrides: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}
    env.update({"HF_HUB_OFFLINE": "1", "WORKBENCH_FEEDBACK_DIR": str(tmp_path / "fb")}, **env_overrides)
    return subprocess.run([sys.executable, "app.py"], cwd=PROJECT_ROOT, env=env, capture_output=True,
                          text=True, timeout=120)


@pytest.mark.parametrize(
    "env, expected",
    [
        ({"WORKBENCH_K": "lots"}, "WORKBENCH_K"),
        ({"WORKBENCH_GENERATR": "template"}, "WORKBENCH_GENERATR"),
        ({"WORKBENCH_CATALOG": "/nonexistent/films.csv"}, "/nonexistent/films.csv"),
        # issue 19 item 12: a mistyped index folder re-encoded the catalogue for minutes
        ({"WORKBENCH_INDEX_DIR": "indexes/defualt"}, "no index at indexes/defualt (folder not found); build it"),
        ({"WORKBENCH_AUTH": ":"}, "WORKBENCH_AUTH"),  # item 5: an empty login
        ({"WORKBENCH_GENERATOR_TIMEOUT_S": "nan"}, "WORKBENCH_GENERATOR_TIMEOUT_S"),
    ],
)
def test_bad_configuration_exits_with_the_culprit_named(tmp_path, env, expected):
    result = _run_app(tmp_path, **env)
    assert result.returncode != 0
    assert expected in result.stderr
    assert "Traceback" not in result.stderr


def _run_cli(tmp_path, *args: str, **env_overrides: str) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if not k.startswith("WORKBENCH_")}
    env.update({"HF_HUB_OFFLINE": "1", "WORKBENCH_FEEDBACK_DIR": str(tmp_path / "fb"),
                "WORKBENCH_CACHE_DIR": str(tmp_path / "cache")}, **env_overrides)
    return subprocess.run([sys.executable, "-m", "workbench", *args], cwd=PROJECT_ROOT, env=env,
                          capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)


@pytest.mark.parametrize("command", [["feedback", "stats"], ["index", "build"], ["chat", "--json"]])
@pytest.mark.parametrize(
    "env, expected",
    [({"WORKBENCH_K": "0"}, "WORKBENCH_K"), ({"WORKBENCH_GENERATR": "template"}, "WORKBENCH_GENERATR")],
)
def test_cli_reports_bad_settings_like_the_app(tmp_path, command, env, expected):
    """Issue 19 item 11: the CLI printed a Python traceback for a bad setting (the parser reads
    the settings for its defaults, outside the old error boundary). Every command now prints one
    `error: ...` line naming the setting and exits 2."""
    result = _run_cli(tmp_path, *command, **env)
    assert result.returncode == 2
    assert "Traceback" not in result.stderr
    assert result.stderr.startswith("error: ") and expected in result.stderr
