"""Versioned guidelines: a new version from a file, and re-queueing what older versions answered.

The project's creation guidelines are version 1; ``project guidelines NAME --file F`` stores the
next version and every answer from then on records the version it was made under (the stores
number it inside the answer's transaction). :func:`requeue_before` takes the submissions made
under older versions out of the count so that their tasks are answered again; nothing is
deleted from the answer history or the feedback store, and agreement and quality can be computed
per version (``--guidelines-version``).

It knows files and the store's guidelines verbs; it does not know SQL or gradio.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from workbench.errors import ProjectError

#: Longest guidelines text accepted (characters): Markdown for people, not a data file.
MAX_GUIDELINES_CHARS = 200_000


def read_guidelines(path: str | Path) -> str:
    """The text of a guidelines file.

    Raises:
        ProjectError: the file is missing, unreadable, not UTF-8, empty or too long.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise ProjectError(f"{path}: cannot read the guidelines ({exc})") from None
    if not text.strip():
        raise ProjectError(f"{path}: the guidelines file is empty")
    if len(text) > MAX_GUIDELINES_CHARS:
        raise ProjectError(f"{path}: {len(text)} characters of guidelines (limit {MAX_GUIDELINES_CHARS})")
    return text


def add_version(store: Any, project: str, path: str | Path) -> int:
    """Store the guidelines in ``path`` as ``project``'s next version; returns its number."""
    return store.add_guidelines(project, read_guidelines(path))


def versions(store: Any, project: str) -> list[dict[str, Any]]:
    """``[{"version", "created_at", "chars"}]`` of ``project``'s guidelines, oldest first."""
    return [{"version": v["version"], "created_at": v["created_at"], "chars": len(v["text"])}
            for v in store.guidelines_versions(project)]


def check_before_version(project: str, before_version: Any, latest: int) -> int:
    """``before_version`` if it names a stored version after the first (2..``latest``), else a
    :class:`ProjectError` naming the range (and how to add a version when there is only one)."""
    if isinstance(before_version, bool) or not isinstance(before_version, int) or not 2 <= before_version <= latest:
        how = "; add one with `project guidelines NAME --file F`" if latest == 1 else ""
        raise ProjectError(f"--before-version: must be a guidelines version of project {project!r} after the first "
                           f"(2-{latest}), got {before_version!r}{how}")
    return before_version


def requeue_before(store: Any, project: str, before_version: Any) -> list[dict[str, Any]]:
    """Re-queue every task answered under guidelines older than ``before_version``.

    Returns the answers taken out of the count (``task_id``, ``annotator``, ``version``,
    ``guidelines_version``).

    Raises:
        ProjectError: an unknown project or a version that is not after the first.
    """
    return store.requeue(project, before_version)  # checked there, inside the transaction that reads the versions
