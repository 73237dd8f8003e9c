"""Benchmark: LLM runtimes side by side for the default generator (bundled SmolLM2 + shipped adapter), one run.

    /work/venv-rt/bin/python bench/llm_backends.py [--prompts 20] [--max-new-tokens 48] [--threads 1]

Issue 27 part 2. The same greedy prompts (built by the project's prompt builder from ReDial seeker
messages: system prompt, worked example, request, primed opening) go through:

* ``transformers-fp32``: the default generator's own load path (``TransformersGenerator("default")``:
  the bundled GGUF's converted cache, the shipped LoRA adapter merged with peft), float32;
* ``transformers-bf16``: the same, bfloat16 weights;
* ``openvino-int8`` / ``openvino-int4``: OpenVINO GenAI's ``LLMPipeline`` on the merged model exported by
  optimum-intel (``optimum-cli export openvino --weight-format int8|int4 --group-size 64``);
* ``ortgenai-int4`` / ``ortgenai-int8``: ONNX Runtime GenAI on the merged model exported by its model
  builder (``python -m onnxruntime_genai.models.builder -p int4|int8 -e cpu``);
* ``llamacpp``: only when ``llama_cpp`` imports (it needs a compiler to install); else reported as not measured.

The merged model (base + adapter, HF safetensors) and each export are written once under
``--cache-dir`` with a ``meta.json`` manifest (the merged weights' hash, the exporter's version),
checked before reuse. Each runtime then runs in its own process (so resident memory is its own and
thread settings do not leak) with ``--threads`` compute threads, and measures: load time, first token
(whole prompt prefilled, no prefix cache) and decode tokens/s over the ``--prompts`` prompts one at a
time, aggregate tokens/s of ``--batch`` prompts generated together (each runtime's batch API, static
batch), resident memory, and the generated token ids. Output quality is the agreement of each
runtime's greedy continuation with ``transformers-fp32``'s (exact match, common leading tokens, chrF).
First token is measured as each runtime serves a reply: transformers with the app's prompt cache (the
fixed system prompt + worked example encoded once, ``TransformersGenerator._prompt_cache``), OpenVINO
GenAI with its ``LLMPipeline``'s own prefix caching (its default on the CPU: a repeated prompt prefix is
not prefilled again), ONNX Runtime GenAI with none (no prefix-cache API), so its whole prompt is prefilled.
Greedy decoding with the default generator's repetition penalty (1.15; without it most replies end right
after the primed opening) and no sentence cap, the same settings for every runtime.

The runtimes are not in ``requirements.txt``: install them in a virtual environment that sees the
project's packages (``python -m venv --system-site-packages``, ``pip install -r
requirements-openvino.txt onnxruntime-genai onnx onnx_ir``). optimum-intel 2.2 pins
``transformers<5.6`` and fails to import with the project's transformers, so the OpenVINO export runs
with ``--export-python`` (a second such venv with ``transformers==5.5.4``; see docs/serving.md).
Writes ``bench/results/llm_backends.json`` (with the load average before and after each runtime).
"""

from __future__ import annotations

import argparse
import hashlib
import importlib.metadata
import importlib.util
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from _common import ROOT, machine, percentile, table, write

#: How each runtime's first token avoids prefilling the fixed part of the prompt (see the module docstring).
PREFIX_CACHE = {"transformers": "the app's prompt cache (fixed part encoded once)",
                "openvino": "LLMPipeline's own prefix caching", "ortgenai": "none (whole prompt prefilled)"}
RUNTIMES = ("transformers-fp32", "transformers-bf16", "openvino-int8", "openvino-int4",
            "ortgenai-int4", "ortgenai-int8", "llamacpp")
