"""``python -m workbench settings`` and ``python -m workbench docs --check|--write``: references rendered from the code.

Three parts of ``docs/`` restate code, so they are rendered from it, never typed: the configuration
table (from the :class:`~workbench.config.Settings` fields: variables, type, default, allowed values,
help), the command-line reference (from the argparse parsers this package builds) and the package
map (from each module's docstring). Each lives in a marked block of a Markdown file::

    <!-- BEGIN GENERATED: settings (python -m workbench docs --write) -->
    ...
    <!-- END GENERATED: settings -->

``docs --write`` replaces the blocks; ``docs --check`` exits 1 naming every stale file (a test runs
it). Text around the blocks is hand-written and left alone. The rendering reads the package's own
source and parsers; it loads no model and touches no data.
"""

from __future__ import annotations

import argparse
import ast
import dataclasses
import re
from collections.abc import Callable, Iterator
from pathlib import Path

from workbench.config import PROJECT_ROOT, Settings, _cache_home, bounds_text

DOCS_DIR = PROJECT_ROOT / "docs"
WRITE_COMMAND = "python -m workbench docs --write"
PROG = "python -m workbench"

# Folders of the repository that hold no Python package, for the package map.
REPOSITORY_FOLDERS = {
    "assets/": "the default catalogue and interactions (with their attribution) and the UI's CSS and JS",
    "indexes/default/": "the prebuilt FAISS index of the default catalogue (with its `meta.json` manifest)",
    "bench/": "benchmarks: each prints a table and writes JSON under `bench/results/` "
              "(see `bench/RESULTS.md`); `bench/gpu/`: the GPU device checks",
    "docs/": "these documents; `configuration.md`, `cli.md` and this map are rendered from the code",
    "tests/": "the test suite (`python -m pytest`): one folder per package of `workbench/` (`tests/dialogue/`, "
              "`tests/dialogue/generators/`, `tests/projects/`, ...), tests of top-level modules at the top; "
              "shared fixtures (`conftest.py`, `*_support.py`, `*_fixtures.py`) at the top, built in code",
    "tests/e2e/": "live-server (gradio, REST, MCP, two `app.py` replicas) and browser tests, marked `e2e` "
                  "(`python -m pytest -m 'not e2e'` runs the rest)",
}


# -- shared ---------------------------------------------------------------------------------

def _portable(text: str) -> str:
    """Text without this checkout's absolute paths or the current user's settings."""
    current, default = Settings.from_env(), Settings()
    for f in dataclasses.fields(Settings):
        now, then = getattr(current, f.name), getattr(default, f.name)
        if now != then and isinstance(now, str) and len(now) > 2:
            text = text.replace(now, str(then))
    text = text.replace(_cache_home(), "~/.cache/chat-rec-workbench")
    text = text.replace(str(PROJECT_ROOT) + "/", "").replace(str(PROJECT_ROOT), ".")
    return text.replace(str(PROJECT_ROOT.parent) + "/", "../")


def _cell(text: str) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


# -- the configuration table ----------------------------------------------------------------

def _default_text(value: object) -> str:
    if value == "":
        return "(empty)"
    return f"`{_portable(str(value))}`"


def render_settings() -> str:
    """The configuration reference: one row per :class:`Settings` field."""
    lines = [
        "| Variable(s) | Type | Default | Allowed | What it does |",
        "|---|---|---|---|---|",
    ]
    for row in Settings.describe():
        variables = ", ".join(f"`{v}`" for v in row["env"])
        allowed = ", ".join(row["choices"]) if row["choices"] else bounds_text(row["bounds"])
        lines.append(
            f"| {variables} | {row['type']} | {_default_text(row['default'])} | {_cell(allowed)} "
            f"| {_cell(row['help'])} |"
        )
    return "\n".join(lines) + "\n"


def render_settings_text(settings: Settings) -> str:
    """The current settings, one ``VARIABLE=value`` a line; secrets show only whether they are set."""
    lines = []
    for row in Settings.describe():
        value = getattr(settings, row["name"])
        if "secret" in row["help"]:
            value = "(set)" if value else ""
        lines.append(f"{row['env'][0]}={value}")
    return "\n".join(lines) + "\n"


# -- the command-line reference -------------------------------------------------------------

