"""Build the bundled default catalogue and interactions from ../shared/data.

``python -m workbench data build-default`` reads the licence-clean ReDial movie
metadata and the ReDial *train* split, and writes into ``assets/``:

* ``catalog.jsonl.gz``: facts only (id, title, year, genres, directors, cast,
  tags, mention count, alias ids). Never the Wikipedia ``description`` prose.
* ``interactions.csv.gz``: (conversation id, movie id, signal) derived from the
  seekers' ``initiatorQuestions`` in ``train.jsonl``. No dialogue text, and
  nothing from ``test.jsonl`` (kept for evaluation).
* ``ATTRIBUTION.md``: the licences and credits that travel with those files.

ReDial lists some films under several ids ("X-Men (2000)" twice, "Heat" as both
1995 and 1996). Rows with the same normalised title and the same year, or years
one apart with the same directors or leading cast, collapse into one item; the
most-mentioned id becomes canonical and the others become aliases, so
``@alias`` still resolves.
"""

from __future__ import annotations

import json
import re
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

from workbench.catalog import Catalog, Item
from workbench.config import ASSETS_DIR  # the checkout's, or the installed package's data files
from workbench.errors import CatalogError
from workbench.interactions import SIGNAL_VALUES, Interactions
from workbench.text import split_title_year

DEFAULT_CATALOG_PATH = ASSETS_DIR / "catalog.jsonl.gz"
DEFAULT_INTERACTIONS_PATH = ASSETS_DIR / "interactions.csv.gz"
DEFAULT_SHARED_DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"

ATTRIBUTION = """\
# Attribution for the bundled default catalogue

`catalog.jsonl.gz` and `interactions.csv.gz` are derived data.

* Movie ids, names and mention counts, and the like/dislike/suggested signals in
  `interactions.csv.gz`: the ReDial dataset, Raymond Li, Samira Kahou, Hannes Schulz,
  Vincent Michalski, Laurent Charlin, Chris Pal, "Towards Deep Conversational
  Recommendations", NeurIPS 2018. Licence: CC BY 4.0.
* Genres and cast: Wikipedia contributors, CC BY-SA (via github.com/prust/wikipedia-movie-data,
  MIT); fallback genres from the CMU Movie Summary Corpus (Bamman et al., ACL 2013, CC BY-SA)
  and Freebase (CC BY).
* Directors and fallback cast: DBpedia (CC BY-SA 3.0), through the ReDial subgraphs of
  github.com/BitbanChou/LLMKB and github.com/Lancelot39/KGSF.
* Keyword tags (`tags`): single words and short noun phrases extracted by this project from
  the Wikipedia lead of each film's article (Wikipedia contributors, CC BY-SA). No sentence
  of the articles is included.

The derived catalogue table is licensed **CC BY-SA 4.0** (adapted from CC BY-SA 3.0 sources).
The interactions table is licensed **CC BY 4.0**.
"""

#: ReDial ids dropped because the source gives them no title (filled by build_catalog).
UNTITLED_IDS: set[str] = set()



def _norm_title(title: str) -> str:
    return re.sub(r"[^\w]+", " ", title.lower()).strip()


def _signal(answer: dict[str, int]) -> str:
    liked, seen, suggested = answer.get("liked", 2), answer.get("seen", 2), answer.get("suggested", 0)
    if liked == 1:
        return "liked"
    if liked == 0:
        return "disliked"
    if suggested == 1:
        return "suggested"
    if seen == 1:
        return "seen"
    return "mentioned"


def _same_film(a: dict[str, Any], b: dict[str, Any]) -> bool:
    """Two ReDial rows with the same title, years at most one apart, and the same people."""
    if not (a.get("year") and b.get("year")) or abs(int(a["year"]) - int(b["year"])) > 1:
        return False
    if a.get("directors") and a.get("directors") == b.get("directors"):
        return True
    return bool(a.get("cast")) and list(a["cast"])[:3] == list(b.get("cast") or [])[:3]


def _merge_near_duplicates(groups: list[list[dict[str, Any]]]) -> list[list[dict[str, Any]]]:
    """Merge groups that are one film listed under years one apart ("Heat" 1995 and 1996)."""
    by_title: dict[str, list[int]] = defaultdict(list)
    for g, members in enumerate(groups):
        by_title[_norm_title(members[0]["_title"])].append(g)
    parent = list(range(len(groups)))

    def find(g: int) -> int:
        while parent[g] != g:
            parent[g] = parent[parent[g]]
            g = parent[g]
        return g

    for ids in by_title.values():
        for i, gi in enumerate(ids):
            for gj in ids[i + 1 :]:
                if any(_same_film(a, b) for a in groups[gi] for b in groups[gj]):
                    parent[find(gj)] = find(gi)
    merged: dict[int, list[dict[str, Any]]] = defaultdict(list)
    for g, members in enumerate(groups):
        merged[find(g)].extend(members)
    return list(merged.values())


#: Cast cells that are a caption, not a person: Wikipedia's infobox writes "Voices of" before an
#: animated film's voice cast, and the scrape kept it as a cast member (issue 16, item 17).
_CAST_CAPTION = re.compile(r"^\s*voices?\s+of\b[:\s]*", re.IGNORECASE)


