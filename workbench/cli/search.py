"""``python -m workbench search "QUERY"``: hybrid search of a catalogue from the command line.

The model and catalogue default to what the index was built with (its
``meta.json``), then to the settings.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from workbench.config import PROJECT_ROOT, Settings
from workbench.manifest import peek_manifest


def register(sub: argparse._SubParsersAction) -> None:
    s = Settings.from_env()
    p = sub.add_parser("search", help="search the catalogue with a free-text query")
    p.add_argument("query", help="what to look for, e.g. 'space opera with jedi'")
    p.add_argument("-k", type=int, default=10, help="number of items (default: 10)")
    p.add_argument("--index", default=None, help=f"index directory (default: {s.index_dir})")
    p.add_argument("--catalog", default=None, help="catalogue (default: the one the index was built from)")
    p.add_argument("--columns", default=None, help="column mapping of --catalog")
    p.add_argument("--model", default=None, help="embedding model (default: the index's model)")
    p.add_argument("--json", action="store_true", help='print {"query", "items": [{item_id, title, score}]}')
    p.set_defaults(func=_search)


def _search(args: argparse.Namespace) -> int:
    from workbench.catalog import load_catalog
    from workbench.errors import WorkbenchError
    from workbench.retrieval.embed import load_embedder
    from workbench.retrieval.hybrid import open_retriever
    from workbench.services import require_saved_index

    if not 1 <= args.k <= 1000:
        raise WorkbenchError(f"search: -k must be 1-1000, got {args.k}")
    s = Settings.from_env()
    index_dir = Path(args.index or s.index_dir)
    require_saved_index(s, index_dir)  # a mistyped --index stops here instead of encoding the catalogue
    meta = peek_manifest(index_dir) or {}  # a broken manifest: open_retriever says so below
    catalog_path = args.catalog
    columns = args.columns
    if catalog_path is None:
        source = meta.get("catalog_source")
        candidates = [Path(source), PROJECT_ROOT / source] if source else []
        found = next((c for c in candidates if c.exists()), None)
        catalog_path = str(found) if found else s.catalog
        if columns is None and found:
            columns = meta.get("catalog_columns")
    if columns is None:
        columns = s.catalog_columns
    catalog = load_catalog(catalog_path, columns or None)
    embedder = load_embedder(args.model or meta.get("model_id") or s.embed_model, s.device)
    retriever = open_retriever(catalog, embedder, index_dir)
    results = retriever.search(args.query, k=args.k)
    if args.json:
        items = [
            {"item_id": r.item_id, "title": catalog[r.item_id].title, "score": round(float(r.score), 6)}
            for r in results
        ]
        json.dump({"query": args.query, "items": items}, sys.stdout, ensure_ascii=False)
        sys.stdout.write("\n")
        return 0
    if not len(results):
        print("no items found")
        return 0
    print(f"{'#':>3}  {'id':>8}  {'score':>6}  title (year)")
    for rank, r in enumerate(results, start=1):
        item = catalog[r.item_id]
        year = f" ({item.year})" if item.year else ""
        print(f"{rank:>3}  {r.item_id:>8}  {r.score:6.3f}  {item.title}{year}")
    return 0
