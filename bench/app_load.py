"""Benchmark: 20 concurrent gradio_client users x 5 turns against `python app.py` (template generator).

    python bench/app_load.py [--users 20] [--turns 5] [--concurrency 8,0] [--generator template]
                             [--generator-batching] [--clients gradio_client,http,api]

For each ``--concurrency`` (``WORKBENCH_TURN_CONCURRENCY``: 8 was the old fixed value, 0 the
number of CPUs, the new default) it starts the real app on a free port with a temporary feedback
directory, waits until its background work is done, then measures:

* one user alone running a 5-turn conversation, and
* ``--users`` clients, each in its own ``/chat`` session, 5 turns each, all at once;
* the server's own time per turn (``workbench_turn_seconds`` from ``/metrics``), so what a client
  waits beyond it (queue, HTTP, SSE) shows, and the SSE messages one ``/chat`` call streams;
* where the two cores went during the concurrent run: CPU seconds per turn of the server process
  (``/proc/PID/stat``) and of the clients (this process).

Three kinds of client (``--clients``), one after the other against the same server: ``gradio_client``
(one ``Client`` per user, each in its own thread, as the issue measured), ``http``: Gradio's
documented HTTP API (``POST /gradio_api/call/chat``, then the event stream) from one asyncio loop
with ``httpx``, and ``api``: the JSON API beside the queue (``POST /api/v1/chat``, one request per
turn, docs/api.md) from the same kind of loop. Both run on the same 2 cores as the server, and ``gradio_client`` costs about as
much CPU per turn as the server's whole turn does, so its p50 measures the clients as much as the
server; the ``http`` run shows what the server gives when its users' machines are elsewhere.

In the same run, the *compute bound*: the same conversations run by the engine alone in this
process (``build_engine``, as ``python -m workbench chat --json`` does), median turn time x users /
CPUs: the p50 a perfect server would reach when every user waits for everyone else's turns on
the cores. Target: concurrent p50 / compute bound <= 2, 0 errors. Every turn must succeed and
return catalogue items. With ``--generator auto`` (SmolLM2) it also counts the turns that fell back,
with their notes (a missed deadline, or grounding replacing the reply).
Writes ``bench/results/app_load.json`` (with the load average: on a shared machine absolute
numbers are pessimistic; the ratios are measured side by side).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import resource
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from _common import percentile
from app_startup import RESULTS, AppProcess

CONVERSATIONS = [
    ["I loved Toy Story and Up, something for a family night?", "something newer please",
     "more like the first one", "no animation this time", "thanks! one more comedy?"],
    ["no horror please, a 90s thriller like Heat", "with Al Pacino maybe", "something from the 2000s",
     "I've seen Collateral", "any heist films?"],
    ["a sci-fi film about dreams, like Inception", "older ones", "I hated Interstellar",
     "what about space operas with jedi", "more like Star Wars"],
    ["a romantic comedy for date night", "set in Paris", "not too long ago, after 2000",
     "I loved Amélie", "something funnier"],
]


def run_user(url: str, messages: list[str], latencies: list[float], errors: list[str],
             catalog_ids: set[str], start: threading.Barrier | None, fell_back: list[str] | None = None) -> None:
    from gradio_client import Client

    try:
        client = Client(url, verbose=False, download_files=False)
    except Exception as exc:  # a client that cannot connect is an error, not a crash
        errors.append(f"connect: {exc!r}")
        if start is not None:
            start.abort()  # the others would wait for it for ever
        return
    if start is not None:
        try:
            start.wait()
        except threading.BrokenBarrierError:
            errors.append("start: another user could not connect")
            return
    session = ""
    for message in messages:
        t0 = time.perf_counter()
        try:
            out = client.predict(message, session, api_name="/chat")
            session = check_turn(message, out, errors, catalog_ids, fell_back)
        except Exception as exc:
            errors.append(f"turn {message!r}: {exc!r}")
            continue
        latencies.append(time.perf_counter() - t0)


def check_turn(message: str, out: dict, errors: list[str], catalog_ids: set[str],
               fell_back: list[str] | None) -> str:
    """Count ``/chat``'s answer ``out`` (an error if it is empty or names an item not in the catalogue);
    returns its session id."""
    if fell_back is not None:  # why, for a turn that fell back ("" when it did not): the turn's notes
        fell_back.append(" ".join(out.get("notes") or ["(no note)"]) if out["fell_back"] else "")
    bad = [i["item_id"] for i in out["items"] if i["item_id"] not in catalog_ids]
    if bad or not out["reply"]:
        errors.append(f"turn {message!r}: empty reply or unknown items {bad}")
    return out["session_id"]


async def http_user(client, url: str, messages: list[str], latencies: list[float], errors: list[str],
                    catalog_ids: set[str], start: asyncio.Event | None, fell_back: list[str]) -> None:
    """One user through Gradio's HTTP API: ``POST /gradio_api/call/chat``, then read its event stream."""
    if start is not None:
        await start.wait()
    session = ""
    for message in messages:
        t0 = time.perf_counter()
        try:
            posted = await client.post(url + "gradio_api/call/chat", json={"data": [message, session, 0]})
            posted.raise_for_status()
            body = (await client.get(f"{url}gradio_api/call/chat/{posted.json()['event_id']}")).text
            event, out = None, None
            for line in body.splitlines():
                if line.startswith("event:"):
                    event = line.removeprefix("event:").strip()
                elif line.startswith("data:") and event == "complete":
                    out = json.loads(line.removeprefix("data:"))[0]
            if out is None:
                errors.append(f"turn {message!r}: no complete event in {body[:200]!r}")
                continue
            session = check_turn(message, out, errors, catalog_ids, fell_back)
        except Exception as exc:
            errors.append(f"turn {message!r}: {exc!r}")
            continue
        latencies.append(time.perf_counter() - t0)


