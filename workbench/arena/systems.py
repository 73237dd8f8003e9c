"""Arena systems: named, versioned configurations of a whole turn.

A :class:`System` says which generator writes the reply (backend and model), which candidate
sources feed the ranker (the semantic/lexical ``retriever``, the fitted ``recommender``) and with
which :class:`~workbench.dialogue.ranker.EngineWeights`, the slate size ``k``, and the item index
(and the embedding model it was built with). Three are built in:

* ``default``: what the app runs today (its configured generator, every source, the engine's
  default weights, its index and ``k``);
* ``baseline``: popularity-only candidates (no retriever, no recommender, only the popularity
  prior weighs; constraints such as "no horror" still filter) with the template generator;
* ``no-llm``: the default engine with the template generator (what an LLM adds, isolated).

More come from ``WORKBENCH_SYSTEMS_FILE`` (TOML or JSON, see :func:`load_systems_file`); a
fine-tuned generator or retriever folder is just a system whose ``model`` or ``embed_model``
points at it. :meth:`System.resolve` fills the app's settings in and hashes the result:
``system_id`` is ``name@hash`` (the first 10 hex digits of the configuration's SHA-256), stored
with every vote, so a changed configuration never pools its votes with the old one.

It knows settings and configuration files; it does not build engines (:mod:`workbench.arena.engines`)
or know gradio.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomllib

from workbench.config import GENERATOR_BACKENDS, Settings
from workbench.dialogue.ranker import EngineWeights
from workbench.errors import ConfigError
from workbench.limits import MAX_SLATE_ITEMS

#: The candidate sources a system may switch on (the rest of the ranker's sources are weights).
SOURCES = ("retriever", "recommender")
#: What a system name may look like (it is shown on the leaderboard and stored with votes).
NAME_PATTERN = re.compile(r"^[a-z0-9][a-z0-9_.-]{0,39}$")
#: Hex digits of the configuration hash kept in a system id.
HASH_CHARS = 10
#: Fields a system in a file may set.
FILE_FIELDS = ("base", "description", "generator", "model", "sources", "weights", "k", "index", "embed_model")

_WEIGHT_TYPES = {f.name: f.type for f in dataclasses.fields(EngineWeights)}
_BASELINE_WEIGHTS = {name: 0.0 for name, typ in _WEIGHT_TYPES.items() if typ == "float"} | {
    "prior": 1.0, "recency": EngineWeights().recency}


@dataclass(frozen=True)
class System:
    """A named configuration of the turn, as written (empty values: the app's settings).

    Attributes:
        name: shown on the leaderboard after a vote.
        generator: backend (``auto``, ``template``, ``transformers``, ``openai``); empty: the app's.
        model: the backend's model (Hub id, local folder, or server model name); empty: the app's.
        sources: candidate sources on (subset of :data:`SOURCES`).
        weights: :class:`EngineWeights` fields that differ from the engine's defaults.
        k: slate size; 0: the app's ``WORKBENCH_K``.
        index: item index folder; empty: the app's ``WORKBENCH_INDEX_DIR``.
        embed_model: the model that index was built with; empty: the app's ``WORKBENCH_EMBED_MODEL``.
    """

    name: str
    description: str = ""
    generator: str = ""
    model: str = ""
    sources: tuple[str, ...] = SOURCES
    weights: Mapping[str, Any] = field(default_factory=dict)
    k: int = 0
    index: str = ""
    embed_model: str = ""

    def resolve(self, settings: Settings, index_id: str | None = None) -> ResolvedSystem:
        """The configuration with the app's settings filled in, hashed.

        Args:
            index_id: the id of the index the system searches (default: read from its folder's
                manifest); part of the hash, so a rebuilt index makes a new version.
        """
        backend = self.generator or settings.generator
        if backend == "template":
            model = ""
        elif backend == "openai":
            model = self.model or settings.openai_model
        else:
            model = self.model or settings.generator_model
        index = self.index or settings.index_dir
        config = {
            "generator": backend,
            "model": model,
            "sources": sorted(self.sources),
            "weights": EngineWeights(**dict(self.weights)).to_dict(),
            "k": self.k or settings.k,
            "index": index_id if index_id is not None else index_id_at(index),
            "embed_model": self.embed_model or settings.embed_model,
        }
        digest = hashlib.sha256(json.dumps(config, sort_keys=True).encode()).hexdigest()[:HASH_CHARS]
        return ResolvedSystem(self.name, self.description, config, digest, index)


@dataclass(frozen=True)
class ResolvedSystem:
    """A system's concrete configuration and its hash (what votes are stored with)."""

    name: str
    description: str
    config: Mapping[str, Any]
    config_hash: str
    index_dir: str

    @property
    def system_id(self) -> str:
        return f"{self.name}@{self.config_hash}"

    @property
    def weights(self) -> EngineWeights:
        return EngineWeights(**self.config["weights"])

    def to_dict(self) -> dict[str, Any]:
        return {"system": self.name, "system_id": self.system_id, "config_hash": self.config_hash,
                "description": self.description, "config": dict(self.config)}


def index_id_at(index_dir: str | Path) -> str:
    """The id of the index saved in ``index_dir`` (as the services compute it), without loading it."""
    from workbench.manifest import MANIFEST
    from workbench.services import index_id_of

    path = Path(index_dir) / MANIFEST
    try:
        meta = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return f"{Path(index_dir).name}@missing"
    meta = dict(meta) if isinstance(meta, dict) else {}
    meta.pop("saved_at", None)  # a loaded index's meta does not keep it (workbench.retrieval.index)
    return index_id_of(meta, str(index_dir))


def builtin_systems() -> dict[str, System]:
    """The presets every server has: ``default``, ``baseline``, ``no-llm``."""
    return {
        "default": System("default", "what the app runs today: its generator, every source, default weights"),
        "baseline": System("baseline", "popularity-only candidates, template generator",
                           generator="template", sources=(), weights=dict(_BASELINE_WEIGHTS)),
        "no-llm": System("no-llm", "the default engine with the template generator", generator="template"),
    }


def load_systems_file(path: str | Path, known: Mapping[str, System] | None = None) -> dict[str, System]:
    """The systems defined in a TOML or JSON file (by its suffix; anything else is read as TOML).

    TOML::

        [systems.tuned-llm]
        base = "default"             # start from a built-in or earlier system (default: default)
        description = "DPO-tuned SmolLM2"
        generator = "transformers"
        model = "runs/dpo-smollm2"
        sources = ["retriever", "recommender"]
        k = 5
        [systems.tuned-llm.weights]
        dense = 0.8

    JSON: ``{"systems": {"tuned-llm": {...}}}`` with the same fields.

    Raises:
        ConfigError: naming the file, the system and the field that is wrong.
    """
    path = Path(path)
    try:
        raw = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"systems file {path}: cannot read it ({exc.strerror or exc})") from None
    try:
        data = json.loads(raw) if path.suffix.lower() == ".json" else tomllib.loads(raw)
    except (ValueError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"systems file {path}: not valid {'JSON' if path.suffix == '.json' else 'TOML'} ({exc})"
                          ) from None
    if not isinstance(data, dict) or set(data) != {"systems"} or not isinstance(data["systems"], dict):
        raise ConfigError(f"systems file {path}: expected one table 'systems' of named systems, "
                          f"got keys {sorted(data) if isinstance(data, dict) else type(data).__name__}")
    systems = dict(builtin_systems() if known is None else known)
    out: dict[str, System] = {}
    for name, spec in data["systems"].items():
        system = _parse_system(path, name, spec, systems)
        systems[name] = out[name] = system
    return out


