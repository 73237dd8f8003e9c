"""Layering: gradio only in workbench/ui; imports have no side effects.

Guards the house rules: ui -> annotate -> services -> core (no module outside workbench/ui
imports gradio; the API calls the annotate use cases, never a panel), and
importing any workbench module loads no model library, starts no thread and writes no file
(construction happens in build_services, never at import).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parent.parent
PACKAGE = PROJECT_ROOT / "workbench"
HEAVY = ("gradio", "torch", "faiss", "sentence_transformers", "transformers", "datasets", "huggingface_hub")


def _imported_roots(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    roots = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            roots |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            roots.add(node.module.split(".")[0])
    return roots


def test_only_workbench_ui_imports_gradio():
    offenders = [
        str(path.relative_to(PROJECT_ROOT))
        for path in PACKAGE.rglob("*.py")
        if "gradio" in _imported_roots(path) or "gradio_client" in _imported_roots(path)
        if PACKAGE / "ui" not in path.parents
    ]
    assert not offenders, f"gradio imported outside workbench/ui: {offenders}"


def _imported_modules(path: Path) -> set[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    names = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            names.add(node.module)
            names |= {f"{node.module}.{alias.name}" for alias in node.names}
    return names


def test_annotation_use_cases_are_gradio_free():
    """Building and saving records lives in workbench/annotate, which the UI and the API both call."""
    modules = sorted((PACKAGE / "annotate").rglob("*.py"))
    assert modules, "workbench/annotate is missing"
    offenders = [str(p.relative_to(PROJECT_ROOT)) for p in modules
                 if {"gradio", "gradio_client"} & _imported_roots(p)
                 or any(m.startswith("workbench.ui") for m in _imported_modules(p))]
    assert not offenders, f"workbench/annotate imports gradio or the UI: {offenders}"


def test_the_api_never_imports_a_panel():
    panels = ("workbench.ui.chat_panel", "workbench.ui.feedback_panel", "workbench.ui.settings_panel",
              "workbench.ui.slate", "workbench.ui.app")
    imported = _imported_modules(PACKAGE / "ui" / "api.py")
    assert not [m for m in imported if m.startswith(panels)], sorted(imported)


def test_ui_modules_do_import_gradio_only_through_the_ui_package():
    """The app entry point reaches gradio through workbench.ui, so the rule above is the whole story."""
    roots = _imported_roots(PROJECT_ROOT / "app.py")
    assert "gradio" not in roots and "workbench" in roots


_PROBE = r"""
import importlib, json, os, sys, threading
sys.path.insert(0, sys.argv[1])
import workbench
heavy = tuple(json.loads(sys.argv[2]))
skip = {"workbench.__main__"}
report = {"first_heavy": {}, "threads": [], "files": [], "errors": {}}
root = os.path.dirname(workbench.__file__)
names = []
for dirpath, _dirs, files in os.walk(root):  # not pkgutil.walk_packages: it imports packages
    for f in files:
        if f.endswith(".py"):
            rel = os.path.relpath(os.path.join(dirpath, f), os.path.dirname(root))[:-3].replace(os.sep, ".")
            names.append(rel[: -len(".__init__")] if rel.endswith(".__init__") else rel)
names.sort()
only_ui = sys.argv[3] == "ui"
for name in names:
    if name in skip or (name.startswith("workbench.ui") != only_ui):
        continue
    try:
        importlib.import_module(name)
    except Exception as exc:
        report["errors"][name] = repr(exc)
        continue
    for h in heavy:
        if h in sys.modules and h not in report["first_heavy"]:
            report["first_heavy"][h] = name
report["threads"] = [t.name for t in threading.enumerate() if t is not threading.main_thread()]
report["files"] = sorted(os.listdir("."))
report["home"] = sorted(os.listdir(os.environ["HOME"]))
print(json.dumps(report))
"""


def _probe(tmp_path: Path, which: str) -> dict:
    home = tmp_path / "home"
    home.mkdir()
    cwd = tmp_path / "cwd"
    cwd.mkdir()
    env = {"HOME": str(home), "PATH": "/usr/bin:/bin", "HF_HUB_OFFLINE": "1", "GRADIO_ANALYTICS_ENABLED": "False"}
    out = subprocess.run(
        [sys.executable, "-c", _PROBE, str(PROJECT_ROOT), json.dumps(HEAVY), which],
        cwd=cwd, env=env, capture_output=True, text=True, timeout=300,
    )
    assert out.returncode == 0, out.stderr[-3000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_importing_core_modules_has_no_side_effects(tmp_path):
    report = _probe(tmp_path, "core")
    assert report["errors"] == {}
    assert report["first_heavy"] == {}, f"heavy libraries imported at module level: {report['first_heavy']}"
    assert report["threads"] == [], f"threads started at import: {report['threads']}"
    assert report["files"] == [] and report["home"] == [], "files written at import"


def test_importing_the_ui_loads_no_model_and_starts_nothing(tmp_path):
    report = _probe(tmp_path, "ui")
    assert report["errors"] == {}
    assert "gradio" in report["first_heavy"]
    models = {k: v for k, v in report["first_heavy"].items() if k in ("torch", "faiss", "sentence_transformers",
                                                                      "transformers")}
    assert models == {}, f"the UI imported model libraries at import time: {models}"
    assert report["files"] == [], "files written at import"