def _subcommands(parser: argparse.ArgumentParser) -> Iterator[tuple[str, str, argparse.ArgumentParser]]:
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            helps = {a.dest: a.help or "" for a in action._choices_actions}
            for name, sub in action.choices.items():
                yield name, helps.get(name, ""), sub


def _expanded_help(action: argparse.Action) -> str:
    if not action.help or action.help == argparse.SUPPRESS:
        return ""
    params = {k: v for k, v in vars(action).items() if v is not argparse.SUPPRESS}
    for key, value in list(params.items()):
        if hasattr(value, "__name__"):
            params[key] = value.__name__
    if params.get("choices") is not None:
        params["choices"] = ", ".join(map(str, params["choices"]))
    return action.help % params


def _argument(action: argparse.Action) -> str:
    if not action.option_strings:
        return f"`{action.metavar or action.dest}`"
    takes_value = action.nargs != 0
    if isinstance(action.metavar, str):
        meta = action.metavar
    elif action.choices is not None:
        meta = "{" + ",".join(map(str, action.choices)) + "}"
    else:
        meta = action.dest.upper()
    if action.nargs in ("*", "+"):
        meta = f"{meta} ..."
    return ", ".join(f"`{opt} {meta}`" if takes_value else f"`{opt}`" for opt in action.option_strings)


def _usage(path: str, parser: argparse.ArgumentParser) -> str:
    words = [path]
    for action in parser._actions:
        if isinstance(action, argparse._HelpAction):
            continue
        if isinstance(action, argparse._SubParsersAction):
            words.append("{" + ",".join(action.choices) + "} ...")
        elif not action.option_strings:
            words.append(action.metavar or action.dest)
        elif action.required:
            words.append(_argument(action).split(", ")[0].strip("`"))
    if any(a.option_strings and not a.required and not isinstance(a, argparse._HelpAction)
           for a in parser._actions):
        words.append("[options]")
    return " ".join(words)


def _command_section(path: str, summary: str, parser: argparse.ArgumentParser, depth: int) -> list[str]:
    lines = [f"{'#' * min(depth, 4)} `{path}`", ""]
    text = parser.description or summary
    if text:
        lines += [_cell(text), ""]
    lines += ["```", _usage(path, parser), "```", ""]
    rows = [a for a in parser._actions
            if not isinstance(a, (argparse._HelpAction, argparse._SubParsersAction))]
    if rows:
        lines += ["| argument | default | help |", "|---|---|---|"]
        for action in rows:
            default = action.default
            hidden = default is None or default is False or default is argparse.SUPPRESS or action.nargs == 0
            shown = "" if hidden else f"`{default}`"  # identity: 0 == False would hide a default of 0
            if isinstance(default, (list, tuple)):
                shown = "`" + ",".join(map(str, default)) + "`"
            required = " (required)" if action.option_strings and action.required else ""
            lines.append(f"| {_argument(action)}{required} | {_cell(shown)} | {_cell(_expanded_help(action))} |")
        lines.append("")
    for name, help_text, sub in _subcommands(parser):
        lines += _command_section(f"{path} {name}", help_text, sub, depth + 1)
    return lines


def render_cli() -> str:
    """The command-line reference: every command, its usage and its arguments, from the parsers."""
    from workbench.cli import build_parser

    parser = build_parser()
    index = [f"- [`{PROG} {name}`](#{_anchor(f'{PROG} {name}')}): {_cell(help_text)}"
             for name, help_text, _ in _subcommands(parser)]
    body: list[str] = []
    for name, help_text, sub in _subcommands(parser):
        body += _command_section(f"{PROG} {name}", help_text, sub, 2)
    return _portable("\n".join(index + [""] + body).rstrip() + "\n")


def _anchor(heading: str) -> str:
    """GitHub's anchor for a heading written as inline code."""
    return re.sub(r"[^\w\- ]", "", heading.lower()).replace(" ", "-")


# -- the package map ------------------------------------------------------------------------

