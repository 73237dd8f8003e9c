"""Layering: gradio only in workbench/ui; imports point one way; imports have no side effects.

Guards the house rules: ui -> chat -> services -> core (no module outside workbench/ui
imports gradio; the API calls the chat use cases, never a panel); the first-party import
graph (function bodies and relative imports included) has no cycle and no wrong-way edge
(dialogue never imports evaluate, services or ui; recommend never imports evaluate; retrieval,
finetune, evaluate and chat stay below what uses them: DIRECTION_RULES); and
importing any workbench module loads no model library, starts no thread and writes no file
(construction happens in build_services, never at import).
"""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path

import pytest

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


def test_chat_use_cases_are_gradio_free():
    """Building and saving records lives in workbench/chat, which the UI and the API both call."""
    modules = sorted((PACKAGE / "chat").rglob("*.py"))
    assert modules, "workbench/chat is missing"
    offenders = [str(p.relative_to(PROJECT_ROOT)) for p in modules
                 if {"gradio", "gradio_client"} & _imported_roots(p)
                 or any(m.startswith("workbench.ui") for m in _imported_modules(p))]
    assert not offenders, f"workbench/chat imports gradio or the UI: {offenders}"


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


# ---------------------------------------------------------------------------
# direction: the first-party import graph

#: ``importer package -> packages it must not import`` (prefixes of dotted module names).
DIRECTION_RULES: dict[str, tuple[str, ...]] = {
    "workbench.dialogue": ("workbench.evaluate", "workbench.services", "workbench.ui"),
    "workbench.recommend": ("workbench.evaluate", "workbench.dialogue", "workbench.services", "workbench.ui"),
    # search knows vectors, words and items: no conversation, scorer, evaluation or wiring
    "workbench.retrieval": ("workbench.dialogue", "workbench.recommend", "workbench.evaluate", "workbench.feedback",
                            "workbench.services", "workbench.chat", "workbench.ui"),
    "workbench.finetune": ("workbench.services", "workbench.chat", "workbench.arena", "workbench.projects",
                           "workbench.ui"),
    "workbench.evaluate": ("workbench.services", "workbench.chat", "workbench.arena", "workbench.ui"),
    # the Chat tab's use cases: below the UI, beside the arena and the projects
    "workbench.chat": ("workbench.ui", "workbench.arena", "workbench.projects"),
}


