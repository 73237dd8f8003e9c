"""Docs that restate code stay rendered from it, and the README stays a working front door.

Guards issue 29: the README's hand-copied settings table had drifted from the code. Now
``docs/configuration.md``, ``docs/cli.md`` and the package map in ``docs/architecture.md`` are
rendered from ``Settings``, the argument parsers and the module docstrings, and these tests fail
while a committed reference differs from a fresh render (the message names the command that fixes
it). The README keeps the exact test command ``.ci/run`` runs, and every local link resolves.
"""

from __future__ import annotations

import re
import shutil
import sys
from pathlib import Path

import pytest

from tests.conftest import PROJECT_ROOT
from workbench.cli import main
from workbench.cli.docs import (
    GENERATED,
    WRITE_COMMAND,
    module_summary,
    render_cli,
    render_package_map,
    render_settings,
    stale_docs,
)
from workbench.config import Settings
from workbench.errors import ConfigError

DOCS = PROJECT_ROOT / "docs"
README = PROJECT_ROOT / "README.md"
MAX_README_LINES = 250


def test_rendered_references_match_the_code():
    """A new or changed setting, command or module without re-rendering fails here."""
    stale = [str(p.relative_to(PROJECT_ROOT)) for p in stale_docs(DOCS)]
    assert not stale, f"{stale} differ from the code; run: {WRITE_COMMAND}"


def test_every_setting_and_variable_is_in_the_configuration_reference():
    text = (DOCS / "configuration.md").read_text(encoding="utf-8")
    missing = [var for row in Settings.describe() for var in row["env"] if f"`{var}`" not in text]
    assert not missing, f"docs/configuration.md lacks {missing}; run: {WRITE_COMMAND}"


def test_the_settings_table_carries_defaults_choices_and_bounds():
    table = render_settings()
    assert "| `WORKBENCH_K` | int | `5` | 1-50 |" in table
    assert "| `WORKBENCH_GENERATOR_TIMEOUT_S` | float | `30.0` | > 0 |" in table
    assert "auto, template, transformers, openai, llamacpp" in table
    assert str(PROJECT_ROOT) not in table and "`assets/catalog.jsonl.gz`" in table


def test_the_cli_reference_names_every_command_and_option():
    from workbench.cli import build_parser

    text = render_cli()
    parser = build_parser()
    commands = [a for a in parser._actions if a.__class__.__name__ == "_SubParsersAction"][0].choices
    for name in commands:
        assert f"## `python -m workbench {name}`" in text
    assert "`--mentions {gold,text}`" in text and "`--markdown`" in text
    assert str(PROJECT_ROOT) not in text


def test_the_package_map_lists_every_module(tmp_path):
    text = render_package_map()
    for path in (PROJECT_ROOT / "workbench").rglob("*.py"):
        if path.name != "__init__.py":
            assert f"`{path.relative_to(PROJECT_ROOT)}`" in text
    module = tmp_path / "m.py"
    module.write_text('"""The ``x`` layer: first sentence. Second sentence, left out.\n\nMore."""\n')
    assert module_summary(module) == "The `x` layer: first sentence."


