"""Fine-tuning the dialogue generator on reply examples with TRL (SFT or DPO), optionally with LoRA.

:func:`training_rows` turns :class:`~workbench.evaluate.reply_data.ReplyExample` values into
TRL's conversational formats, the prompt being exactly the messages the app's prompt builder
(:func:`workbench.dialogue.prompts.build_messages`) gives the model at run time:

* ``sft``: ``prompt`` / ``completion`` (prompt-completion; the loss covers the completion only),
* ``dpo``: ``prompt`` / ``chosen`` / ``rejected``.

:func:`finetune_generator` trains the base model (loaded exactly as the app loads it, the
bundled SmolLM2 GGUF included) with ``SFTTrainer`` or ``DPOTrainer``; with ``lora_r`` > 0 a
``peft`` LoRA adapter is trained and merged back, so the saved folder is always a plain
transformers model that ``WORKBENCH_GENERATOR_MODEL=DIR`` loads. The folder carries a
``meta.json`` manifest (:mod:`workbench.finetune.generator_manifest`: base model, method, data hash,
steps, seed, held-out conversations, weight hashes, package versions), checked on every load.
It records ``prime`` (default true): whether the app writes the opening words ("You might enjoy
<first candidate>") for the model as it does for the prompted base model; on ReDial the primed
fine-tune named the slate far more often than the unprimed one (README). The folder is written under a temporary name and renamed at the
end, so a killed run never leaves a loadable half model.

It knows rows, TRL and files; it does not know ReDial files, feedback stores or gradio.
torch, datasets, trl and peft are imported inside functions.
"""

from __future__ import annotations

import copy
import json
import shutil
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from workbench.device import resolve_device, resolve_dtype
from workbench.dialogue.generators.transformers import DEFAULT_HUB_ID, DEFAULT_MODEL, load_pretrained
from workbench.dialogue.prompts import build_messages
from workbench.errors import GenerationError
from workbench.evaluate.reply_data import ReplyExample
from workbench.finetune.generator_manifest import ADAPTER_KIND, KIND, MARKER_KEY, SCHEMA_VERSION, base_weights
from workbench.finetune.model_manifest import weight_hashes
from workbench.finetune.retriever import rows_hash
from workbench.manifest import MANIFEST, package_versions, publish_dir, staging_dirs

METHODS = ("sft", "dpo")
#: Package versions recorded in the manifest.
PACKAGES = ("trl", "peft", "transformers", "torch", "datasets")
#: Default token cap per example; longer examples are left out rather than cut (a cut
#: completion teaches the model to stop mid-sentence).
MAX_LENGTH = 1024


def training_rows(examples: Sequence[ReplyExample], method: str) -> list[dict[str, Any]]:
    """TRL conversational rows for ``examples``: the run-time prompt, and the reply(s)."""
    if method not in METHODS:
        raise GenerationError(f"finetune generator: --method must be one of {', '.join(METHODS)}, got {method!r}")
    rows = []
    for e in examples:
        prompt = build_messages(e.request)
        if method == "sft":
            rows.append({"prompt": prompt, "completion": [{"role": "assistant", "content": e.target}]})
        elif e.rejected:
            rows.append({"prompt": prompt, "chosen": [{"role": "assistant", "content": e.target}],
                         "rejected": [{"role": "assistant", "content": e.rejected}]})
    return rows



def _fits(rows: list[dict[str, Any]], tokenizer: Any, max_length: int) -> tuple[list[dict[str, Any]], int]:
    """The rows whose prompt plus longest reply fit in ``max_length`` tokens, and how many did not."""
    kept = []
    for row in rows:
        replies = [row[k] for k in ("completion", "chosen", "rejected") if k in row]
        longest = max(replies, key=lambda r: len(r[0]["content"]))
        text = tokenizer.apply_chat_template(row["prompt"] + longest, tokenize=False)
        if len(tokenizer(text, add_special_tokens=False)["input_ids"]) <= max_length:
            kept.append(row)
    return kept, len(rows) - len(kept)