#: Install times measured on this machine (2026-12-07, local PyPI wheel mirror, 2 shared cores), with the command.
INSTALL = {
    "transformers": {"how": "wheel (already a project requirement)", "seconds": 0.0,
                     "command": "pip install -r requirements.txt"},
    "openvino": {"how": "wheels, no compiler", "seconds": 10.0 + 6.0,
                 "command": "pip install openvino openvino-genai openvino-tokenizers onnxruntime-genai (10.0 s, "
                            "with onnxruntime-genai); export: nncf optimum optimum-intel (6.0 s, --no-deps) in a venv "
                            "with transformers==5.5.4 (22.6 s)"},
    "ortgenai": {"how": "wheels, no compiler", "seconds": 10.0 + 6.9,
                 "command": "pip install onnxruntime-genai (with openvino above: 10.0 s); export: onnx onnx_ir (6.9 s)"},
    "llamacpp": {"how": "compiler (CMake + C++ build of llama-cpp-python, 25-60 min on 2 cores)", "seconds": None,
                 "command": 'CMAKE_ARGS="-DGGML_NATIVE=OFF" pip install -r requirements-llamacpp.txt'},
}
EXPORT_SCHEMA = 1


# ---------------------------------------------------------------------------------------------- prompts
def build_prompts(n: int, seed: int, tokenizer: Any) -> list[dict[str, Any]]:
    """``n`` prompts as the default generator renders them: chat template + primed opening, and their ids."""
    from dialogue_llm import REDIAL_TEST, seeker_messages, slate_for

    from workbench.catalog import load_catalog
    from workbench.config import Settings
    from workbench.dialogue.generators import GenerationRequest
    from workbench.dialogue.prompts import build_messages, reply_prefix
    from workbench.dialogue.types import Turn

    catalog = load_catalog(Settings().catalog)
    popular = sorted(catalog, key=lambda i: -i.mentions)[:200]
    rng = random.Random(seed)
    prompts = []
    for message in seeker_messages(REDIAL_TEST, catalog, n, seed):
        req = GenerationRequest(turns=(Turn("user", message),), recommendations=slate_for(message, catalog, popular, rng),
                                intent="recommend")
        messages = build_messages(req)
        text = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
        text += reply_prefix(req)
        ids = tokenizer(text, add_special_tokens=False)["input_ids"]
        # the fixed part (system prompt + worked example), which the app's transformers backend caches
        fixed = tokenizer(tokenizer.apply_chat_template(messages[:-1], tokenize=False),
                          add_special_tokens=False)["input_ids"]
        prompts.append({"message": message, "text": text, "ids": ids,
                        "fixed": fixed if ids[: len(fixed)] == fixed else []})
    return prompts


# ---------------------------------------------------------------------------------------------- exports
def _sha256(path: Path) -> str:
    with open(path, "rb") as f:
        return hashlib.file_digest(f, "sha256").hexdigest()


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _fresh(folder: Path, expected: dict[str, Any]) -> bool:
    try:
        meta = json.loads((folder / "meta.json").read_text())
    except (OSError, ValueError):
        return False
    return all(meta.get(k) == v for k, v in expected.items())


def export_merged(cache: Path) -> tuple[Path, dict[str, Any]]:
    """The default generator's weights (bundled base + shipped adapter, merged), saved as HF safetensors."""
    from workbench.dialogue.generators.transformers import ADAPTER_DIR, TransformersGenerator

    target = cache / "merged"
    adapter_sha = _sha256(ADAPTER_DIR / "adapter_model.safetensors")
    expected = {"schema": EXPORT_SCHEMA, "adapter_sha256": adapter_sha}
    if _fresh(target, expected):
        return target, {"seconds": json.loads((target / "meta.json").read_text()).get("seconds"), "cached": True}
    start = time.perf_counter()
    tokenizer, model, source = TransformersGenerator("default", cache_dir=cache / "converted")._load_weights()
    shutil.rmtree(target, ignore_errors=True)
    model.save_pretrained(target)
    tokenizer.save_pretrained(target)
    seconds = time.perf_counter() - start
    meta = {**expected, "base_source": Path(source).name, "seconds": seconds,
            "weights_sha256": _sha256(target / "model.safetensors")}
    (target / "meta.json").write_text(json.dumps(meta, indent=2))
    return target, {"seconds": seconds, "cached": False}


