"""The ``device`` setting resolved to a torch device name, for every model the workbench loads.

It also sets how many CPU threads torch computes with (:func:`set_cpu_threads`).

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