def test_the_check_catches_a_stale_block_and_write_fixes_it(tmp_path):
    """The mechanism itself: a hand edit inside a generated block is reported, then rewritten."""
    for filename, _ in GENERATED.values():
        shutil.copy(DOCS / filename, tmp_path / filename)
    path = tmp_path / "configuration.md"
    path.write_text(path.read_text(encoding="utf-8").replace("`WORKBENCH_K`", "`WORKBENCH_KAY`"), encoding="utf-8")
    assert stale_docs(tmp_path) == [path]
    assert stale_docs(tmp_path, write=True) == [path]
    assert stale_docs(tmp_path) == []
    path.write_text("# no markers\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="no generated block 'settings'"):
        stale_docs(tmp_path)


def test_docs_check_command_exit_codes(capsys):
    assert main(["docs", "--check"]) == 0
    assert main(["settings", "--markdown"]) == 0
    assert capsys.readouterr().out.count("`WORKBENCH_") >= len(Settings.describe())


def test_settings_command_hides_secrets(monkeypatch, capsys):
    monkeypatch.setenv("OPENAI_API_KEY", "sk-very-secret")
    assert main(["settings"]) == 0
    out = capsys.readouterr().out
    assert "WORKBENCH_OPENAI_API_KEY=(set)" in out and "sk-very-secret" not in out


def test_readme_is_a_short_front_door_with_the_ci_test_command():
    """`.ci/run` runs exactly the README's test command; the README stays under 250 lines."""
    readme = README.read_text(encoding="utf-8")
    assert len(readme.splitlines()) <= MAX_README_LINES
    ci_command = [line for line in (PROJECT_ROOT / ".ci" / "run").read_text().splitlines()
                  if line.startswith("pip install -r requirements-dev.txt")][-1]
    assert f"```bash\n{ci_command}\n```" in readme
    assert "```bash\npip install -r requirements.txt && pip install --no-deps -r requirements-nodeps.txt && python app.py\n```" in readme
    assert (PROJECT_ROOT / "docs" / "screenshot.png").is_file() and "](docs/screenshot.png)" in readme


def test_every_docs_page_is_in_the_docs_index():
    """A page added to docs/ (by any change) is linked from docs/README.md, the index readers start at."""
    index = (DOCS / "README.md").read_text(encoding="utf-8")
    unlisted = [p.name for p in sorted(DOCS.glob("*.md")) if p.name != "README.md" and f"]({p.name})" not in index]
    assert not unlisted, f"docs/README.md does not link {unlisted}: add a line under the reader it serves"


def _anchors(markdown: str) -> set[str]:
    """GitHub's heading anchors of a Markdown file (fenced code skipped)."""
    anchors, fence = set(), False
    for line in markdown.splitlines():
        if line.startswith("```"):
            fence = not fence
        elif not fence and (match := re.match(r"#{1,6} (.+)", line)):
            anchors.add(re.sub(r"[^\w\- ]", "", match.group(1).strip().lower()).replace(" ", "-"))
    return anchors


def _markdown_files() -> list[Path]:
    return [README, *sorted(DOCS.glob("*.md")), PROJECT_ROOT / "bench" / "RESULTS.md"]


@pytest.mark.parametrize("path", _markdown_files(), ids=lambda p: str(p.relative_to(PROJECT_ROOT)))
def test_local_links_resolve(path):
    """Moving README sections into docs/ broke no link: every relative link names a file (and heading)."""
    text = path.read_text(encoding="utf-8")
    text = re.sub(r"```.*?```", "", text, flags=re.S)
    broken = []
    for target in re.findall(r"\]\(([^)\s]+)\)", text):
        if re.match(r"[a-z]+:", target):
            continue
        file_part, _, anchor = target.partition("#")
        dest = (path.parent / file_part).resolve() if file_part else path
        if not dest.exists():
            broken.append(target)
        elif anchor and dest.suffix == ".md" and anchor not in _anchors(dest.read_text(encoding="utf-8")):
            broken.append(target)
    assert not broken, f"{path.relative_to(PROJECT_ROOT)}: broken links {broken}"


def test_every_benchmark_result_file_has_a_row_in_bench_results_md():
    sys.path.insert(0, str(PROJECT_ROOT / "bench"))
    try:
        import results_index
    finally:
        sys.path.remove(str(PROJECT_ROOT / "bench"))
    files = {p.name for p in (PROJECT_ROOT / "bench" / "results").iterdir() if not p.name.startswith(".")}
    undeclared = sorted(files - set(results_index.PRODUCERS))
    assert not undeclared, f"declare what produced {undeclared} in bench/results_index.py, then run it"
    index = (PROJECT_ROOT / "bench" / "RESULTS.md").read_text(encoding="utf-8")
    missing = sorted(name for name in files if f"| `{name}` |" not in index)
    assert not missing, f"bench/RESULTS.md lacks {missing}; run: python bench/results_index.py"