def export_runtime(name: str, merged: Path, cache: Path, export_python: str) -> tuple[Path, dict[str, Any]]:
    """Export ``merged`` for an OpenVINO / ONNX Runtime GenAI runtime with the library's own exporter (once)."""
    family, precision = name.split("-")
    target = cache / name
    weights = json.loads((merged / "meta.json").read_text())["weights_sha256"]
    if family == "openvino":
        cli = str(Path(export_python).with_name("optimum-cli"))
        cmd = [cli, "export", "openvino", "--model", str(merged), "--task", "text-generation-with-past",
               "--weight-format", precision] + (["--group-size", "64"] if precision == "int4" else []) + [str(target)]
        exporter = {"optimum-intel": _dist_version_in(export_python, "optimum-intel"),
                    "openvino": _version("openvino")}
    else:
        cmd = [sys.executable, "-m", "onnxruntime_genai.models.builder", "-i", str(merged), "-o", str(target),
               "-p", precision, "-e", "cpu", "-c", str(cache / "ort-build-cache")]
        exporter = {"onnxruntime-genai": _version("onnxruntime-genai")}
    expected = {"schema": EXPORT_SCHEMA, "weights_sha256": weights, "exporter": exporter, "command": cmd[1:]}
    if _fresh(target, expected):
        seconds = json.loads((target / "meta.json").read_text()).get("seconds")
        return target, {"seconds": seconds, "cached": True, "command": " ".join(cmd)}
    shutil.rmtree(target, ignore_errors=True)
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True)
    if done.returncode != 0:
        raise RuntimeError(f"export {name} failed ({' '.join(cmd)}):\n{done.stderr[-3000:]}")
    seconds = time.perf_counter() - start
    (target / "meta.json").write_text(json.dumps({**expected, "seconds": seconds}, indent=2))
    return target, {"seconds": seconds, "cached": False, "command": " ".join(cmd)}


def _dist_version_in(python: str, dist: str) -> str | None:
    done = subprocess.run([python, "-c", f"import importlib.metadata as m; print(m.version({dist!r}))"],
                          capture_output=True, text=True)
    return done.stdout.strip() or None


# ---------------------------------------------------------------------------------------------- workers
def _rss_mb() -> dict[str, float]:
    """Current and peak resident memory of this process (MiB), from /proc."""
    out = {}
    for line in Path("/proc/self/status").read_text().splitlines():
        key, _, value = line.partition(":")
        if key in ("VmRSS", "VmHWM"):
            out[key] = int(value.split()[0]) / 1024
    return {"rss_mb": out.get("VmRSS", float("nan")), "peak_rss_mb": out.get("VmHWM", float("nan"))}


