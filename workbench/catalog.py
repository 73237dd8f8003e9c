"""Items, the catalogue, and item-id vocabularies.

Loads and validates catalogue files (CSV, JSONL, Parquet, a saved Hugging Face
dataset or a Hub id), resolves alias ids to their canonical item, and renders
the text that gets embedded for an item through one template.

It knows items and their facts; it does not know embeddings, FAISS or gradio.
"""

from __future__ import annotations

import gzip
import hashlib
import json
import math
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from workbench.errors import CatalogError
from workbench.limits import MAX_ID_CHARS, MAX_LIST_FIELD_ITEMS, MAX_TITLE_CHARS

#: The text embedded for an item. Sentences (split on ". ") whose placeholders
#: all render empty are dropped, so items with missing facts read naturally.
#: Placeholders: title, year, title_year, genres, directors, cast, tags.
DEFAULT_TEXT_TEMPLATE = (
    "{title_year}. {genres}. Directed by {directors}. Starring {cast}. About {tags}."
)


@dataclass(frozen=True)
class Item:
    """One catalogue item. ``item_id`` is a string; ``aliases`` are other ids that resolve to it."""

    item_id: str
    title: str
    year: int | None = None
    genres: tuple[str, ...] = ()
    directors: tuple[str, ...] = ()
    cast: tuple[str, ...] = ()
    tags: tuple[str, ...] = ()
    mentions: int = 0
    aliases: tuple[str, ...] = ()
    text: str | None = None  # explicit text to embed (a mapped column); overrides the template

    @property
    def display_title(self) -> str:
        """``"Title (Year)"``, or the bare title when the year is unknown."""
        return f"{self.title} ({self.year})" if self.year else self.title

    def to_dict(self) -> dict[str, Any]:
        d = asdict(self)
        for key in ("genres", "directors", "cast", "tags", "aliases"):
            d[key] = list(d[key])
        return d


def render_text(item: Item, template: str = DEFAULT_TEXT_TEMPLATE) -> str:
    """The text to embed for ``item``: ``item.text`` if set, else ``template`` filled with its facts."""
    if item.text:
        return item.text
    values = {
        "title": item.title,
        "year": str(item.year) if item.year else "",
        "title_year": item.display_title,
        "genres": ", ".join(item.genres),
        "directors": ", ".join(item.directors),
        "cast": ", ".join(item.cast),
        "tags": ", ".join(item.tags),
    }
    sentences = re.split(r"(?<=\.)\s+", template.strip())
    out = []
    for sentence in sentences:
        names = re.findall(r"{(\w+)}", sentence)
        unknown = [n for n in names if n not in values]
        if unknown:
            raise CatalogError(
                f"text template: unknown placeholder {{{unknown[0]}}}; "
                f"allowed: {', '.join(sorted(values))}"
            )
        if names and not any(values[n] for n in names):
            continue
        out.append(sentence.format(**values))
    return " ".join(out)


class Vocabulary:
    """A fixed bijection between item ids and row numbers 0..n-1 (lenskit's ``Vocabulary``)."""

    def __init__(self, ids: Iterable[str]):
        self._ids = tuple(str(i) for i in ids)
        self._rows = {item_id: row for row, item_id in enumerate(self._ids)}
        if len(self._rows) != len(self._ids):
            raise CatalogError("vocabulary: duplicate item ids")

    def __len__(self) -> int:
        return len(self._ids)

    def __contains__(self, item_id: object) -> bool:
        return item_id in self._rows

    @property
    def ids(self) -> tuple[str, ...]:
        return self._ids

    def number(self, item_id: str) -> int:
        """Row number of ``item_id``; raises ``KeyError`` when unknown."""
        return self._rows[item_id]

    def numbers(self, item_ids: Iterable[str], missing: str = "error") -> list[int]:
        """Row numbers; ``missing="drop"`` skips unknown ids instead of raising."""
        out = []
        for item_id in item_ids:
            row = self._rows.get(item_id)
            if row is None:
                if missing == "drop":
                    continue
                raise KeyError(item_id)
            out.append(row)
        return out

    def id(self, row: int) -> str:
        return self._ids[row]