def _parse_system(path: Path, name: str, spec: Any, known: Mapping[str, System]) -> System:
    where = f"systems file {path}: system {name!r}"
    if not NAME_PATTERN.match(name):
        raise ConfigError(f"{where}: a name is 1-40 lower-case letters, digits, '-', '_' or '.'")
    if name in builtin_systems():
        raise ConfigError(f"{where}: {name!r} is built in; choose another name")
    if name in known:
        raise ConfigError(f"{where}: defined twice")
    if not isinstance(spec, dict):
        raise ConfigError(f"{where}: expected a table of fields, got {type(spec).__name__}")
    unknown = sorted(set(spec) - set(FILE_FIELDS))
    if unknown:
        raise ConfigError(f"{where}: unknown field {unknown[0]!r} (fields: {', '.join(FILE_FIELDS)})")
    base_name = spec.get("base", "default")
    if base_name not in known:
        raise ConfigError(f"{where}: field 'base': no system {base_name!r} (known: {', '.join(known)})")
    values: dict[str, Any] = {f.name: getattr(known[base_name], f.name) for f in dataclasses.fields(System)}
    values.update(name=name, description=spec.get("description", ""))
    for key in ("description", "generator", "model", "index", "embed_model"):
        if key in spec:
            if not isinstance(spec[key], str):
                raise ConfigError(f"{where}: field {key!r} must be text, got {spec[key]!r}")
            values[key] = spec[key].strip()
    if values["generator"] and values["generator"] not in GENERATOR_BACKENDS:
        raise ConfigError(f"{where}: field 'generator' must be one of {', '.join(GENERATOR_BACKENDS)}, "
                          f"got {values['generator']!r}")
    if "sources" in spec:
        sources = spec["sources"]
        if not isinstance(sources, list) or any(s not in SOURCES for s in sources):
            raise ConfigError(f"{where}: field 'sources' must be a list of {', '.join(SOURCES)}, got {sources!r}")
        values["sources"] = tuple(dict.fromkeys(sources))
    if "k" in spec:
        k = spec["k"]
        if isinstance(k, bool) or not isinstance(k, int) or not 1 <= k <= MAX_SLATE_ITEMS:
            raise ConfigError(f"{where}: field 'k' must be an integer 1-{MAX_SLATE_ITEMS}, got {k!r}")
        values["k"] = k
    if "weights" in spec:
        values["weights"] = {**values["weights"], **_weights(where, spec["weights"])}
    if values["index"] and not (path.parent / values["index"]).exists() and not Path(values["index"]).exists():
        raise ConfigError(f"{where}: field 'index': no folder {values['index']!r}")
    if values["index"] and not Path(values["index"]).is_absolute() and (path.parent / values["index"]).exists():
        values["index"] = str(path.parent / values["index"])  # relative to the file, like the model folders
    return System(**values)