class _Runner:
    """One runtime loaded in this process: ``one(ids) -> (first_token_s, total_s, new ids)``, ``batch(list)``."""

    def __init__(self, name: str, folder: Path, threads: int, max_new: int, eos: int, penalty: float):
        self.name, self.folder, self.threads, self.max_new, self.eos = name, folder, threads, max_new, eos
        self.penalty = penalty
        getattr(self, "_load_" + name.split("-")[0])()

    # transformers -------------------------------------------------------------
    def _load_transformers(self) -> None:
        from workbench.dialogue.generators.transformers import TransformersGenerator

        dtype = {"fp32": "float32", "bf16": "bfloat16"}[self.name.split("-")[1]]
        gen = TransformersGenerator("default", dtype=dtype, threads=self.threads,
                                    cache_dir=self.folder / "converted").load()
        self.model, self.tokenizer = gen._model, gen._tokenizer
        self.versions = {"transformers": _version("transformers"), "torch": _version("torch")}
        self.prefix: tuple[list[int], Any] | None = None

    def _prefix_cache(self, fixed: list[int]) -> Any:
        """A copy of the attention cache of ``fixed``, computed once: what the app's transformers backend
        does (``TransformersGenerator._prompt_cache``), so only the request is prefilled."""
        import copy

        import torch
        from transformers import DynamicCache

        from workbench.dialogue.generators.transformers import _cache_kwarg

        if self.prefix is None or self.prefix[0] != fixed:
            cache = DynamicCache(config=self.model.config)
            with torch.inference_mode():
                self.model(input_ids=torch.tensor([fixed]), use_cache=True, **{_cache_kwarg(): cache})
            self.prefix = (fixed, cache)
        return copy.deepcopy(self.prefix[1])

    def _one_transformers(self, ids: list[int], fixed: list[int]) -> tuple[float, list[int]]:
        import torch
        from transformers.generation.streamers import BaseStreamer

        from workbench.dialogue.generators.transformers import _cache_kwarg

        marks: list[float] = []

        class Timer(BaseStreamer):
            def put(self, value: Any) -> None:
                marks.append(time.perf_counter())

            def end(self) -> None:
                pass

        x = torch.tensor([ids])
        start = time.perf_counter()
        past = {_cache_kwarg(): self._prefix_cache(fixed)} if fixed else {}
        with torch.inference_mode():
            out = self.model.generate(input_ids=x, attention_mask=torch.ones_like(x), max_new_tokens=self.max_new,
                                      do_sample=False, temperature=None, top_p=None, top_k=None,
                                      repetition_penalty=self.penalty, pad_token_id=self.eos, streamer=Timer(),
                                      **past)
        new = out[0, len(ids):].tolist()
        return marks[1] - start if len(marks) > 1 else float("nan"), new  # marks[0]: the prompt itself

    def _batch_transformers(self, batch: list[list[int]]) -> list[list[int]]:
        import torch

        width = max(map(len, batch))
        x = torch.tensor([[self.eos] * (width - len(b)) + b for b in batch])  # left padding
        mask = torch.tensor([[0] * (width - len(b)) + [1] * len(b) for b in batch])
        with torch.inference_mode():
            out = self.model.generate(input_ids=x, attention_mask=mask, max_new_tokens=self.max_new,
                                      do_sample=False, temperature=None, top_p=None, top_k=None,
                                      repetition_penalty=self.penalty, pad_token_id=self.eos)
        return [row[width:].tolist() for row in out]

    # OpenVINO GenAI -----------------------------------------------------------
    def _load_openvino(self) -> None:
        import openvino_genai as ov_genai

        self.pipe = ov_genai.LLMPipeline(str(self.folder), "CPU", INFERENCE_NUM_THREADS=self.threads)
        config = self.pipe.get_generation_config()
        config.max_new_tokens, config.do_sample, config.apply_chat_template = self.max_new, False, False
        config.repetition_penalty = self.penalty
        self.config = config
        self.versions = {"openvino": _version("openvino"), "openvino-genai": _version("openvino-genai")}

    def _one_openvino(self, ids: list[int], fixed: list[int]) -> tuple[float, list[int]]:
        import numpy as np
        import openvino as ov
        import openvino_genai as ov_genai

        marks: list[float] = []

        class Timer(ov_genai.StreamerBase):
            def write(self, token: Any) -> Any:
                marks.append(time.perf_counter())
                return ov_genai.StreamingStatus.RUNNING

            def end(self) -> None:
                pass

        start = time.perf_counter()
        out = self.pipe.generate(ov.Tensor(np.array([ids], dtype=np.int64)), self.config, Timer())
        return (marks[0] - start if marks else float("nan")), list(out.tokens[0])

    def _batch_openvino(self, batch: list[list[int]]) -> list[list[int]]:
        import numpy as np
        import openvino as ov
        import openvino_genai as ov_genai

        width = max(map(len, batch))
        x = np.array([[self.eos] * (width - len(b)) + b for b in batch], dtype=np.int64)
        mask = np.array([[0] * (width - len(b)) + [1] * len(b) for b in batch], dtype=np.int64)
        out = self.pipe.generate(ov_genai.TokenizedInputs(ov.Tensor(x), ov.Tensor(mask)), self.config)
        return [list(t) for t in out.tokens]

    # ONNX Runtime GenAI -------------------------------------------------------
    def _load_ortgenai(self) -> None:
        import onnxruntime_genai as og

        # threads and a pad token that never occurs in a prompt (its default, <|im_end|>, ends every turn)
        config_path = self.folder / "genai_config.json"
        config = json.loads(config_path.read_text())
        config["model"]["decoder"]["session_options"]["intra_op_num_threads"] = self.threads
        config["model"]["pad_token_id"] = self.pad = 0
        config_path.write_text(json.dumps(config, indent=2))
        self.model = og.Model(og.Config(str(self.folder)))
        self.versions = {"onnxruntime-genai": _version("onnxruntime-genai"), "onnxruntime": _version("onnxruntime")}

    def _run_ortgenai(self, rows: list[list[int]]) -> tuple[float, list[list[int]]]:
        import numpy as np
        import onnxruntime_genai as og

        width = max(map(len, rows))
        params = og.GeneratorParams(self.model)
        params.set_search_options(max_length=width + self.max_new, do_sample=False, batch_size=len(rows),
                                  repetition_penalty=self.penalty)
        gen = og.Generator(self.model, params)
        start = time.perf_counter()
        # right padding: the builder's model masks pad tokens; left-padded rows ended at once (checked)
        gen.append_tokens(np.array([r + [self.pad] * (width - len(r)) for r in rows], dtype=np.int32))
        first, new = float("nan"), [[] for _ in rows]
        done = [False] * len(rows)
        while not gen.is_done():
            gen.generate_next_token()
            if first != first:
                first = time.perf_counter() - start
            for i, t in enumerate(gen.get_next_tokens()):
                if not done[i]:
                    new[i].append(int(t))
                    done[i] = int(t) == self.eos
        return first, new

    def _one_ortgenai(self, ids: list[int], fixed: list[int]) -> tuple[float, list[int]]:
        first, new = self._run_ortgenai([ids])
        return first, new[0]

    def _batch_ortgenai(self, batch: list[list[int]]) -> list[list[int]]:
        return self._run_ortgenai(batch)[1]

    # llama.cpp ----------------------------------------------------------------
    def _load_llamacpp(self) -> None:
        raise RuntimeError("llama.cpp cannot merge the adapter into the bundled GGUF; not measured")

    def one(self, ids: list[int], fixed: list[int]) -> tuple[float, list[int]]:
        """Greedy reply to ``ids``; ``fixed`` is its fixed leading part (a runtime may reuse its cache)."""
        return getattr(self, "_one_" + self.name.split("-")[0])(ids, fixed)

    def batch(self, batch: list[list[int]]) -> list[list[int]]:
        return getattr(self, "_batch_" + self.name.split("-")[0])(batch)


