"""``python -m workbench index build``: embed a catalogue and save a FAISS item index."""

from __future__ import annotations

import argparse
import time

from workbench.config import INDEX_KINDS, Settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("index", help="build item indexes")
    isub = p.add_subparsers(dest="index_command", metavar="ACTION", required=True)
    s = Settings.from_env()
    b = isub.add_parser(
        "build", help="embed a catalogue and save its FAISS index (with a meta.json manifest)"
    )
    b.add_argument("--catalog", default=None, help=f"catalogue file or dataset (default: {s.catalog})")
    b.add_argument("--columns", default=None, help="column mapping, e.g. id=movieId,title=name")
    b.add_argument("--out", default=None, help=f"index directory (default: {s.index_dir})")
    b.add_argument("--model", default=None, help=f"embedding model id or path (default: {s.embed_model})")
    b.add_argument("--kind", default=None, choices=INDEX_KINDS, help=f"index kind (default: {s.index_kind})")
    b.add_argument("--device", default=None, help=f"torch device (default: {s.device})")
    b.add_argument("--no-cache", action="store_true", help="do not read or write the embedding cache")
    b.set_defaults(func=_build)


def _build(args: argparse.Namespace) -> int:
    from workbench.catalog import load_catalog
    from workbench.retrieval.embed import load_embedder
    from workbench.retrieval.hybrid import build_index

    s = Settings.from_env()
    catalog_path = args.catalog or s.catalog
    columns = args.columns if args.columns is not None else s.catalog_columns
    out = args.out or s.index_dir
    start = time.perf_counter()
    catalog = load_catalog(catalog_path, columns or None)
    embedder = load_embedder(
        args.model or s.embed_model, args.device or s.device, None if args.no_cache else s.cache_dir
    )
    index = build_index(
        catalog, embedder, kind=args.kind or s.index_kind, show_progress=True,
        extra_meta={"catalog_columns": columns} if columns else None,
    )
    index.save(out)
    print(
        f"indexed {len(index)} items ({index.meta['kind']}, {index.dimension} dims, "
        f"model {embedder.model_id}) in {time.perf_counter() - start:.1f}s -> {out}"
    )
    return 0