class Catalog:
    """An ordered, validated collection of :class:`Item` with alias resolution.

    ``catalog[item_id]`` and ``item_id in catalog`` accept canonical ids and aliases.
    Iteration yields canonical items in catalogue order.
    """

    def __init__(self, items: Iterable[Item], source: str = "<memory>"):
        self.source = source
        self._items: tuple[Item, ...] = tuple(items)
        self._by_id: dict[str, Item] = {}
        for row, item in enumerate(self._items):
            if not item.item_id:
                raise CatalogError(f"{source}: row {row}: field 'id' is empty")
            if not item.title or not item.title.strip():
                raise CatalogError(f"{source}: row {row}: field 'title' is empty (id {item.item_id!r})")
            for key in (item.item_id, *item.aliases):
                other = self._by_id.get(key)
                if other is not None and other is not item:
                    raise CatalogError(
                        f"{source}: row {row}: duplicate id {key!r} "
                        f"(already used by {other.display_title!r})"
                    )
                self._by_id[key] = item
        self.vocabulary = Vocabulary(item.item_id for item in self._items)
        self._hash: str | None = None

    # access -----------------------------------------------------------
    def __len__(self) -> int:
        return len(self._items)

    def __iter__(self) -> Iterator[Item]:
        return iter(self._items)

    def __contains__(self, item_id: object) -> bool:
        return isinstance(item_id, str) and item_id in self._by_id

    def __getitem__(self, item_id: str) -> Item:
        try:
            return self._by_id[item_id]
        except KeyError:
            raise CatalogError(f"{self.source}: unknown item id {item_id!r}") from None

    def get(self, item_id: str) -> Item | None:
        return self._by_id.get(item_id)

    def canonical_id(self, item_id: str) -> str:
        """The canonical id for an id or alias (raises :class:`CatalogError` if unknown)."""
        return self[item_id].item_id

    @property
    def items(self) -> tuple[Item, ...]:
        return self._items

    @property
    def ids(self) -> tuple[str, ...]:
        return self.vocabulary.ids

    def texts(self, template: str = DEFAULT_TEXT_TEMPLATE) -> list[str]:
        """The embedding text of every item, in catalogue order."""
        return [render_text(item, template) for item in self._items]

    @property
    def content_hash(self) -> str:
        """A sha256 over the items' facts: changes whenever any item changes."""
        if self._hash is None:
            h = hashlib.sha256()
            for item in self._items:
                h.update(json.dumps(item.to_dict(), sort_keys=True, ensure_ascii=False).encode())
                h.update(b"\n")
            self._hash = h.hexdigest()
        return self._hash

    def save_jsonl(self, path: str | Path) -> None:
        """Write the catalogue as JSONL (gzip when the name ends in ``.gz``)."""
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        opener = gzip.open if path.suffix == ".gz" else open
        # mtime=0 keeps gzip output byte-identical across rebuilds.
        if opener is gzip.open:
            with open(path, "wb") as raw, gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as f:
                for item in self._items:
                    f.write((json.dumps(_compact(item.to_dict()), ensure_ascii=False) + "\n").encode())
        else:
            with open(path, "w", encoding="utf-8") as f:
                for item in self._items:
                    f.write(json.dumps(_compact(item.to_dict()), ensure_ascii=False) + "\n")


def _compact(d: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in d.items() if v not in (None, [], "", 0) or k in ("item_id", "title")}


# ---------------------------------------------------------------------------
# loading