def _trim(ids: list[int], eos: int) -> list[int]:
    """The generated ids up to and including the first end-of-turn token."""
    return ids[: ids.index(eos) + 1] if eos in ids else ids


def _measure(runner: _Runner, prompt: dict[str, Any], eos: int) -> dict[str, Any]:
    """One greedy reply to ``prompt``, timed."""
    t0 = time.perf_counter()
    first, new = runner.one(prompt["ids"], prompt["fixed"])
    total = time.perf_counter() - t0
    new = _trim(new, eos)
    row = {"prompt_tokens": len(prompt["ids"]), "first_token_s": first, "total_s": total, "tokens": len(new),
           "decode_tokens_per_s": (len(new) - 1) / (total - first) if len(new) > 1 else float("nan"), "ids": new}
    print(f"  {runner.name:<18} first {first:6.2f}s  {len(new):3d} tok  {row['decode_tokens_per_s']:6.1f} tok/s  "
          f"load {os.getloadavg()[0]:.1f}", flush=True)
    return row


def paired_worker(spec: dict[str, Any]) -> dict[str, Any]:
    """Every runtime of ``spec["folders"]`` loaded in this one process, taking turns prompt by prompt, so
    the machine's load hits them alike (no batch, no memory figures: the process holds them all)."""
    prompts, eos = spec["prompts"], spec["eos"]
    runners = {}
    for name, folder in spec["folders"].items():
        runners[name] = _Runner(name, Path(folder), spec["threads"], spec["max_new_tokens"], eos,
                                spec["repetition_penalty"])
        runners[name].one(prompts[0]["ids"], prompts[0]["fixed"])  # warm-up (and prefix caches), not counted
    load_before = os.getloadavg()[0]
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in runners}
    for p in prompts[1:]:
        for name, runner in runners.items():
            rows[name].append(_measure(runner, p, eos))
    return {name: {"runtime": name, "rows": rows[name], "versions": runners[name].versions, "batches": [],
                   "load_average": [load_before, os.getloadavg()[0]]} for name in runners}


