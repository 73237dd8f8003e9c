"""The project installs as a package: pyproject.toml builds, the `workbench` command runs, the data is found.

Guards issue 29 ask 6: `pip install .` puts the package, a `workbench` console script (the same
``main`` as ``python -m workbench``) and the bundled data (``assets/``, ``indexes/default/``, as data
files under ``<prefix>/share/chat-rec-workbench``) into an environment, and the installed package
finds that data without a source checkout. The install is into a fresh virtual environment that
sees this interpreter's packages (``--system-site-packages``), with ``--no-deps
--no-build-isolation``, so it needs no network.
"""

from __future__ import annotations

import shutil
import subprocess
import sys

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    import tomli as tomllib
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT

pytestmark = pytest.mark.slow  # about 30 s: a venv, a wheel build, two interpreter starts


def test_pyproject_declares_what_the_requirements_install():
    """Every runtime requirement is a dependency or in an extra (names only; the pins stay in the files)."""
    project = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = project["optional-dependencies"]
    assert {"team", "finetune", "llamacpp", "gpu", "dev"} <= set(extras)
    assert project["scripts"]["workbench"] == "workbench.cli:main"

    def names(lines):
        return {line.split(";")[0].split("[")[0].split("=")[0].split(">")[0].split("<")[0].strip().lower()
                for line in lines if line.strip() and not line.startswith(("#", "-r", "chat-rec-workbench"))}

    declared = names(project["dependencies"]) | {n for deps in extras.values() for n in names(deps)}
    for req in ("requirements.txt", "requirements-dev.txt", "requirements-llamacpp.txt", "requirements-gpu.txt",
                "requirements-openvino.txt"):
        missing = names((PROJECT_ROOT / req).read_text(encoding="utf-8").splitlines()) - declared
        assert not missing, f"{req} installs {sorted(missing)}, which pyproject.toml does not declare"


def test_installed_package_runs_and_finds_its_data(tmp_path):
    source = tmp_path / "src"
    source.mkdir()
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(PROJECT_ROOT / name, source / name)
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for name in ("workbench", "assets", "indexes/default"):
        shutil.copytree(PROJECT_ROOT / name, source / name, ignore=ignore)
    venv = tmp_path / "venv"
    # --without-pip: the venv then builds with this interpreter's setuptools, not ensurepip's older copy
    subprocess.run([sys.executable, "-m", "venv", "--system-site-packages", "--without-pip", str(venv)], check=True)
    python = venv / "bin" / "python"
    subprocess.run([sys.executable, "-m", "pip", "--python", str(python), "install", "-q", "--no-deps",
                    "--no-build-isolation", "--no-index", str(source)], check=True, cwd=tmp_path, timeout=300)

    help_text = subprocess.run([str(venv / "bin" / "workbench"), "--help"], check=True, cwd=tmp_path,
                               capture_output=True, text=True, timeout=120).stdout
    assert "COMMAND" in help_text and "eval" in help_text and "settings" in help_text

    probe = ("import workbench, workbench.config as c; s = c.Settings(); "
             "print(workbench.__file__); print(s.catalog); print(s.index_dir); print(c.ASSETS_DIR)")
    where, catalog, index_dir, assets = subprocess.run(
        [str(python), "-c", probe], check=True, cwd=tmp_path, capture_output=True, text=True, timeout=120
    ).stdout.split()
    assert Path(where).is_relative_to(venv), "the installed copy, not the checkout, was imported"
    data = venv / "share" / "chat-rec-workbench"
    assert Path(catalog) == data / "assets" / "catalog.jsonl.gz" and Path(catalog).is_file()
    assert (Path(index_dir) / "index.faiss").is_file() and (Path(index_dir) / "meta.json").is_file()
    assert (Path(assets) / "ui" / "style.css").is_file()