def module_summary(path: Path) -> str:
    """A module's first docstring sentence, in Markdown (``x`` -> `x`, :class:`~a.B` -> `B`)."""
    doc = ast.get_docstring(ast.parse(path.read_text(encoding="utf-8"))) or ""
    first = " ".join(doc.strip().split("\n\n")[0].split())
    match = re.match(r"(.{20,}?[.:;])\s+[A-Z(`]", first)
    first = match.group(1) if match and match.group(1).endswith(".") else first
    first = re.sub(r":\w+:`~?(?:[\w.]+\.)?([\w]+)`", r"`\1`", first)
    return first.replace("``", "`")


def render_package_map() -> str:
    """Every module of the package with what it does, from its docstring; then the other folders."""
    package = PROJECT_ROOT / "workbench"
    lines = ["| path | what it is |", "|---|---|",
             f"| `app.py` | {_cell(module_summary(PROJECT_ROOT / 'app.py'))} |"]
    for path in sorted(package.rglob("*.py"), key=lambda p: (p.parent.relative_to(package).parts, p.name)):
        rel = path.relative_to(PROJECT_ROOT)
        shown = f"{rel.parent}/" if path.name == "__init__.py" else str(rel)
        lines.append(f"| `{shown}` | {_cell(module_summary(path))} |")
    for folder, what in REPOSITORY_FOLDERS.items():
        lines.append(f"| `{folder}` | {_cell(what)} |")
    return "\n".join(lines) + "\n"


# -- the generated blocks -------------------------------------------------------------------

GENERATED: dict[str, tuple[str, Callable[[], str]]] = {
    # block name -> (file under docs/, renderer)
    "settings": ("configuration.md", render_settings),
    "cli": ("cli.md", render_cli),
    "package-map": ("architecture.md", render_package_map),
}


def _markers(name: str) -> tuple[str, str]:
    return (f"<!-- BEGIN GENERATED: {name} ({WRITE_COMMAND}) -->", f"<!-- END GENERATED: {name} -->")


def rendered(text: str, name: str, body: str, where: Path) -> str:
    """``text`` with the block ``name`` replaced by ``body``."""
    from workbench.errors import ConfigError

    begin, end = _markers(name)
    if begin not in text or end not in text:
        raise ConfigError(f"{where}: no generated block {name!r}; add the lines {begin!r} and {end!r}")
    head, rest = text.split(begin, 1)
    _, tail = rest.split(end, 1)
    return f"{head}{begin}\n{body}{end}{tail}"


def stale_docs(docs_dir: Path = DOCS_DIR, write: bool = False) -> list[Path]:
    """The docs files whose generated blocks differ from a fresh render (rewritten when ``write``)."""
    stale = []
    for name, (filename, render) in GENERATED.items():
        path = docs_dir / filename
        old = path.read_text(encoding="utf-8")
        new = rendered(old, name, render(), path)
        if new != old:
            stale.append(path)
            if write:
                path.write_text(new, encoding="utf-8")
    return stale


# -- the commands ---------------------------------------------------------------------------

def register(sub: argparse._SubParsersAction) -> None:
    s = sub.add_parser("settings", help="print the settings (every WORKBENCH_* variable)")
    s.add_argument("--markdown", action="store_true",
                   help="print the configuration reference table (docs/configuration.md) instead of values")
    s.set_defaults(func=_settings)
    d = sub.add_parser("docs", help="check or rewrite the references in docs/ that are rendered from the code")
    mode = d.add_mutually_exclusive_group(required=True)
    mode.add_argument("--check", action="store_true", help="exit 1 when a rendered reference is out of date")
    mode.add_argument("--write", action="store_true", help="rewrite the rendered references in place")
    d.set_defaults(func=_docs)


def _settings(args: argparse.Namespace) -> int:
    if args.markdown:
        print(render_settings(), end="")
    else:
        print(render_settings_text(Settings.from_env()), end="")
    return 0


def _docs(args: argparse.Namespace) -> int:
    from workbench.errors import ConfigError

    if not DOCS_DIR.is_dir():
        raise ConfigError(f"{DOCS_DIR}: no docs folder here (the references live in a source checkout)")
    stale = stale_docs(write=args.write)
    for path in stale:
        verb = "rewrote" if args.write else "out of date:"
        print(f"{verb} {path.relative_to(PROJECT_ROOT)}")
    if stale and not args.write:
        print(f"run: {WRITE_COMMAND}")
        return 1
    return 0