@dataclass(frozen=True)
class ColumnMapping:
    """Which source column holds each item field. ``None`` means the field is absent."""

    id: str = "item_id"
    title: str = "title"
    year: str | None = "year"
    genres: str | None = "genres"
    directors: str | None = "directors"
    cast: str | None = "cast"
    tags: str | None = "tags"
    mentions: str | None = "mentions"
    aliases: str | None = "aliases"
    text: str | None = "text"
    list_separator: str = "|"

    @classmethod
    def parse(cls, spec: str | Mapping[str, str] | None) -> ColumnMapping:
        """From ``"id=movieId,title=name"`` or a dict; unknown fields raise :class:`CatalogError`."""
        if spec is None or spec == "":
            return cls()
        if isinstance(spec, str):
            pairs = {}
            for part in spec.split(","):
                if "=" not in part:
                    raise CatalogError(f"column mapping: expected FIELD=COLUMN, got {part!r}")
                key, value = part.split("=", 1)
                pairs[key.strip()] = value.strip()
            spec = pairs
        allowed = {f for f in cls.__dataclass_fields__ if f != "list_separator"}
        unknown = set(spec) - allowed - {"list_separator"}
        if unknown:
            raise CatalogError(
                f"column mapping: unknown field(s) {sorted(unknown)}; allowed: {sorted(allowed)}"
            )
        return cls(**spec)


def load_catalog(
    source: str | Path, columns: ColumnMapping | str | Mapping[str, str] | None = None
) -> Catalog:
    """Load and validate a catalogue.

    ``source`` is a ``.csv``, ``.jsonl``/``.json`` (optionally ``.gz``) or ``.parquet``
    file, a directory written by ``datasets.Dataset.save_to_disk``, or a Hugging Face
    Hub dataset id (``hf://owner/name`` or ``owner/name`` when no such path exists).
    Errors name the file, row and field.
    """
    mapping = columns if isinstance(columns, ColumnMapping) else ColumnMapping.parse(columns)
    name = str(source)
    path = Path(source)
    if name.startswith("hf://") or (not path.exists() and re.fullmatch(r"[\w.-]+/[\w.-]+", name)):
        rows = _hub_rows(name.removeprefix("hf://"))
    elif not path.exists():
        raise CatalogError(f"{name}: catalogue file not found")
    elif path.is_dir():
        rows = _saved_dataset_rows(path)
    else:
        suffixes = [s.lower() for s in path.suffixes]
        if suffixes[-1:] == [".gz"]:
            suffixes = suffixes[:-1]
        kind = suffixes[-1] if suffixes else ""
        if kind == ".csv":
            rows = _csv_rows(path)
        elif kind in (".jsonl", ".json", ".ndjson"):
            rows = _jsonl_rows(path)
        elif kind == ".parquet":
            rows = _parquet_rows(path)
        else:
            raise CatalogError(
                f"{name}: unsupported catalogue format {kind or '(no extension)'!r}; "
                "use .csv, .jsonl, .json, .parquet, a saved datasets directory or a Hub id"
            )
    items = []
    first_seen: dict[str, str] = {}
    for pos, row in rows:
        item = _row_to_item(row, pos, name, mapping)
        for key in (item.item_id, *item.aliases):
            if key in first_seen:  # name the file position, not the in-memory row
                raise CatalogError(
                    f"{name}: {pos}: field {mapping.id!r}: duplicate id {key!r} "
                    f"(first used at {first_seen[key]})"
                )
            first_seen[key] = pos
        items.append(item)
    if not items:  # else it surfaced much later, as "index: no items to index", with no file named
        raise CatalogError(f"{name}: the catalogue is empty (no item rows)")
    return Catalog(items, source=name)


def _open_text(path: Path) -> str:
    raw = path.read_bytes()
    if path.suffix.lower() == ".gz":
        try:
            raw = gzip.decompress(raw)
        except OSError as exc:
            raise CatalogError(f"{path}: not a valid gzip file ({exc})") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise CatalogError(
            f"{path}: line {line}: not valid UTF-8 (byte {raw[exc.start]:#x} at offset {exc.start}); "
            "re-save the file as UTF-8"
        ) from None