async def api_user(client, url: str, messages: list[str], latencies: list[float], errors: list[str],
                   catalog_ids: set[str], start: asyncio.Event | None, fell_back: list[str]) -> None:
    """One user through the JSON API: ``POST /api/v1/chat`` (no queue, no event stream)."""
    if start is not None:
        await start.wait()
    session = ""
    for message in messages:
        t0 = time.perf_counter()
        try:
            r = await client.post(url + "api/v1/chat", json={"message": message, "session_id": session, "k": 0})
            if r.status_code != 200:
                errors.append(f"turn {message!r}: HTTP {r.status_code} {r.text[:200]!r}")
                continue
            session = check_turn(message, r.json(), errors, catalog_ids, fell_back)
        except Exception as exc:
            errors.append(f"turn {message!r}: {exc!r}")
            continue
        latencies.append(time.perf_counter() - t0)


def http_users(url: str, conversations: list[list[str]], latencies: list[float], errors: list[str],
               catalog_ids: set[str], started: list[float], fell_back: list[str], user=http_user) -> None:
    """All ``conversations`` at once from one event loop (each one ``user``, :func:`http_user` or
    :func:`api_user`); ``started`` gets the moment they are let go."""
    import httpx

    async def main() -> None:
        start = asyncio.Event()
        limits = httpx.Limits(max_connections=2 * len(conversations) + 4)
        async with httpx.AsyncClient(timeout=300, limits=limits) as client:
            tasks = [asyncio.create_task(user(client, url, c, latencies, errors, catalog_ids, start,
                                                   fell_back)) for c in conversations]
            await asyncio.sleep(0.1)  # every task waits on the event before anyone starts
            started.append(time.perf_counter())
            start.set()
            await asyncio.gather(*tasks)

    asyncio.run(main())


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of process ``pid`` (all its threads) from ``/proc/PID/stat``."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def own_cpu_s() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def turn_metrics(url: str) -> tuple[float, int]:
    """``workbench_turn_seconds`` sum and count from the app's ``/metrics``."""
    import re
    import urllib.request

    text = urllib.request.urlopen(url + "metrics", timeout=10).read().decode()
    total = sum(float(v) for v in re.findall(r"^workbench_turn_seconds_sum\S* (\S+)$", text, re.M))
    count = sum(float(v) for v in re.findall(r"^workbench_turn_seconds_count\S* (\S+)$", text, re.M))
    return total, int(count)


def sse_messages(url: str, message: str) -> int:
    """Server-sent events one ``/chat`` call streams back (Gradio's HTTP API: POST, then GET the events)."""
    import urllib.request

    req = urllib.request.Request(url + "gradio_api/call/chat", data=json.dumps({"data": [message, "", 0]}).encode(),
                                 headers={"Content-Type": "application/json"})
    event_id = json.loads(urllib.request.urlopen(req, timeout=60).read())["event_id"]
    body = urllib.request.urlopen(f"{url}gradio_api/call/chat/{event_id}", timeout=120).read().decode()
    return sum(1 for line in body.splitlines() if line.startswith("event:"))