def _blocks(model: Any) -> Any:
    """The model's stack of transformer blocks: its longest ``ModuleList`` (``model.layers``, ``h``)."""
    import torch

    lists = [m for m in model.modules() if isinstance(m, torch.nn.ModuleList)]
    return max(lists, key=len) if lists else None


def freeze_below(model: Any, train_layers: int) -> int:
    """Train only the top ``train_layers`` transformer blocks and what follows them (the final
    norm, an untied output head); return how many blocks are trainable. Embeddings (tied to the
    output head in SmolLM2) stay frozen, so the backward pass stops at the lowest trained block:
    on a CPU most of a step's cost is gone."""
    import torch

    blocks = _blocks(model)
    if not train_layers or blocks is None or train_layers >= len(blocks):
        return len(blocks) if blocks is not None else 0
    in_blocks = {id(p) for p in blocks.parameters()}
    embeddings = {id(p) for m in model.modules() if isinstance(m, torch.nn.Embedding) for p in m.parameters()}
    top = {id(p) for block in list(blocks)[-train_layers:] for p in block.parameters()}
    for param in model.parameters():
        outside = id(param) not in in_blocks and id(param) not in embeddings
        param.requires_grad_(id(param) in top or outside)
    return train_layers


def _deadline_callback(seconds: float) -> Any:
    """A trainer callback that ends training after the first step past ``seconds`` from now."""
    from transformers import TrainerCallback

    class Deadline(TrainerCallback):
        def __init__(self) -> None:
            self.end = time.monotonic() + seconds

        def on_step_end(self, args: Any, state: Any, control: Any, **kwargs: Any) -> Any:
            if time.monotonic() >= self.end:
                control.should_training_stop = True
            return control

    return Deadline()


def _save_adapter(model: Any, out: Path, base_model: str) -> None:
    """Save ``model``'s LoRA adapter alone (``adapter_config.json``, ``adapter_model.safetensors``)
    in float16: half the bytes, and the merge at load time casts it back to the base's dtype. The
    config names the base as peft users know it (the Hub id for the bundled model), not a cache path."""
    import torch

    for name, param in model.named_parameters():
        if "lora_" in name:
            param.data = param.data.to(torch.float16)
    model.save_pretrained(str(out))
    (out / "README.md").unlink(missing_ok=True)  # peft's blank model card; the manifest says what it is
    config_path = out / "adapter_config.json"
    config = json.loads(config_path.read_text(encoding="utf-8"))
    config["base_model_name_or_path"] = DEFAULT_HUB_ID if base_model == DEFAULT_MODEL else base_model
    config_path.write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")