def _weights(where: str, weights: Any) -> dict[str, Any]:
    if not isinstance(weights, dict):
        raise ConfigError(f"{where}: field 'weights' must be a table of EngineWeights fields, got {weights!r}")
    out: dict[str, Any] = {}
    for key, value in weights.items():
        typ = _WEIGHT_TYPES.get(key)
        if typ is None:
            raise ConfigError(f"{where}: field 'weights.{key}': unknown weight (known: {', '.join(_WEIGHT_TYPES)})")
        ok = (isinstance(value, bool) if typ == "bool"
              else isinstance(value, int) and not isinstance(value, bool) and value >= 0 if typ == "int"
              else isinstance(value, (int, float)) and not isinstance(value, bool) and value >= 0)
        if not ok:
            kind = {"bool": "true or false", "int": "a non-negative integer"}.get(typ, "a non-negative number")
            raise ConfigError(f"{where}: field 'weights.{key}' must be {kind}, got {value!r}")
        out[key] = float(value) if typ == "float" else value
    return out


def all_systems(settings: Settings) -> dict[str, System]:
    """The built-in systems and those of ``WORKBENCH_SYSTEMS_FILE`` (when set), by name."""
    systems = builtin_systems()
    if settings.systems_file:
        systems.update(load_systems_file(settings.systems_file, systems))
    return systems


def arena_system_names(settings: Settings, systems: Mapping[str, System] | None = None) -> list[str]:
    """The systems ``WORKBENCH_ARENA_SYSTEMS`` names (at least two, each known, no repeats).

    Raises:
        ConfigError: naming the setting and the unknown or missing system.
    """
    systems = all_systems(settings) if systems is None else systems
    names = [n.strip() for n in settings.arena_systems.split(",") if n.strip()]
    where = "setting 'arena_systems' (WORKBENCH_ARENA_SYSTEMS)"
    for name in names:
        if name not in systems:
            raise ConfigError(f"{where}: no system {name!r}; known: {', '.join(systems)}"
                              + ("" if settings.systems_file else " (more come from WORKBENCH_SYSTEMS_FILE)"))
    if len(set(names)) != len(names):
        raise ConfigError(f"{where}: a system is named twice in {settings.arena_systems!r}")
    if len(names) < 2:
        raise ConfigError(f"{where}: the arena needs at least two systems, got {names!r}")
    return names


def resolve_systems(settings: Settings, names: Sequence[str] | None = None,
                    index_ids: Mapping[str, str] | None = None) -> dict[str, ResolvedSystem]:
    """``names`` (default: every system) resolved against ``settings``.

    ``index_ids`` maps an index folder to its id when it is already known (the app's loaded index).
    """
    systems = all_systems(settings)
    ids = dict(index_ids or {})
    out = {}
    for name in names if names is not None else list(systems):
        system = systems[name]
        index = system.index or settings.index_dir
        out[name] = system.resolve(settings, ids.get(str(index)))
    return out