def engine_alone(conversations: list[list[str]], repeats: int = 2, pieces: list[int] | None = None) -> list[float]:
    """Seconds per turn of ``conversations`` run by the engine alone (no server), after one warm-up pass.

    ``pieces`` collects how many text pieces each reply streams: what a browser tab's turn sends
    as UI updates (the grounder releases whole sentences, so a reply is a handful, not one per token).
    """
    from workbench.config import Settings
    from workbench.services import build_engine

    engine = build_engine(Settings(generator="template"))
    times: list[float] = []
    for rep in range(repeats + 1):
        for c, messages in enumerate(conversations):
            state = engine.new_state(f"bench-{rep}-{c}")
            for message in messages:
                t0 = time.perf_counter()
                n = sum(1 for p in engine.stream(state, message) if isinstance(p, str))
                if rep:  # the first pass warms caches (title index, CF) and is not counted
                    times.append(time.perf_counter() - t0)
                    if pieces is not None:
                        pieces.append(n)
    return times


def handler_alone(turns: int) -> list[float]:
    """Seconds per turn of the ``/chat`` handler called directly (``chat_api``: sessions, engine, JSON), no HTTP."""
    import tempfile

    from workbench.config import Settings
    from workbench.services import build_services
    from workbench.ui.api import chat_api, make_registry

    scratch = tempfile.mkdtemp(prefix="app-load-")  # the handler's stores write here, never into the repo
    services = build_services(Settings(generator="template", feedback_dir=f"{scratch}/feedback"),
                              load_generator_in_background=False, fit_in_background=False)
    registry = make_registry(services)
    times: list[float] = []
    for rep in range(2):
        for messages in CONVERSATIONS:
            session = ""
            for message in messages[:turns]:
                t0 = time.perf_counter()
                session = chat_api(services, registry, message, session, 0, "ip:bench")["session_id"]
                if rep:
                    times.append(time.perf_counter() - t0)
    return times


def engine_alone_process(turns: int) -> tuple[list[float], list[int], list[float]]:
    """:func:`engine_alone` in a fresh process (as ``python -m workbench chat --json`` runs the engine):
    this one still holds 20 clients' threads, which would take the GIL from the engine."""
    import subprocess
    import sys

    out = subprocess.run([sys.executable, __file__, "--engine-only", "--turns", str(turns)], check=True,
                         capture_output=True, text=True, cwd=Path(__file__).resolve().parent).stdout
    data = json.loads(out.strip().splitlines()[-1])
    return data["times"], data["pieces"], data["handler"]


def concurrent_run(kind: str, app: AppProcess, args: argparse.Namespace, catalog_ids: set[str]) -> dict:
    """``args.users`` users of client ``kind`` at once, 5 turns each; latencies and the CPU split."""
    conversations = [CONVERSATIONS[u % len(CONVERSATIONS)][: args.turns] for u in range(args.users)]
    latencies: list[float] = []
    errors: list[str] = []
    fell_back: list[str] = []
    before = turn_metrics(app.url)
    if kind == "gradio_client":
        barrier = threading.Barrier(args.users + 1)  # the users connect first; the clock starts at release
        threads = [threading.Thread(target=run_user, args=(app.url, c, latencies, errors, catalog_ids, barrier,
                                                           fell_back)) for c in conversations]
        for t in threads:
            t.start()
        try:
            barrier.wait()
        except threading.BrokenBarrierError:  # a user could not connect: its error is counted
            pass
        t0, server0, client0 = time.perf_counter(), process_cpu_s(app.proc.pid), own_cpu_s()
        for t in threads:
            t.join()
    else:
        started: list[float] = []
        server0, client0 = process_cpu_s(app.proc.pid), own_cpu_s()
        http_users(app.url, conversations, latencies, errors, catalog_ids, started, fell_back,
                   user=api_user if kind == "api" else http_user)
        t0 = started[0] if started else time.perf_counter()
    wall = time.perf_counter() - t0
    server_cpu, client_cpu = process_cpu_s(app.proc.pid) - server0, own_cpu_s() - client0
    after = turn_metrics(app.url)
    served = after[1] - before[1]
    done = max(1, len(latencies))
    return {"client": kind, "turns": len(latencies), "expected_turns": args.users * args.turns,
            "errors": len(errors), "error_samples": errors[:5],
            "p50_ms": round(percentile(latencies, 50) * 1000, 1),
            "p99_ms": round(percentile(latencies, 99) * 1000, 1),
            "max_ms": round(max(latencies, default=float("nan")) * 1000, 1),
            "server_turn_mean_ms": round((after[0] - before[0]) / max(1, served) * 1000, 1),
            "server_cpu_ms_per_turn": round(server_cpu / done * 1000, 1),
            "client_cpu_ms_per_turn": round(client_cpu / done * 1000, 1),
            "fell_back": sum(map(bool, fell_back)),
            "fell_back_why": dict(Counter(why for why in fell_back if why).most_common()),
            "wall_s": round(wall, 2), "turns_per_s": round(len(latencies) / wall, 2)}