def finetune_generator(
    base_model: str,
    rows: Sequence[dict[str, Any]],
    out_dir: str | Path,
    *,
    method: str = "sft",
    epochs: int = 1,
    max_steps: int | None = None,
    batch_size: int = 4,
    lr: float | None = None,
    lora_r: int = 0,
    adapter: bool = False,
    train_layers: int = 0,
    beta: float = 0.1,
    prime: bool = True,
    seed: int = 0,
    max_length: int = MAX_LENGTH,
    max_minutes: float | None = None,
    device: str = "cpu",
    cache_dir: str | Path | None = None,
    extra_meta: dict[str, Any] | None = None,
    log: Callable[[str], None] = lambda line: None,
) -> dict[str, Any]:
    """Fine-tune ``base_model`` on ``rows`` (from :func:`training_rows`) and save it to ``out_dir``.

    Args:
        base_model: ``smollm2-135m-instruct``, a Hub id or a local folder, loaded as the app loads it.
        rows: TRL rows (``prompt``/``completion`` for sft; ``prompt``/``chosen``/``rejected`` for dpo).
        out_dir: a new or empty folder.
        method: ``sft`` or ``dpo``.
        epochs: passes over the rows (ignored when ``max_steps`` is given).
        max_steps: stop after this many optimiser steps.
        batch_size: rows per step.
        lr: peak learning rate (cosine decay, 5% warm-up); default 5e-5 for a full fine-tune,
            2e-4 with LoRA, 5e-6 for DPO.
        lora_r: LoRA rank (0: train every weight). The adapter is merged into the saved model
            unless ``adapter``.
        adapter: save the LoRA adapter alone (``peft`` files in float16, a few MB) with a manifest
            naming its base and the base's weight hash, instead of a merged model; needs ``lora_r``.
        train_layers: train only the top this many transformer blocks (0: all); see :func:`freeze_below`.
            With LoRA, the adapter covers the linear layers of those blocks only.
        beta: DPO's KL strength.
        prime: recorded in the manifest: whether the app starts the model's replies with the first
            candidate's title as it does for the prompted base model (measured better, see README).
        seed: seeds shuffling and initialisation.
        max_length: most tokens per example; longer examples are left out.
        max_minutes: stop after the step that passes this many minutes of training and save what
            was learnt (the manifest's ``steps`` says how many ran); the learning rate is then held
            constant after warm-up, since the number of steps is not known in advance.
        device: ``auto``, ``cpu``, ``cuda`` or ``mps``.
        cache_dir: where the bundled model's converted weights are cached.
        extra_meta: more manifest fields (the data's sources, the held-out conversations).
        log: receives progress lines (the trainer's progress bar goes to stderr).

    Returns:
        The manifest written into ``out_dir``.

    Raises:
        GenerationError: bad rows or settings, an occupied ``out_dir``, or a model that cannot load.
    """
    if method not in METHODS:
        raise GenerationError(f"finetune generator: --method must be one of {', '.join(METHODS)}, got {method!r}")
    for name, value, low in (("epochs", epochs, 1), ("batch_size", batch_size, 1), ("lora_r", lora_r, 0),
                             ("train_layers", train_layers, 0), ("max_length", max_length, 16)):
        if not isinstance(value, int) or value < low:
            raise GenerationError(f"finetune generator: {name} must be an integer >= {low}, got {value!r}")
    if max_steps is not None and (not isinstance(max_steps, int) or max_steps < 1):
        raise GenerationError(f"finetune generator: --max-steps must be an integer >= 1, got {max_steps!r}")
    if adapter and not lora_r:
        raise GenerationError("finetune generator: --adapter needs --lora-r R (a LoRA rank > 0)")
    if max_minutes is not None and not max_minutes > 0:
        raise GenerationError(f"finetune generator: --max-minutes must be > 0, got {max_minutes!r}")
    if lr is None:
        lr = 5e-6 if method == "dpo" else 2e-4 if lora_r else 5e-5
    if not lr > 0:
        raise GenerationError(f"finetune generator: lr must be > 0, got {lr!r}")
    out = Path(out_dir).expanduser()
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise GenerationError(f"{out}: exists and is not an empty folder; choose a new --out")
    if not rows:
        raise GenerationError(f"finetune generator: no {method} training rows")

    import datasets

    try:
        tokenizer, model, source = load_pretrained(base_model, cache_dir)
    except GenerationError:
        raise
    except Exception as exc:  # OSError, ValueError, HF errors: all mean "cannot load"
        raise GenerationError(f"finetune generator: base model {base_model!r}: cannot load "
                              f"({type(exc).__name__}: {exc})") from None
    if tokenizer.pad_token_id is None and tokenizer.eos_token_id is not None:
        tokenizer.pad_token = tokenizer.eos_token
    if not getattr(tokenizer, "chat_template", None):
        raise GenerationError(f"finetune generator: base model {base_model!r} has no chat template; "
                              "the app's prompts are chat messages")
    kept, too_long = _fits(list(rows), tokenizer, max_length)
    if too_long:
        log(f"left out {too_long} of {len(rows)} rows longer than {max_length} tokens")
    if not kept:
        raise GenerationError(f"finetune generator: every row is longer than max_length={max_length} tokens")
    dev = resolve_device(device)
    datasets.disable_progress_bars()
    data = datasets.Dataset.from_list(kept)
    tmp, work = staging_dirs(out)
    shutil.rmtree(tmp, ignore_errors=True)
    common = dict(
        output_dir=str(work), num_train_epochs=epochs, max_steps=max_steps if max_steps is not None else -1,
        per_device_train_batch_size=batch_size, learning_rate=lr,
        lr_scheduler_type="cosine" if max_minutes is None else "constant_with_warmup",
        warmup_steps=0.05, seed=seed, data_seed=seed, max_length=max_length, save_strategy="no",
        logging_strategy="no", report_to=[], use_cpu=dev == "cpu", disable_tqdm=False,
        activation_checkpointing=False,  # TRL turns it on; on a small model it only costs time
        # TRL's default is bf16 autocast everywhere; on a CPU without native bfloat16 (AVX512-BF16/AMX)
        # torch emulates it and a LoRA step took 60 s instead of a few (2-core AMD EPYC, 2026-12-07).
        bf16=str(resolve_dtype("auto", dev)) == "torch.bfloat16",
    )
    if train_layers and not lora_r:
        freeze_below(model, train_layers)
    peft_config = None
    if lora_r:
        import torch
        from peft import LoraConfig

        blocks = _blocks(model)
        n_blocks = len(blocks) if blocks is not None else 0
        top = list(range(n_blocks - train_layers, n_blocks)) if 0 < train_layers < n_blocks else None
        # peft takes layers_to_transform only with named modules: every linear layer of a block
        # (GPT-2 style models write theirs as transformers' Conv1D)
        linears = sorted({name.rsplit(".", 1)[-1] for name, m in blocks.named_modules()
                          if isinstance(m, torch.nn.Linear) or type(m).__name__ == "Conv1D"}) if top else "all-linear"
        peft_config = LoraConfig(r=lora_r, lora_alpha=2 * lora_r, lora_dropout=0.0,
                                 target_modules=linears, task_type="CAUSAL_LM", layers_to_transform=top)
    if method == "sft":
        from trl import SFTConfig, SFTTrainer

        trainer: Any = SFTTrainer(model=model, processing_class=tokenizer, train_dataset=data,
                                  args=SFTConfig(completion_only_loss=True, **common), peft_config=peft_config)
    else:
        from trl import DPOConfig, DPOTrainer

        ref = None if peft_config is not None else copy.deepcopy(model)
        trainer = DPOTrainer(model=model, ref_model=ref, processing_class=tokenizer, train_dataset=data,
                             args=DPOConfig(beta=beta, **common), peft_config=peft_config)
    from transformers.trainer_callback import PrinterCallback

    trainer.remove_callback(PrinterCallback)  # it prints the final metrics dict to stdout
    if max_minutes is not None:
        trainer.add_callback(_deadline_callback(max_minutes * 60))
    log(f"{method}: {len(kept)} rows, base {base_model} ({source}), device {dev}, "
        f"{'LoRA r=' + str(lora_r) if lora_r else 'all weights'}"
        f"{f' of the top {train_layers} blocks' if train_layers else ''}, lr {lr:g}")
    started = time.time()
    try:
        result = trainer.train()
        trained = trainer.model.to("cpu")
        if adapter:
            _save_adapter(trained, tmp, base_model)
        else:
            if lora_r:
                trained = trained.merge_and_unload()
            setattr(trained.config, MARKER_KEY, MANIFEST)  # recognised even if meta.json is deleted
            trained.save_pretrained(str(tmp))
            tokenizer.save_pretrained(str(tmp))
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(work, ignore_errors=True)
    meta = {
        "kind": ADAPTER_KIND if adapter else KIND,
        "schema_version": SCHEMA_VERSION,
        "base_model": base_model,
        "base_source": source,
        **({"base_weights": base_weights(source)} if adapter else {}),
        "method": method,
        "rows": len(kept),
        "rows_too_long": too_long,
        "data_hash": rows_hash(kept),
        **(extra_meta or {}),
        "epochs": epochs,
        "max_steps": max_steps,
        "max_minutes": max_minutes,
        "steps": int(result.global_step),
        "batch_size": batch_size,
        "lr": lr,
        "lora_r": lora_r,
        "train_layers": train_layers,
        "beta": beta if method == "dpo" else None,
        "seed": seed,
        "max_length": max_length,
        "prime": prime,
        "train_loss": float(result.training_loss),
        "train_seconds": round(time.time() - started, 1),
        "device": dev,
        "weights": weight_hashes(tmp),
        "versions": package_versions(PACKAGES),
        "created": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
    }
    publish_dir(tmp, out, meta)
    return meta
