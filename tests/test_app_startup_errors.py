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
    ],
)
def test_bad_configuration_exits_with_the_culprit_named(tmp_path, env, expected):
    result = _run_app(tmp_path, **env)
    assert result.returncode != 0
    assert expected in result.stderr
    assert "Traceback" not in result.stderr