def worker(spec: dict[str, Any]) -> dict[str, Any]:
    """Load one runtime in this process and measure it (see the module docstring)."""
    prompts, eos, max_new = spec["prompts"], spec["eos"], spec["max_new_tokens"]
    load_before = os.getloadavg()[0]
    start = time.perf_counter()
    runner = _Runner(spec["runtime"], Path(spec["folder"]), spec["threads"], max_new, eos, spec["repetition_penalty"])
    load_s = time.perf_counter() - start
    memory_loaded = _rss_mb()
    runner.one(prompts[0]["ids"], prompts[0]["fixed"])  # warm-up (and prefix caches), not counted
    prompts = prompts[1:]
    rows = [_measure(runner, p, eos) for p in prompts]
    batches = []
    size = spec["batch"]
    for r in range(spec["batch_reps"]):
        which = [(r * size + i) % len(prompts) for i in range(size)]
        t0 = time.perf_counter()
        outs = [_trim(o, eos) for o in runner.batch([prompts[i]["ids"] for i in which])]
        wall = time.perf_counter() - t0
        tokens = sum(map(len, outs))
        # a batched row should say what the same prompt said alone (padding handled right)
        same = sum(o[:max_new] == rows[i]["ids"][:max_new] for o, i in zip(outs, which, strict=True)) / size
        batches.append({"size": size, "wall_s": wall, "tokens": tokens, "tokens_per_s": tokens / wall,
                        "same_as_alone": same})
        print(f"  {spec['runtime']:<18} batch of {size}: {tokens} tok in {wall:.1f}s = {tokens / wall:.1f} tok/s; "
              f"{same:.0%} as alone",
              flush=True)
    return {"runtime": spec["runtime"], "load_s": load_s, "memory_after_load": memory_loaded,
            "memory_end": _rss_mb(), "versions": runner.versions, "rows": rows, "batches": batches,
            "load_average": [load_before, os.getloadavg()[0]]}


# ---------------------------------------------------------------------------------------------- quality
def chrf(hyps: list[str], refs: list[str]) -> float:
    import sacrebleu

    return sacrebleu.corpus_chrf(hyps, [refs]).score


def quality(result: dict[str, Any], reference: dict[str, Any], tokenizer: Any) -> dict[str, Any]:
    """Agreement of a runtime's greedy continuations with the reference runtime's, prompt by prompt."""
    mine, ref = [r["ids"] for r in result["rows"]], [r["ids"] for r in reference["rows"]]
    common = []
    for a, b in zip(mine, ref, strict=True):
        n = 0
        while n < min(len(a), len(b)) and a[n] == b[n]:
            n += 1
        common.append(n)
    texts = [tokenizer.decode(a, skip_special_tokens=True) for a in mine]
    ref_texts = [tokenizer.decode(b, skip_special_tokens=True) for b in ref]
    return {"exact_match": sum(a == b for a, b in zip(mine, ref, strict=True)) / len(ref),
            "common_prefix_tokens_mean": sum(common) / len(common),
            "chrf_vs_reference": chrf(texts, ref_texts), "texts": texts}


