"""``meta.json`` manifests: the one way saved artifacts record and check what they were built from.

Every saved artifact (item index, fitted scorer, fine-tuned embedder, converted LLM weights)
keeps a JSON object in ``<directory>/meta.json``. This module writes it atomically, reads it
with errors that name the file, compares it with what a caller expects, and phrases the
"was built with ...; rebuild with: <command>" message in one style.

It knows JSON files and the error type a caller hands it; it does not know what an index,
a scorer or a model is.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from workbench.errors import WorkbenchError

MANIFEST = "meta.json"


def package_versions(names: Iterable[str]) -> dict[str, str]:
    """``name -> installed version`` for a manifest's ``versions`` ("" for a package not installed)."""
    from importlib import metadata

    out = {}
    for name in names:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = ""
    return out


def manifest_path(directory: str | Path) -> Path:
    """``directory / meta.json``."""
    return Path(directory) / MANIFEST


def rebuild_hint(command: str) -> str:
    """The one phrasing of how to fix a stale or broken artifact: ``rebuild with: <command>``."""
    return f"rebuild with: {command}"


def write_manifest(directory: str | Path, meta: Mapping[str, Any], *, sort_keys: bool = False) -> Path:
    """Write ``meta`` to ``directory/meta.json`` atomically (temp file, fsync, rename).

    Callers write the manifest last, so a half-written artifact has none and never loads.
    """
    path = manifest_path(directory)
    data = json.dumps(dict(meta), indent=2, ensure_ascii=False, sort_keys=sort_keys).encode("utf-8")
    write_atomic(path, data)
    return path


def staging_dirs(out: Path) -> tuple[Path, Path]:
    """Where a training run builds the folder for ``out`` and where its trainer scratches:
    hidden siblings (``.OUT.partial``, ``.OUT.trainer``), so ``out`` itself only ever appears whole
    (:func:`publish_dir`)."""
    return out.with_name(f".{out.name}.partial"), out.with_name(f".{out.name}.trainer")


def publish_dir(staged: Path, out: Path, meta: Mapping[str, Any]) -> None:
    """Write ``meta`` into ``staged`` (the manifest last: a folder without it never passes a
    manifest check), then rename it to ``out`` (which must be absent or an empty folder)."""
    write_manifest(staged, meta)
    if out.exists():
        out.rmdir()  # empty: the trainers refuse an occupied --out before training
    staged.replace(out)


def write_atomic(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` through a temporary sibling, so readers see old or new, never half."""
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as f:
        f.write(data)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def read_manifest(
    directory: str | Path,
    *,
    error: type[WorkbenchError],
    fix: str,
    what: str = "artifact",
    required: Iterable[str] = (),
) -> dict[str, Any]:
    """The manifest in ``directory``, checked to be a JSON object holding ``required`` fields.

    Args:
        error: the exception to raise (the caller's :class:`WorkbenchError` subclass).
        fix: what the user should do, appended to every message (e.g. ``rebuild_hint(cmd)``).
        what: the artifact's name in the "missing" message ("index", "saved model").
        required: fields that must be present.

    Raises:
        error: the manifest is missing, unreadable, not an object, or lacks a field; the
            message starts with the manifest's path.
    """
    path = manifest_path(directory)
    if not path.exists():
        raise error(f"{path}: manifest missing: this {what} is incomplete or was never saved (missing {MANIFEST}); {fix}")
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:  # JSONDecodeError and UnicodeDecodeError are ValueErrors
        raise error(f"{path}: unreadable manifest ({exc}); {fix}") from None
    if not isinstance(meta, dict):
        raise error(f"{path}: manifest must be a JSON object; {fix}")
    for key in required:
        if key not in meta:
            raise error(f"{path}: manifest field {key!r} is missing; {fix}")
    return meta


def peek_manifest(directory: str | Path) -> dict[str, Any] | None:
    """The manifest in ``directory`` if it is a readable JSON object, else ``None`` (never raises)."""
    try:
        meta = json.loads(manifest_path(directory).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return meta if isinstance(meta, dict) else None


def mismatches(meta: Mapping[str, Any], expect: Mapping[str, Any] | None, holder: str) -> list[str]:
    """``"<field>: <holder> has <value>, expected <value>"`` for every field of ``expect`` that differs."""
    return [
        f"{key}: {holder} has {_short(meta.get(key))}, expected {_short(want)}"
        for key, want in (expect or {}).items()
        if meta.get(key) != want
    ]


def built_with(what: str, problems: Iterable[str], command: str) -> str:
    """The one stale-artifact message: ``<what> was built with <differences>. Rebuild it with: <command>``."""
    return f"{what} was built with other inputs: " + "; ".join(problems) + f". Rebuild it with: {command}"


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "...'"
