"""The ``device`` setting resolved to a torch device name, for every model the workbench loads.

It also sets how many CPU threads torch computes with (:func:`set_cpu_threads`) and picks the
dtype a language model computes in (:func:`resolve_dtype`).

It knows torch's device names; torch is imported only when ``auto`` must be resolved or threads set.
"""

from __future__ import annotations


def resolve_device(device: str = "auto") -> str:
    """``auto`` picks cuda, then mps, then cpu; other values pass through."""
    if device != "auto":
        return device
    import torch

    if torch.cuda.is_available():
        return "cuda"
    mps = getattr(torch.backends, "mps", None)
    if mps is not None and mps.is_available():
        return "mps"
    return "cpu"


def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes bfloat16 natively (AVX512-BF16 or AMX), as torch sees it.

    Without it torch emulates bfloat16 on a CPU, which is slower than float32, so ``auto`` only
    picks bfloat16 where this is true.
    """
    import torch

    cpu = getattr(torch, "cpu", None)
    for probe in ("_is_avx512_bf16_supported", "_is_amx_tile_supported"):
        check = getattr(cpu, probe, None)
        try:
            if check is not None and check():
                return True
        except (RuntimeError, AttributeError):  # an old torch or an odd build: assume no
            continue
    return False


def resolve_dtype(dtype: str, device: str):  # -> torch.dtype (torch is imported lazily)
    """The torch dtype a language model's weights use on ``device`` for the ``dtype`` setting.

    ``auto``: bfloat16 on a GPU that has it (else float16); on a CPU bfloat16 where the CPU computes it
    natively, else float32; float32 on mps. On the project's 2-core CPU (AVX512-BF16) bfloat16 halved
    SmolLM2-135M's prefill, which is most of the time to the first word of a reply
    (``bench/first_token.py``); the model was trained in bfloat16, so its replies do not suffer.
    """
    import torch

    if dtype != "auto":
        return getattr(torch, dtype)
    if device == "cuda":
        return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16
    if device == "cpu" and cpu_has_native_bf16():
        return torch.bfloat16
    return torch.float32


def set_cpu_threads(threads: int) -> None:
    """Make torch compute with ``threads`` intra-op threads (process-wide); a no-op without torch.

    Called once where the models are wired (``load_core``): on a 2-core machine shared with other
    work, torch's default of one thread per CPU made one query encoding 5-13x slower than a single
    thread, because OpenMP threads that wait on each other spin while the cores run something else.
    """
    import importlib.util

    if threads < 1 or importlib.util.find_spec("torch") is None:
        return
    import torch

    if torch.get_num_threads() != threads:
        torch.set_num_threads(threads)