# ---------------------------------------------------------------------------------------------- main
def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--prompts", type=int, default=20, help="prompts generated one at a time")
    parser.add_argument("--max-new-tokens", type=int, default=48)
    parser.add_argument("--threads", type=int, default=1, help="compute threads of every runtime")
    parser.add_argument("--batch", type=int, default=8, help="prompts generated together (concurrent streams)")
    parser.add_argument("--batch-reps", type=int, default=2)
    parser.add_argument("--repetition-penalty", type=float, default=1.15,
                        help="the default generator's (1.15); 1 for plain greedy")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--runtimes", default=",".join(RUNTIMES))
    parser.add_argument("--cache-dir", default=str(Path("~/.cache/chat-rec-workbench/llm_backends").expanduser()))
    parser.add_argument("--export-python", default=sys.executable,
                        help="python of the environment whose optimum-cli exports to OpenVINO")
    parser.add_argument("--out", default="llm_backends")
    parser.add_argument("--paired", action="store_true",
                        help="load all --runtimes in one process and let them take turns prompt by prompt "
                             "(fair under a changing load; no batch or memory figures)")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:  # a child process: one runtime, or all of them taking turns
        spec = json.loads(Path(args.worker).read_text())
        Path(spec["out"]).write_text(json.dumps(paired_worker(spec) if "folders" in spec else worker(spec)))
        return

    at_start = machine()
    cache = Path(args.cache_dir)
    cache.mkdir(parents=True, exist_ok=True)
    merged, merged_export = export_merged(cache)
    from transformers import AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(merged)
    eos = tokenizer.convert_tokens_to_ids("<|im_end|>")
    prompts = build_prompts(args.prompts + 1, args.seed, tokenizer)  # [0] is the warm-up
    print(f"{len(prompts) - 1} prompts, {percentile([len(p['ids']) for p in prompts], 50)} tokens p50; "
          f"load average {os.getloadavg()}", flush=True)

    results: dict[str, dict[str, Any]] = {}
    if args.paired:
        results = run_paired(args, cache, merged, merged_export, prompts, eos)
    for name in args.runtimes.split(",") if not args.paired else ():
        family = name.split("-")[0]
        install = INSTALL[family]
        if family == "llamacpp":
            importable = importlib.util.find_spec("llama_cpp") is not None
            results[name] = {"runtime": name, "install": install, "measured": False,
                             "why": "needs a compiler (25-60 min build), not measured here" if not importable else
                             "llama.cpp runs the plain GGUF and cannot merge the adapter: not the same model"}
            continue
        folder, export = (cache, merged_export) if family == "transformers" else \
            export_runtime(name, merged, cache, args.export_python)
        spec = {"runtime": name, "folder": str(folder), "prompts": prompts, "eos": eos, "threads": args.threads,
                "max_new_tokens": args.max_new_tokens, "repetition_penalty": args.repetition_penalty,
                "batch": args.batch if not args.paired else 0, "batch_reps": args.batch_reps, "paired": args.paired,
                "out": str(cache / f"{name}.result.json")}
        spec_path = cache / f"{name}.spec.json"
        spec_path.write_text(json.dumps(spec))
        print(f"{name}: export {export['seconds'] or 0:.1f}s{' (cached)' if export['cached'] else ''}", flush=True)
        done = subprocess.run([sys.executable, __file__, "--worker", str(spec_path)], cwd=ROOT / "bench")
        if done.returncode != 0:
            results[name] = {"runtime": name, "install": install, "export": export, "measured": False,
                             "why": f"worker exited with {done.returncode}"}
            continue
        results[name] = {**json.loads(Path(spec["out"]).read_text()), "install": install, "export": export,
                         "prefix_cache": PREFIX_CACHE[family], "measured": True}

    reference = results.get("transformers-fp32")
    summary = []
    if args.paired and reference is not None:  # per prompt, the same moment: ratios to transformers-fp32
        for r in results.values():
            ref_rows = reference["rows"]
            r["paired_vs_fp32"] = {
                "first_token_speedup_p50": percentile([a["first_token_s"] / b["first_token_s"]
                                                       for a, b in zip(ref_rows, r["rows"], strict=True)], 50),
                "decode_speedup_p50": percentile([b["decode_tokens_per_s"] / a["decode_tokens_per_s"]
                                                  for a, b in zip(ref_rows, r["rows"], strict=True)
                                                  if a["tokens"] > 1 and b["tokens"] > 1], 50)}
    for name, r in results.items():
        if not r["measured"]:
            summary.append({"runtime": name, "install": r["install"]["how"], "note": r["why"]})
            continue
        rows = r["rows"]
        row = {"runtime": name, "install": r["install"]["how"], "install_s": r["install"]["seconds"],
               "export_s": r["export"]["seconds"],
               "first_token_p50_s": percentile([x["first_token_s"] for x in rows], 50),
               "first_token_p95_s": percentile([x["first_token_s"] for x in rows], 95),
               "tokens_per_s_1": percentile([x["decode_tokens_per_s"] for x in rows
                                             if x["decode_tokens_per_s"] == x["decode_tokens_per_s"]], 50),
               f"tokens_per_s_{args.batch}": percentile([b["tokens_per_s"] for b in r["batches"]], 50),
               "load_average": r["load_average"]}
        if "memory_end" in r:
            row.update({"load_s": r["load_s"], "rss_mb": r["memory_end"]["rss_mb"],
                        "peak_rss_mb": r["memory_end"]["peak_rss_mb"]})
        row.update(r.get("paired_vs_fp32", {}))
        if reference is not None and reference.get("measured"):
            q = quality(r, reference, tokenizer)
            r["quality"] = q
            row.update({k: q[k] for k in ("exact_match", "common_prefix_tokens_mean", "chrf_vs_reference")})
        summary.append(row)
    cols = ["runtime", "load_s", "first_token_p50_s", "tokens_per_s_1", f"tokens_per_s_{args.batch}", "peak_rss_mb",
            "exact_match", "common_prefix_tokens_mean", "chrf_vs_reference"]
    if args.paired:
        cols = [c for c in cols if c not in ("load_s", f"tokens_per_s_{args.batch}", "peak_rss_mb")]
        cols += ["first_token_speedup_p50", "decode_speedup_p50"]
    print()
    print(table([s for s in summary if "note" not in s], cols))
    for s in summary:
        if "note" in s:
            print(f"{s['runtime']}: {s['note']}")
    path = write(args.out, {
        "benchmark": "llm_backends", "model": "default (bundled SmolLM2-135M-Instruct + assets/generator-adapter, merged)",
        "threads": args.threads, "max_new_tokens": args.max_new_tokens, "prompts": args.prompts,
        "batch": args.batch if not args.paired else 0, "batch_reps": args.batch_reps, "paired": args.paired, "decoding": f"greedy, repetition penalty {args.repetition_penalty}, no sentence cap",
        "prompt_tokens_p50": percentile([len(p["ids"]) for p in prompts[1:]], 50),
        "command": " ".join(["python", "bench/llm_backends.py", *sys.argv[1:]]),
        "summary": summary, "runtimes": {k: _compact(v) for k, v in results.items()},
        "load_average_end": os.getloadavg(), "machine_at_start": at_start})
    print(f"wrote {path}")