def _jsonl_rows(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    text = _open_text(path)
    stripped = text.lstrip()
    if stripped.startswith("["):  # a JSON array
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise CatalogError(f"{path}: line {exc.lineno}: invalid JSON ({exc.msg})") from None
        for i, row in enumerate(data):
            if not isinstance(row, dict):
                raise CatalogError(f"{path}: row {i + 1}: expected an object, got {type(row).__name__}")
            yield f"row {i + 1}", row
        return
    for lineno, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        try:
            row = json.loads(line)
        except json.JSONDecodeError as exc:
            raise CatalogError(f"{path}: line {lineno}: invalid JSON ({exc.msg})") from None
        if not isinstance(row, dict):
            raise CatalogError(f"{path}: line {lineno}: expected an object, got {type(row).__name__}")
        yield f"line {lineno}", row


def _csv_rows(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    """Rows of a CSV file, each named by the physical line it starts on.

    The ``csv`` module rather than pandas: its ``line_num`` counts physical lines, so a row after
    a quoted field that spans lines is still named by the line an editor shows.
    """
    import csv
    import io

    reader = csv.reader(io.StringIO(_open_text(path), newline=""), strict=True)
    try:
        header = next(reader, None)
        if header is None:
            return
        duplicated = sorted({c for c in header if header.count(c) > 1})
        if duplicated:
            raise CatalogError(f"{path}: line 1: duplicate column name(s) {duplicated}")
        while True:
            start = reader.line_num + 1
            row = next(reader, None)
            if row is None:
                return
            if not row:  # a blank line
                continue
            if len(row) > len(header):
                raise CatalogError(
                    f"{path}: line {start}: {len(row)} fields, but the header names {len(header)}"
                )
            values = {k: (v if v != "" else None) for k, v in zip(header, row, strict=False)}  # short rows: the rest are empty
            yield f"line {start}", {**dict.fromkeys(header), **values}
    except csv.Error as exc:
        raise CatalogError(f"{path}: line {reader.line_num}: cannot parse CSV ({exc})") from None


def _frame_rows(frame: Any) -> Iterator[tuple[str, dict[str, Any]]]:
    for i, row in enumerate(frame.to_dict(orient="records")):
        yield f"row {i + 1}", row


def _parquet_rows(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    import pandas as pd

    try:
        frame = pd.read_parquet(path)
    except Exception as exc:
        raise CatalogError(f"{path}: cannot read Parquet ({exc})") from None
    return _frame_rows(frame)


def _saved_dataset_rows(path: Path) -> Iterator[tuple[str, dict[str, Any]]]:
    import datasets

    try:
        ds = datasets.load_from_disk(str(path))
    except Exception as exc:
        raise CatalogError(
            f"{path}: not a directory written by datasets' save_to_disk ({exc})"
        ) from None
    if isinstance(ds, datasets.DatasetDict):
        split = "train" if "train" in ds else next(iter(ds))
        ds = ds[split]
    return ((f"row {i + 1}", row) for i, row in enumerate(ds))


def _hub_rows(repo_id: str) -> Iterator[tuple[str, dict[str, Any]]]:
    import datasets

    try:
        ds = datasets.load_dataset(repo_id, split="train")
    except Exception as exc:
        raise CatalogError(f"hf://{repo_id}: cannot load Hub dataset ({exc})") from None
    return ((f"row {i + 1}", row) for i, row in enumerate(ds))


def _is_missing(value: Any) -> bool:
    if value is None:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _as_list(value: Any, where: str, field_name: str, sep: str) -> tuple[str, ...]:
    if _is_missing(value):
        return ()
    if isinstance(value, str):
        s = value.strip()
        if s.startswith("["):
            try:
                value = json.loads(s)
            except json.JSONDecodeError:
                value = [p for p in s.split(sep)]
        else:
            value = s.split(sep)
    if hasattr(value, "tolist"):  # numpy arrays from Parquet
        value = value.tolist()
    if not isinstance(value, Sequence) or isinstance(value, (str, bytes)):
        raise CatalogError(
            f"{where}: field {field_name!r} must be a list or a {sep!r}-separated string, "
            f"got {type(value).__name__}"
        )
    out = []
    for v in value:
        if _is_missing(v):
            continue
        if not isinstance(v, (str, int, float)):
            raise CatalogError(f"{where}: field {field_name!r} holds a {type(v).__name__}, expected text")
        out.append(str(v).strip())
    if len(out) > MAX_LIST_FIELD_ITEMS:
        raise CatalogError(
            f"{where}: field {field_name!r} has {len(out)} entries (limit {MAX_LIST_FIELD_ITEMS})"
        )
    return tuple(out)


def _row_to_item(row: Mapping[str, Any], pos: str, source: str, m: ColumnMapping) -> Item:
    where = f"{source}: {pos}"

    def get(col: str | None) -> Any:
        return None if col is None else row.get(col)

    if m.id not in row:
        raise CatalogError(
            f"{where}: missing id column {m.id!r} (columns: {sorted(row)}); "
            "map it with a column mapping such as id=movieId"
        )
    raw_id = row[m.id]
    if _is_missing(raw_id):
        raise CatalogError(f"{where}: field {m.id!r} (id) is empty")
    if isinstance(raw_id, float) and raw_id.is_integer():
        raw_id = int(raw_id)
    if not isinstance(raw_id, (str, int)) or isinstance(raw_id, bool):
        raise CatalogError(f"{where}: field {m.id!r} (id) must be text or an integer, got {raw_id!r}")
    item_id = str(raw_id).strip()
    if len(item_id) > MAX_ID_CHARS:  # the feedback store keeps ids up to this; refuse at the source
        raise CatalogError(f"{where}: field {m.id!r} (id) has {len(item_id)} characters (limit {MAX_ID_CHARS})")

    title = get(m.title)
    if _is_missing(title):
        raise CatalogError(f"{where}: field {m.title!r} (title) is missing or empty (id {item_id!r})")
    if not isinstance(title, str):
        raise CatalogError(f"{where}: field {m.title!r} (title) must be text, got {title!r}")
    title = " ".join(title.split())
    if len(title) > MAX_TITLE_CHARS:
        raise CatalogError(
            f"{where}: field {m.title!r} (title) has {len(title)} characters (limit {MAX_TITLE_CHARS})"
        )

    year = get(m.year)
    if _is_missing(year):
        year = None
    else:
        try:
            year_f = float(year)
            if not year_f.is_integer():
                raise ValueError
            year = int(year_f)
        except (TypeError, ValueError):
            raise CatalogError(f"{where}: field {m.year!r} (year) must be an integer, got {year!r}") from None
        if not 1800 <= year <= 2200:
            raise CatalogError(f"{where}: field {m.year!r} (year) out of range 1800-2200: {year}")

    mentions = get(m.mentions)
    if _is_missing(mentions):
        mentions = 0
    else:
        try:
            mentions_f = float(mentions)
        except (TypeError, ValueError):
            mentions_f = math.nan
        # inf used to reach int() and crash `index build` with an OverflowError
        if not (math.isfinite(mentions_f) and mentions_f >= 0):
            raise CatalogError(
                f"{where}: field {m.mentions!r} (mentions) must be a finite number >= 0, got {mentions!r}"
            )
        mentions = int(mentions_f)

    text = get(m.text)
    if _is_missing(text):
        text = None
    elif not isinstance(text, str):
        raise CatalogError(f"{where}: field {m.text!r} (text) must be text, got {type(text).__name__}")

    sep = m.list_separator
    return Item(
        item_id=item_id,
        title=title,
        year=year,
        genres=_as_list(get(m.genres), where, m.genres or "genres", sep),
        directors=_as_list(get(m.directors), where, m.directors or "directors", sep),
        cast=_as_list(get(m.cast), where, m.cast or "cast", sep),
        tags=_as_list(get(m.tags), where, m.tags or "tags", sep),
        mentions=mentions,
        aliases=tuple(a for a in _as_list(get(m.aliases), where, m.aliases or "aliases", sep) if a != item_id),
        text=text,
    )
