"""The ``device`` setting resolved to a torch device name, for every model the workbench loads.

It knows torch's device names; torch is imported only when ``auto`` must be resolved.
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
