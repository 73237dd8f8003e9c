"""Arena turn latency: two systems answering at once, next to one system's turn, in the same run.

Builds the app's services from the settings (default catalogue, saved index, the cached hybrid
recommender; template generators, so the numbers are the engine's and the arena's own cost) and
an :class:`~workbench.arena.service.ArenaService` pairing ``default`` (the app's engine) with
``baseline`` (popularity only). Each message opens a new conversation and a follow-up continues
it. Timed per turn: ``one system`` (the ``default`` system's engine streaming its turn to the end)
and ``arena pair`` (:meth:`ArenaService.stream_pair`: both systems in two threads, until both
finished), interleaved (which runs first alternates: warm caches and load changes hit both alike),
each on a new thread (as each arena side runs; see :func:`on_fresh_thread`). Prints a table and writes
``bench/results/arena_turn.json`` with the machine's load average.

    nice python bench/arena_turn.py [--rounds N]
"""

from __future__ import annotations

import argparse
import os
import random
import sys
import threading
import time
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from _common import percentiles_ms, table, write  # noqa: E402

os.environ.setdefault("HF_HUB_OFFLINE", "1")

MESSAGES = [
    "I loved Toy Story and Up, something for a family night?",
    "a tense heist thriller like Heat",
    "any good science fiction from the 80s?",
    "something funny with Jim Carrey",
    "I want a scary movie but not too gory",
    "romantic comedies from the 90s please",
    "films directed by Christopher Nolan",
    "an animated film for adults",
]
FOLLOW_UPS = ["more like the first one", "something older", "no horror please", "what else?"]


def on_fresh_thread(fn: Any) -> None:
    """Run ``fn`` on a new thread and wait: each arena side runs on one, so the single system does too.

    Measured here (2 cores shared with other jobs, load average ~13): the sentence-transformers
    encode took ~1 s on the main thread, with torch's two intra-op threads fighting the load, and
    15-300 ms on a new thread; timing one system on the main thread would credit the arena with that.
    """
    thread = threading.Thread(target=fn, name="turn")
    thread.start()
    thread.join()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5, help="passes over the messages")
    args = parser.parse_args()

    from workbench.arena.service import ArenaService
    from workbench.config import Settings
    from workbench.services import build_services

    settings = Settings.from_env(generator="template", arena_systems="default,baseline")
    t0 = time.perf_counter()
    services = build_services(settings, load_generator_in_background=False, fit_in_background=False)
    services.background.wait()
    print(f"services ready in {time.perf_counter() - t0:.1f}s", file=sys.stderr)
    arena = ArenaService(services, rng=random.Random(0))
    default = arena.systems["default"]
    engine = arena.engines.engine(default)
    generator = arena.engines.generator(default).generator
    for warm in MESSAGES[:2]:  # first calls pay for lazy loading
        on_fresh_thread(lambda w=warm: engine.respond(engine.new_state("warm"), w, generator=generator))
        on_fresh_thread(lambda w=warm: list(arena.stream_pair(arena.conversation(""), w)))

    single: list[float] = []
    pair: list[float] = []
    for r in range(args.rounds):
        for i, message in enumerate(MESSAGES):
            follow = FOLLOW_UPS[(i + r) % len(FOLLOW_UPS)]
            state = engine.new_state(f"s{r}-{i}")
            conv = arena.conversation("")
            for text in (message, follow):
                def one(text: str = text, state: Any = state) -> None:
                    for _ in engine.stream(state, text, k=default.config["k"], generator=generator):
                        pass

                def both(text: str = text, conv: Any = conv) -> None:
                    for _ in arena.stream_pair(conv, text):
                        pass

                # Alternate which runs first: the second run of a text finds warm caches (filter masks).
                order = [(one, single), (both, pair)][:: 1 if (r + i) % 2 == 0 else -1]
                for run, into in order:
                    t = time.perf_counter()
                    on_fresh_thread(run)
                    into.append(time.perf_counter() - t)
    rows = [{"what": "one system (default)", "turns": len(single), **percentiles_ms(single)},
            {"what": "arena pair (default + baseline, at once)", "turns": len(pair), **percentiles_ms(pair)}]
    print(table(rows, ["what", "turns", "p50_ms", "p99_ms", "mean_ms"]))
    path = write("arena_turn", {"settings": {"generator": "template", "systems": ["default", "baseline"],
                                             "catalog": settings.catalog, "index_dir": settings.index_dir,
                                             "k": settings.k, "rounds": args.rounds},
                                "rows": rows, "command": "nice python bench/arena_turn.py"})
    print(f"wrote {path}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
