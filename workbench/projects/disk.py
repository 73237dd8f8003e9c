"""Words for a project store that cannot write: which file, why, and how much room its disk has.

SQLite reports a full or failing disk as ``sqlite3.OperationalError`` ("database or disk is full",
"disk I/O error"); :func:`storage_error` turns it into a :class:`~workbench.errors.ProjectError`
that names the file, the free space of its folder's disk, and says that nothing was acknowledged,
so a start-up refuses in words and a submission or review fails as a feedback write does.

It knows paths and disk usage; it does not know SQL, records or gradio.
"""

from __future__ import annotations

import shutil
from pathlib import Path

from workbench.errors import ProjectError


def free_space(path: str | Path) -> str:
    """``"12.3 MB free"`` on the disk holding ``path`` (its nearest existing folder), or why unknown."""
    folder = Path(path)
    while not folder.exists() and folder != folder.parent:
        folder = folder.parent
    try:
        free = shutil.disk_usage(folder).free
    except OSError as exc:
        return f"free space unknown ({exc.strerror or exc})"
    for unit in ("bytes", "kB", "MB", "GB", "TB"):
        if free < 1000 or unit == "TB":
            return f"{free:.0f} {unit} free" if unit == "bytes" else f"{free:.1f} {unit} free"
        free /= 1000
    return ""  # unreachable


def storage_error(path: str | Path, exc: BaseException, doing: str, *, opening: bool = False) -> ProjectError:
    """A :class:`ProjectError` for ``exc`` raised while ``doing`` something to the store at ``path``.

    ``opening``: at start-up (nothing was being saved); else the caller's save was not acknowledged.
    """
    folder = Path(path).parent
    outcome = ("the app cannot keep annotation projects there" if opening
               else "nothing was acknowledged")
    return ProjectError(f"{path}: could not {doing} ({exc}); {free_space(folder)} in {folder}; {outcome}. "
                        "Free some space there, or set WORKBENCH_FEEDBACK_DIR to another folder")


def database_error(location: str, exc: BaseException) -> ProjectError:
    """A :class:`ProjectError` for a PostgreSQL server that cannot write (its disk is full, an I/O error)."""
    return ProjectError(f"{location}: could not save to the project database ({exc}); nothing was acknowledged. "
                        "The database server's disk needs room")