def run_paired(args: argparse.Namespace, cache: Path, merged: Path, merged_export: dict[str, Any],
               prompts: list[dict[str, Any]], eos: int) -> dict[str, dict[str, Any]]:
    """``--paired``: one worker process with every runtime of ``--runtimes`` loaded, taking turns."""
    folders, exports = {}, {}
    for name in args.runtimes.split(","):
        if name.startswith("llamacpp"):  # not measured here (see the per-runtime mode)
            continue
        family = name.split("-")[0]
        folders[name], exports[name] = (cache, merged_export) if family == "transformers" else \
            export_runtime(name, merged, cache, args.export_python)
    spec = {"folders": {k: str(v) for k, v in folders.items()}, "prompts": prompts, "eos": eos,
            "threads": args.threads, "max_new_tokens": args.max_new_tokens,
            "repetition_penalty": args.repetition_penalty, "out": str(cache / "paired.result.json")}
    spec_path = cache / "paired.spec.json"
    spec_path.write_text(json.dumps(spec))
    subprocess.run([sys.executable, __file__, "--worker", str(spec_path)], cwd=ROOT / "bench", check=True)
    out = json.loads(Path(spec["out"]).read_text())
    return {name: {**r, "install": INSTALL[name.split("-")[0]], "export": exports[name],
                   "prefix_cache": PREFIX_CACHE[name.split("-")[0]], "measured": True} for name, r in out.items()}


def _compact(result: dict[str, Any]) -> dict[str, Any]:
    """A runtime's result without bulky ids (kept: texts in ``quality``)."""
    out = dict(result)
    if "rows" in out:
        out["rows"] = [{k: v for k, v in r.items() if k != "ids"} for r in out["rows"]]
    return out


if __name__ == "__main__":
    main()