def one_server(concurrency: int, args: argparse.Namespace, catalog_ids: set[str]) -> dict:
    """Start the app with ``turn_concurrency``; time one user alone, then ``args.users`` at once,
    once per client kind."""
    workdir = Path(tempfile.mkdtemp(prefix="bench-load-"))
    app = AppProcess(workdir / "app.log", generator=args.generator, feedback_dir=str(workdir / "feedback"),
                     turn_concurrency=str(concurrency), generator_batching=str(args.generator_batching).lower())
    try:
        app.wait_until_served()
        app.wait_until_idle()
        sse = sse_messages(app.url, CONVERSATIONS[1][0])
        alone: list[float] = []
        alone_errors: list[str] = []
        run_user(app.url, CONVERSATIONS[0][: args.turns], alone, alone_errors, catalog_ids, None)
        runs = [concurrent_run(kind, app, args, catalog_ids) for kind in args.clients.split(",")]
    finally:
        app.stop()
    return {
        "turn_concurrency": concurrency or os.cpu_count(),
        "turn_concurrency_setting": concurrency,
        "sse_messages_per_chat_call": sse,
        "alone": {"turns": len(alone), "errors": len(alone_errors),
                  "p50_ms": round(percentile(alone, 50) * 1000, 1),
                  "p99_ms": round(percentile(alone, 99) * 1000, 1)},
        "concurrent": runs[0],  # the first client kind (gradio_client by default), as earlier runs reported
        "runs": runs,
        "zero_errors": not alone_errors and all(not r["errors"] and r["turns"] == r["expected_turns"] for r in runs),
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--users", type=int, default=20)
    parser.add_argument("--turns", type=int, default=5)
    parser.add_argument("--concurrency", default="8,0",
                        help="comma-separated WORKBENCH_TURN_CONCURRENCY values to compare (0: the CPUs)")
    parser.add_argument("--generator", default="template", help="WORKBENCH_GENERATOR of the app")
    parser.add_argument("--generator-batching", action="store_true", help="WORKBENCH_GENERATOR_BATCHING=true")
    parser.add_argument("--clients", default="gradio_client,http,api",
                        help="client kinds to run, one after the other: gradio_client, http, api")
    parser.add_argument("--out", default="", help="file name under bench/results/ (default: app_load.json, "
                        "or app_load_<generator>.json)")
    parser.add_argument("--engine-only", action="store_true", help=argparse.SUPPRESS)  # the engine-alone child
    args = parser.parse_args()
    if args.engine_only:
        pieces: list[int] = []
        times = engine_alone([c[: args.turns] for c in CONVERSATIONS], repeats=1, pieces=pieces)
        print(json.dumps({"times": times, "pieces": pieces, "handler": handler_alone(args.turns)}))
        return 0

    import sys

    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    from workbench.catalog import load_catalog
    from workbench.config import Settings

    catalog_ids = set()
    for item in load_catalog(Settings().catalog):
        catalog_ids.add(item.item_id)
        catalog_ids.update(item.aliases)

    load_start = os.getloadavg()[0]
    conversations = [c[: args.turns] for c in CONVERSATIONS]
    # the users' turns: user u runs conversation u % 4, so weight each conversation by its users
    users_per_conv = [sum(1 for u in range(args.users) if u % len(CONVERSATIONS) == c) for c in range(len(CONVERSATIONS))]
    servers = []
    engine_times: list[float] = []
    pieces: list[int] = []
    handler_times: list[float] = []
    for concurrency in (int(c) for c in args.concurrency.split(",")):
        servers.append(one_server(concurrency, args, catalog_ids))
        per_turn, more, handler = engine_alone_process(args.turns)  # interleaved with the servers: same load
        pieces += more
        handler_times += handler
        n = len(per_turn) // len(conversations) if conversations else 0
        for c in range(len(conversations)):
            engine_times += per_turn[c * n:(c + 1) * n] * users_per_conv[c]
    cpus = os.cpu_count() or 1
    engine_p50 = percentile(engine_times, 50)
    bound_ms = engine_p50 * args.users / cpus * 1000
    for s in servers:
        for r in s["runs"]:
            r["ratio_p50_over_compute_bound"] = round(r["p50_ms"] / bound_ms, 2)
        s["ratio_p50_over_compute_bound"] = s["concurrent"]["ratio_p50_over_compute_bound"]
        s["concurrent_over_alone_p50"] = round(s["concurrent"]["p50_ms"] / s["alone"]["p50_ms"], 2)
    result = {
        "benchmark": "app_load",
        "generator": args.generator,
        "generator_batching": args.generator_batching,
        "users": args.users,
        "turns_per_user": args.turns,
        "engine_alone_turn_p50_ms": round(engine_p50 * 1000, 1),
        "compute_bound_p50_ms": round(bound_ms, 1),
        "compute_bound": "engine-alone median turn x users / cpus",
        "handler_alone_turn_p50_ms": round(percentile(handler_times, 50) * 1000, 1),
        "streamed_pieces_per_reply_p50": percentile(pieces, 50),
        "streamed_pieces_per_reply_max": max(pieces, default=0),
        "target": "concurrent p50 / compute bound <= 2, 0 errors",
        "servers": servers,
        "machine": {"cpu_count": cpus, "platform": platform.platform(),
                    "python": platform.python_version(), "load_avg_1m_at_start": load_start,
                    "load_avg_1m_at_end": os.getloadavg()[0],
                    "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())},
    }
    result["zero_errors"] = all(s["zero_errors"] for s in servers)

    print(f"engine alone: median turn {result['engine_alone_turn_p50_ms']} ms -> compute bound "
          f"{result['compute_bound_p50_ms']} ms ({args.users} users / {cpus} CPUs); the /chat handler alone "
          f"{result['handler_alone_turn_p50_ms']} ms; a reply streams "
          f"{result['streamed_pieces_per_reply_p50']} pieces (p50, max {result['streamed_pieces_per_reply_max']})")
    print(f"{'concurrency':<12} {'run':<28} {'turns':>6} {'errors':>7} {'p50 ms':>8} {'p99 ms':>8} "
          f"{'server ms':>10} {'srv CPU':>8} {'cli CPU':>8} {'SSE/call':>8} {'p50/bound':>10}")
    for s in servers:
        a = s["alone"]
        print(f"{s['turn_concurrency']:<12} {'1 user alone (gradio_client)':<28} {a['turns']:>6} {a['errors']:>7} "
              f"{a['p50_ms']:>8.1f} {a['p99_ms']:>8.1f}")
        for c in s["runs"]:
            label = f"{args.users} users ({c['client']})"
            print(f"{s['turn_concurrency']:<12} {label:<28} {c['turns']:>6} "
                  f"{c['errors']:>7} {c['p50_ms']:>8.1f} {c['p99_ms']:>8.1f} {c['server_turn_mean_ms']:>10.1f} "
                  f"{c['server_cpu_ms_per_turn']:>8.1f} {c['client_cpu_ms_per_turn']:>8.1f} "
                  f"{s['sse_messages_per_chat_call']:>8} {c['ratio_p50_over_compute_bound']:>10.2f}")
            if args.generator != "template":
                print(f"    turns that fell back to the template: {c['fell_back']} of {c['turns']}")
    print("srv CPU / cli CPU: CPU ms per turn of the server process and of the clients (this process), "
          "during the concurrent run, on the same cores")
    print(f"load average {load_start:.1f} -> {os.getloadavg()[0]:.1f}; zero errors: {result['zero_errors']}")
    RESULTS.mkdir(parents=True, exist_ok=True)
    name = args.out or ("app_load.json" if args.generator == "template" else f"app_load_{args.generator}.json")
    (RESULTS / name).write_text(json.dumps(result, indent=2) + "\n")
    print(f"wrote {RESULTS / name}")
    return 0 if result["zero_errors"] else 1


if __name__ == "__main__":
    raise SystemExit(main())