def _module_name(root: Path, path: Path) -> str:
    parts = list(path.relative_to(root).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _is_type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(tree: ast.AST) -> Iterable[tuple[ast.Import | ast.ImportFrom, bool]]:
    """Every import statement anywhere in ``tree`` (functions included), and whether it runs
    (``False`` under ``if TYPE_CHECKING:``)."""
    stack: list[tuple[ast.AST, bool]] = [(tree, True)]
    while stack:
        node, runs = stack.pop()
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            yield node, runs
        for child in ast.iter_child_nodes(node):
            stack.append((child, runs and not (isinstance(node, ast.If) and _is_type_checking(node)
                                               and child in node.body)))


def import_graph(root: Path, package: str) -> dict[str, dict[str, tuple[int, bool]]]:
    """``module -> {imported first-party module: (line, runs at import or call time)}`` for every
    module of ``root/package``.

    Relative imports are resolved; ``from pkg import name`` is an edge to ``pkg.name`` when that
    is a module, else to ``pkg``. Importing ``a.b.c`` also runs the ``__init__`` of ``a`` and
    ``a.b``, so it is an edge to each of those packages too, except the importer's own packages
    (their ``__init__`` is already running), so a package's modules importing each other are no
    cycle, but ``pkg/__init__`` re-exporting ``pkg.x`` which imports ``other.y`` whose
    ``other/__init__`` imports ``pkg.z`` is one.
    """
    files = {_module_name(root, p): p for p in sorted((root / package).rglob("*.py"))}
    graph: dict[str, dict[str, tuple[int, bool]]] = {}
    for name, path in files.items():
        is_pkg = path.name == "__init__.py"
        edges: dict[str, tuple[int, bool]] = {}
        for node, runs in _imports(ast.parse(path.read_text(encoding="utf-8"), filename=str(path))):
            targets: list[str] = []
            if isinstance(node, ast.Import):
                targets = [alias.name for alias in node.names]
            else:
                base = node.module or ""
                if node.level:
                    here = name.split(".") if is_pkg else name.split(".")[:-1]
                    here = here[: len(here) - (node.level - 1)]
                    base = ".".join([*here, base] if base else here)
                targets = [f"{base}.{a.name}" if f"{base}.{a.name}" in files else base for a in node.names]
            own = {".".join(name.split(".")[:i]) for i in range(1, name.count(".") + 1 + is_pkg)}
            for target in targets:
                while target and target not in files:  # "pkg.mod.attr" -> "pkg.mod"
                    target = target.rpartition(".")[0]
                parts = target.split(".")
                for dst in [".".join(parts[:i]) for i in range(1, len(parts))] + [target]:
                    if dst and dst != name and dst in files and dst not in own:
                        line, was = edges.get(dst, (node.lineno, False))
                        edges[dst] = (min(line, node.lineno), was or runs)
        graph[name] = edges
    return graph


def _cycles(graph: Mapping[str, Mapping[str, tuple[int, bool]]]) -> list[list[str]]:
    """Strongly connected components of more than one module (Tarjan), over imports that run."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    out: list[list[str]] = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w, (_, runs) in sorted(graph.get(v, {}).items()):
            if not runs:
                continue
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                out.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return sorted(out)


def layering_problems(root: Path, package: str = "workbench",
                      rules: Mapping[str, tuple[str, ...]] = DIRECTION_RULES) -> dict[str, list[str]]:
    """``{"cycles": [...], "direction": [...]}``: every first-party import cycle, and every import
    that breaks ``rules``, as readable lines naming the modules (and the line of a wrong-way import)."""
    graph = import_graph(root, package)

    def under(module: str, prefix: str) -> bool:
        return module == prefix or module.startswith(prefix + ".")

    direction = [
        f"{src} imports {dst} (line {line}): {importer} must not import {banned}"
        for src, edges in sorted(graph.items())
        for dst, (line, _) in sorted(edges.items())
        for importer, forbidden in rules.items() if under(src, importer)
        for banned in forbidden if under(dst, banned)
    ]
    return {"cycles": [" <-> ".join(c) for c in _cycles(graph)], "direction": direction}


def test_checker_reports_a_wrong_way_import_and_a_cycle(tmp_path):
    """Guards the checker itself on a synthetic tree: a cycle hidden in a function body and built
    with relative imports, and a wrong-way import, are both reported; type-only imports make no cycle."""
    pkg = tmp_path / "workbench"
    files = {
        "__init__.py": "",
        "core/__init__.py": "",
        "core/a.py": "from . import b\n",
        "core/b.py": "def f():\n    from workbench.core.a import thing\n    return thing\n",
        "core/typed.py": "from typing import TYPE_CHECKING\nif TYPE_CHECKING:\n    from workbench.core import c\n",
        "core/c.py": "import workbench.core.typed\n",
        "evaluate/__init__.py": "",
        "evaluate/run.py": "import workbench.core.a\n",
        "dialogue/__init__.py": "",
        "dialogue/engine.py": "def go():\n    from ..evaluate import run\n    return run\n",
        # a cycle only through a package __init__ (as generators/__init__ <-> prompts once was)
        "gen/__init__.py": "from workbench.gen import t\n",
        "gen/t.py": "from workbench.core import p\n",
        "gen/base.py": "",
        "core/p.py": "from workbench.gen.base import thing\n",
    }
    for rel, text in files.items():
        (pkg / rel).parent.mkdir(parents=True, exist_ok=True)
        (pkg / rel).write_text(text)
    problems = layering_problems(tmp_path, "workbench")
    assert problems["cycles"] == ["workbench.core.a <-> workbench.core.b",
                                  "workbench.core.p <-> workbench.gen <-> workbench.gen.t"]
    assert problems["direction"] == [  # the package's __init__ runs first: that is an import too
        "workbench.dialogue.engine imports workbench.evaluate (line 2): "
        "workbench.dialogue must not import workbench.evaluate",
        "workbench.dialogue.engine imports workbench.evaluate.run (line 2): "
        "workbench.dialogue must not import workbench.evaluate",
    ]


@pytest.fixture(scope="module")
def problems() -> dict[str, list[str]]:
    return layering_problems(PROJECT_ROOT)


def test_no_first_party_import_cycles(problems):
    """Guards direction, function bodies included: embed <-> finetune and hybrid <-> persist were
    cycles hidden by imports inside functions."""
    assert problems["cycles"] == []


def test_dialogue_does_not_import_evaluate_services_or_ui(problems):
    """Guards ui -> services -> core: the dialogue core never reaches up into the evaluation,
    the wiring or the UI."""
    wrong = [p for p in problems["direction"] if p.startswith("workbench.dialogue")]
    assert wrong == []


def test_retrieval_finetune_evaluate_and_chat_point_one_way(problems):
    """Guards the packages of issue 29 (retrieval/, finetune/, evaluate/simulation/, chat/): each
    stays below what uses it (see DIRECTION_RULES)."""
    prefixes = ("workbench.retrieval", "workbench.finetune", "workbench.evaluate", "workbench.chat")
    assert [p for p in problems["direction"] if p.startswith(prefixes)] == []


def test_recommend_does_not_import_evaluate(problems):
    """Guards the scorers below the evaluation: tuning used to import evaluate.metrics while
    evaluate imports the scorers."""
    wrong = [p for p in problems["direction"] if p.startswith("workbench.recommend")]
    assert wrong == []