def clean_cast(cast: list[str]) -> list[str]:
    """Cast names without the "Voices of" caption (a leading "Voices of X" keeps X)."""
    out = []
    for name in cast:
        name = _CAST_CAPTION.sub("", name).strip()
        if name and name not in out:
            out.append(name)
    return out


def build_catalog(
    metadata_path: Path, tagger: Callable[[dict[str, Any]], list[str]] | None = None
) -> Catalog:
    """Collapse duplicate films and keep facts only.

    ``tagger`` receives a raw metadata row (with its ``description``) and returns
    keyword tags; only those tags, never the prose, reach the catalogue.
    """
    rows = []
    with open(metadata_path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            try:
                rows.append(json.loads(line))
            except json.JSONDecodeError as exc:
                raise CatalogError(f"{metadata_path}: line {lineno}: invalid JSON ({exc.msg})") from None
    groups: dict[tuple[str, int] | str, list[dict[str, Any]]] = defaultdict(list)
    for row in rows:
        title = (row.get("title") or "").strip() or split_title_year(row["movieName"])[0]
        if not title:
            # ReDial has a couple of rows with no name at all (" (2007)"): nothing to show a user.
            UNTITLED_IDS.add(str(row["movieId"]))
            continue
        row["_title"] = " ".join(title.split())
        key: tuple[str, int] | str = (
            (_norm_title(row["_title"]), int(row["year"])) if row.get("year") else f"id:{row['movieId']}"
        )
        groups[key].append(row)

    items = []
    for members in _merge_near_duplicates(list(groups.values())):
        members.sort(key=lambda r: (-int(r.get("nbMentions") or 0), int(r["movieId"])))
        head = members[0]
        # ReDial sometimes labels a film a year off ("Heat (1996)"); prefer the year that matched
        # the Wikipedia article exactly when one of the merged rows has it.
        exact_years = [m["year"] for m in members if m.get("match_wikipedia") == "title+year" and m.get("year")]
        year = exact_years[0] if exact_years else head.get("year")

        def first(field: str, members: list[dict[str, Any]] = members) -> list[str]:
            for m in members:
                values = [" ".join(str(v).split()) for v in (m.get(field) or [])]
                values = [v for v in values if v]
                if values:
                    return values
            return []

        tags = tagger(head) if tagger else []
        items.append(
            Item(
                item_id=str(head["movieId"]),
                title=head["_title"],
                year=int(year) if year else None,
                genres=tuple(first("genres")),
                directors=tuple(first("directors")),
                cast=tuple(clean_cast(first("cast"))),
                tags=tuple(tags),
                mentions=sum(int(m.get("nbMentions") or 0) for m in members),
                aliases=tuple(str(m["movieId"]) for m in members[1:]),
            )
        )
    # Most-mentioned first: a stable, useful order for browsing and for ties.
    items.sort(key=lambda it: (-it.mentions, int(it.item_id)))
    return Catalog(items, source=str(metadata_path))


def build_interactions(train_path: Path, catalog: Catalog) -> Interactions:
    """Seekers' stated likes/dislikes/suggestions per conversation, mapped to canonical ids."""
    rows = []
    with open(train_path, encoding="utf-8") as f:
        for lineno, line in enumerate(f, start=1):
            conv = json.loads(line)
            user = f"redial:{conv['conversationId']}"
            seen_items: dict[str, str] = {}
            for movie_id, answer in (conv.get("initiatorQuestions") or {}).items():
                item = catalog.get(str(movie_id))
                if item is None and str(movie_id) in UNTITLED_IDS:
                    continue
                if item is None:
                    raise CatalogError(f"{train_path}: line {lineno}: movie id {movie_id!r} not in catalogue")
                signal = _signal(answer)
                prev = seen_items.get(item.item_id)
                # two alias ids in one conversation: keep the strongest signal
                if prev is None or abs(SIGNAL_VALUES[signal]) > abs(SIGNAL_VALUES[prev]):
                    seen_items[item.item_id] = signal
            for item_id, signal in sorted(seen_items.items()):
                rows.append((user, item_id, signal, SIGNAL_VALUES[signal]))
    return Interactions.from_rows(rows)


def build_default(
    shared_data: Path = DEFAULT_SHARED_DATA,
    out_dir: Path = ASSETS_DIR,
    tagger: Callable[[dict[str, Any]], list[str]] | None = None,
) -> tuple[Catalog, Interactions]:
    """Write the default catalogue, interactions and attribution into ``out_dir``."""
    meta = shared_data / "movie-metadata" / "redial_catalogue.jsonl"
    train = shared_data / "redial" / "train.jsonl"
    for p in (meta, train):
        if not p.exists():
            raise CatalogError(f"{p}: not found; pass --shared-data pointing at the shared data folder")
    catalog = build_catalog(meta, tagger=tagger)
    interactions = build_interactions(train, catalog)
    out_dir.mkdir(parents=True, exist_ok=True)
    catalog.save_jsonl(out_dir / "catalog.jsonl.gz")
    interactions.save_csv(out_dir / "interactions.csv.gz")
    (out_dir / "ATTRIBUTION.md").write_text(ATTRIBUTION, encoding="utf-8")
    return catalog, interactions
