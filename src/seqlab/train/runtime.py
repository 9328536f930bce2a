"""Where and how reproducibly training runs: seeding every RNG, choosing the device."""

from __future__ import annotations

import random

import numpy as np
import torch

__all__ = ["resolve_device", "seed_everything"]


def seed_everything(seed: int) -> None:
    """Seed torch (CPU and CUDA), numpy and ``random``. Call it before building a model."""
    random.seed(seed)
    np.random.seed(seed)  # noqa: NPY002 (user code may draw from the global numpy RNG)
    torch.manual_seed(seed)


def resolve_device(spec: str, local_rank: int) -> torch.device:
    """The torch device ``spec`` names (``"auto"``: CUDA when available, else CPU).

    A CUDA device without an index takes ``local_rank`` modulo the devices present.

    Raises
    ------
    ValueError
        A spec torch does not know, or CUDA asked for where it is not available.
    """
    if spec == "auto":
        if torch.cuda.is_available():
            return torch.device("cuda", local_rank % torch.cuda.device_count())
        return torch.device("cpu")
    try:
        device = torch.device(spec)
    except RuntimeError:
        raise ValueError(
            f"device {spec!r} is not a device torch knows (try 'auto' or 'cpu')."
        ) from None
    if device.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {spec!r} was asked for but CUDA is not available here.")
        if device.index is None:
            device = torch.device("cuda", local_rank % torch.cuda.device_count())
    return device
